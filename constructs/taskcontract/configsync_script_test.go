package taskcontract

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The real config-sync.sh (ConfigSyncScript, run as the task runs it:
// sh -c <script> config-sync) against a fake aws program on PATH that
// answers its two SSM calls from a folder standing for SSM, and fails on
// demand. Rounds are driven one at a time: the fake holds each round's
// GetParameters until the test lets it go, so the test changes SSM between
// rounds and reads the files after a round, never racing the script.

// fakeAWS answers, from $FAKE_SSM/params<name>/{value,version,modified}:
//
//	aws [--endpoint-url X] ssm get-parameters --names N... --query 'Parameters[].[Name,Version,LastModifiedDate]' --output text
//	aws [--endpoint-url X] ssm get-parameter --name N --query Parameter.Value --output text
//
// as the AWS CLI v2 does (text output: tab-separated fields, the value
// followed by a newline; a name SSM lacks is left out of GetParameters;
// ParameterNotFound and status 254 from GetParameter). Any other call fails
// with status 252, naming it. Every call is appended to $FAKE_SSM/calls.
// GetParameters call n touches round.n and waits for a line on the named
// pipe go.n (unless open exists).
// Faults: fail-get-parameters fails GetParameters; params<name>/deny fails
// GetParameter for that name (the task role may not read it).
const fakeAWS = `#!/bin/sh
set -u
ssm=$FAKE_SSM
printf '%s\n' "$*" >>"$ssm/calls"
bad() { echo "fake aws: unexpected call: $*" >&2; exit 252; }
if [ "${1:-}" = --endpoint-url ]; then
  [ "${2:-}" = "${FAKE_ENDPOINT:-}" ] && [ -n "${FAKE_ENDPOINT:-}" ] || bad "$@"
  shift 2
elif [ -n "${FAKE_ENDPOINT:-}" ]; then
  bad "$@"
fi
[ "${1:-}" = ssm ] || bad "$@"
shift
case ${1:-} in
get-parameters)
  shift
  [ "${1:-}" = --names ] || bad "$@"
  shift
  names=
  while [ $# -gt 0 ] && [ "$1" != --query ]; do names="$names $1"; shift; done
  { [ $# -eq 4 ] && [ "$2" = 'Parameters[].[Name,Version,LastModifiedDate]' ] && [ "$3" = --output ] && [ "$4" = text ]; } || bad "$@"
  n=$(( $(cat "$ssm/rounds") + 1 ))
  echo "$n" >"$ssm/rounds"
  if [ -e "$ssm/open" ]; then
    : >"$ssm/round.$n"
  else
    mkfifo "$ssm/go.$n"
    : >"$ssm/round.$n"
    read -r _ <"$ssm/go.$n" || :
  fi
  if [ -e "$ssm/fail-get-parameters" ]; then
    echo "An error occurred (ThrottlingException) when calling the GetParameters operation (reached max retries: 2): Rate exceeded" >&2
    exit 254
  fi
  for name in $names; do
    p=$ssm/params$name
    if [ -f "$p/value" ]; then
      printf '%s\t%s\t%s\n' "$name" "$(cat "$p/version")" "$(cat "$p/modified")"
    fi
  done
  exit 0
  ;;
get-parameter)
  { [ $# -eq 7 ] && [ "$2" = --name ] && [ "$4" = --query ] && [ "$5" = Parameter.Value ] && [ "$6" = --output ] && [ "$7" = text ]; } || bad "$@"
  p=$ssm/params$3
  if [ -e "$p/deny" ]; then
    echo "An error occurred (AccessDeniedException) when calling the GetParameter operation: not authorized to perform: ssm:GetParameter on resource $3" >&2
    exit 254
  fi
  if [ ! -f "$p/value" ]; then
    echo "An error occurred (ParameterNotFound) when calling the GetParameter operation: Parameter $3 not found." >&2
    exit 254
  fi
  cat "$p/value"
  echo
  ;;
*) bad "$@" ;;
esac
`

// configSyncShells are the shells to run the script with: sh (the one on
// PATH), bash in POSIX mode (/bin/sh on the AWS CLI image, where the task
// runs it), dash (the local runner's) and busybox sh. Every one is
// required: a shell skipped when missing would let the suite pass under
// fewer shells than it names (make tools installs busybox-static; dash and
// bash are Debian's).
var configSyncShells = []struct {
	name string
	argv []string
}{
	{"sh", []string{"sh"}},
	{"bash", []string{"bash", "--posix"}},
	{"dash", []string{"dash"}},
	{"busybox", []string{"busybox", "sh"}},
}

// syncRun is one config-sync process and its fake SSM.
type syncRun struct {
	t         *testing.T
	dir, ssm  string
	cmd       *exec.Cmd
	log       *lockedBuffer
	round     int // the GetParameters call the script is held in (0: none)
	exited    chan struct{}
	exitError error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startSync runs the real script under shell with the given file lines;
// endpoint, when set, is CONFIG_SYNC_ENDPOINT_URL. It returns once the
// script is held in its first round's GetParameters; before it the test
// may fill SSM (put) and the folder.
func startSync(t *testing.T, shell []string, files, endpoint string, before func(s *syncRun)) *syncRun {
	t.Helper()
	root := t.TempDir()
	s := &syncRun{t: t, dir: filepath.Join(root, "config"), ssm: filepath.Join(root, "ssm"), log: &lockedBuffer{}, exited: make(chan struct{})}
	bin := filepath.Join(root, "bin")
	for _, d := range []string{bin, s.ssm} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(fakeAWS), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.ssm, "rounds"), []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(s)
	}
	argv := append(append([]string{}, shell...), "-c", ConfigSyncScript, ConfigSyncScriptName)
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "FAKE_SSM=" + s.ssm,
		EnvConfigSyncFiles + "=" + files, EnvConfigSyncDir + "=" + s.dir, EnvConfigSyncInterval + "=1"}
	if endpoint != "" {
		s.cmd.Env = append(s.cmd.Env, EnvConfigSyncEndpointURL+"="+endpoint, "FAKE_ENDPOINT="+endpoint)
	}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exitError = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.stop)
	s.waitRound(1)
	return s
}

