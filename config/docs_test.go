package config

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the settings table of docs/configuration.md")

// settingsPage is the documentation page that holds the settings table.
const settingsPage = "../docs/configuration.md"

const (
	beginMarker = "<!-- settings:begin (generated from config/fields.go; a test keeps it in step) -->\n"
	endMarker   = "<!-- settings:end -->"
)

// TestDocsListEverySetting keeps the settings table of docs/configuration.md
// equal to the Fields table. Fix a failure with:
// go test ./config -run DocsListEverySetting -update
func TestDocsListEverySetting(t *testing.T) {
	data, err := os.ReadFile(settingsPage)
	if err != nil {
		t.Fatal(err)
	}
	page := string(data)
	i, j := strings.Index(page, beginMarker), strings.Index(page, endMarker)
	if i < 0 || j < i {
		t.Fatal("docs/configuration.md lacks the settings markers")
	}
	want := MarkdownReference()
	if got := page[i+len(beginMarker) : j]; got != want {
		if *update {
			page = page[:i+len(beginMarker)] + want + page[j:]
			if err := os.WriteFile(settingsPage, []byte(page), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatal("the settings table of docs/configuration.md is stale: run go test ./config -run DocsListEverySetting -update")
	}
}
