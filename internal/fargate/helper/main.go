// Command fargate-helper is the small static program the local Fargate
// runner (internal/fargate) starts beside the containers, which runc runs.
// It has two jobs, one per first argument:
//
//	pause [-tcp PORT=SOCKET]... [-unix SOCKET=PORT]...
//	    Holds the task's network namespace (started in a new one), brings
//	    its loopback up, and relays: connections to 127.0.0.1:PORT inside
//	    the task go to the unix SOCKET the runner serves (egress: emulator,
//	    node_exporter, task metadata), and connections to SOCKET go to
//	    127.0.0.1:PORT inside the task (port mappings). Unix sockets are
//	    files, so they cross network namespaces: no interface but loopback
//	    exists anywhere.
//	reap -state DIR CGROUP...
//	    Waits for its standard input to close (the runner holds the only
//	    write end, so it closes when the runner's process ends, however it
//	    ends), then kills every process left in the CGROUP folders (the
//	    runner's cgroup in each controller: containers outlive a killed
//	    runc), removes them, and removes runc's state folder DIR.
//
// It is built with CGO_ENABLED=0.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/prometheus-aws/prometheus-aws/internal/fargate/cgroup"
	"github.com/prometheus-aws/prometheus-aws/internal/relay"
)

func main() {
	if len(os.Args) < 2 {
		fatal("usage: fargate-helper pause|reap ...")
	}
	var err error
	switch os.Args[1] {
	case "pause":
		err = pause(os.Args[2:])
	case "reap":
		err = reap(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q (pause, reap)", os.Args[1])
	}
	if err != nil {
		fatal(err.Error())
	}
}

func fatal(msg string) {
	fmt.Fprintln(os.Stderr, "fargate-helper:", msg)
	os.Exit(127)
}

// pairs collects repeated NAME=VALUE flags.
type pairs [][2]string

func (p *pairs) String() string { return fmt.Sprint(*p) }
func (p *pairs) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("%q is not A=B", v)
	}
	*p = append(*p, [2]string{k, val})
	return nil
}

func pause(args []string) error {
	fs := flag.NewFlagSet("pause", flag.ContinueOnError)
	var tcp, unix pairs
	fs.Var(&tcp, "tcp", "PORT=SOCKET: relay 127.0.0.1:PORT in the task to SOCKET")
	fs.Var(&unix, "unix", "SOCKET=PORT: relay SOCKET to 127.0.0.1:PORT in the task")
	ready := fs.String("ready", "", "file to create once every listener is open")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := loopbackUp(); err != nil {
		return fmt.Errorf("bring up lo in the task namespace: %w", err)
	}
	for _, p := range tcp {
		l, err := net.Listen("tcp", "127.0.0.1:"+p[0])
		if err != nil {
			return err
		}
		go relay.Serve(l, relay.To("unix", p[1]))
	}
	for _, p := range unix {
		_ = os.Remove(p[0])
		l, err := net.Listen("unix", p[0])
		if err != nil {
			return err
		}
		go relay.Serve(l, relay.To("tcp", "127.0.0.1:"+p[1]))
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, nil, 0o600); err != nil {
			return err
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	return nil
}

// loopbackUp sets IFF_UP on lo (a new network namespace starts with it down).
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var req struct {
		name  [syscall.IFNAMSIZ]byte
		flags uint16
		_     [24 - 2]byte
	}
	copy(req.name[:], "lo")
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&req))); errno != 0 {
		return errno
	}
	req.flags |= syscall.IFF_UP
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&req))); errno != 0 {
		return errno
	}
	return nil
}

func reap(args []string) error {
	fs := flag.NewFlagSet("reap", flag.ContinueOnError)
	state := fs.String("state", "", "runc's state folder (--root) to remove")
	if err := fs.Parse(args); err != nil {
		return err
	}
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP) // outlive the runner's group
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, dir := range fs.Args() {
		// Processes die as the kernel gets to them; a cgroup folder can be
		// removed once it holds none.
		for i := 0; i < 100; i++ {
			pids := cgroup.PIDs(dir)
			if len(pids) == 0 {
				break
			}
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err := cgroup.RemoveTree(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(os.Stderr, "fargate-helper reap:", err)
		}
	}
	if *state != "" {
		return os.RemoveAll(*state)
	}
	return nil
}
