package engine

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/docker/docker/client"
)

// ErrRemote is wrapped by the error Connect returns for an engine on
// another machine.
var ErrRemote = errors.New("the Docker engine runs on another machine")

// Location is where an engine runs, as far as its address says.
type Location struct {
	// Host is the engine's address, as DOCKER_HOST names it or the
	// client's default socket.
	Host string
	// Remote says the engine runs on another machine, or is reached in a
	// way classhub cannot use (ssh://).
	Remote bool
	// Machine names the other machine, for the message; "" when local.
	Machine string
	// SSH says the address is ssh://, which classhub's client cannot
	// speak to even on this machine.
	SSH bool
	// Unknown says the address is none the client speaks.
	Unknown bool
}

// Locate says where the engine at host runs, from the address alone: it
// dials and resolves nothing, so a remote engine is refused before any
// packet leaves for it. A socket or named pipe is this machine's engine
// (Docker Desktop's socket included: its VM is this machine's, and
// spawner.hubAddress meets it through published loopback ports); a TCP
// address is this machine's when it is loopback, "localhost", one of this
// machine's own addresses or its host name, or names no host; anything
// else is another machine's, and an address the client does not speak is
// refused too. host "" is the client's default socket.
func Locate(host string) Location {
	ips, _ := OwnIPs()
	name, _ := os.Hostname()
	return locate(host, ips, name)
}

// locate is Locate with this machine's addresses and name given.
func locate(host string, own []net.IP, hostname string) Location {
	if host == "" {
		host = client.DefaultDockerHost
	}
	l := Location{Host: host}
	proto, addr, ok := strings.Cut(host, "://")
	if !ok {
		// The client refuses it before dialing; say what it may be.
		l.Remote, l.Unknown = true, true
		return l
	}
	switch strings.ToLower(proto) {
	case "unix", "npipe":
		return l
	case "ssh":
		l.SSH, l.Remote = true, true
		l.Machine = machineOf(addr)
		return l
	case "tcp", "http", "https":
	default:
		l.Remote, l.Unknown = true, true
		return l
	}
	machine := machineOf(addr)
	if !isOwn(machine, own, hostname) {
		l.Remote, l.Machine = true, machine
	}
	return l
}

// machineOf is the host part of an address such as user@host:22/path or
// [::1]:2376, without brackets.
func machineOf(addr string) string {
	if i := strings.IndexAny(addr, "/?#"); i >= 0 {
		addr = addr[:i]
	}
	if i := strings.LastIndex(addr, "@"); i >= 0 {
		addr = addr[i+1:]
	}
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
}

// isOwn says whether machine, an IP or a name, is this one, without
// resolving the name: a name other than localhost's and this machine's is
// taken as another machine's.
func isOwn(machine string, own []net.IP, hostname string) bool {
	m := strings.TrimSuffix(strings.ToLower(machine), ".")
	if m == "" {
		// tcp://:2375 dials this machine.
		return true
	}
	if ip := net.ParseIP(m); ip != nil {
		if ip.IsLoopback() {
			return true
		}
		for _, o := range own {
			if o.Equal(ip) {
				return true
			}
		}
		return false
	}
	return m == "localhost" || strings.HasSuffix(m, ".localhost") ||
		(hostname != "" && m == strings.ToLower(hostname))
}

// OwnIPs lists this machine's addresses, from its interfaces.
func OwnIPs() ([]net.IP, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	ips := make([]net.IP, 0, len(addrs))
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			ips = append(ips, n.IP)
		}
	}
	return ips, nil
}

// Refusal is the error for a remote engine, with what to do instead; nil
// for this machine's. The hub reaches every server at an address on this
// machine and each server reaches the hub's internal API on the bridge
// here; an engine elsewhere would have to publish servers' ports on its
// own network, where every student could reach a server with no hub in
// front, so classhub does not try.
func (l Location) Refusal() error {
	if !l.Remote {
		return nil
	}
	instead := fmt.Sprintf("run classhub on %s itself (`classhub serve` there, and students join at its address), "+
		"or unset DOCKER_HOST to use this machine's engine; for several machines, run classhub on a Swarm manager with backend = \"swarm\"", l.Machine)
	if l.Unknown {
		return &Error{Advice: fmt.Sprintf("DOCKER_HOST=%s is not an engine address classhub can use: unset it to use this machine's engine, "+
			"or name its socket (unix:///var/run/docker.sock) or a TCP address on this machine (tcp://127.0.0.1:2375)", l.Host),
			Err: fmt.Errorf("docker host %s: %w", l.Host, ErrRemote)}
	}
	if l.SSH {
		return &Error{Advice: fmt.Sprintf("DOCKER_HOST=%s names an engine reached over ssh, which classhub cannot use: %s", l.Host, instead),
			Err: fmt.Errorf("docker host %s: %w", l.Host, ErrRemote)}
	}
	return &Error{Advice: fmt.Sprintf("DOCKER_HOST=%s names the Docker engine of another machine, %s, and classhub's servers must run on the machine of its hub, "+
		"where only the hub can reach them: %s", l.Host, l.Machine, instead),
		Err: fmt.Errorf("docker host %s: %w", l.Host, ErrRemote)}
}
