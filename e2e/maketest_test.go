package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus-aws/prometheus-aws/internal/proc"
)

// make test's own steps (Makefile test-steps): what it runs and how.

// TestMakeTestRunsTheE2ETests: the go test of make test (test-steps) runs
// with PROMAWS_SKIP_E2E unset whatever the caller's environment holds (a
// value leaked from make unit's would skip every test of this package, and
// make test would pass), while make unit sets it itself. The recipes make
// prints are run as make would run them, with a fake go that reports the
// variable.
func TestMakeTestRunsTheE2ETests(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	fake := t.TempDir()
	script := "#!/bin/sh\ncase $1 in list) echo example.com/pkg; exit 0 ;; esac\necho \"go $1 PROMAWS_SKIP_E2E=${PROMAWS_SKIP_E2E-unset}\"\n"
	if err := os.WriteFile(filepath.Join(fake, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var clean []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PROMAWS_SKIP_E2E=") {
			clean = append(clean, kv)
		}
	}
	for _, c := range []struct{ target, leaked, want string }{
		{"test-steps", "PROMAWS_SKIP_E2E=1", "go test PROMAWS_SKIP_E2E=unset"},
		{"unit", "", "go test PROMAWS_SKIP_E2E=1"},
	} {
		env := slices.Clone(clean)
		if c.leaked != "" {
			env = append(env, c.leaked)
		}
		cmd := exec.Command("make", "-n", "--no-print-directory", c.target)
		cmd.Dir, cmd.Env = root, env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("make -n %s: %v", c.target, err)
		}
		var ran []string
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.Contains(line, " go test ") {
				continue
			}
			run := exec.Command("bash", "-c", line)
			run.Dir = root
			run.Env = append(env, "PATH="+fake+string(os.PathListSeparator)+os.Getenv("PATH"))
			got, err := run.CombinedOutput()
			if err != nil {
				t.Fatalf("make %s's go test line %q: %v\n%s", c.target, line, err, got)
			}
			ran = append(ran, strings.TrimSpace(string(got)))
		}
		if !slices.Equal(ran, []string{c.want}) {
			t.Errorf("from an environment with %q, make %s runs %q, want one go test seeing %q", c.leaked, c.target, ran, c.want)
		}
	}
}

// TestToolsStepCompilesTheTests: scripts/compile-beside.sh, make test's
// tools step, leaves every package's tests compiled in the Go build cache:
// go test then compiles nothing but its generated main, and links. Given a
// module of one package with internal and external tests, new to the build
// cache (a fresh folder: its packages' cache keys name it), when the script
// has run a command, then go test -x compiles only _testmain.go.
func TestToolsStepCompilesTheTests(t *testing.T) {
	module := miniModule(t)
	run := exec.Command("scripts/compile-beside.sh", "true")
	run.Dir = module
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("compile-beside.sh true: %v\n%s", err, out)
	}
	test := exec.Command("go", "test", "-count=1", "-vet=off", "-x", "./...")
	test.Dir = module
	out, err := test.CombinedOutput()
	if err != nil {
		t.Fatalf("go test: %v\n%s", err, out)
	}
	var compiled []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && strings.HasSuffix(f[0], "/compile") {
			compiled = append(compiled, f[len(f)-1])
		}
	}
	if len(compiled) != 1 || !strings.HasSuffix(compiled[0], "_testmain.go") {
		t.Errorf("after the tools step go test still compiled %v; want only its _testmain.go", compiled)
	}
}

// TestToolsStepStopsTheCompileWithTheTools: when the tools fail, the
// script returns their status at once and the compile beside them is
// gone, its children too. Given a go that starts a child and waits, when
// the command fails, then the script exits with its status and neither
// process is left.
func TestToolsStepStopsTheCompileWithTheTools(t *testing.T) {
	module, fake := miniModule(t), t.TempDir()
	pids := filepath.Join(t.TempDir(), "pids")
	// The fake compile: a child (sleep) and itself, waiting on it.
	script := "#!/bin/sh\nsleep 300 &\necho $$ $! >" + pids + "\nwait\n"
	if err := os.WriteFile(filepath.Join(fake, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	run := exec.Command("scripts/compile-beside.sh", "sh", "-c", "i=0; while [ ! -s "+pids+" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; exit 3")
	run.Dir = module
	run.Env = append(os.Environ(), "PATH="+fake+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := run.CombinedOutput()
	if code := run.ProcessState.ExitCode(); code != 3 {
		t.Fatalf("compile-beside.sh with a command failing with 3: exit %d (%v), want 3\n%s", code, err, out)
	}
	data, err := os.ReadFile(pids)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("pids %q: %v", data, err)
		}
		// Gone, or a zombie about to be reaped by init: never running.
		deadline := time.Now().Add(5 * time.Second)
		for proc.Alive(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if proc.Alive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("process %d of the compile outlived the failed tools step", pid)
		}
	}
}

// miniModule is a module of one package with an internal and an external
// test, and the script under test at scripts/compile-beside.sh with the
// repository's mode (a script that is not executable fails here as in make).
func miniModule(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":      "module example.com/mini\n\ngo 1.22\n",
		"p/p.go":      "package p\n\nfunc F() int { return 1 }\n",
		"p/p_test.go": "package p\n\nimport (\n\t\"encoding/json\"\n\t\"testing\"\n)\n\nfunc TestF(t *testing.T) { json.Marshal(F()) }\n",
		"p/x_test.go": "package p_test\n\nimport (\n\t\"testing\"\n\n\t\"example.com/mini/p\"\n)\n\nfunc TestX(t *testing.T) { p.F() }\n",
	}
	// The script as the repository holds it, its mode too: make runs it
	// by its path.
	const scriptPath = "scripts/compile-beside.sh"
	script, err := os.ReadFile(filepath.Join("..", scriptPath))
	if err != nil {
		t.Fatal(err)
	}
	files[scriptPath] = string(script)
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	info, err := os.Stat(filepath.Join("..", scriptPath))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, scriptPath), info.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
	return dir
}
