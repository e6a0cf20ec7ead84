package fargate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/crypto/bcrypt"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

// passwords are the two passwords of one run's basic-auth secret,
// people's (user admin) and the machine user's, and their bcrypt hashes,
// as the stack's secret holds them (keys password, machine_password,
// web_config). Each run makes its own: the sampler reads every process on
// the machine, and another run of this test at the same time (CI's
// pipeline test runs the unit job while the outer suite runs this package)
// must not be taken for this task's processes.
type passwords struct{ human, machine, humanHash, machineHash string }

func newPasswords(t *testing.T) passwords {
	t.Helper()
	p := passwords{human: "Human-issue34-" + newID()[:12], machine: "Machine-issue34-" + newID()[:12]}
	for _, h := range []struct {
		pw   string
		hash *string
	}{{p.human, &p.humanHash}, {p.machine, &p.machineHash}} {
		b, err := bcrypt.GenerateFromPassword([]byte(h.pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		*h.hash = string(b)
	}
	return p
}

// sighting is a process seen carrying a secret in its arguments or
// environment, from its first sample to its last.
type sighting struct {
	pid         int
	file        string // cmdline or environ
	secret      string // "human" or "machine"
	cmd         string
	first, last time.Time
}

// sampleProcesses reads every process's arguments and environment on the
// machine (the test runs as root in its own network namespace: it sees
// the task's processes and the runner's) but the test's own, every 20 ms
// for d, and returns each process seen carrying one of the two passwords.
// Health checks live a few milliseconds: a sampler can miss one, never a
// process that lives.
func sampleProcesses(d time.Duration, pw passwords) []*sighting {
	self := strconv.Itoa(os.Getpid())
	seen := map[string]*sighting{}
	var out []*sighting
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, dir := range dirs {
			if filepath.Base(dir) == self {
				continue
			}
			for _, f := range []string{"cmdline", "environ"} {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					continue
				}
				for name, secret := range map[string]string{"human": pw.human, "machine": pw.machine} {
					if !bytes.Contains(b, []byte(secret)) {
						continue
					}
					cmd, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
					key := dir + f + name + string(cmd)
					now := time.Now()
					if s := seen[key]; s != nil {
						s.last = now
						continue
					}
					pid, _ := strconv.Atoi(filepath.Base(dir))
					s := &sighting{pid: pid, file: f, secret: name, cmd: strings.ReplaceAll(string(cmd), "\x00", " "), first: now, last: now}
					seen[key] = s
					out = append(out, s)
				}
			}
		}
	}
	return out
}

func (s *sighting) String() string {
	return fmt.Sprintf("pid %d %s holds the %s password for %s (%.160q)", s.pid, s.file, s.secret, s.last.Sub(s.first).Round(time.Millisecond), s.cmd)
}

// leakyTask makes the task as it was before issue 34: the Prometheus
// container given people's password, and its health check sending it in
// wget's URL. The check is kept alive a second after wget (sleep) so that
// the sampler sees it for certain; the old check lived a few milliseconds.
type leakyTask bool

