package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// serveBridge relays every connection on the unix socket to addr (Prometheus
// inside the namespace).
func serveBridge(l net.Listener, addr string) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go relay(c, func() (net.Conn, error) { return net.Dial("tcp", addr) })
	}
}

// forward is the host side of the bridges: for each pair of arguments
// (listen address, socket) it listens on the loopback address and relays
// to the unix socket the supervisor serves. One process for all bridges.
func forward(pairs []string) error {
	if len(pairs) == 0 || len(pairs)%2 != 0 {
		return fmt.Errorf("forward: want pairs of 127.0.0.1:port and a socket, got %q", pairs)
	}
	errs := make(chan error, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		listen, socket := pairs[i], pairs[i+1]
		host, _, err := net.SplitHostPort(listen)
		if err != nil || host != "127.0.0.1" {
			return fmt.Errorf("forward: %q must be 127.0.0.1:port", listen)
		}
		l, err := net.Listen("tcp", listen)
		if err != nil {
			return err
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					errs <- err
					return
				}
				go relay(c, func() (net.Conn, error) { return net.Dial("unix", socket) })
			}
		}()
	}
	return <-errs
}

func relay(in net.Conn, dial func() (net.Conn, error)) {
	defer in.Close()
	out, err := dial()
	if err != nil {
		return
	}
	defer out.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(out, in); done <- struct{}{} }()
	go func() { _, _ = io.Copy(in, out); done <- struct{}{} }()
	<-done
}

func listenLoopback(port int) (net.Listener, error) {
	return net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
}

// screenshot saves the targets page of the running demo as a PNG with
// headless Chromium, kept off every network but loopback.
func screenshot(out string) error {
	r, err := readReady()
	if err != nil || r.URL == "" {
		return fmt.Errorf("no demo is running: run make demo first")
	}
	if resp, err := http.Get(r.authURL("/targets")); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the demo's Prometheus serves no web UI (plain go install build): run scripts/build-prometheus-ui.sh, then make demo-down && make demo")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		return fmt.Errorf("chromium not found: run scripts/install-tools.sh --with-chromium")
	}
	profile, err := os.MkdirTemp("", "demo-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	abs, _ := filepath.Abs(out)
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return err
	}
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile, "--proxy-server=http://127.0.0.1:9",
		"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
		"--virtual-time-budget=8000", "--window-size=1400,900", "--screenshot="+abs, r.authURL("/targets"))
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("chromium: %v\n%s", err, output)
	}
	fmt.Println("demo: saved", out)
	return nil
}
