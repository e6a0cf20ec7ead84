// Command fargate-helper is the small static program the local Fargate
// runner (internal/fargate) places around each container. It has three
// jobs, one per first argument:
//
//	pause [-tcp PORT=SOCKET]... [-unix SOCKET=PORT]...
//	    Holds the task's network namespace (started in a new one), brings
//	    its loopback up, and relays: connections to 127.0.0.1:PORT inside
//	    the task go to the unix SOCKET the runner serves (egress: emulator,
//	    node_exporter, task metadata), and connections to SOCKET go to
//	    127.0.0.1:PORT inside the task (port mappings). Unix sockets are
//	    files, so they cross network namespaces: no interface but loopback
//	    exists anywhere.
//	mount [-tmpfs DIR:OPTIONS]... -- PROGRAM ARGS...
//	    In a private mount namespace (unshare -m), mounts each tmpfs with
//	    exactly its options (size, mode, uid, noexec, ...), then execs
//	    PROGRAM (bwrap), which binds them into the container.
//	as-user UID GID[,GROUP...] [CAP,...|- [ENV-FD]] -- PROGRAM ARGS...
//	    Inside the container: drops to the container's user (setgroups,
//	    setgid, setuid) and execs PROGRAM, found on the container's PATH as
//	    Docker finds an entrypoint. Busybox's setpriv cannot change the uid.
//	    With a capability list (numbers; - for none), every other one leaves
//	    the bounding set first and the process's sets after the uid change,
//	    as a runtime applies linuxParameters.capabilities: root keeps only
//	    those across exec. With ENV-FD, PROGRAM's environment is read from
//	    that inherited descriptor (NAME=VALUE entries, each ending in a NUL
//	    byte; the runner writes them into a pipe) and the descriptor is
//	    closed, instead of this process's own: the runner's processes
//	    around the container (nsenter, unshare, this helper, bwrap, which
//	    lives as long as the container) never hold the container's
//	    environment, secrets included, as a runtime's do not.
//
// It is built with CGO_ENABLED=0 so it runs in any image replica.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

