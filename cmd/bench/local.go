package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus-aws/prometheus-aws/bench"
)

// synthOnce runs a synth program (bin/prometheus-aws or the floor) into a
// fresh CDKTF_OUTDIR and removes the output again.
func (b *bencher) synthOnce(program string, env ...string) (bench.Usage, error) {
	out, err := os.MkdirTemp(b.work, "synth-")
	if err != nil {
		return bench.Usage{}, err
	}
	defer os.RemoveAll(out)
	cmd := exec.CommandContext(b.ctx, program)
	cmd.Dir = b.repo
	cmd.Env = cleanEnv(append([]string{"CDKTF_OUTDIR=" + out}, env...)...)
	u, err := bench.Measure(cmd, "node")
	if err != nil {
		return u, fmt.Errorf("synth: %w", err)
	}
	if st, err := os.ReadDir(filepath.Join(out, "stacks")); err != nil || len(st) == 0 {
		return u, fmt.Errorf("%s wrote no stack into %s", program, out)
	}
	return u, nil
}

// synth times the default stack against the provider-load floor, the two
// alternating so that changing load hits both alike.
func (b *bencher) synth() error {
	floor := filepath.Join(b.work, "floor")
	logf("  building the floor app (bench/floor), not timed")
	build := exec.CommandContext(b.ctx, "go", "build", "-o", floor, "./bench/floor")
	build.Dir = b.repo
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./bench/floor: %v\n%s", err, out)
	}
	units := map[string]string{}
	for _, k := range prefixed("synth.app.", "synth.floor.") {
		units[k] = bench.MiB
	}
	units["synth.app.wall"], units["synth.floor.wall"] = bench.Seconds, bench.Seconds
	return b.iterations(func(int) (map[string]float64, error) {
		a, err := b.synthOnce(b.app)
		if err != nil {
			return nil, err
		}
		f, err := b.synthOnce(floor)
		if err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
		return map[string]float64{
			"synth.app.wall": a.Wall.Seconds(), "synth.app.go_hwm": a.RootHWM, "synth.app.node_hwm": a.ChildHWM, "synth.app.maxrss": a.MaxRSS,
			"synth.floor.wall": f.Wall.Seconds(), "synth.floor.go_hwm": f.RootHWM, "synth.floor.node_hwm": f.ChildHWM, "synth.floor.maxrss": f.MaxRSS,
		}, nil
	}, units)
}

// cli times `cdktf synth` when the CLI is installed.
func (b *bencher) cli() error {
	cdktf, err := exec.LookPath("cdktf")
	if err != nil {
		b.res.Skip("not installed (`cdktf` is not on PATH)", "synth.cli.wall", "synth.cli.maxrss")
		logf("  cdktf is not on PATH: recorded as not installed")
		return nil
	}
	units := map[string]string{"synth.cli.wall": bench.Seconds, "synth.cli.maxrss": bench.MiB}
	return b.iterations(func(int) (map[string]float64, error) {
		out, err := os.MkdirTemp(b.work, "cli-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(out)
		cmd := exec.CommandContext(b.ctx, cdktf, "synth", "--output", out)
		cmd.Dir = b.repo
		cmd.Env = cleanEnv("CHECKPOINT_DISABLE=1", "CI=1")
		u, err := bench.Measure(cmd, "node")
		if err != nil {
			return nil, fmt.Errorf("cdktf synth: %w", err)
		}
		return map[string]float64{"synth.cli.wall": u.Wall.Seconds(), "synth.cli.maxrss": u.MaxRSS}, nil
	}, units)
}

// scaleSynth times synth at each node count, the counts interleaved.
func (b *bencher) scaleSynth() error {
	units := map[string]string{}
	for _, n := range b.scales {
		units["scale.synth.n"+strconv.Itoa(n)] = bench.Seconds
	}
	return b.iterations(func(int) (map[string]float64, error) {
		vals := map[string]float64{}
		for _, n := range b.scales {
			u, err := b.synthOnce(b.app, "PROMAWS_NODE_COUNT="+strconv.Itoa(n))
			if err != nil {
				return nil, err
			}
			vals["scale.synth.n"+strconv.Itoa(n)] = u.Wall.Seconds()
		}
		return vals, nil
	}, units)
}

// goBuild runs go build of the synth program into the work folder with
// extra environment (e.g. GOCACHE).
func (b *bencher) goBuild(env ...string) (time.Duration, error) {
	out := filepath.Join(b.work, "build", "prometheus-aws")
	defer os.RemoveAll(filepath.Dir(out))
	cmd := exec.CommandContext(b.ctx, "go", "build", "-o", out, ".")
	cmd.Dir = b.repo
	cmd.Env = append(os.Environ(), append([]string{"GOFLAGS=-mod=readonly", "GOPROXY=off", "GOTOOLCHAIN=local"}, env...)...)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go build: %v\n%s", err, out)
	}
	return time.Since(start), nil
}

func (b *bencher) buildWarm() error {
	return b.iterations(func(int) (map[string]float64, error) {
		d, err := b.goBuild()
		return map[string]float64{"build.warm.wall": d.Seconds()}, err
	}, map[string]string{"build.warm.wall": bench.Seconds})
}

// buildCold builds with an empty GOCACHE each run, without a warm-up (a
// cold build has nothing to warm); one run only when it takes > coldMax.
func (b *bencher) buildCold() error {
	m := b.res.Metric("build.cold.wall", bench.Seconds)
	m.Unit = bench.Seconds
	for i := 0; i < b.runs; i++ {
		cache, err := os.MkdirTemp(b.work, "gocache-")
		if err != nil {
			return err
		}
		d, err := b.goBuild("GOCACHE=" + cache)
		os.RemoveAll(cache)
		if err != nil {
			return err
		}
		m.Values = append(m.Values, d.Seconds())
		logf("  cold run %d/%d: %s", i+1, b.runs, d.Round(time.Second))
		if d > b.coldMax {
			if b.runs > 1 {
				m.Note = fmt.Sprintf("1 run: the cold build took more than %s, so no more were made", b.coldMax)
			}
			break
		}
	}
	if len(m.Values) > 0 && m.Note == "" {
		m.Note = "no warm-up run (a cold build has nothing to warm)"
	}
	return nil
}

// makeTest times `make test` once cold (empty GOCACHE) and once warm.
func (b *bencher) makeTest() error {
	cache, err := os.MkdirTemp(b.work, "gocache-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(cache)
	for _, c := range []struct {
		key string
		env []string
	}{{"maketest.cold.wall", []string{"GOCACHE=" + cache}}, {"maketest.warm.wall", nil}} {
		cmd := exec.CommandContext(b.ctx, "make", "test")
		cmd.Dir = b.repo
		cmd.Env = append(os.Environ(), c.env...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("make test: %v\n%s", err, lastN(string(out), 40))
		}
		m := b.res.Metric(c.key, bench.Seconds)
		m.Unit, m.Values, m.Note = bench.Seconds, []float64{time.Since(start).Seconds()}, "1 run, no warm-up (each run takes tens of minutes)"
		logf("  %s: %s", c.key, time.Since(start).Round(time.Second))
	}
	return nil
}

func lastN(s string, n int) string {
	lines := splitLines(s)
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}

func splitLines(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			lines = append(lines, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}
