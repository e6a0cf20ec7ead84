// Package docker holds the container side of the deployment: the Dockerfile
// on the official image, the shared entrypoint and the default configuration.
// Go embeds only from a package's own folder, hence this small package: the
// ECS task definition passes the very same entrypoint script inline.
package docker

import _ "embed"

// Entrypoint is entrypoint.sh, run by the image and, inline, by the ECS task.
//
//go:embed entrypoint.sh
var Entrypoint string

// Rules is rules.yml, the image's copy of alerting/rules.yml (a test keeps
// them equal; make docker-config copies it).
//
//go:embed rules.yml
var Rules string

// DefaultConfig is prometheus.yml as generated from the default settings.
//
//go:embed prometheus.yml
var DefaultConfig string
