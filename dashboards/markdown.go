package dashboards

import (
	"fmt"
	"strings"
)

// MarkdownTable lists every dashboard's variables and panels with the
// query each runs, as the table of README.md (a test keeps it in step).
func MarkdownTable() string {
	titles := map[string]string{}
	for _, s := range specs() {
		titles[s.uid] = s.title + " (`" + s.uid + "`, " + s.file + ")"
	}
	var b strings.Builder
	dash := ""
	for _, q := range Queries() {
		if q.Dashboard != dash {
			if dash != "" {
				b.WriteString("\n")
			}
			dash = q.Dashboard
			fmt.Fprintf(&b, "**%s**\n\n", titles[dash])
			b.WriteString("| Panel | Query | Shows data with |\n|---|---|---|\n")
		}
		needs := string(q.Needs)
		if needs == "" {
			needs = "always"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", cell(q.Panel), code(q.Grafana()), cell(needs))
	}
	return b.String()
}

// cell escapes text for a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// code is s as a code span in a table cell (GitHub and GitLab read \| in
// a code span inside a table as |).
func code(s string) string {
	fence := "`"
	if strings.Contains(s, "`") {
		fence = "``"
	}
	return fence + cell(s) + fence
}
