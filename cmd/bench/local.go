package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus-aws/prometheus-aws/bench"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
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
// alternating so that changing load hits both alike, and in the first
// scaleRuns measured rounds the scale test's node counts too.
func (b *bencher) synth() error {
	return b.phase("synth: default stack, floor, node counts", func() error {
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
		scale := !b.skip["scale-synth"]
		if scale {
			for _, n := range b.scales {
				units[scaleKey("synth", n)] = bench.Seconds
			}
		} else {
			b.res.Skip("skipped (-skip scale-synth)", prefixed("scale.synth.")...)
		}
		return b.iterations(func(i int) (map[string]float64, error) {
			a, err := b.synthOnce(b.app)
			if err != nil {
				return nil, err
			}
			f, err := b.synthOnce(floor)
			if err != nil {
				return nil, fmt.Errorf("floor: %w", err)
			}
			vals := map[string]float64{
				"synth.app.wall": a.Wall.Seconds(), "synth.app.go_hwm": a.RootHWM, "synth.app.node_hwm": a.ChildHWM, "synth.app.maxrss": a.MaxRSS,
				"synth.floor.wall": f.Wall.Seconds(), "synth.floor.go_hwm": f.RootHWM, "synth.floor.node_hwm": f.ChildHWM, "synth.floor.maxrss": f.MaxRSS,
			}
			if scale && i >= b.warmup && i < b.warmup+b.scaleRuns {
				for _, n := range b.scales {
					u, err := b.synthOnce(b.app, "PROMAWS_NODE_COUNT="+strconv.Itoa(n))
					if err != nil {
						return nil, err
					}
					vals[scaleKey("synth", n)] = u.Wall.Seconds()
				}
			}
			return vals, nil
		}, units)
	})
}

func scaleKey(what string, n int) string { return "scale." + what + ".n" + strconv.Itoa(n) }

// cli times `cdktf synth`: the CLI runs the app of cdktf.json (`go run .`)
// and post-processes its output. It runs inside the bench's loopback-only
// namespace with telemetry off (CHECKPOINT_DISABLE), crash reports off
// (cdktf.json), and its home and plugin cache kept out of yours.
func (b *bencher) cli() error {
	cdktf, err := tools.Find("cdktf")
	if err != nil {
		b.res.Skip("not installed: run `make tools-bench`", prefixed("synth.cli.")...)
		logf("  %v: recorded as not installed", err)
		return nil
	}
	return b.phase("cdktf synth (CLI)", func() error {
		home := filepath.Join(b.work, "cdktf-home")
		units := map[string]string{"synth.cli.wall": bench.Seconds, "synth.cli.maxrss": bench.MiB}
		return b.repeat(0, b.cliRuns, func(int) (map[string]float64, error) {
			out, err := os.MkdirTemp(b.work, "cli-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(out)
			cmd := exec.CommandContext(b.ctx, cdktf, "synth", "--output", out)
			cmd.Dir = b.repo
			cmd.Env = cleanEnv("CHECKPOINT_DISABLE=1", "CDKTF_HOME="+home, "CDKTF_DISABLE_PLUGIN_CACHE_ENV=1")
			u, err := bench.Measure(cmd, "node")
			if err != nil {
				return nil, fmt.Errorf("cdktf synth: %w", err)
			}
			if st, err := os.ReadDir(filepath.Join(out, "stacks")); err != nil || len(st) == 0 {
				return nil, fmt.Errorf("cdktf synth wrote no stack into %s", out)
			}
			return map[string]float64{"synth.cli.wall": u.Wall.Seconds(), "synth.cli.maxrss": u.MaxRSS}, nil
		}, units)
	})
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
	return b.phase("go build, warm", func() error {
		return b.iterations(func(int) (map[string]float64, error) {
			d, err := b.goBuild()
			return map[string]float64{"build.warm.wall": d.Seconds()}, err
		}, map[string]string{"build.warm.wall": bench.Seconds})
	})
}

// buildCold builds with an empty GOCACHE each run, without a warm-up (a
// cold build has nothing to warm).
func (b *bencher) buildCold() error {
	return b.phase("go build, cold", func() error {
		return b.repeat(0, b.coldRuns, func(int) (map[string]float64, error) {
			cache, err := os.MkdirTemp(b.work, "gocache-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(cache)
			d, err := b.goBuild("GOCACHE=" + cache)
			return map[string]float64{"build.cold.wall": d.Seconds()}, err
		}, map[string]string{"build.cold.wall": bench.Seconds})
	})
}
