package docker

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus-aws/prometheus-aws/alerting"
	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/internal/proc"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

func TestEntrypointIsPOSIXClean(t *testing.T) {
	shellcheck, err := tools.Find("shellcheck")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(shellcheck, "-s", "sh", "entrypoint.sh").CombinedOutput(); err != nil {
		t.Fatalf("shellcheck -s sh entrypoint.sh: %v\n%s", err, out)
	}
}

func TestEmbeddedFilesAreTheFiles(t *testing.T) {
	for name, embedded := range map[string]string{"entrypoint.sh": taskcontract.Entrypoint, "prometheus.yml": DefaultConfig, "rules.yml": Rules} {
		data, err := os.ReadFile(name)
		if err != nil || string(data) != embedded {
			t.Errorf("%s: embedded copy differs from the file (%v)", name, err)
		}
	}
}

// fakePrometheus stands in for /bin/prometheus: it records its pid, its
// arguments (one a line), the files --config.file and --web.config.file name,
// and its environment, into $RECORD; it exits with $FAKE_EXIT.
const fakePrometheus = `#!/bin/sh
echo $$ >"$RECORD/pid"
: >"$RECORD/argv"
for a in "$@"; do
  printf '%s\n' "$a" >>"$RECORD/argv"
  case $a in
  --config.file=*) cp "${a#--config.file=}" "$RECORD/config" ;;
  --web.config.file=*) cp "${a#--web.config.file=}" "$RECORD/web" ;;
  esac
done
env >"$RECORD/env"
exit "${FAKE_EXIT:-0}"
`

// shells are the POSIX shells to run the entrypoint with: /bin/sh, busybox
// (the image's shell), dash and bash in POSIX mode. Every one is required:
// a missing one would let the calling conventions pass under fewer shells
// than they promise (make tools installs busybox-static; dash and bash are
// Debian's).
func shells(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{"sh": {"sh"}, "busybox": {"busybox", "sh"}, "dash": {"dash"}, "bash-posix": {"bash", "--posix"}}
	for name, argv := range out {
		if _, err := exec.LookPath(argv[0]); err != nil {
			t.Fatalf("the %s shell is required (%v): run make tools (busybox-static), apt-get install dash bash", name, err)
		}
	}
	return out
}

type run struct {
	dir, record string
	out         string // the entrypoint's own output
	err         error
	pid         int // of the entrypoint's process
}

func (r run) file(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.record, name))
	if err != nil {
		t.Fatalf("the fake prometheus did not record %s (was it started?): %v\n%s", name, err, r.out)
	}
	return string(data)
}

func (r run) argv(t *testing.T) []string {
	return strings.Split(strings.TrimSuffix(r.file(t, "argv"), "\n"), "\n")
}

