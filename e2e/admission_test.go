package e2e

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// longestFirst names the package's tests, longest first: the first eight,
// which start together, by their wall times in a make test run; the others
// by their wall times each run alone (go test -run '^Name$', idle 2-core
// machine, 2026-12-07: TestRemoteWriteFaults 127 s, TestAlertsReachTheTopic
// 94 s, TestApplyPlanRefusesADestroyingPlan 54 s, TestUnavailableZoneFailsAtPlan
// 8 s). Under the suite's load a CPU-heavy test takes longer than one that
// mostly waits, and by those times the waiting ones (alerts, faults) started
// last and ended the run with the machine idle: the last 45 s of a 566 s make
// test at 10% CPU. A test not named starts after these.
var longestFirst = []string{
	"TestPromotion", "TestSingleSignOnOIDC", "TestGitLabJobsRunLocally", "TestRemoteState", "TestAPIFaults",
	"TestSecureAccess", "TestSingleSignOnCognito", "TestVerify",
	"TestRemoteWriteFaults", "TestLifecycle", "TestConfigReloadsInPlace", "TestTaskKilled",
	"TestAlertDeliveryFailsForGood", "TestRemoteStateLockTable", "TestAlertsReachTheTopic",
	"TestMultiRegionDiscovery", "TestDashboardsShowData", "TestReplacedParameterIsDelivered",
	"TestBasicAuthPasswordRotation", "TestAMPRemoteWrite", "TestECSDiscovery", "TestPrivateNetwork",
	"TestApplyPlanRefusesADestroyingPlan", "TestCdktfDeployDiffDestroy", "TestNoInternet",
	"TestPrometheusIsWatched", "TestUnavailableZoneFailsAtPlan",
}

// admission runs the package's tests n at a time (go test's -parallel),
// longest first. Go's own limit admits the tests waiting for a slot in no
// set order, and a long test admitted last ends the whole run minutes after
// the others: TestAPIFaults, most of its nine minutes spent waiting out its
// faults, started 14 minutes into a 24-minute make test and ended it alone.
// Every test registers while the package runs its tests one by one (before
// t.Parallel), so by the first wait all are known; TestMain lifts Go's limit
// so that all of them reach this one.
type admission struct {
	mu      sync.Mutex
	free    int
	pending []*ticket
}

type ticket struct {
	rank  int
	ready chan struct{}
}

// newAdmission takes over the -parallel limit: it keeps the value for
// itself and sets Go's own to one no run reaches.
func newAdmission() *admission {
	n := 1
	if f := flag.Lookup("test.parallel"); f != nil {
		if v, err := strconv.Atoi(f.Value.String()); err == nil && v > 0 {
			n = v
		}
		_ = f.Value.Set("10000")
	}
	return &admission{free: n}
}

// register enters a test by name; call it before t.Parallel.
func (a *admission) register(name string) *ticket {
	rank := slices.Index(longestFirst, name)
	if rank < 0 {
		rank = len(longestFirst)
	}
	tk := &ticket{rank: rank, ready: make(chan struct{})}
	a.mu.Lock()
	a.pending = append(a.pending, tk)
	a.mu.Unlock()
	return tk
}

// wait blocks until tk holds a slot; release gives it back.
func (a *admission) wait(tk *ticket) {
	a.mu.Lock()
	a.grant()
	a.mu.Unlock()
	<-tk.ready
}

func (a *admission) release() {
	a.mu.Lock()
	a.free++
	a.grant()
	a.mu.Unlock()
}

// grant hands the free slots to the longest pending tests; a.mu is held.
func (a *admission) grant() {
	for a.free > 0 && len(a.pending) > 0 {
		best := 0
		for i, tk := range a.pending {
			if tk.rank < a.pending[best].rank {
				best = i
			}
		}
		close(a.pending[best].ready)
		a.pending = slices.Delete(a.pending, best, best+1)
		a.free--
	}
}

// TestAdmissionStartsTheLongestFirst: one slot, three tests registered
// shortest first; the slot goes to the longest, then by rank, a test
// longestFirst does not name last.
func TestAdmissionStartsTheLongestFirst(t *testing.T) {
	a := &admission{free: 1}
	tickets := map[string]*ticket{}
	for _, name := range []string{"TestUnavailableZoneFailsAtPlan", "TestNotNamedAnywhere", "TestPromotion"} {
		tickets[name] = a.register(name)
	}
	ready := func() []string {
		var out []string
		for name, tk := range tickets {
			select {
			case <-tk.ready:
				out = append(out, name)
			default:
			}
		}
		slices.Sort(out)
		return out
	}
	a.mu.Lock()
	a.grant() // what the first wait does
	a.mu.Unlock()
	for i, want := range [][]string{
		{"TestPromotion"},
		{"TestPromotion", "TestUnavailableZoneFailsAtPlan"},
		{"TestNotNamedAnywhere", "TestPromotion", "TestUnavailableZoneFailsAtPlan"},
	} {
		if got := ready(); !slices.Equal(got, want) {
			t.Fatalf("after %d releases: admitted %v, want %v", i, got, want)
		}
		a.release()
	}
}

// TestLongestFirstNamesEveryTest: every test of the package that takes a
// harness is in longestFirst, and nothing else is: a new test left out
// would start last, and a long one would then end the run alone.
func TestLongestFirstNamesEveryTest(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var uses []string
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Test") || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "newHarness" {
						uses = append(uses, fn.Name.Name)
						return false
					}
				}
				return true
			})
		}
	}
	uses = slices.Compact(slices.Sorted(slices.Values(uses)))
	named := slices.Sorted(slices.Values(longestFirst))
	if !slices.Equal(uses, named) {
		t.Errorf("longestFirst must name exactly the tests that take a harness (put a new one where its wall time run alone puts it):\n  take a harness: %v\n  named:          %v", uses, named)
	}
}
