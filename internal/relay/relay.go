// Package relay copies TCP and unix-socket connections from a listener to
// a dialled address: the one relay of the local Fargate runner (port
// mappings, egress, the task metadata endpoint), its network namespace's
// pause process, and the demo's bridge. It imports only the standard
// library, so the static fargate-helper can use it.
package relay

import (
	"io"
	"net"
	"sync"
)

// Serve copies every connection accepted on l to a new one from dial, until
// l is closed; then it closes the connections it relays and returns once
// they are done, so closing a task never waits on a client's idle
// keep-alive connection. The client's end of writing is passed on (half
// close); the server's side ending ends the connection. A failed dial
// closes the client's connection, as a refused port would.
func Serve(l net.Listener, dial func() (net.Conn, error)) {
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	track := func(c net.Conn, add bool) {
		mu.Lock()
		defer mu.Unlock()
		if add {
			open[c] = true
		} else {
			delete(open, c)
		}
	}
	var wg sync.WaitGroup
	defer func() {
		mu.Lock()
		for c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	for {
		in, err := l.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			track(in, true)
			defer func() { track(in, false); in.Close() }()
			out, err := dial()
			if err != nil {
				return
			}
			track(out, true)
			defer func() { track(out, false); out.Close() }()
			done := make(chan struct{})
			go func() { _, _ = io.Copy(out, in); closeWrite(out); close(done) }()
			_, _ = io.Copy(in, out)
			in.Close()
			<-done
		}()
	}
}

// To is a dial function for Serve: network and address, as net.Dial.
func To(network, addr string) func() (net.Conn, error) {
	return func() (net.Conn, error) { return net.Dial(network, addr) }
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}
