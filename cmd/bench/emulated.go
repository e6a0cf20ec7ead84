package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/prometheus-aws/prometheus-aws/bench"
	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	"github.com/prometheus-aws/prometheus-aws/internal/localprom"
	"github.com/prometheus-aws/prometheus-aws/internal/promapi"
	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

// deployment is the local-profile stack applied to the emulator.
type deployment struct {
	b        *bencher
	emu      *emulator.Emulator
	ec2      *ec2.Client
	root     string // CDKTF_OUTDIR's parent; holds the state file
	env      map[string]string
	settings *config.Settings
	tf       *tfexec.Terraform
}

// emulatorParts runs everything that needs the emulator: plan, discovery,
// scale plan and discovery of many instances, on one emulator.
func (b *bencher) emulatorParts() error {
	want := func(p string) bool { return !b.skip[p] }
	for _, p := range []struct{ part, prefix string }{{"plan", "plan."}, {"discovery", "discovery."}, {"scale-plan", "scale.plan."}, {"disc1000", "scale.disc1000."}} {
		if b.skip[p.part] {
			b.res.Skip("skipped (-skip "+p.part+")", prefixed(p.prefix)...)
		}
	}
	if !want("plan") && !want("discovery") && !want("scale-plan") && !want("disc1000") {
		return nil
	}
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Hour)
	defer cancel()
	dir := filepath.Join(b.work, "moto")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	emu, err := emulator.Start(ctx, emulator.Options{Dir: dir})
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	defer emu.Stop()
	port, err := freePort()
	if err != nil {
		return err
	}
	d := &deployment{b: b, emu: emu, root: filepath.Join(b.work, "deploy"), env: map[string]string{
		"PROMAWS_ENDPOINT": emu.Endpoint(), "PROMAWS_PROMETHEUS_PORT": strconv.Itoa(port),
	}}
	logf("  apply of the default stack (2 nodes) to the emulator")
	if err := d.apply(ctx, config.Defaults().NodeCount); err != nil {
		return err
	}
	cfg, err := emu.AWSConfig(ctx, d.settings.Region)
	if err != nil {
		return err
	}
	d.ec2 = ec2.NewFromConfig(cfg)

	var errs []error
	if want("plan") {
		if err := d.planDefault(ctx); err != nil {
			errs = append(errs, fmt.Errorf("plan: %w", err))
			logf("  failed: %v", errs[len(errs)-1])
			b.res.Skip("failed (see the bench log)", prefixed("plan.")...)
		}
		_ = b.save()
	}
	if want("discovery") {
		if err := d.discovery(ctx); err != nil {
			errs = append(errs, fmt.Errorf("discovery: %w", err))
			logf("  failed: %v", errs[len(errs)-1])
			b.res.Skip("failed (see the bench log)", prefixed("discovery.")...)
		}
		_ = b.save()
	}
	if want("disc1000") {
		if err := d.discoverMany(ctx); err != nil {
			errs = append(errs, fmt.Errorf("discovery of %d instances: %w", b.many, err))
			logf("  failed: %v", errs[len(errs)-1])
			b.res.Skip("failed (see the bench log)", prefixed("scale.disc1000.")...)
		}
		_ = b.save()
	}
	if want("scale-plan") {
		if err := d.scalePlans(ctx); err != nil {
			errs = append(errs, fmt.Errorf("scale plan: %w", err))
			b.res.Skip("failed (see the bench log)", prefixed("scale.plan.")...)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%v", errs)
	}
	return nil
}

// apply synthesizes the local-profile stack with n nodes and applies it.
func (d *deployment) apply(ctx context.Context, n int) error {
	d.env["PROMAWS_NODE_COUNT"] = strconv.Itoa(n)
	s, err := config.Load(nil, d.env)
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	d.settings = s
	if err := os.MkdirAll(d.root, 0o755); err != nil {
		return err
	}
	var env []string
	for k, v := range d.env {
		env = append(env, k+"="+v)
	}
	cmd := exec.CommandContext(ctx, d.b.app)
	cmd.Dir = d.b.repo
	cmd.Env = cleanEnv(append(env, "CDKTF_OUTDIR="+filepath.Join(d.root, "cdktf.out"))...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("synth of the local-profile stack: %v\n%s", err, out)
	}
	if d.tf == nil {
		tf, err := tfenv.New(ctx, filepath.Join(d.root, "cdktf.out", "stacks", s.StackName()), d.emu.Env(s.Region))
		if err != nil {
			return fmt.Errorf("terraform: %w (run make tools)", err)
		}
		d.tf = tf
		if err := tf.Init(ctx, tfexec.Upgrade(false)); err != nil {
			return fmt.Errorf("terraform init: %w", err)
		}
	}
	start := time.Now()
	if err := d.tf.Apply(ctx); err != nil {
		return fmt.Errorf("terraform apply (%d nodes): %w", n, err)
	}
	logf("  applied %d nodes in %s", n, time.Since(start).Round(time.Second))
	return nil
}

