package imagetest

// Stacks is an image laid out like the Jupyter Docker Stacks' (their
// docker-stacks-foundation and base-notebook images), derived from base, a
// notebook image with jupyterhub-singleuser and the user jovyan (1000:100):
//
//   - USER 1000, by number as theirs is (USER ${NB_UID}), WORKDIR and HOME
//     /home/jovyan, NB_USER, NB_UID and NB_GID set;
//   - ENTRYPOINT ["tini", "-g", "--", "start.sh"], CMD ["start-notebook.sh"];
//   - start.sh runs its arguments; start-notebook.sh hands over to
//     start-singleuser.sh when JUPYTERHUB_API_TOKEN is set (a hub started
//     it), as theirs does, and runs jupyter notebook otherwise;
//     start-singleuser.sh runs jupyterhub-singleuser with NOTEBOOK_ARGS
//     and its arguments;
//   - no /home/jovyan/work (theirs keeps one for backward compatibility;
//     course images built on other bases often have none), and none of
//     classhub's labels.
//
// Their start.sh also switches users and runs hooks when started as root;
// classhub never starts a server as root, so the stand-in leaves that out.
func Stacks(base string) Spec {
	return Spec{
		Base:       base,
		Script:     stacksScript,
		Entrypoint: []string{"tini", "-g", "--", "start.sh"},
		Cmd:        []string{"start-notebook.sh"},
		User:       "1000",
		WorkingDir: "/home/jovyan",
		Env:        []string{"NB_USER=jovyan", "NB_UID=1000", "NB_GID=100", "HOME=/home/jovyan"},
	}
}

// StacksStarted is what the stand-in's start-notebook.sh prints when a hub
// started it, as the real one does.
const StacksStarted = "using start-singleuser.sh instead of start-notebook.sh to start a server associated with JupyterHub"

const stacksScript = `set -e
rm -rf /home/jovyan/work
cd /usr/local/bin
cat > start.sh <<'END'
#!/bin/bash
# imagetest stand-in for the Jupyter Docker Stacks' start.sh.
set -e
exec "$@"
END
cat > start-notebook.sh <<'END'
#!/bin/bash
# imagetest stand-in for the Jupyter Docker Stacks' start-notebook.sh.
set -e
if [ -n "${JUPYTERHUB_API_TOKEN}" ]; then
    echo "WARNING: ` + StacksStarted + `."
    exec /usr/local/bin/start-singleuser.sh "$@"
fi
exec jupyter notebook ${NOTEBOOK_ARGS} "$@"
END
cat > start-singleuser.sh <<'END'
#!/bin/bash
# imagetest stand-in for the Jupyter Docker Stacks' start-singleuser.sh.
set -e
exec jupyterhub-singleuser ${NOTEBOOK_ARGS} "$@"
END
chmod 755 start.sh start-notebook.sh start-singleuser.sh
`
