package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// The targets page as a person sees it: Prometheus's web UI in a browser.

// webUI returns nil when Prometheus serves its web UI (the targets page
// answers 200), else why not: the reason make tools recorded when the UI
// build failed, or what the page answered.
func (r *Ready) webUI() error {
	resp, err := http.Get(r.authURL("/targets"))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	if why := tools.PrometheusWithoutUI(); why != "" {
		return errors.New(why)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	return fmt.Errorf("/targets answers HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
}

// chromium opens path of the demo's Prometheus in headless Chromium, kept
// off every network but loopback, with args (--dump-dom,
// --screenshot=FILE), and returns what it printed. The virtual time budget
// lets the page's scripts fetch the API and render first.
//
// The password reaches the page as a person's browser sends it once they
// have answered the password prompt: an Authorization header on every
// request to the origin. Headless Chromium has no prompt, and credentials
// in the URL would break the page (fetch refuses a URL with credentials,
// and the page's API calls inherit them), so a loopback proxy adds the
// header in the browser's place.
func (r *Ready) chromium(path string, args ...string) (string, error) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		return "", errors.New("chromium not found: make tools installs it (Debian package chromium)")
	}
	target, err := url.Parse(r.URL)
	if err != nil {
		return "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	if r.User != "" {
		direct := proxy.Director
		proxy.Director = func(req *http.Request) { direct(req); req.SetBasicAuth(r.User, r.Password) }
	}
	srv := &http.Server{Handler: proxy}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	profile, err := os.MkdirTemp("", "demo-chromium-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(profile)
	cmd := exec.Command(bin, append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile, "--proxy-server=http://127.0.0.1:9",
		"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
		"--virtual-time-budget=10000", "--window-size=1400,900"}, append(args, "http://"+l.Addr().String()+path)...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("chromium: %v\n%s", err, stderr.String())
	}
	return stdout.String(), nil
}

// screenshot saves the running demo's targets page as a PNG.
func screenshot(out string) error {
	r, err := readReady()
	if err != nil || r.URL == "" {
		return fmt.Errorf("no demo is running: run make demo first")
	}
	if err := r.webUI(); err != nil {
		return fmt.Errorf("the demo's Prometheus serves no web UI: %v", err)
	}
	abs, _ := filepath.Abs(out)
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return err
	}
	if _, err := r.chromium("/targets", "--screenshot="+abs); err != nil {
		return err
	}
	fmt.Println("demo: saved", out)
	return nil
}