// runEntrypoint runs argv (which names the script as the shell's caller
// would) with only the given environment, plus PATH, PROMETHEUS_BIN and
// RECORD for the fake.
func runEntrypoint(t *testing.T, argv []string, env ...string) run {
	t.Helper()
	dir := t.TempDir()
	r := run{dir: dir, record: filepath.Join(dir, "record")}
	if err := os.Mkdir(r.record, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "prometheus")
	if err := os.WriteFile(bin, []byte(fakePrometheus), 0o755); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("entrypoint.sh")
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range argv {
		argv[i] = strings.NewReplacer("@SCRIPT_FILE@", script, "@DIR@", dir).Replace(a)
	}
	for i, e := range env {
		env[i] = strings.ReplaceAll(e, "@DIR@", dir)
	}
	// The image's baked config, and a private runtime folder unless the
	// case names its own (never the shared /tmp/prometheus).
	baked := filepath.Join(dir, "baked.yml")
	if err := os.WriteFile(baked, []byte("# baked\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"PATH=" + os.Getenv("PATH"), "PROMETHEUS_BIN=" + bin, "RECORD=" + r.record,
		"PROMETHEUS_DEFAULT_CONFIG=" + baked, "PROMETHEUS_RUNTIME_DIR=" + filepath.Join(dir, "run")}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(base, env...) // later entries win
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	r.err = cmd.Run()
	r.out = out.String()
	if cmd.Process != nil {
		r.pid = cmd.Process.Pid
	}
	return r
}

// config holds everything a shell could mangle: expansions, escapes,
// format directives, quotes, a leading dash, blank and indented lines.
const tricky = "# SECRET-MARKER $HOME ${PATH} $(id) `id` \\n \\\\ %s %d '\" *\n-leading: dash\n\nglobal:\n  scrape_interval: 7s   "

func TestEntrypointCallingConventions(t *testing.T) {
	extra := []string{"--storage.tsdb.retention.time=15d", "--web.external-url=http://x/a b*"}
	conventions := map[string]func(sh []string) []string{
		// The image: ENTRYPOINT ["/bin/sh", "/etc/prometheus/entrypoint.sh"] + CMD.
		"file": func(sh []string) []string { return append(append(slices.Clone(sh), "@SCRIPT_FILE@"), extra...) },
		// ECS: entryPoint ["/bin/sh", "-c"], command [script, name, flags...].
		"ecs": func(sh []string) []string {
			return append(append(slices.Clone(sh), "-c", taskcontract.Entrypoint, taskcontract.ScriptName), extra...)
		},
		// ECS with the $0 placeholder forgotten: no flag may be lost.
		"ecs-without-name": func(sh []string) []string {
			return append(append(slices.Clone(sh), "-c", taskcontract.Entrypoint), extra...)
		},
	}
	for shell, sh := range shells(t) {
		for name, argv := range conventions {
			t.Run(shell+"/"+name, func(t *testing.T) {
				r := runEntrypoint(t, argv(sh),
					"PROMETHEUS_RUNTIME_DIR=@DIR@/run/prometheus",
					"PROMETHEUS_CONFIG_YAML="+tricky,
					"PROMETHEUS_WEB_CONFIG_YAML=basic_auth_users:\n  admin: SECRET-MARKER-HASH",
					"PROMETHEUS_PORT=9191",
					"PROMETHEUS_STORAGE_PATH=@DIR@/data",
				)
				if r.err != nil {
					t.Fatalf("%v\n%s", r.err, r.out)
				}
				run := filepath.Join(r.dir, "run", "prometheus")
				want := append([]string{
					"--config.file=" + filepath.Join(run, "prometheus.yml"),
					"--storage.tsdb.path=" + filepath.Join(r.dir, "data"),
					"--web.listen-address=:9191",
					"--web.config.file=" + filepath.Join(run, "web.yml"),
				}, extra...)
				if got := r.argv(t); !slices.Equal(got, want) {
					t.Errorf("prometheus argv\n got %q\nwant %q", got, want)
				}
				if got := r.file(t, "config"); got != tricky+"\n" {
					t.Errorf("the config must be written verbatim:\n got %q\nwant %q", got, tricky+"\n")
				}
				if got := r.file(t, "web"); got != "basic_auth_users:\n  admin: SECRET-MARKER-HASH\n" {
					t.Errorf("web config: %q", got)
				}
				if strings.Contains(r.out, "SECRET-MARKER") {
					t.Errorf("the entrypoint must never print the contents:\n%s", r.out)
				}
				if strings.Contains(r.file(t, "env"), "SECRET-MARKER") {
					t.Error("the contents must not stay in Prometheus's environment")
				}
				for path, mode := range map[string]os.FileMode{run: 0o700, filepath.Join(run, "prometheus.yml"): 0o600, filepath.Join(run, "web.yml"): 0o600} {
					if st, err := os.Stat(path); err != nil || st.Mode().Perm() != mode {
						t.Errorf("%s must be private (%v): %v", path, mode, err)
					}
				}
				// exec: Prometheus replaces the shell, so ECS's SIGTERM
				// reaches it directly and the TSDB closes cleanly.
				if pid, _ := strconv.Atoi(strings.TrimSpace(r.file(t, "pid"))); pid != r.pid {
					t.Errorf("prometheus runs as pid %d, the entrypoint was %d: the script must exec it", pid, r.pid)
				}
			})
		}
	}
}

func TestEntrypointDefaults(t *testing.T) {
	for shell, sh := range shells(t) {
		t.Run(shell, func(t *testing.T) {
			// Empty counts as unset: a copy of the baked-in config (the root
			// filesystem is read-only), no web config, no password.
			r := runEntrypoint(t, append(slices.Clone(sh), "-c", taskcontract.Entrypoint, "prometheus-entrypoint"), "PROMETHEUS_CONFIG_YAML=")
			want := []string{"--config.file=" + filepath.Join(r.dir, "run", "prometheus.yml"), "--storage.tsdb.path=/prometheus", "--web.listen-address=:9090"}
			if got := r.argv(t); !slices.Equal(got, want) {
				t.Errorf("defaults\n got %q\nwant %q\n%s", got, want, r.out)
			}
			if got := r.file(t, "config"); got != "# baked\n" {
				t.Errorf("the baked config must be used, got %q", got)
			}
			if pw, err := os.ReadFile(filepath.Join(r.dir, "run", taskcontract.SelfScrapePasswordFile)); err != nil || len(pw) != 0 {
				t.Errorf("without basic auth the self-scrape password file is empty: %q %v", pw, err)
			}
		})
	}
}

// TestEntrypointSelfScrapePassword: the password lands, private, where the
// generated config's relative password_file points, and not in
// Prometheus's environment.
func TestEntrypointSelfScrapePassword(t *testing.T) {
	r := runEntrypoint(t, []string{"sh", "@SCRIPT_FILE@"}, "PROMETHEUS_CONFIG_YAML=global: {}", "PROMETHEUS_BASIC_AUTH_PASSWORD=s3cr3t-Pa55")
	file := filepath.Join(r.dir, "run", taskcontract.SelfScrapePasswordFile)
	pw, err := os.ReadFile(file)
	if err != nil || string(pw) != "s3cr3t-Pa55" {
		t.Fatalf("password file: %q %v\n%s", pw, err, r.out)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("password file mode %v, want 0600", st.Mode().Perm())
	}
	if strings.Contains(r.file(t, "env"), "s3cr3t-Pa55") || strings.Contains(r.out, "s3cr3t-Pa55") {
		t.Error("the password must not reach Prometheus's environment or the log")
	}
}

func TestEntrypointFailures(t *testing.T) {
	t.Run("exit status passes through", func(t *testing.T) {
		r := runEntrypoint(t, []string{"sh", "@SCRIPT_FILE@"}, "FAKE_EXIT=3")
		if ee, ok := r.err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			t.Errorf("want Prometheus's exit status 3, got %v", r.err)
		}
	})
	t.Run("unwritable runtime folder stops before Prometheus", func(t *testing.T) {
		// A folder below a regular file cannot be created, even by root.
		r := runEntrypoint(t, []string{"sh", "@SCRIPT_FILE@"}, "PROMETHEUS_RUNTIME_DIR=@DIR@/prometheus/run", "PROMETHEUS_CONFIG_YAML=global: {}")
		if r.err == nil {
			t.Error("the entrypoint must fail when it cannot write the config")
		}
		if _, err := os.Stat(filepath.Join(r.record, "argv")); err == nil {
			t.Error("Prometheus must not start without its config")
		}
	})
}

