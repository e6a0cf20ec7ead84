package config

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's settings table")

const (
	beginMarker = "<!-- settings:begin (generated from config/fields.go; a test keeps it in step) -->\n"
	endMarker   = "<!-- settings:end -->"
)

// TestReadmeListsEverySetting keeps the README's configuration table equal to
// the Fields table. Fix a failure with: go test ./config -run Readme -update
func TestReadmeListsEverySetting(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	i, j := strings.Index(readme, beginMarker), strings.Index(readme, endMarker)
	if i < 0 || j < i {
		t.Fatal("README.md lacks the settings markers")
	}
	want := MarkdownReference()
	if got := readme[i+len(beginMarker) : j]; got != want {
		if *update {
			readme = readme[:i+len(beginMarker)] + want + readme[j:]
			if err := os.WriteFile("../README.md", []byte(readme), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatal("README settings table is stale: run go test ./config -run Readme -update")
	}
}