// runTheTask runs the task's Prometheus and Alertmanager containers as the
// stack defines them with basic auth on (their entrypoint scripts, the web
// config listing both users and the machine user's password as ECS
// secrets, the stack's health checks every 5 s, the least ECS takes, no
// capability), their configuration in /config as config-sync delivers it
// (promconfig's generated prometheus.yml but the node job, a rule that
// always fires, an alertmanager.yml), checks that basic auth is on and that
// Prometheus's own clients sign in with the machine credential (the
// self-scrape, the Alertmanager scrape, the alert reaching the
// Alertmanager), then samples every process for the passwords for 20 s.
func runTheTask(t *testing.T, ctx context.Context, leaky leakyTask) (*Task, []*sighting) {
	t.Helper()
	pw := newPasswords(t)
	humanPassword, machinePassword := pw.human, pw.machine
	cfg, err := emu.AWSConfig(ctx, region)
	if err != nil {
		t.Fatal(err)
	}
	web := "basic_auth_users:\n  admin: '" + pw.humanHash + "'\n  " + taskcontract.MachineUser + ": '" + pw.machineHash + "'\n"
	value := fmt.Sprintf(`{%q:"admin",%q:%q,%q:%q,%q:%q}`, taskcontract.SecretUsernameKey, taskcontract.SecretPasswordKey, humanPassword,
		taskcontract.SecretMachinePasswordKey, machinePassword, taskcontract.SecretWebConfigKey, web)
	sec, err := secretsmanager.NewFromConfig(cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("runner-test-" + newID()[:6]), SecretString: aws.String(value)})
	if err != nil {
		t.Fatal(err)
	}
	key := func(k string) *string { return aws.String(aws.ToString(sec.ARN) + ":" + k + "::") }

	// config-sync's delivery, written once by a container that exits.
	gen := promconfig.Generate(config.Defaults())
	gen.Global.ScrapeInterval, gen.Global.EvaluationInterval = "2s", "2s"
	var jobs []promconfig.ScrapeConfig
	for _, j := range gen.ScrapeConfigs {
		if j.JobName != promconfig.NodeJob {
			jobs = append(jobs, j)
		}
	}
	gen.ScrapeConfigs = jobs
	promYAML, err := gen.YAML()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"prometheus.yml":   string(promYAML),
		"rules/issue.yml":  "groups:\n  - name: issue34\n    rules:\n      - alert: Issue34AlwaysFiring\n        expr: vector(1)\n",
		"alertmanager.yml": "route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n",
	}
	script := "set -e; mkdir -p /config/rules\n"
	for name, content := range files {
		script += fmt.Sprintf("cat >/config/%s <<'EOF'\n%s\nEOF\n", name, content)
	}
	script += "chmod -R a+rX /config; touch /config/.synced\n"
	sync := busybox("config-sync", script)
	sync.User, sync.Essential = aws.String("0"), aws.Bool(false)
	sync.MountPoints = []ecstypes.MountPoint{{SourceVolume: aws.String("config"), ContainerPath: aws.String(taskcontract.ConfigDir)}}
	after := []ecstypes.ContainerDependency{{ContainerName: aws.String("config-sync"), Condition: ecstypes.ContainerConditionSuccess}}
	noCaps := func(tmp string) *ecstypes.LinuxParameters {
		return &ecstypes.LinuxParameters{Capabilities: &ecstypes.KernelCapabilities{Drop: []string{"ALL"}},
			Tmpfs: []ecstypes.Tmpfs{{ContainerPath: aws.String(tmp), Size: 16, MountOptions: []string{"noexec", "nosuid", "nodev"}}}}
	}
	configMount := ecstypes.MountPoint{SourceVolume: aws.String("config"), ContainerPath: aws.String(taskcontract.ConfigDir), ReadOnly: aws.Bool(true)}
	check := func(command string) *ecstypes.HealthCheck {
		return &ecstypes.HealthCheck{Command: []string{"CMD-SHELL", command}, Interval: seconds(5), Timeout: seconds(5), Retries: seconds(3), StartPeriod: seconds(60)}
	}

	prom := prometheusContainer(false)
	prom.Environment = []ecstypes.KeyValuePair{{Name: aws.String(taskcontract.EnvConfigDir), Value: aws.String(taskcontract.ConfigDir)}}
	prom.Secrets = []ecstypes.Secret{
		{Name: aws.String(taskcontract.EnvWebConfigYAML), ValueFrom: key(taskcontract.SecretWebConfigKey)},
		{Name: aws.String(taskcontract.EnvBasicAuthPassword), ValueFrom: key(taskcontract.SecretMachinePasswordKey)},
	}
	prom.MountPoints = append(prom.MountPoints, configMount)
	prom.LinuxParameters = noCaps("/tmp")
	prom.DependsOn = after
	prom.HealthCheck = check(taskcontract.HealthCheckCommand("http://127.0.0.1:9090/-/healthy"))
	if leaky {
		prom.Secrets[1].ValueFrom = key(taskcontract.SecretPasswordKey)
		prom.HealthCheck = check(`wget -q -O /dev/null "http://admin:$` + taskcontract.EnvBasicAuthPassword + `@127.0.0.1:9090/-/healthy" && sleep 1 || exit 1`)
	}

	am := ecstypes.ContainerDefinition{
		Name: aws.String(taskcontract.AlertmanagerContainerName), Image: aws.String(config.DefaultAlertmanagerImage), Essential: aws.Bool(true),
		User: aws.String(taskcontract.User), ReadonlyRootFilesystem: aws.Bool(true),
		EntryPoint: []string{"/bin/sh", "-c"},
		Command:    []string{taskcontract.AlertmanagerEntrypoint, taskcontract.AlertmanagerScriptName, taskcontract.FlagRoutePrefix + taskcontract.AlertmanagerRoutePrefix},
		Environment: []ecstypes.KeyValuePair{{Name: aws.String(taskcontract.EnvAlertmanagerConfigDir), Value: aws.String(taskcontract.ConfigDir)},
			{Name: aws.String(taskcontract.EnvAlertmanagerPort), Value: aws.String("9093")}},
		Secrets: []ecstypes.Secret{{Name: aws.String(taskcontract.EnvAlertmanagerWebConfigYAML), ValueFrom: key(taskcontract.SecretWebConfigKey)}},
		MountPoints: []ecstypes.MountPoint{{SourceVolume: aws.String(taskcontract.AlertmanagerVolume), ContainerPath: aws.String(taskcontract.AlertmanagerStoragePath)},
			configMount},
		LinuxParameters: noCaps("/tmp"),
		DependsOn:       after,
		PortMappings:    []ecstypes.PortMapping{{ContainerPort: aws.Int32(9093), HostPort: aws.Int32(9093)}},
		HealthCheck:     check(taskcontract.HealthCheckCommand("http://127.0.0.1:9093" + taskcontract.AlertmanagerRoutePrefix + "/-/healthy")),
		StopTimeout:     seconds(30),
	}

	def := taskDef([]ecstypes.Volume{{Name: aws.String("data")}, {Name: aws.String("config")}, {Name: aws.String(taskcontract.AlertmanagerVolume)}}, sync, prom, am)
	def.Cpu, def.Memory = aws.String("512"), aws.String("1024")
	def.ExecutionRoleArn = role(t, ctx, "exec")
	task, err := runner.Run(ctx, def, RunOptions{Region: region})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { task.Stop("test over") })
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := task.WaitHealth(wctx, "HEALTHY"); err != nil {
		t.Fatalf("%v\n%s\n%s", err, task.Container("prometheus").LogTail(20), task.Container(taskcontract.AlertmanagerContainerName).LogTail(20))
	}
	get := func(port int, path, user, pw string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+task.Endpoint(port)+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Basic auth is on in both, for both users.
	for _, c := range []struct {
		port     int
		path     string
		user, pw string
		want     int
	}{
		{9090, "/-/healthy", "", "", http.StatusUnauthorized},
		{9090, "/-/healthy", "admin", humanPassword, http.StatusOK},
		{9090, "/-/healthy", taskcontract.MachineUser, machinePassword, http.StatusOK},
		{9090, "/-/healthy", taskcontract.MachineUser, humanPassword, http.StatusUnauthorized},
		{9093, "/alertmanager/-/healthy", "", "", http.StatusUnauthorized},
		{9093, "/alertmanager/-/healthy", "admin", humanPassword, http.StatusOK},
		{9093, "/alertmanager/-/healthy", taskcontract.MachineUser, machinePassword, http.StatusOK},
	} {
		if code, body := get(c.port, c.path, c.user, c.pw); code != c.want {
			t.Fatalf("%d%s as %q: %d, want %d (%s)", c.port, c.path, c.user, code, c.want, body)
		}
	}
	if !leaky {
		// Prometheus's own clients sign in as the machine user: it scrapes
		// itself and the Alertmanager, and its alert reaches the
		// Alertmanager.
		deadline := time.Now().Add(60 * time.Second)
		for {
			_, up := get(9090, "/api/v1/query?query=sum(up)", "admin", humanPassword)
			_, alerts := get(9093, "/alertmanager/api/v2/alerts", "admin", humanPassword)
			if strings.Contains(up, `"2"]`) && strings.Contains(alerts, "Issue34AlwaysFiring") {
				break
			}
			if time.Now().After(deadline) {
				_, targets := get(9090, "/api/v1/targets", "admin", humanPassword)
				t.Fatalf("the machine credential must carry the self-scrape, the Alertmanager scrape and the alert: sum(up) %s, alerts %s, targets %s", up, alerts, targets)
			}
			time.Sleep(time.Second)
		}
	}
	return task, sampleProcesses(20*time.Second, pw)
}

