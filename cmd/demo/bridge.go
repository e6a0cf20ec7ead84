package main

import (
	"fmt"
	"net"
	"strconv"

	"github.com/prometheus-aws/prometheus-aws/internal/relay"
)

// serveBridge relays every connection on the unix socket to addr (Prometheus
// inside the namespace).
func serveBridge(l net.Listener, addr string) { relay.Serve(l, relay.To("tcp", addr)) }

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
			relay.Serve(l, relay.To("unix", socket))
			errs <- fmt.Errorf("forward: %s stopped accepting", listen)
		}()
	}
	return <-errs
}

func listenLoopback(port int) (net.Listener, error) {
	return net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
}