// plan times one no-change plan; a plan with changes is an error.
func (d *deployment) plan(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	changed, err := d.tf.Plan(ctx)
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("terraform plan: %w", err)
	}
	if changed {
		return 0, fmt.Errorf("terraform plan after apply is not clean (a bug in the stack or the emulator; `make test` checks this too)")
	}
	return took, nil
}

// counts returns the managed resource instances and data sources in the
// state file.
func (d *deployment) counts() (managed, data int, err error) {
	path := filepath.Join(d.root, "terraform."+d.settings.StackName()+".tfstate")
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("state file: %w", err)
	}
	var st struct {
		Resources []struct {
			Mode      string            `json:"mode"`
			Instances []json.RawMessage `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return 0, 0, fmt.Errorf("state file %s: %w", path, err)
	}
	for _, r := range st.Resources {
		if r.Mode == "managed" {
			managed += len(r.Instances)
		} else {
			data += len(r.Instances)
		}
	}
	return managed, data, nil
}

func (d *deployment) planDefault(ctx context.Context) error {
	managed, data, err := d.counts()
	if err != nil {
		return err
	}
	err = d.b.iterations(func(int) (map[string]float64, error) {
		t, err := d.plan(ctx)
		return map[string]float64{"plan.default.wall": t.Seconds()}, err
	}, map[string]string{"plan.default.wall": bench.Seconds})
	if err != nil {
		return err
	}
	set := func(key, unit string, v float64) {
		m := d.b.res.Metric(key, unit)
		m.Unit, m.Values = unit, []float64{v}
	}
	set("plan.default.resources", bench.Count, float64(managed))
	set("plan.default.data_sources", bench.Count, float64(data))
	if managed > 0 {
		per := d.b.res.Lookup("plan.default.wall").Values
		m := d.b.res.Metric("plan.default.per_resource", bench.Millis)
		m.Unit, m.Values = bench.Millis, nil
		for _, v := range per {
			m.Values = append(m.Values, v*1000/float64(managed))
		}
	}
	return nil
}

func (d *deployment) scalePlans(ctx context.Context) error {
	units := map[string]string{}
	for _, n := range d.b.scales {
		units["scale.plan.n"+strconv.Itoa(n)] = bench.Seconds
	}
	for _, n := range d.b.scales {
		logf("  scale to %d nodes", n)
		if err := d.apply(ctx, n); err != nil {
			return err
		}
		key := "scale.plan.n" + strconv.Itoa(n)
		err := d.b.iterations(func(int) (map[string]float64, error) {
			t, err := d.plan(ctx)
			return map[string]float64{key: t.Seconds()}, err
		}, units)
		if err != nil {
			return err
		}
	}
	return nil
}

// startPrometheus runs the local Prometheus with the deployment's settings
// and the given intervals.
func (d *deployment) startPrometheus(ctx context.Context, refresh, scrape string) (*localprom.Local, error) {
	s := *d.settings
	s.RefreshInterval, s.ScrapeInterval = refresh, scrape
	dir, err := os.MkdirTemp(d.b.work, "prometheus-")
	if err != nil {
		return nil, err
	}
	l, err := localprom.Start(ctx, &s, d.emu, dir, "")
	if err != nil {
		return nil, fmt.Errorf("local Prometheus: %w (run make tools)", err)
	}
	return l, nil
}

func (d *deployment) subnet(ctx context.Context) (string, error) {
	outs, err := d.tf.Output(ctx)
	if err != nil {
		return "", err
	}
	var ids []string
	if err := json.Unmarshal(outs["subnet_ids"].Value, &ids); err != nil || len(ids) == 0 {
		return "", fmt.Errorf("stack output subnet_ids: %v", err)
	}
	return ids[0], nil
}

// launch starts count tagged instances and waits until all are running;
// it returns their IDs and when the last was seen running.
func (d *deployment) launch(ctx context.Context, subnet string, count int) ([]string, time.Time, error) {
	var ids []string
	for left := count; left > 0; left -= 100 {
		n := int32(min(left, 100))
		out, err := d.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
			ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro,
			MinCount: aws.Int32(n), MaxCount: aws.Int32(n), SubnetId: aws.String(subnet),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
				{Key: aws.String("Name"), Value: aws.String("bench-node")},
				{Key: aws.String(d.settings.DiscoveryTagKey), Value: aws.String(d.settings.DiscoveryTagValue)},
			}}},
		})
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("ec2 RunInstances: %w", err)
		}
		for _, i := range out.Instances {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
	}
	for {
		running := 0
		for i := 0; i < len(ids); i += 100 {
			out, err := d.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids[i:min(i+100, len(ids))]})
			if err != nil {
				return ids, time.Time{}, fmt.Errorf("ec2 DescribeInstances: %w", err)
			}
			for _, r := range out.Reservations {
				for _, inst := range r.Instances {
					if inst.State != nil && inst.State.Name == ec2types.InstanceStateNameRunning {
						running++
					}
				}
			}
		}
		if running == len(ids) {
			return ids, time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return ids, time.Time{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (d *deployment) terminate(ctx context.Context, ids []string) error {
	for i := 0; i < len(ids); i += 100 {
		if _, err := d.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids[i:min(i+100, len(ids))]}); err != nil {
			return fmt.Errorf("ec2 TerminateInstances: %w", err)
		}
	}
	return nil
}

// watch polls the node targets every interval until ids are all present
// and all up (or timeout), and returns how long after since each happened.
func watch(ctx context.Context, api *promapi.Client, ids []string, since time.Time, every, timeout time.Duration) (discovered, up time.Duration, err error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	deadline := time.Now().Add(timeout)
	var last string
	for {
		targets, terr := api.Targets(ctx, promconfig.NodeJob)
		if terr == nil {
			present, healthy := 0, 0
			for _, tg := range targets {
				if want[tg.Labels["instance_id"]] {
					present++
					if tg.Health == "up" {
						healthy++
					}
				}
			}
			now := time.Since(since)
			if present == len(want) && discovered == 0 {
				discovered = now
			}
			if healthy == len(want) {
				return discovered, now, nil
			}
			last = fmt.Sprintf("%d of %d discovered, %d up", present, len(want), healthy)
		} else {
			last = terr.Error()
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("targets not all discovered and up after %s (last: %s)", timeout, last)
		}
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(every):
		}
	}
}

func durationSetting(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		return time.Minute
	}
	return d
}

// discovery measures single-instance discovery latency with the shipped and
// with short intervals.
func (d *deployment) discovery(ctx context.Context) error {
	subnet, err := d.subnet(ctx)
	if err != nil {
		return err
	}
	def := config.Defaults()
	for _, c := range []struct{ name, refresh, scrape string }{
		{"shipped", def.RefreshInterval, def.ScrapeInterval},
		{"short", "5s", "5s"},
	} {
		logf("  discovery with refresh %s, scrape %s", c.refresh, c.scrape)
		l, err := d.startPrometheus(ctx, c.refresh, c.scrape)
		if err != nil {
			return err
		}
		timeout := 2*durationSetting(c.refresh) + 2*durationSetting(c.scrape) + time.Minute
		kd, ku := "discovery."+c.name+".discovered", "discovery."+c.name+".up"
		err = d.b.iterations(func(int) (map[string]float64, error) {
			ids, running, err := d.launch(ctx, subnet, 1)
			if err != nil {
				return nil, err
			}
			defer func() { _ = d.terminate(ctx, ids) }()
			disc, up, err := watch(ctx, l.API, ids, running, 250*time.Millisecond, timeout)
			if err != nil {
				return nil, fmt.Errorf("instance %s: %w\nPrometheus log:\n%s", ids[0], err, l.Prometheus.LogTail(20))
			}
			return map[string]float64{kd: disc.Seconds(), ku: up.Seconds()}, nil
		}, map[string]string{kd: bench.Seconds, ku: bench.Seconds})
		l.Stop()
		if err != nil {
			return err
		}
	}
	return nil
}

// prometheusPID is the PID of the prometheus process of l (the entrypoint
// execs it, so normally l's own).
func prometheusPID(l *localprom.Local) int {
	if bench.Comm(l.Prometheus.PID) == "prometheus" {
		return l.Prometheus.PID
	}
	for _, p := range bench.Descendants(l.Prometheus.PID) {
		if bench.Comm(p) == "prometheus" {
			return p
		}
	}
	return l.Prometheus.PID
}

// discoverMany measures discovery of b.many tagged instances and
// Prometheus's memory with them, with a fresh Prometheus each run (its
// memory keeps the series of earlier runs' targets otherwise).
func (d *deployment) discoverMany(ctx context.Context) error {
	subnet, err := d.bigSubnet(ctx)
	if err != nil {
		return err
	}
	const refresh = "5s"
	scrape := config.Defaults().ScrapeInterval
	logf("  discovery of %d instances with refresh %s, scrape %s", d.b.many, refresh, scrape)
	nodes, err := d.groupTargets(ctx)
	if err != nil {
		return err
	}
	units := map[string]string{"scale.disc1000.launch": bench.Seconds, "scale.disc1000.discovered": bench.Seconds, "scale.disc1000.up": bench.Seconds,
		"scale.disc1000.rss_before": bench.MiB, "scale.disc1000.rss": bench.MiB}
	timeout := 2*durationSetting(refresh) + 2*durationSetting(scrape) + 10*time.Minute
	if d.b.many != 1000 {
		for k := range units {
			d.b.res.Metric(k, units[k]).Note = fmt.Sprintf("measured with %d instances (-instances), not 1,000", d.b.many)
		}
	}
	return d.b.iterationsN(d.b.manyRuns, func(int) (map[string]float64, error) {
		l, err := d.startPrometheus(ctx, refresh, scrape)
		if err != nil {
			return nil, err
		}
		defer func() {
			l.Stop()
			_ = os.RemoveAll(filepath.Dir(filepath.Dir(l.ConfigFile)))
		}()
		pid := prometheusPID(l)
		// Let it settle on the stack's own nodes first.
		if _, _, err := watch(ctx, l.API, nodes, time.Now(), time.Second, 3*time.Minute); err != nil {
			return nil, fmt.Errorf("the stack's nodes: %w", err)
		}
		before := bench.RSS(pid)
		launched := time.Now()
		ids, running, err := d.launch(ctx, subnet, d.b.many)
		defer func() { _ = d.terminate(ctx, ids) }()
		if err != nil {
			return nil, err
		}
		logf("  %d instances running %s after the first RunInstances call", len(ids), running.Sub(launched).Round(time.Second))
		disc, up, err := watch(ctx, l.API, ids, running, time.Second, timeout)
		rss := bench.RSS(pid)
		if err != nil {
			return nil, fmt.Errorf("%w\nPrometheus log:\n%s", err, l.Prometheus.LogTail(20))
		}
		return map[string]float64{"scale.disc1000.launch": running.Sub(launched).Seconds(),
			"scale.disc1000.discovered": disc.Seconds(), "scale.disc1000.up": up.Seconds(),
			"scale.disc1000.rss_before": before, "scale.disc1000.rss": rss}, nil
	}, units)
}

// bigSubnet creates a VPC with a /20 subnet outside the stack (and its
// Terraform state) for the many instances: the stack's /24 subnets hold
// too few addresses. Discovery filters by tag, not by VPC.
func (d *deployment) bigSubnet(ctx context.Context) (string, error) {
	vpc, err := d.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.250.0.0/16")})
	if err != nil {
		return "", fmt.Errorf("ec2 CreateVpc for the bench instances: %w", err)
	}
	sub, err := d.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.250.0.0/20"),
		AvailabilityZone: aws.String(d.settings.Region + "a")})
	if err != nil {
		return "", fmt.Errorf("ec2 CreateSubnet for the bench instances: %w", err)
	}
	return aws.ToString(sub.Subnet.SubnetId), nil
}

// groupTargets are the running tagged instances of the stack itself (the
// Auto Scaling group's nodes).
func (d *deployment) groupTargets(ctx context.Context) ([]string, error) {
	out, err := d.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + d.settings.DiscoveryTagKey), Values: []string{d.settings.DiscoveryTagValue}},
		{Name: aws.String("instance-state-name"), Values: []string{"running"}},
	}})
	if err != nil {
		return nil, fmt.Errorf("ec2 DescribeInstances: %w", err)
	}
	var ids []string
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
	}
	return ids, nil
}
