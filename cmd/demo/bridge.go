package main

import (
	"fmt"
	"io"
	"net"
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
