package verify

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/prometheus-aws/prometheus-aws/config"
)

// checkStorage: efs (and ephemeral): the TSDB is open and its head is being
// written; amp: remote write sends samples, none fail, and it is not
// falling behind.
func checkStorage(ctx context.Context, t *Target, _ Options) Result {
	if t.Prometheus == nil {
		return skip(t.Unreachable, "storage was not checked (Prometheus not reachable)")
	}
	num := func(q string) (float64, error) {
		v, err := t.Prometheus.Scalar(ctx, q)
		if err != nil {
			return 0, err
		}
		return strconv.ParseFloat(v, 64)
	}
	s := t.Settings
	if s.StorageMode == config.StorageAMP {
		if s.Local() {
			return skip("", "storageMode=amp in the local profile: the emulator ingests nothing and the local overlay drops remote write unless a receiver runs (stacks/local.go)")
		}
		if s.AgentMode() {
			return agentRemoteWrite(ctx, t)
		}
		sent, err := num(`sum(rate(prometheus_remote_storage_samples_total[5m])) or vector(0)`)
		if err != nil {
			return fail("", "reading remote write metrics: %v", err)
		}
		failed, err := num(`sum(rate(prometheus_remote_storage_samples_failed_total[5m])) or vector(0)`)
		if err != nil {
			return fail("", "reading remote write metrics: %v", err)
		}
		lag, err := num(`max(prometheus_remote_storage_highest_timestamp_in_seconds) - max(prometheus_remote_storage_queue_highest_sent_timestamp_seconds) or vector(0)`)
		if err != nil {
			return fail("", "reading remote write metrics: %v", err)
		}
		switch {
		case failed > 0:
			return fail("the container log names the error (permissions: aps:RemoteWrite on the workspace; throttling)",
				"remote write fails %.1f samples/s to the workspace", failed)
		case sent == 0:
			return fail("a fresh task sends within a minute (verify --wait 5m)", "remote write sent no samples in the last 5 minutes")
		case lag > 120:
			return fail("the task may be too small for the fleet (taskCpu, taskMemory) or the workspace throttles; docs/cost.md, Sizing",
				"remote write is %.0f s behind", lag)
		}
		return pass("remote write sends %.0f samples/s to the workspace, none failing, %.0f s behind", sent, lag)
	}
	appended, err := num(`sum(rate(prometheus_tsdb_head_samples_appended_total[2m])) or vector(0)`)
	if err != nil {
		return fail("", "reading TSDB metrics: %v", err)
	}
	if appended == 0 {
		return fail("a fresh task writes within a scrape interval (verify --wait 5m); else read the container log", "the TSDB head appends no samples")
	}
	where := "the task's own storage (lost when the task is replaced)"
	if s.StorageMode == config.StorageEFS {
		where = "EFS"
	}
	return pass("the TSDB on %s appends %.0f samples/s", where, appended)
}

// agentRemoteWrite is the amp check of an agent, from its /metrics: it has
// sent samples, the newest one it sent is recent (the queue is not behind),
// and no sample failed over a scrape interval and a batch deadline (read
// at once when none ever failed).
func agentRemoteWrite(ctx context.Context, t *Target) Result {
	m, err := t.Prometheus.Metrics(ctx)
	if err != nil {
		return fail("", "reading remote write metrics from /metrics: %v", err)
	}
	sent, _ := m.Sum("prometheus_remote_storage_samples_total", nil)
	newest, _ := m.Max("prometheus_remote_storage_highest_timestamp_in_seconds", nil)
	sentUpTo, _ := m.Max("prometheus_remote_storage_queue_highest_sent_timestamp_seconds", nil)
	started, _ := m.Max("process_start_time_seconds", nil)
	scrape, _ := model.ParseDuration(t.Settings.ScrapeInterval)
	// Remote write sends a batch at least every 5 s (queue_config's
	// batch_send_deadline default).
	failed, err := agentIncrease(ctx, t.Prometheus, "prometheus_remote_storage_samples_failed_total", nil, time.Duration(scrape)+5*time.Second)
	if err != nil {
		return fail("", "reading remote write metrics from /metrics: %v", err)
	}
	now := float64(time.Now().Unix())
	switch {
	case failed > 0:
		return fail("the container log names the error (permissions: aps:RemoteWrite on the workspace; throttling)",
			"remote write failed %.0f samples to the workspace over the last %s", failed, time.Duration(scrape)+5*time.Second)
	case sent == 0 || sentUpTo == 0:
		return fail("a fresh task sends within a minute (verify --wait 5m)", "remote write has sent no samples since the task started")
	case now-sentUpTo > 120:
		return fail("the task may be too small for the fleet (taskCpu, taskMemory) or the workspace throttles; docs/cost.md, Sizing",
			"remote write is %.0f s behind: the newest sample sent is %.0f s old (the newest appended %.0f s)", newest-sentUpTo, now-sentUpTo, now-newest)
	}
	rate := 0.0
	if started > 0 && now > started {
		rate = sent / (now - started)
	}
	return pass("remote write (agent mode) has sent %.0f samples/s since the task started, none failing, the newest %.0f s ago", rate, now-sentUpTo)
}
