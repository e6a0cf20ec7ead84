// Package userdata holds the one node_exporter install script
// (node_exporter.sh), embedded so the launch template and anyone reading the
// repo use the same file. The script stays plain bash with environment
// overrides, so it works outside this app too.
package userdata

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
)

// Script is node_exporter.sh exactly as it is in the repository.
//
//go:embed node_exporter.sh
var Script string

// Options are the per-deployment values rendered into the user data.
type Options struct {
	// ListenPort is node_exporter's port. Default: 9100.
	ListenPort int
}

// Render returns the script with this deployment's defaults set right after
// the shebang. The defaults line keeps the script's own override semantics
// (an environment value still wins), so it stays one script, not a copy.
func Render(o Options) string {
	if o.ListenPort == 0 {
		o.ListenPort = 9100
	}
	shebang, rest, _ := strings.Cut(Script, "\n")
	header := fmt.Sprintf("# Rendered by prometheus-aws for this deployment:\n"+
		"NODE_EXPORTER_LISTEN_ADDRESS=\"${NODE_EXPORTER_LISTEN_ADDRESS:-:%d}\"\n", o.ListenPort)
	return shebang + "\n" + header + rest
}

var versionRE = regexp.MustCompile(`(?m)^NODE_EXPORTER_VERSION="([^"]+)"$`)

// Version is the node_exporter release the script pins.
func Version() string {
	m := versionRE.FindStringSubmatch(Script)
	if m == nil {
		panic("node_exporter.sh lost its NODE_EXPORTER_VERSION line")
	}
	return m[1]
}
