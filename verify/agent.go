package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
)

// Prometheus in agent mode (storageMode=amp) serves no query, rules or
// alerts API: "unavailable with Prometheus Agent" (web/api/v1: the agent
// wraps them, while /api/v1/targets, /api/v1/status/config, /-/ready and
// /metrics stay). Its checks read what a query would have read of
// Prometheus itself from its own /metrics instead: a gauge as it is now, a
// counter as its increase over a window, measured by reading it twice.

// agentGauge is one of an agent's own metrics, summed over the series
// whose labels include match, from its /metrics; ok is false when there is
// no such series.
func agentGauge(ctx context.Context, p *promapi.Client, name string, match map[string]string) (v float64, ok bool, err error) {
	m, err := p.Metrics(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("reading /metrics: %w", err)
	}
	v, ok = m.Sum(name, match)
	return v, ok, nil
}

// agentIncrease is how much the counter name (summed over the series whose
// labels include match) grew over window, read from an agent's /metrics
// twice. A counter at 0 at the first read is 0 without waiting: it has not
// moved since the process started. A counter that went down (a restart)
// counts from 0.
func agentIncrease(ctx context.Context, p *promapi.Client, name string, match map[string]string, window time.Duration) (float64, error) {
	read := func() (float64, error) {
		m, err := p.Metrics(ctx)
		if err != nil {
			return 0, fmt.Errorf("reading /metrics: %w", err)
		}
		v, _ := m.Sum(name, match)
		return v, nil
	}
	before, err := read()
	if err != nil || before == 0 {
		return 0, err
	}
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(window):
	}
	after, err := read()
	if err != nil {
		return 0, err
	}
	if after < before {
		return after, nil
	}
	return after - before, nil
}
