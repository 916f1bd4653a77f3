#!/usr/bin/env bash
# with-swarm.sh CMD...: runs CMD with the engine a manager of a swarm, so
# that test processes running side by side share one: when the engine is in
# no swarm, it makes a single-node one bound to loopback, as the tests'
# testenv.Swarm would, and leaves it afterwards (removing the
# docker_gwbridge the swarm made), whatever CMD returns. A swarm that exists
# is used as it is and left alone. Without a reachable engine it just runs
# CMD, whose Docker tests then say so.
set -uo pipefail
state=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || true)
made=
if [ "$state" = inactive ]; then
	gw_before=$(docker network ls -q --filter name='^docker_gwbridge$')
	docker swarm init --listen-addr 127.0.0.1:2377 --advertise-addr 127.0.0.1 >/dev/null && made=1
fi
"$@"
rc=$?
if [ -n "$made" ]; then
	docker swarm leave --force >/dev/null || rc=1
	if [ -z "$gw_before" ]; then
		# The bridge goes once the engine has let go of the swarm's
		# sandboxes: try for a while.
		for _ in $(seq 1 30); do
			docker network rm docker_gwbridge >/dev/null 2>&1 && break
			[ -z "$(docker network ls -q --filter name='^docker_gwbridge$')" ] && break
			sleep 1
		done
	fi
fi
exit $rc
