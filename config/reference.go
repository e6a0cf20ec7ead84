package config

import (
	"fmt"
	"io"
	"strings"
)

// WriteReference prints every setting for `./help`: context key, environment
// variable, default and description.
func WriteReference(w io.Writer) {
	for _, f := range Fields {
		def := f.Default
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(w, "  %-20s %-32s default %s\n  %20s %s\n", f.Key, f.Env(), def, "", f.Doc)
	}
}

// MarkdownReference renders the settings as the configuration table of
// docs/configuration.md; a test keeps that page in step with it.
func MarkdownReference() string {
	var b strings.Builder
	b.WriteString("| Context key | Environment variable | Default | Description |\n|---|---|---|---|\n")
	for _, f := range Fields {
		def := "`" + f.Default + "`"
		if f.Default == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", f.Key, f.Env(), def, strings.ReplaceAll(f.Doc, "|", "\\|"))
	}
	return b.String()
}
