package fargate

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/relay"
)

// MetadataPort is where, inside the task, the runner serves the task
// metadata endpoint (v4) and the container credentials endpoint: the port
// the ECS agent itself uses on EC2 (behind 169.254.170.2, which is not a
// loopback address, so the runner cannot use it).
const MetadataPort = 51679

// taskNetwork is one task's network namespace: a pause process holding it,
// with loopback only, and the relays in and out of it over unix sockets
// (files cross network namespaces; no interface but loopback is created).
type taskNetwork struct {
	pause     *exec.Cmd
	done      chan struct{}
	listeners []net.Listener
	sockDir   string
	// hostPorts maps each container port to its 127.0.0.1 port outside.
	hostPorts map[int]int
	wg        sync.WaitGroup
}

// nsPath is the network namespace file containers join.
func (n *taskNetwork) nsPath() string { return fmt.Sprintf("/proc/%d/ns/net", n.pause.Process.Pid) }

// startNetwork creates the namespace. egress maps ports inside the task to
// loopback addresses outside (the emulator, node_exporter, ...); metadata
// is served inside on MetadataPort; ports are the container ports to
// publish, on the host ports given (0: any free port).
func startNetwork(ctx context.Context, helper string, egress map[int]string, metadata func(net.Listener), ports map[int]int) (*taskNetwork, error) {
	dir, err := os.MkdirTemp("", "fgn") // short: unix socket paths are limited to 108 bytes
	if err != nil {
		return nil, err
	}
	n := &taskNetwork{sockDir: dir, hostPorts: map[int]int{}, done: make(chan struct{})}
	args := []string{"pause", "-ready", filepath.Join(dir, "ready")}
	serveUnix := func(name string, handle func(net.Listener)) error {
		l, err := net.Listen("unix", filepath.Join(dir, name))
		if err != nil {
			return err
		}
		n.listeners = append(n.listeners, l)
		n.wg.Add(1)
		go func() { defer n.wg.Done(); handle(l) }()
		return nil
	}
	for port, addr := range egress {
		if !config.IsLoopbackEndpoint("http://" + addr) {
			n.close()
			return nil, fmt.Errorf("egress %d -> %s: only loopback addresses may be reached", port, addr)
		}
		name := fmt.Sprintf("out-%d.sock", port)
		if err := serveUnix(name, func(l net.Listener) { relay.Serve(l, relay.To("tcp", addr)) }); err != nil {
			n.close()
			return nil, err
		}
		args = append(args, "-tcp", fmt.Sprintf("%d=%s", port, filepath.Join(dir, name)))
	}
	if err := serveUnix("metadata.sock", metadata); err != nil {
		n.close()
		return nil, err
	}
	args = append(args, "-tcp", fmt.Sprintf("%d=%s", MetadataPort, filepath.Join(dir, "metadata.sock")))
	for port := range ports {
		args = append(args, "-unix", fmt.Sprintf("%s=%d", filepath.Join(dir, fmt.Sprintf("in-%d.sock", port)), port))
	}

	n.pause = exec.Command(helper, args...)
	n.pause.Stderr = os.Stderr
	n.pause.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := n.pause.Start(); err != nil {
		n.close()
		return nil, fmt.Errorf("task network namespace: %w", err)
	}
	go func() { _ = n.pause.Wait(); close(n.done) }()
	if err := waitFile(ctx, filepath.Join(dir, "ready"), n.done); err != nil {
		n.close()
		return nil, fmt.Errorf("task network namespace: %w", err)
	}

	// Port mappings: 127.0.0.1:<host port> outside -> the container port.
	for port, host := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(host))
		if err != nil {
			n.close()
			return nil, fmt.Errorf("port mapping %d: %w", port, err)
		}
		n.listeners = append(n.listeners, l)
		n.hostPorts[port] = l.Addr().(*net.TCPAddr).Port
		sock := filepath.Join(dir, fmt.Sprintf("in-%d.sock", port))
		n.wg.Add(1)
		go func() { defer n.wg.Done(); relay.Serve(l, relay.To("unix", sock)) }()
	}
	return n, nil
}

func waitFile(ctx context.Context, path string, died <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		select {
		case <-died:
			return fmt.Errorf("the namespace holder exited")
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// close ends the relays and the namespace.
func (n *taskNetwork) close() {
	for _, l := range n.listeners {
		l.Close()
	}
	if n.pause != nil && n.pause.Process != nil {
		_ = n.pause.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(5 * time.Second):
			_ = n.pause.Process.Kill()
			<-n.done
		}
	}
	n.wg.Wait()
	os.RemoveAll(n.sockDir)
}