func TestDockerfile(t *testing.T) {
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	var from []string
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "FROM "); ok {
			from = append(from, strings.TrimSpace(rest))
		}
	}
	if len(from) != 1 || from[0] != config.DefaultPrometheusImage {
		t.Errorf("Dockerfile FROM %v, but the task runs %s: bump both together", from, config.DefaultPrometheusImage)
	}
	// The image side of the task contract: where the files go, who runs
	// and how the script is called.
	for _, want := range []string{
		"COPY prometheus.yml " + taskcontract.BakedConfig,
		"COPY rules.yml " + taskcontract.BakedRules,
		"COPY entrypoint.sh " + taskcontract.ScriptPath,
		fmt.Sprintf("ENTRYPOINT [%q, %q]", taskcontract.Shell, taskcontract.ScriptPath),
		"USER " + taskcontract.ImageUser,
		"EXPOSE " + strconv.Itoa(config.Defaults().PrometheusPort),
		fmt.Sprintf("CMD [%q]", taskcontract.FlagRetention+config.DefaultRetention),
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	for _, l := range lines {
		if strings.Contains(l, "web.enable-lifecycle") || strings.HasPrefix(l, "USER root") || strings.HasPrefix(l, "USER 0") {
			t.Errorf("Dockerfile must not %q", l)
		}
	}
}

func TestDefaultConfigIsGenerated(t *testing.T) {
	want, err := promconfig.Generate(config.Defaults()).YAML()
	if err != nil {
		t.Fatal(err)
	}
	if DefaultConfig != string(want) {
		t.Fatal("docker/prometheus.yml differs from the config generated from the default settings: run `make docker-config`")
	}
	promtool, err := tools.Find("promtool")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "config", "prometheus.yml").CombinedOutput(); err != nil {
		t.Fatalf("promtool check config docker/prometheus.yml: %v\n%s", err, out)
	}
}

