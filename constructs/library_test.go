package constructs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/prometheus-aws/prometheus-aws"

// TestConstructsAreALibrary: no package under constructs/ depends on a
// package of this module outside constructs/ (the app's settings, its
// config generator, its image), so any cdktf app can use them.
func TestConstructsAreALibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ./constructs/...: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, module+"/") && !strings.HasPrefix(pkg, module+"/constructs") {
			t.Errorf("constructs/ depends on %s; a construct takes its values as props instead", pkg)
		}
	}
}

// TestFunctionsAreShort: every function in constructs/ reads on one
// screen (80 lines); a longer constructor wires named pieces instead.
func TestFunctionsAreShort(t *testing.T) {
	const limit = 80
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := filepath.Glob("*/*.go")
	fset := token.NewFileSet()
	for _, name := range append(files, sub...) {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			if n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1; n > limit {
				t.Errorf("%s: %s is %d lines (at most %d): split it into named pieces", name, fn.Name.Name, n, limit)
			}
		}
	}
}