// longLived are the sightings of processes that live: the containers'
// first processes (Prometheus, the Alertmanager's watcher shell) and any
// process seen for 3 s or more (the Alertmanager, the runner's runc);
// a health check lives a few milliseconds.
func longLived(task *Task, seen []*sighting) []*sighting {
	first := map[int]bool{}
	for _, c := range task.Containers {
		first[c.PID()] = true
	}
	var out []*sighting
	for _, s := range seen {
		if first[s.pid] || s.last.Sub(s.first) >= 3*time.Second {
			out = append(out, s)
		}
	}
	return out
}

// Issue 34: no process of the task carries people's password, in its
// arguments (/proc/<pid>/cmdline) or its environment (/proc/<pid>/environ),
// health checks included: it never enters the task (the web config holds
// its hash). The machine user's password, which Prometheus and Grafana
// send, is in no process's arguments, and in the environment of no process
// that lives (the entrypoints remove it before they exec); the health
// checks' environment may hold it, since ECS runs a health check with the
// container's environment (docker exec), secrets included. The runner's
// own processes (runc run, which lives as long as the container, runc
// exec) hold neither: the container's environment reaches runc in the
// bundle's config.json, as the ECS agent's environment is not the
// container's.
// Must-fail: the task as it was, Prometheus given people's password and
// its health check sending it in wget's URL, is caught.
func TestNoProcessCarriesThePassword(t *testing.T) {
	ctx := setup(t)
	task, seen := runTheTask(t, ctx, false)
	for _, s := range seen {
		if s.secret == "human" || s.file == "cmdline" {
			t.Errorf("people's password must be in no process, the machine's in no command line: %s", s)
		}
	}
	for _, s := range longLived(task, seen) {
		if s.file == "environ" {
			t.Errorf("a process that lives keeps the password in its environment: %s", s)
		}
	}
	for _, s := range seen {
		t.Logf("allowed: %s", s)
	}
	task.Stop("test over")

	_, seen = runTheTask(t, ctx, true)
	var caught []string
	for _, s := range seen {
		if s.secret == "human" {
			caught = append(caught, s.String())
		}
	}
	if len(caught) == 0 {
		t.Errorf("must-fail: the old task's health check carries people's password in its arguments and environment, not caught: %v", seen)
	}
	t.Logf("must-fail, the old health check with people's password, caught:\n%s", strings.Join(caught, "\n"))
}
