package cost

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated sections of docs/cost.md")

const costPage = "../docs/cost.md"

// TestCostPageIsGenerated keeps every generated section of docs/cost.md
// equal to what the model renders: a price, an assumption or the stack's
// inventory changed without the page, or the page edited by hand between
// markers, fails here. Fix a failure with:
// go test ./cost -run CostPage -update
func TestCostPageIsGenerated(t *testing.T) {
	data, err := os.ReadFile(costPage)
	if err != nil {
		t.Fatal(err)
	}
	page := string(data)
	stale := false
	for _, s := range Sections {
		want, err := s.Render()
		if err != nil {
			t.Fatalf("section %s: %v", s.Name, err)
		}
		begin, end := Begin(s.Name), End(s.Name)
		i, j := strings.Index(page, begin), strings.Index(page, end)
		if i < 0 || j < i {
			t.Errorf("docs/cost.md lacks the markers of section %s:\n%s...\n%s", s.Name, begin, end)
			continue
		}
		if got := page[i+len(begin) : j]; got != want {
			stale = true
			page = page[:i+len(begin)] + want + page[j:]
		}
	}
	if !stale {
		return
	}
	if *update {
		if err := os.WriteFile(costPage, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("docs/cost.md differs from the cost model: run go test ./cost -run CostPage -update")
}