func TestImageRulesAreTheAlertingRules(t *testing.T) {
	if Rules != string(alerting.Rules()) {
		t.Fatal("docker/rules.yml differs from alerting/rules.yml: run `make docker-config`")
	}
}

// TestEntrypointRules: delivered rules land beside the config and leave
// the environment; without them (and no baked file) an empty rule set.
func TestEntrypointRules(t *testing.T) {
	rules := "groups:\n- name: x\n  rules: []"
	r := runEntrypoint(t, []string{"sh", "@SCRIPT_FILE@"}, "PROMETHEUS_CONFIG_YAML=global: {}", "PROMETHEUS_RULES_YAML="+rules)
	got, err := os.ReadFile(filepath.Join(r.dir, "run", taskcontract.RulesDir, taskcontract.RulesFile))
	if err != nil || string(got) != rules+"\n" {
		t.Fatalf("rules file: %q %v\n%s", got, err, r.out)
	}
	if strings.Contains(r.file(t, "env"), "PROMETHEUS_RULES_YAML") {
		t.Error("the rules variable must not reach Prometheus's environment")
	}
	r = runEntrypoint(t, []string{"sh", "@SCRIPT_FILE@"}, "PROMETHEUS_CONFIG_YAML=global: {}", "PROMETHEUS_DEFAULT_RULES=/nonexistent/rules.yml")
	if got, err := os.ReadFile(filepath.Join(r.dir, "run", taskcontract.RulesDir, taskcontract.RulesFile)); err != nil || string(got) != "groups: []\n" {
		t.Fatalf("without rules the entrypoint must write an empty rule set: %q %v\n%s", got, err, r.out)
	}
}

