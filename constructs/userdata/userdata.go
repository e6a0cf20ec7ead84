// Package userdata holds the one node_exporter install script
// (node_exporter.sh). It is embedded, not generated, so the launch template,
// the tests and anyone who copies the file out of the repository all run the
// same bytes. The script stays plain bash configured by environment
// variables, which is what lets it work outside this app too.
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
	// ListenPort is the port node_exporter listens on (all addresses).
	// Default: 9100.
	ListenPort int
	// DownloadBase is the release mirror (NODE_EXPORTER_DOWNLOAD_BASE: an
	// https:// or s3://bucket/prefix base holding v<version>/<tarball>).
	// Default: "" (GitHub's releases).
	DownloadBase string
}

// Render returns the EC2 user data: the script with one line right after the
// shebang that sets this deployment's default listen address. The line keeps
// the script's own "environment wins" semantics and the rest is Script
// unchanged, so there is never a second copy of the installer to keep in
// step. Render panics on a port outside 1-65535: the config package rejects
// those long before a launch template is built.
func Render(o Options) string {
	if o.ListenPort == 0 {
		o.ListenPort = 9100
	}
	if o.ListenPort < 1 || o.ListenPort > 65535 {
		panic(fmt.Sprintf("userdata: listen port %d is outside 1-65535", o.ListenPort))
	}
	shebang, rest, _ := strings.Cut(Script, "\n")
	header := fmt.Sprintf("# prometheus-aws deployment default (the environment still wins):\n"+
		"NODE_EXPORTER_LISTEN_ADDRESS=\"${NODE_EXPORTER_LISTEN_ADDRESS:-:%d}\"\n", o.ListenPort)
	if o.DownloadBase != "" {
		if strings.ContainsAny(o.DownloadBase, "\"$`\\\n") {
			panic(fmt.Sprintf("userdata: download base %q holds shell-special characters", o.DownloadBase))
		}
		header += fmt.Sprintf("NODE_EXPORTER_DOWNLOAD_BASE=\"${NODE_EXPORTER_DOWNLOAD_BASE:-%s}\"\n", o.DownloadBase)
	}
	return shebang + "\n" + header + rest
}

var versionRE = regexp.MustCompile(`(?m)^NODE_EXPORTER_VERSION="([^"]+)"$`)

// Version is the node_exporter release the script pins, read from the script
// itself so Go code (the demo's tool install, tests, docs) shows the pinned
// version without a second place to bump.
func Version() string {
	m := versionRE.FindStringSubmatch(Script)
	if m == nil {
		panic("userdata: node_exporter.sh lost its NODE_EXPORTER_VERSION line")
	}
	return m[1]
}
