// Package docker holds the build context of the custom image: the
// Dockerfile on the official image, the default configuration and copies of
// the alerting rules and of the task's entrypoint (constructs/taskcontract
// owns the script; make docker-config copies it, a test keeps them equal).
// Go embeds only from a package's own folder, hence this small package.
package docker

import _ "embed"

// Rules is rules.yml, the image's copy of alerting/rules.yml (a test keeps
// them equal; make docker-config copies it).
//
//go:embed rules.yml
var Rules string

// DefaultConfig is prometheus.yml as generated from the default settings.
//
//go:embed prometheus.yml
var DefaultConfig string