func main() {
	if len(os.Args) < 2 {
		fatal("usage: fargate-helper pause|mount|as-user ...")
	}
	var err error
	switch os.Args[1] {
	case "pause":
		err = pause(os.Args[2:])
	case "mount":
		err = mount(os.Args[2:])
	case "as-user":
		err = asUser(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q (pause, mount, as-user)", os.Args[1])
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
		go relay(l, "unix", p[1])
	}
	for _, p := range unix {
		_ = os.Remove(p[0])
		l, err := net.Listen("unix", p[0])
		if err != nil {
			return err
		}
		go relay(l, "tcp", "127.0.0.1:"+p[1])
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

// relay copies every accepted connection to a new one to network/addr.
func relay(l net.Listener, network, addr string) {
	for {
		in, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer in.Close()
			out, err := net.Dial(network, addr)
			if err != nil {
				return // the client sees the connection close, as with a refused port
			}
			defer out.Close()
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(out, in); closeWrite(out) }()
			go func() { defer wg.Done(); _, _ = io.Copy(in, out); closeWrite(in) }()
			wg.Wait()
		}()
	}
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
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

// splitCommand returns the arguments after "--".
func splitCommand(args []string) (before, command []string, err error) {
	for i, a := range args {
		if a == "--" {
			if i+1 == len(args) {
				return nil, nil, errors.New("nothing to run after --")
			}
			return args[:i], args[i+1:], nil
		}
	}
	return nil, nil, errors.New("missing -- PROGRAM")
}

func mount(args []string) error {
	opts, command, err := splitCommand(args)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("mount", flag.ContinueOnError)
	var tmpfs []string
	fs.Func("tmpfs", "DIR:OPTIONS", func(v string) error { tmpfs = append(tmpfs, v); return nil })
	if err := fs.Parse(opts); err != nil {
		return err
	}
	for _, t := range tmpfs {
		dir, options, _ := strings.Cut(t, ":")
		flags, data := mountFlags(options)
		if err := syscall.Mount("tmpfs", dir, "tmpfs", flags, data); err != nil {
			return fmt.Errorf("mount tmpfs on %s (%s): %w", dir, options, err)
		}
	}
	path, err := lookPath(command[0], os.Getenv("PATH"))
	if err != nil {
		return err
	}
	return syscall.Exec(path, command, os.Environ())
}

// mountFlags splits Docker-style tmpfs options into mount(2) flags and the
// filesystem's own data (size=, mode=, uid=, gid=, nr_inodes=, ...).
func mountFlags(options string) (uintptr, string) {
	known := map[string]uintptr{
		"ro": syscall.MS_RDONLY, "nosuid": syscall.MS_NOSUID, "nodev": syscall.MS_NODEV, "noexec": syscall.MS_NOEXEC,
		"sync": syscall.MS_SYNCHRONOUS, "dirsync": syscall.MS_DIRSYNC, "mand": syscall.MS_MANDLOCK,
		"noatime": syscall.MS_NOATIME, "nodiratime": syscall.MS_NODIRATIME, "relatime": syscall.MS_RELATIME,
		"strictatime": syscall.MS_STRICTATIME,
	}
	cleared := map[string]bool{"rw": true, "suid": true, "dev": true, "exec": true, "async": true, "nomand": true,
		"atime": true, "diratime": true, "norelatime": true, "nostrictatime": true, "defaults": true}
	var flags uintptr
	var data []string
	for _, o := range strings.Split(options, ",") {
		switch {
		case o == "":
		case known[o] != 0:
			flags |= known[o]
		case cleared[o]:
		default:
			data = append(data, o)
		}
	}
	return flags, strings.Join(data, ",")
}

func asUser(args []string) error {
	ids, command, err := splitCommand(args)
	if err != nil {
		return err
	}
	if len(ids) < 2 || len(ids) > 4 {
		return errors.New("usage: as-user UID GID[,GROUP...] [CAP,...|- [ENV-FD]] -- PROGRAM ARGS...")
	}
	env := os.Environ()
	if len(ids) == 4 {
		if env, err = readEnv(ids[3]); err != nil {
			return err
		}
	}
	var keep *uint64
	if len(ids) >= 3 {
		var mask uint64
		if ids[2] != "-" {
			for _, c := range strings.Split(ids[2], ",") {
				n, err := strconv.Atoi(c)
				if err != nil || n < 0 || n > 63 {
					return fmt.Errorf("capability %q", c)
				}
				mask |= 1 << uint(n)
			}
		}
		keep = &mask
	}
	uid, err := strconv.Atoi(ids[0])
	if err != nil {
		return fmt.Errorf("uid %q: %w", ids[0], err)
	}
	var groups []int
	for _, g := range strings.Split(ids[1], ",") {
		n, err := strconv.Atoi(g)
		if err != nil {
			return fmt.Errorf("gid %q: %w", g, err)
		}
		groups = append(groups, n)
	}
	// Find the program before dropping privileges, as the runtime does.
	path, err := lookPath(command[0], getenv(env, "PATH"))
	if err != nil {
		return err
	}
	if keep != nil {
		// The bounding set limits what an exec gains (root regains it all
		// otherwise); dropping needs CAP_SETPCAP, so before the uid change.
		for c := 0; c < 64; c++ {
			if *keep&(1<<uint(c)) != 0 {
				continue
			}
			if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, 24 /* PR_CAPBSET_DROP */, uintptr(c), 0); e != 0 && e != syscall.EINVAL {
				return fmt.Errorf("drop capability %d from the bounding set: %v", c, e)
			}
		}
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups %v: %w", groups, err)
	}
	if err := syscall.Setgid(groups[0]); err != nil {
		return fmt.Errorf("setgid %d: %w", groups[0], err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("setuid %d: %w", uid, err)
	}
	if keep != nil {
		if err := limitCaps(*keep); err != nil {
			return err
		}
	}
	return syscall.Exec(path, command, env)
}

// readEnv reads the NUL-terminated NAME=VALUE entries from the inherited
// descriptor fd to its end and closes it, so nothing PROGRAM starts
// inherits it.
func readEnv(fd string) ([]string, error) {
	n, err := strconv.Atoi(fd)
	if err != nil || n < 3 {
		return nil, fmt.Errorf("environment descriptor %q", fd)
	}
	f := os.NewFile(uintptr(n), "environment")
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("read the environment from descriptor %d: %w", n, err)
	}
	var env []string
	for _, kv := range strings.Split(string(data), "\x00") {
		if kv != "" {
			env = append(env, kv)
		}
	}
	return env, nil
}

// getenv is name's value in env (NAME=VALUE entries; the last one wins, as
// in the runner's list).
func getenv(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

// limitCaps keeps only keep in the effective, permitted and inheritable
// sets (capget/capset, version 3: two 32-bit words each).
func limitCaps(keep uint64) error {
	hdr := struct {
		version uint32
		pid     int32
	}{version: 0x20080522}
	var data [2]struct{ effective, permitted, inheritable uint32 }
	if _, _, e := syscall.RawSyscall(syscall.SYS_CAPGET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return fmt.Errorf("capget: %v", e)
	}
	for i := range data {
		k := uint32(keep >> (32 * uint(i)))
		data[i].effective &= k
		data[i].permitted &= k
		data[i].inheritable &= k
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return fmt.Errorf("capset: %v", e)
	}
	return nil
}

// lookPath resolves name on path like a container runtime (a name with a
// slash is taken as is).
func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}