// waitRound waits until the script is held in GetParameters call n, that
// is, until every round before n has finished.
func (s *syncRun) waitRound(n int) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a hung script, not a timing check
	for {
		if _, err := os.Stat(filepath.Join(s.ssm, "round."+strconv.Itoa(n))); err == nil {
			s.round = n
			return
		}
		select {
		case <-s.exited:
			s.t.Fatalf("config-sync exited (%v) before round %d:\n%s", s.exitError, n, s.log.String())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("config-sync never reached round %d:\n%s", n, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// next lets the held round run to its end, and returns once the script
// has started the round after it.
func (s *syncRun) next() {
	s.t.Helper()
	n := s.round
	s.release()
	s.waitRound(n + 1)
}

// release lets the held round go: a line into its pipe, once the fake
// has opened it.
func (s *syncRun) release() {
	s.t.Helper()
	pipe := filepath.Join(s.ssm, "go."+strconv.Itoa(s.round))
	deadline := time.Now().Add(30 * time.Second)
	for {
		f, err := os.OpenFile(pipe, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			_, err = f.Write([]byte("go\n"))
			f.Close()
			if err != nil {
				s.t.Fatal(err)
			}
			s.round = 0
			return
		}
		select {
		case <-s.exited:
			s.t.Fatalf("config-sync exited (%v) in round %d:\n%s", s.exitError, s.round, s.log.String())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the fake aws never waited on %s: %v\n%s", pipe, err, s.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop lets every round go and sends SIGTERM, which the script answers by
// leaving with status 0.
func (s *syncRun) stop() {
	if s.cmd.Process == nil {
		return
	}
	s.touch("open")
	select {
	case <-s.exited:
		return
	default:
	}
	if s.round > 0 {
		s.release()
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		if s.exitError != nil && !s.t.Failed() {
			s.t.Errorf("config-sync must leave with status 0 on SIGTERM: %v\n%s", s.exitError, s.log.String())
		}
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
		s.t.Errorf("config-sync did not stop on SIGTERM:\n%s", s.log.String())
	}
}

func (s *syncRun) touch(name string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.ssm, name), nil, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func (s *syncRun) untouch(name string) {
	s.t.Helper()
	if err := os.Remove(filepath.Join(s.ssm, name)); err != nil {
		s.t.Fatal(err)
	}
}

// put stores a parameter as SSM holds it: its value, version and
// modification time (as the CLI prints LastModifiedDate).
func (s *syncRun) put(name, value string, version int, modified string) {
	s.t.Helper()
	p := filepath.Join(s.ssm, "params"+name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		s.t.Fatal(err)
	}
	for f, v := range map[string]string{"value": value, "version": strconv.Itoa(version), "modified": modified} {
		if err := os.WriteFile(filepath.Join(p, f), []byte(v), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

// remove deletes a parameter.
func (s *syncRun) remove(name string) {
	s.t.Helper()
	if err := os.RemoveAll(filepath.Join(s.ssm, "params"+name)); err != nil {
		s.t.Fatal(err)
	}
}

// deny makes GetParameter of name fail (or work again).
func (s *syncRun) deny(name string, on bool) {
	s.t.Helper()
	if on {
		s.touch("params" + name + "/deny")
	} else {
		s.untouch("params" + name + "/deny")
	}
}

// write puts a file into the config folder, as an earlier round left it.
func (s *syncRun) write(file, content string) {
	s.t.Helper()
	path := filepath.Join(s.dir, file)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// want fails unless file in the config folder holds content.
func (s *syncRun) want(file, content, why string) {
	s.t.Helper()
	got, err := os.ReadFile(filepath.Join(s.dir, file))
	if err != nil {
		s.t.Errorf("%s: %s: %v\nlog:\n%s", why, file, err, s.log.String())
		return
	}
	if string(got) != content {
		s.t.Errorf("%s: %s holds %.200q, want %.200q\nlog:\n%s", why, file, got, content, s.log.String())
	}
}

// synced fails unless the .synced marker's presence is want.
func (s *syncRun) synced(want bool, why string) {
	s.t.Helper()
	_, err := os.Stat(filepath.Join(s.dir, SyncedMarker))
	if got := err == nil; got != want {
		s.t.Errorf("%s: %s present = %v, want %v\nlog:\n%s", why, SyncedMarker, got, want, s.log.String())
	}
}

// calls counts the fake's calls of one SSM operation.
func (s *syncRun) calls(op string) int {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join(s.ssm, "calls"))
	if err != nil {
		s.t.Fatal(err)
	}
	return strings.Count(string(data), " "+op+" ")
}

// noLeftovers fails when a temporary file stays in the config folder.
func (s *syncRun) noLeftovers(why string) {
	s.t.Helper()
	_ = filepath.Walk(s.dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && strings.Contains(info.Name(), ".tmp") {
			s.t.Errorf("%s: %s left behind", why, path)
		}
		return nil
	})
}

// logged fails unless the script's log says what.
func (s *syncRun) logged(what, why string) {
	s.t.Helper()
	if !strings.Contains(s.log.String(), what) {
		s.t.Errorf("%s: the log lacks %q:\n%s", why, what, s.log.String())
	}
}

func gzipBase64(t *testing.T, s string) string {
	t.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// The CLI's LastModifiedDate in text output (cli_timestamp_format iso8601).
const (
	modified1 = "2025-03-01T10:00:00.123000+00:00"
	modified2 = "2025-03-01T10:05:41.907000+00:00"
)

// eachShell runs f under every shell, all at once: each mostly waits on
// its script's one-second rounds, so the shells' subtests run side by side
// (t.Run from goroutines) rather than take -parallel's few slots.
func eachShell(t *testing.T, f func(t *testing.T, shell []string)) {
	t.Parallel()
	var wg sync.WaitGroup
	for _, sh := range configSyncShells {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(sh.name, func(t *testing.T) {
				if _, err := exec.LookPath(sh.argv[0]); err != nil {
					t.Fatalf("the %s shell is required to run config-sync.sh as the task and the runner do (%v): run make tools (busybox-static), apt-get install dash bash", sh.name, err)
				}
				f(t, sh.argv)
			})
		}()
	}
	wg.Wait()
}

// A parameter deleted and created again (terraform's replacement) starts
// again at version 1: with the version it held before, only its
// modification time tells config-sync it changed. The new value must reach
// the file; a round with nothing changed reads no value.
func TestConfigSyncDeliversAReplacedParameter(t *testing.T) {
	eachShell(t, func(t *testing.T, shell []string) {
		files := "prometheus.yml /prom/config\nrules/node.yml /prom/rules/node\n"
		s := startSync(t, shell, files, "https://ssm.emulator.test:4566", func(s *syncRun) {
			s.put("/prom/config", "global: {scrape_interval: 15s} # SECRET-1", 1, modified1)
			s.put("/prom/rules/node", "groups: [] # SECRET-R", 3, modified1)
		})
		s.next()
		s.want("prometheus.yml", "global: {scrape_interval: 15s} # SECRET-1\n", "first round")
		s.want("rules/node.yml", "groups: [] # SECRET-R\n", "first round, in a folder it makes")
		s.synced(true, "every file arrived")
		if st, err := os.Stat(filepath.Join(s.dir, "prometheus.yml")); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("prometheus.yml must be 0644 for the readers: %v %v", st.Mode(), err)
		}

		reads := s.calls("get-parameter")
		s.next()
		if got := s.calls("get-parameter") - reads; got != 0 {
			t.Errorf("a round with nothing changed read %d values; it must read none", got)
		}

		s.put("/prom/config", "global: {scrape_interval: 30s} # SECRET-2", 1, modified2)
		s.next()
		s.want("prometheus.yml", "global: {scrape_interval: 30s} # SECRET-2\n",
			"a parameter replaced (version 1 again, a new LastModifiedDate) must be delivered")
		s.want("rules/node.yml", "groups: [] # SECRET-R\n", "the unchanged file")
		s.noLeftovers("after a replacement")
		if strings.Contains(s.log.String(), "SECRET") {
			t.Errorf("config-sync must never print a value:\n%s", s.log.String())
		}
	})
}

// A parameter SSM lacks (or the task role may not read) leaves its file as
// it was, and .synced stays away until every file has arrived; once the
// parameter exists it is delivered and .synced written. A parameter
// deleted later, or one whose value cannot be read, leaves its file too.
func TestConfigSyncMissingParameter(t *testing.T) {
	eachShell(t, func(t *testing.T, shell []string) {
		files := "prometheus.yml /prom/config\nalertmanager.yml /prom/alertmanager\n"
		s := startSync(t, shell, files, "", func(s *syncRun) {
			s.put("/prom/config", "config v1", 1, modified1)
			s.write("alertmanager.yml", "left by an earlier task")
		})
		for range 2 {
			s.next()
			s.want("prometheus.yml", "config v1\n", "the parameter that exists")
			s.want("alertmanager.yml", "left by an earlier task", "a missing parameter must leave its file as it was")
			s.synced(false, "a parameter is missing")
		}
		s.logged("parameter /prom/alertmanager is missing", "a missing parameter")

		s.put("/prom/alertmanager", "route: {receiver: x}", 1, modified1)
		s.next()
		s.want("alertmanager.yml", "route: {receiver: x}\n", "the parameter, once it exists")
		s.synced(true, "every file has arrived")

		s.remove("/prom/alertmanager")
		s.next()
		s.want("alertmanager.yml", "route: {receiver: x}\n", "a parameter deleted later must leave its file as it was")

		s.put("/prom/config", "config v2", 2, modified2)
		s.deny("/prom/config", true)
		s.next()
		s.want("prometheus.yml", "config v1\n", "a value GetParameter cannot read must leave the file as it was")
		s.noLeftovers("after a failed read")
		s.logged("reading /prom/config failed", "a failed read")
		s.deny("/prom/config", false)
		s.next()
		s.want("prometheus.yml", "config v2\n", "the value once it can be read again")
	})
}

// GetParameters failing (throttled, no network, no permission) keeps the
// files as they are and writes no .synced; the next round that works
// delivers what changed meanwhile.
func TestConfigSyncGetParametersFailing(t *testing.T) {
	eachShell(t, func(t *testing.T, shell []string) {
		files := "prometheus.yml /prom/config\n"
		s := startSync(t, shell, files, "", func(s *syncRun) {
			s.put("/prom/config", "config v1", 1, modified1)
			s.touch("fail-get-parameters")
		})
		s.next()
		if _, err := os.Stat(filepath.Join(s.dir, "prometheus.yml")); err == nil {
			t.Error("no file may be written while GetParameters fails")
		}
		s.synced(false, "GetParameters failed")
		s.logged("GetParameters failed", "GetParameters failing")

		s.untouch("fail-get-parameters")
		s.next()
		s.want("prometheus.yml", "config v1\n", "once GetParameters works")
		s.synced(true, "once GetParameters works")

		s.put("/prom/config", "config v2", 2, modified2)
		s.touch("fail-get-parameters")
		for range 2 {
			s.next()
			s.want("prometheus.yml", "config v1\n", "GetParameters failing must keep the file")
			s.synced(true, "the marker of the first sync stays")
		}
		s.untouch("fail-get-parameters")
		s.next()
		s.want("prometheus.yml", "config v2\n", "GetParameters working again delivers what changed")
	})
}

// A line "<file> <parameter> gzip" names a value gzip-compressed and
// base64-encoded (a file bigger than a parameter holds): the file gets
// the decoded bytes. A value that does not decode leaves the file as it
// was, with no temporary file behind, and is tried again next round.
func TestConfigSyncGzip(t *testing.T) {
	var big strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&big, "{\"panel\": %d, \"expr\": \"rate(x[5m]) $HOME `id` %%s \\\\n\"}\n", i)
	}
	dashboard := big.String() // 100 KB, past a parameter's 8 KB
	eachShell(t, func(t *testing.T, shell []string) {
		files := "prometheus.yml /prom/config\ngrafana/dashboards/fleet.json /prom/grafana/fleet gzip\n"
		s := startSync(t, shell, files, "", func(s *syncRun) {
			s.put("/prom/config", "config v1", 1, modified1)
			s.put("/prom/grafana/fleet", gzipBase64(t, dashboard), 1, modified1)
		})
		s.next()
		s.want("grafana/dashboards/fleet.json", dashboard, "a gzip line must be decoded")
		s.want("prometheus.yml", "config v1\n", "a plain line beside it")
		s.synced(true, "every file arrived")

		for i, bad := range []string{
			"this is not base64 *** {\"panel\": 1}",
			base64.StdEncoding.EncodeToString([]byte(`{"panel": "plain JSON, not gzip"}`)),
		} {
			version := i + 2
			s.put("/prom/grafana/fleet", bad, version, modified2)
			s.next()
			s.want("grafana/dashboards/fleet.json", dashboard, fmt.Sprintf("version %d is not gzip+base64: the file must stay", version))
			s.noLeftovers(fmt.Sprintf("version %d", version))
			s.logged("/prom/grafana/fleet is not gzip, base64-encoded", "an undecodable value")
		}
		s.put("/prom/grafana/fleet", gzipBase64(t, "{}\n"), 4, modified2)
		s.next()
		s.want("grafana/dashboards/fleet.json", "{}\n", "a good value after bad ones")
	})
}

// A gzip file whose first value cannot be decoded has not arrived: no
// .synced.
func TestConfigSyncGzipUndecodableFirstValue(t *testing.T) {
	eachShell(t, func(t *testing.T, shell []string) {
		s := startSync(t, shell, "dash.json /prom/grafana/dash gzip\n", "", func(s *syncRun) {
			s.put("/prom/grafana/dash", "not gzip", 1, modified1)
		})
		s.next()
		if _, err := os.Stat(filepath.Join(s.dir, "dash.json")); err == nil {
			t.Error("an undecodable value must not be written")
		}
		s.synced(false, "the only file did not arrive")
		s.noLeftovers("an undecodable first value")
	})
}
