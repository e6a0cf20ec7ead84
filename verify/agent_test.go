package verify

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
)

// fakeAgent answers as Prometheus in agent mode does: /metrics, and the
// query API refused ("unavailable with Prometheus Agent", HTTP 422).
type fakeAgent struct {
	mu      sync.Mutex
	metrics func() string
	queried bool
}

func (f *fakeAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/metrics":
		fmt.Fprint(w, f.metrics())
	case "/api/v1/query":
		f.queried = true
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprint(w, `{"status":"error","errorType":"execution","error":"unavailable with Prometheus Agent"}`)
	default:
		http.NotFound(w, r)
	}
}

// With storageMode=amp Prometheus runs as an agent, which serves no query
// API: the storage check reads remote write from its /metrics, and passes,
// or fails naming failed samples or a queue that has fallen behind.
func TestStorageCheckOfAnAgent(t *testing.T) {
	s, err := config.Load(nil, map[string]string{"PROMAWS_STORAGE_MODE": "amp", "PROMAWS_SCRAPE_INTERVAL": "1s"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-10 * time.Minute)
	page := func(sentAgo time.Duration, failed func() int) func() string {
		return func() string {
			now := time.Now()
			return fmt.Sprintf(`# TYPE prometheus_remote_storage_samples_total counter
prometheus_remote_storage_samples_total{remote_name="5b1c",url="https://aps-workspaces.eu-central-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"} 60000
prometheus_remote_storage_samples_failed_total{remote_name="5b1c",url="https://aps-workspaces.eu-central-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"} %d
prometheus_remote_storage_highest_timestamp_in_seconds %d
prometheus_remote_storage_queue_highest_sent_timestamp_seconds{remote_name="5b1c",url="https://aps-workspaces.eu-central-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"} %d
process_start_time_seconds %d
`, failed(), now.Unix(), now.Add(-sentAgo).Unix(), start.Unix())
		}
	}
	none := func() int { return 0 }
	var n int
	growing := func() int { n += 100; return n }
	for _, c := range []struct {
		name    string
		metrics func() string
		status  Status
		detail  string
	}{
		{"healthy", page(5*time.Second, none), Pass, "samples/s since the task started, none failing"},
		{"failing", page(5*time.Second, growing), Fail, "remote write failed 100 samples"},
		{"behind", page(5*time.Minute, none), Fail, "remote write is 300 s behind"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeAgent{metrics: c.metrics}
			srv := httptest.NewServer(f)
			defer srv.Close()
			r := checkStorage(context.Background(), &Target{Settings: s, Prometheus: promapi.New(srv.URL)}, Options{})
			if r.Status != c.status || !strings.Contains(r.Detail, c.detail) {
				t.Errorf("%s: %s %q, want %s with %q", c.name, r.Status, r.Detail, c.status, c.detail)
			}
			if f.queried {
				t.Error("the check queried the agent's query API, which agent mode refuses")
			}
		})
	}
}