// Given the config-sync sidecar's folder (the ECS task), when it has
// synced, then Prometheus runs from it through links (so a change shows,
// and the config's relative rules/ and password paths still resolve) with
// automatic reload on; when it never syncs, the entrypoint gives up within
// its bound with a message naming the sidecar, and starts nothing.
func TestEntrypointRunsFromTheSyncedFolder(t *testing.T) {
	for name, sh := range shells(t) {
		t.Run(name, func(t *testing.T) {
			synced := t.TempDir()
			if err := os.MkdirAll(filepath.Join(synced, taskcontract.RulesDir), 0o755); err != nil {
				t.Fatal(err)
			}
			for file, content := range map[string]string{taskcontract.ConfigFile: "global:\n  scrape_interval: 15s\n", taskcontract.RulesDir + "/g.yml": "groups: []\n", taskcontract.SyncedMarker: "now\n"} {
				if err := os.WriteFile(filepath.Join(synced, file), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := runEntrypoint(t, append(slices.Clone(sh), "@SCRIPT_FILE@"), "PROMETHEUS_CONFIG_DIR="+synced, "PROMETHEUS_CONFIG_YAML=ignored: true")
			if r.err != nil {
				t.Fatalf("%v\n%s", r.err, r.out)
			}
			argv := r.file(t, "argv")
			if !strings.Contains(argv, taskcontract.FlagAutoReload+"\n"+taskcontract.FlagAutoReloadInterval+taskcontract.AutoReloadInterval+"\n") {
				t.Errorf("automatic reload must be on:\n%s", argv)
			}
			if got := r.file(t, "config"); !strings.Contains(got, "scrape_interval: 15s") {
				t.Errorf("Prometheus must read the synced prometheus.yml, read %q", got)
			}
			run := filepath.Join(r.dir, "run")
			for link, target := range map[string]string{taskcontract.ConfigFile: filepath.Join(synced, taskcontract.ConfigFile), taskcontract.RulesDir: filepath.Join(synced, taskcontract.RulesDir)} {
				if got, err := os.Readlink(filepath.Join(run, link)); err != nil || got != target {
					t.Errorf("%s must link to the synced %s: %q %v", link, target, got, err)
				}
			}
			// A change of the synced file shows through the link.
			if err := os.WriteFile(filepath.Join(synced, taskcontract.ConfigFile), []byte("changed\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(filepath.Join(run, taskcontract.ConfigFile)); string(got) != "changed\n" {
				t.Errorf("the runtime config must follow the synced file, reads %q", got)
			}

			empty := t.TempDir()
			r = runEntrypoint(t, append(slices.Clone(sh), "@SCRIPT_FILE@"), "PROMETHEUS_CONFIG_DIR="+empty, "PROMETHEUS_CONFIG_WAIT_SECONDS=1")
			if r.err == nil || !strings.Contains(r.out, "config-sync container's log says why") {
				t.Errorf("without a sync the entrypoint must fail, naming the sidecar: %v\n%s", r.err, r.out)
			}
			if _, err := os.Stat(filepath.Join(r.record, "argv")); err == nil {
				t.Error("Prometheus must not start without its configuration")
			}
		})
	}
}

// Given a Prometheus holding the TSDB (a task still stopping), when the
// entrypoint starts a second one on the same folder, then it waits for the
// lock instead of failing, and starts once the first is gone: a deployment
// neither fails nor trips the circuit breaker. Two real Prometheus
// processes, the image's shell (busybox).
func TestEntrypointWaitsForTheTSDBLock(t *testing.T) {
	bin, err := tools.Find("prometheus")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("busybox"); err != nil {
		t.Fatal("busybox (the image's shell) is required: run make tools")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, data := t.TempDir(), t.TempDir()
	cfg := filepath.Join(dir, "first.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ports := [2]int{}
	for i := range ports {
		if ports[i], err = proc.FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	first, err := proc.Start(ctx, proc.Spec{Name: "first", Path: bin, Dir: dir, Args: []string{"--config.file=" + cfg,
		"--storage.tsdb.path=" + data, fmt.Sprintf("--web.listen-address=127.0.0.1:%d", ports[0])}})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	if err := first.WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/-/ready", ports[0])); err != nil {
		t.Fatal(err)
	}

	script, _ := filepath.Abs("entrypoint.sh")
	second, err := proc.Start(ctx, proc.Spec{Name: "second", Path: "busybox", Dir: dir, Args: []string{"sh", script},
		Env: []string{"PATH=" + os.Getenv("PATH"), "PROMETHEUS_BIN=" + bin, "PROMETHEUS_STORAGE_PATH=" + data,
			"PROMETHEUS_PORT=" + fmt.Sprint(ports[1]), "PROMETHEUS_CONFIG_YAML=global:\n  scrape_interval: 1m\n",
			"PROMETHEUS_RUNTIME_DIR=" + filepath.Join(dir, "run"), "PROMETHEUS_LOCK_WAIT_SECONDS=60"}})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Stop()
	// Waiting is an event, not a quiet spell: the kernel lists the second
	// task's request for the first's flock as blocked in /proc/locks. A
	// Prometheus started without waiting fails on the lock and exits.
	lock := filepath.Join(data, "lock")
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		waiter, err := blockedOn(lock, second.PID)
		if err != nil {
			t.Fatal(err)
		}
		if waiter != 0 {
			break
		}
		select {
		case <-second.Done():
			t.Fatalf("the second Prometheus exited while the first held the TSDB:\n%s", second.LogTail(20))
		case <-ctx.Done():
			t.Fatalf("no process of the second task ever waited for the TSDB lock %s:\n%s", lock, second.LogTail(20))
		case <-tick.C:
		}
	}
	if !strings.Contains(second.LogTail(20), "is locked by another Prometheus") {
		t.Fatalf("the entrypoint must say it waits for the lock:\n%s", second.LogTail(20))
	}

	first.Stop()
	if err := second.WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/-/ready", ports[1])); err != nil {
		t.Fatalf("the second Prometheus did not start once the lock was free: %v\n%s", err, second.LogTail(20))
	}
	if !strings.Contains(second.LogTail(40), "the TSDB lock is free") {
		t.Errorf("the entrypoint must say the lock came free:\n%s", second.LogTail(40))
	}
}

// blockedOn returns the PID of a process of the process group pgid whose
// flock request on file the kernel holds blocked ("->" in /proc/locks),
// or 0 when there is none.
func blockedOn(file string, pgid int) (int, error) {
	st, err := os.Stat(file)
	if err != nil {
		return 0, nil // not created yet
	}
	sys := st.Sys().(*syscall.Stat_t)
	major := (sys.Dev>>8)&0xfff | (sys.Dev>>32)&^0xfff
	minor := sys.Dev&0xff | (sys.Dev>>12)&^0xff
	id := fmt.Sprintf("%02x:%02x:%d", major, minor, sys.Ino)
	locks, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0, err
	}
	// 4: -> FLOCK  ADVISORY  WRITE 25292 fe:00:9978283 0 EOF
	for _, line := range strings.Split(string(locks), "\n") {
		f := strings.Fields(line)
		if len(f) < 7 || f[1] != "->" || f[2] != "FLOCK" || f[6] != id {
			continue
		}
		if pid, err := strconv.Atoi(f[5]); err == nil {
			if g, err := syscall.Getpgid(pid); err == nil && g == pgid {
				return pid, nil
			}
		}
	}
	return 0, nil
}

// TestEntrypointAgentMode: with --agent among the task's flags
// (storageMode=amp), the entrypoint names the storage folder as the agent's
// WAL (--storage.agent.path) and passes no --storage.tsdb.* flag, under
// every shell; and the real Prometheus, started through it, runs as an
// agent: ready, remote-writing, its targets API
// served, the query API refused, a WAL in the data folder and no head
// chunks of a server.
func TestEntrypointAgentMode(t *testing.T) {
	for shell, sh := range shells(t) {
		t.Run(shell, func(t *testing.T) {
			r := runEntrypoint(t, append(slices.Clone(sh), "-c", taskcontract.Entrypoint, taskcontract.ScriptName, taskcontract.FlagAgent),
				"PROMETHEUS_CONFIG_YAML=global: {}", "PROMETHEUS_STORAGE_PATH=@DIR@/data")
			if r.err != nil {
				t.Fatalf("%v\n%s", r.err, r.out)
			}
			want := []string{
				"--config.file=" + filepath.Join(r.dir, "run", "prometheus.yml"),
				taskcontract.FlagAgentStoragePath + filepath.Join(r.dir, "data"),
				"--web.listen-address=:9090",
				taskcontract.FlagAgent,
			}
			if got := r.argv(t); !slices.Equal(got, want) {
				t.Errorf("prometheus argv in agent mode\n got %q\nwant %q", got, want)
			}
		})
	}

	t.Run("the real Prometheus", func(t *testing.T) {
		bin, err := tools.Find("prometheus")
		if err != nil {
			t.Fatal(err)
		}
		// Loopback only: the generated amp configuration would call EC2
		// and AMP (promconfig's tests check it with promtool check config
		// --agent); this one has what agent mode is about, a self-scrape
		// and remote write, to a receiver on loopback.
		var writes atomic.Int64
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writes.Add(1)
			w.WriteHeader(http.StatusNoContent)
		}))
		defer recv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		dir, data := t.TempDir(), t.TempDir()
		port, err := proc.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		script, _ := filepath.Abs("entrypoint.sh")
		p, err := proc.Start(ctx, proc.Spec{Name: "agent", Path: "busybox", Dir: dir, Args: []string{"sh", script, taskcontract.FlagAgent},
			Env: []string{"PATH=" + os.Getenv("PATH"), "PROMETHEUS_BIN=" + bin, "PROMETHEUS_STORAGE_PATH=" + data,
				"PROMETHEUS_PORT=" + fmt.Sprint(port), "PROMETHEUS_REPLICA=test",
				"PROMETHEUS_CONFIG_YAML=" + fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: [\"127.0.0.1:%d\"]\nremote_write:\n  - url: %s/api/v1/remote_write\n", port, recv.URL),
				"PROMETHEUS_RUNTIME_DIR=" + filepath.Join(dir, "run")}})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Stop()
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		if err := p.WaitHTTP(ctx, base+"/-/ready"); err != nil {
			t.Fatalf("Prometheus in agent mode is not ready: %v\n%s", err, p.LogTail(30))
		}
		get := func(path string) (int, string) {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}
		if code, body := get("/api/v1/targets"); code != http.StatusOK {
			t.Errorf("/api/v1/targets: HTTP %d %s; agent mode serves it", code, body)
		}
		if code, body := get("/api/v1/query?query=up"); code == http.StatusOK || !strings.Contains(body, "unavailable with Prometheus Agent") {
			t.Errorf("/api/v1/query: HTTP %d %s; want it refused, as agent mode does", code, body)
		}
		for writes.Load() == 0 {
			select {
			case <-ctx.Done():
				t.Fatalf("the agent sent no remote write:\n%s", p.LogTail(30))
			case <-time.After(200 * time.Millisecond):
			}
		}
		if st, err := os.Stat(filepath.Join(data, "wal")); err != nil || !st.IsDir() {
			t.Errorf("no WAL in the data folder %s: %v", data, err)
		}
		if _, err := os.Stat(filepath.Join(data, "chunks_head")); err == nil {
			t.Error("the data folder has a server's head chunks: Prometheus runs as a server, not an agent")
		}
	})
}
