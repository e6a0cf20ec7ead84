package docker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus-aws/prometheus-aws/constructs/taskcontract"
	"github.com/prometheus-aws/prometheus-aws/internal/proc"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// The configurations the test delivers: a good one, one that parses but
// does not load (its route names a receiver that does not exist, as a
// generator mistake would), and the good one changed.
const (
	amGood   = "route:\n  receiver: team\n  group_wait: 30s\nreceivers:\n  - name: team\n"
	amBroken = "route:\n  receiver: nobody\n  group_wait: 5s\nreceivers:\n  - name: team\n"
	amNext   = "route:\n  receiver: team\n  group_wait: 45s\nreceivers:\n  - name: team\n"
)

// Given the bundled Alertmanager running through its entrypoint (the real
// alertmanager-entrypoint.sh, called as the ECS task calls it, under the
// image's shell, with the alertmanager binary make tools builds), when
// config-sync renames a broken alertmanager.yml over the file, then the
// entrypoint sends SIGHUP, the Alertmanager logs the failure, reports it
// (alertmanager_config_last_reload_successful 0) and keeps serving the
// configuration it had; when a good one follows, it loads that one.
// docs/operations.md promises this ("A configuration change").
func TestAlertmanagerKeepsItsConfigurationWhenANewOneIsBroken(t *testing.T) {
	bin, err := tools.Find("alertmanager")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/usr/bin/busybox"); err != nil {
		t.Fatal("busybox (the image's shell) is required: run make tools")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	synced := filepath.Join(dir, "config")
	if err := os.MkdirAll(synced, 0o755); err != nil {
		t.Fatal(err)
	}
	deliver(t, synced, amGood)
	if err := os.WriteFile(filepath.Join(synced, taskcontract.SyncedMarker), []byte("now\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	am, err := proc.Start(ctx, proc.Spec{Name: "alertmanager", Path: "/usr/bin/busybox", Dir: dir,
		Args: []string{"sh", "-c", taskcontract.AlertmanagerEntrypoint, taskcontract.AlertmanagerScriptName},
		Env: []string{"PATH=" + os.Getenv("PATH"), "ALERTMANAGER_BIN=" + bin, "ALERTMANAGER_CONFIG_DIR=" + synced,
			"ALERTMANAGER_RUNTIME_DIR=" + filepath.Join(dir, "run"), "ALERTMANAGER_STORAGE_PATH=" + filepath.Join(dir, "data"),
			"ALERTMANAGER_PORT=" + fmt.Sprint(port),
			// The task checks every 10 s; a second keeps the test short
			// without changing what happens.
			"ALERTMANAGER_RELOAD_CHECK_SECONDS=1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(am.Stop)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := am.WaitHTTP(ctx, base+"/-/ready"); err != nil {
		t.Fatal(err)
	}
	before := amStatus(t, ctx, base)
	if !strings.Contains(before, "group_wait: 30s") {
		t.Fatalf("the Alertmanager must serve the delivered configuration, serves:\n%s", before)
	}

	deliver(t, synced, amBroken)
	// The failure is an event: the reload metric turns 0 once the
	// Alertmanager has tried the file the SIGHUP told it to read.
	awaitAM(t, ctx, am, "the broken configuration's reload reported as failed", func() (bool, string) {
		v, err := amMetric(ctx, base, "alertmanager_config_last_reload_successful")
		return err == nil && v == "0", fmt.Sprintf("alertmanager_config_last_reload_successful %q (%v)", v, err)
	})
	log := am.LogTail(60)
	for _, want := range []string{"alertmanager.yml changed; reloading (SIGHUP)", "Loading configuration file failed", `undefined receiver \"nobody\"`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log must say %q:\n%s", want, log)
		}
	}
	if now := amStatus(t, ctx, base); now != before {
		t.Errorf("after a broken alertmanager.yml the Alertmanager must keep serving the configuration it had:\nbefore:\n%s\nnow:\n%s", before, now)
	}

	deliver(t, synced, amNext)
	awaitAM(t, ctx, am, "the next good configuration loaded", func() (bool, string) {
		v, err := amMetric(ctx, base, "alertmanager_config_last_reload_successful")
		served := amStatus(t, ctx, base)
		return v == "1" && strings.Contains(served, "group_wait: 45s"), fmt.Sprintf("alertmanager_config_last_reload_successful %q (%v), serving:\n%s", v, err, served)
	})
	select {
	case <-am.Done():
		t.Fatalf("the entrypoint exited (%v); a reload must not end it:\n%s", am.Err(), am.LogTail(30))
	default:
	}
}

// deliver writes alertmanager.yml as config-sync does: a temporary file
// beside it, renamed over it.
func deliver(t *testing.T, dir, content string) {
	t.Helper()
	tmp := filepath.Join(dir, ".alertmanager.yml.tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "alertmanager.yml")); err != nil {
		t.Fatal(err)
	}
}

// amStatus is the configuration the Alertmanager serves (/api/v2/status
// config.original).
func amStatus(t *testing.T, ctx context.Context, base string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v2/status", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /api/v2/status: %v", err)
	}
	defer resp.Body.Close()
	var status struct {
		Config struct {
			Original string `json:"original"`
		} `json:"config"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v2/status: HTTP %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&status); err != nil {
		t.Fatalf("GET /api/v2/status: %v", err)
	}
	return status.Config.Original
}

// amMetric is the value of an unlabelled metric on /metrics.
func amMetric(ctx context.Context, base, name string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("no %s on /metrics", name)
}

// awaitAM polls ok every 200 ms until it holds; it fails only when ctx
// (the test's generous bound) ends first, with the process's log.
func awaitAM(t *testing.T, ctx context.Context, p *proc.Process, what string, ok func() (bool, string)) {
	t.Helper()
	for {
		done, last := ok()
		if done {
			return
		}
		select {
		case <-p.Done():
			t.Fatalf("waiting for %s, the entrypoint exited (%v): %s\n%s", what, p.Err(), last, p.LogTail(30))
		case <-ctx.Done():
			t.Fatalf("%s: not seen by the test's deadline: %s\nlog:\n%s", what, last, p.LogTail(30))
		case <-time.After(200 * time.Millisecond):
		}
	}
}
