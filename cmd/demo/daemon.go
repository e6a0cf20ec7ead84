package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/jsii-runtime-go"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/internal/emulator"
	"github.com/prometheus-aws/prometheus-aws/internal/harness"
	"github.com/prometheus-aws/prometheus-aws/internal/proc"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

// demoEnv are the user's settings plus the demo's short discovery
// refresh, so nodes show up in seconds (the harness adds the endpoint).
func demoEnv() map[string]string {
	env := config.OSEnv()
	if _, set := env["PROMAWS_REFRESH_INTERVAL"]; !set {
		env["PROMAWS_REFRESH_INTERVAL"] = "10s"
	}
	if _, set := env["PROMAWS_SCRAPE_INTERVAL"]; !set {
		env["PROMAWS_SCRAPE_INTERVAL"] = "10s"
	}
	return env
}

func logf(format string, args ...any) {
	fmt.Printf("%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// daemon is the supervisor inside the loopback-only namespace. It brings the
// demo up, reports readiness in ready.json, serves the Prometheus bridge,
// and on SIGTERM destroys the stack and stops what it started.
func daemon() error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)

	d := &supervisor{ctx: ctx}
	defer jsii.Close() // the in-process synth's runtime
	defer d.stop()
	if err := d.start(); err != nil {
		_ = os.WriteFile(failedFile, []byte(err.Error()), 0o644)
		logf("FAILED: %v", err)
		d.teardown()
		return err
	}
	<-term
	logf("stopping: destroying the stack in the emulator")
	d.teardown()
	return nil
}

type supervisor struct {
	ctx      context.Context
	emu      *emulator.Emulator
	dep      *harness.Deployment
	procs    []*proc.Process
	task     *harness.PrometheusTask
	listener net.Listener
	// amListener is the bundled Alertmanager's bridge; nil without one.
	amListener net.Listener
	applied    bool
}

