package emulator

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"sync"
)

// The front is what clients reach at Endpoint: an HTTPS reverse proxy in
// front of moto that passes every request through, except those an
// Override answers. It is where the harness fills the emulator's gaps that
// no resource form or local-profile setting can (ECS runs no tasks in moto:
// the local Fargate runner's tasks are answered from the runner), and where
// the emulator fills the APIs moto lacks (ecrcache.go, ampconfig.go), so every client
// (Terraform, the SDK, the task, make verify) sees one AWS.

// Request is a request to the emulator, its body read.
type Request struct {
	*http.Request
	Body []byte
	// Target is the X-Amz-Target header of the JSON protocols (ECS, SSM,
	// ...), e.g. AmazonEC2ContainerServiceV20141113.DescribeTasks.
	Target  string
	forward func() (*http.Response, []byte, error)
	// ask sends moto another call (target, body) with this request's
	// headers: in its caller's name, since moto takes the account from
	// the access key they carry.
	ask func(target string, body []byte) (*http.Response, []byte, error)
	// askREST sends moto another call of a REST protocol (method, path, no
	// body), in its caller's name likewise.
	askREST func(method, path string) (*http.Response, []byte, error)
}

// Forward asks moto and returns its answer (status, headers, body).
func (r *Request) Forward() (*http.Response, []byte, error) { return r.forward() }

// Answer is an Override's response. Status 0 means 200.
type Answer struct {
	Status int
	Body   []byte
	// ContentType defaults to the JSON protocols' application/x-amz-json-1.1.
	ContentType string
	// Drop closes the connection instead of answering (Fault's Drop).
	Drop bool
}

// Override answers the requests it knows in moto's place; ok false leaves
// the request to the next override, then to moto.
type Override func(r *Request) (a Answer, ok bool)

type front struct {
	srv      *http.Server
	upstream *url.URL
	client   *http.Client
	proxy    *httputil.ReverseProxy

	// builtin are the emulator's own overrides (APIs moto lacks), asked
	// after those added with Override, so a test can still fake their
	// faults.
	builtin []Override

	mu        sync.Mutex
	overrides map[int]Override
	next      int
}

// startFront serves HTTPS on l with the emulator's certificate and relays
// to moto at upstream, but for what builtin answers.
func startFront(l net.Listener, upstream, certFile, keyFile string, client *http.Client, builtin ...Override) (*front, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	f := &front{upstream: u, client: client, overrides: map[int]Override{}, builtin: builtin}
	f.proxy = httputil.NewSingleHostReverseProxy(u)
	f.proxy.Transport = client.Transport
	// Refused connections while moto starts are expected (Start polls);
	// the client gets 502 either way.
	f.proxy.ErrorLog = log.New(io.Discard, "", 0)
	f.srv = &http.Server{Handler: f, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go func() { _ = f.srv.ServeTLS(l, "", "") }()
	return f, nil
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := &Request{Request: r, Body: body, Target: r.Header.Get("X-Amz-Target")}
	req.forward = func() (*http.Response, []byte, error) { return f.ask(r, body) }
	req.ask = func(target string, body []byte) (*http.Response, []byte, error) {
		other := r.Clone(r.Context())
		other.Header.Set("X-Amz-Target", target)
		return f.ask(other, body)
	}
	req.askREST = func(method, path string) (*http.Response, []byte, error) {
		other := r.Clone(r.Context())
		other.Method, other.URL.Path, other.URL.RawQuery = method, path, ""
		other.Header.Del("Content-Type")
		return f.ask(other, nil)
	}
	for _, o := range append(f.current(), f.builtin...) {
		if a, ok := o(req); ok {
			if a.Drop {
				drop(w)
				return
			}
			if a.ContentType == "" {
				a.ContentType = "application/x-amz-json-1.1"
			}
			if a.Status == 0 {
				a.Status = http.StatusOK
			}
			w.Header().Set("Content-Type", a.ContentType)
			w.Header().Set("Content-Length", strconv.Itoa(len(a.Body)))
			w.WriteHeader(a.Status)
			_, _ = w.Write(a.Body)
			return
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	f.proxy.ServeHTTP(w, r)
}

// drop closes the client's connection without an answer: the TCP
// connection under HTTP/1 (what the AWS CLI speaks), the stream under
// HTTP/2 (the Go SDK's), whose connection other requests share.
func drop(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
		return
	}
	panic(http.ErrAbortHandler) // resets the stream, logs nothing
}

// ask sends a copy of r to moto.
func (f *front) ask(r *http.Request, body []byte) (*http.Response, []byte, error) {
	u := *f.upstream
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	out.Header = r.Header.Clone()
	resp, err := f.client.Do(out)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}

func (f *front) current() []Override {
	f.mu.Lock()
	defer f.mu.Unlock()
	var list []Override
	for _, id := range slices.Sorted(maps.Keys(f.overrides)) { // in the order added
		list = append(list, f.overrides[id])
	}
	return list
}

// Override makes o answer the requests it knows, before moto, until the
// returned function removes it. Only a handle that started the emulator
// has a front; elsewhere this panics.
func (e *Emulator) Override(o Override) (remove func()) {
	if e.front == nil {
		panic("emulator: Override on a handle without a front (Attach): only the process that started the emulator can override it")
	}
	f := e.front
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	id := f.next
	f.overrides[id] = o
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.overrides, id)
	}
}

func (f *front) close() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = f.srv.Shutdown(ctx)
	_ = f.srv.Close()
}