func (d *supervisor) start() error {
	abs, _ := filepath.Abs(Dir)
	logf("starting the AWS emulator (moto) on loopback")
	emu, err := emulator.Start(d.ctx, emulator.Options{Dir: abs})
	if err != nil {
		return err
	}
	d.emu = emu
	d.procs = append(d.procs, emu.Process)
	logf("emulator at %s", emu.Endpoint())

	ctxJSON, err := config.LoadContext(".")
	if err != nil {
		return err
	}
	logf("synthesizing the stack with the local profile")
	d.dep, err = harness.NewDeployment(d.ctx, emu, harness.DeploymentOptions{Root: abs, Env: demoEnv(), Context: ctxJSON})
	if err != nil {
		return err
	}
	s := d.dep.Settings
	d.dep.TF.SetStdout(os.Stdout)
	d.dep.TF.SetStderr(os.Stdout)
	logf("terraform init and apply of stack %s (about a minute)", s.StackName())
	d.applied = true
	if err := d.dep.Apply(d.ctx); err != nil {
		return err
	}
	d.dep.TF.SetStdout(io.Discard)

	// The task the service runs, as Fargate would run it: the official
	// image (a local replica), the task definition the emulator holds, its
	// secrets, tmpfs, EFS volume, task role and health check.
	logf("running the Prometheus task from the service's task definition (local Fargate runner, no Docker)")
	runner, err := harness.NewFargate(d.ctx, emu, filepath.Join(abs, "fargate"))
	if err != nil {
		return err
	}
	task, err := runner.RunPrometheus(d.ctx, s, harness.TaskOptions{Dir: abs, HostPort: s.PrometheusPort, AlertmanagerHostPort: s.AlertmanagerPort})
	if err != nil {
		return err
	}
	d.task = task
	d.procs = append(d.procs, task.NodeExporter)
	promURL := task.API.BaseURL
	logf("task %s %s, Prometheus ready on %s (container log %s)", task.Task.ID, task.Task.LastStatus(), promURL, task.Container().LogPath)

	awsCfg, err := d.dep.AWSConfig(d.ctx)
	if err != nil {
		return err
	}
	ids, err := d.dep.GroupInstances(d.ctx)
	if err != nil {
		return err
	}
	logf("waiting until Prometheus discovers all %d nodes and they are up (refresh every %s)", len(ids), s.RefreshInterval)
	wctx, cancel := context.WithTimeout(d.ctx, 5*time.Minute)
	defer cancel()
	targets, err := task.API.WaitForTargets(wctx, promconfig.NodeJob, ids)
	if err != nil {
		return fmt.Errorf("%v\nprometheus log:\n%s", err, task.LogTail(20))
	}
	// ECS's first health probe runs one interval (30 s) after the start.
	logf("waiting for the task's container health check to report HEALTHY")
	if err := task.Task.WaitHealth(wctx, "HEALTHY"); err != nil {
		return fmt.Errorf("%v\nprometheus log:\n%s", err, task.LogTail(20))
	}
	health := map[string]string{}
	for _, tg := range targets {
		health[tg.Labels["instance_id"]] = tg.Health
	}

	ready := &Ready{Endpoint: emu.Endpoint(), InnerURL: promURL, Stack: s.StackName(), StartedAt: time.Now().Format(time.RFC3339),
		User: task.API.Username, Password: task.API.Password, SecretName: harness.SecretName(s),
		ConfigParameter: harness.ConfigParameter(s),
		Task:            TaskStatus{ARN: task.Task.ARN, Status: task.Task.LastStatus(), Health: task.Task.HealthStatus(), Log: task.Container().LogPath}}
	if len(ids) > 0 {
		out, err := ec2.NewFromConfig(awsCfg).DescribeInstances(d.ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
		if err != nil {
			return err
		}
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				name := ""
				for _, t := range i.Tags {
					if aws.ToString(t.Key) == "Name" {
						name = aws.ToString(t.Value)
					}
				}
				ready.Instances = append(ready.Instances, Node{ID: aws.ToString(i.InstanceId), Name: name,
					Zone: aws.ToString(i.Placement.AvailabilityZone), State: string(i.State.Name), Health: health[aws.ToString(i.InstanceId)]})
			}
		}
	}
	for _, pr := range d.procs {
		ready.Processes = append(ready.Processes, pr.PID)
	}
	for _, c := range task.Task.Containers {
		ready.Processes = append(ready.Processes, c.PID())
	}

	// The bridge: a unix socket (files cross network namespaces) that the
	// host-side forwarder connects to; each connection is relayed to
	// Prometheus on loopback here.
	_ = os.Remove(socketFile)
	d.listener, err = net.Listen("unix", socketFile)
	if err != nil {
		return err
	}
	go serveBridge(d.listener, promURL[len("http://"):])
	if task.AlertmanagerURL != "" {
		// The Alertmanager's own bridge; its address without the route.
		u, err := url.Parse(task.AlertmanagerURL)
		if err != nil {
			return err
		}
		_ = os.Remove(amSocketFile)
		d.amListener, err = net.Listen("unix", amSocketFile)
		if err != nil {
			return err
		}
		go serveBridge(d.amListener, u.Host)
		ready.AlertmanagerInner = u.Host
		outs, err := d.dep.Outputs(d.ctx)
		if err != nil {
			return err
		}
		ready.AlertTopic, _ = outs["alarm_topic_arn"].(string)
	}

	data, _ := json.MarshalIndent(ready, "", "  ")
	if err := os.WriteFile(readyFile, data, 0o600); err != nil {
		return err
	}
	logf("ready: %d nodes discovered and up", len(ids))
	return nil
}

// teardown stops the task as ECS would, destroys the stack (if one was
// applied) while the emulator still runs, then stops every process the
// supervisor started.
func (d *supervisor) teardown() {
	if d.task != nil {
		logf("stopping the Prometheus task %s (SIGTERM, then SIGKILL after its stopTimeout)", d.task.Task.ID)
		d.task.Task.Stop("demo stopped")
		d.task = nil
	}
	if d.applied && d.dep != nil && d.emu != nil {
		d.dep.TF.SetStdout(os.Stdout)
		if err := d.dep.Destroy(context.Background()); err != nil {
			logf("terraform destroy failed (the emulator's state is discarded with it anyway): %v", err)
		} else {
			logf("stack destroyed")
		}
		d.applied = false
	}
	d.stop()
}

func (d *supervisor) stop() {
	if d.amListener != nil {
		d.amListener.Close()
		d.amListener = nil
	}
	if d.listener != nil {
		d.listener.Close()
		d.listener = nil
	}
	for i := len(d.procs) - 1; i >= 0; i-- {
		logf("stopping %s (PID %d)", d.procs[i].Name, d.procs[i].PID)
		d.procs[i].Stop()
	}
	d.procs = nil
}
