// Package constructs holds the reusable building blocks of the deployment:
// one construct per concept, each with a Props struct and each exposing the
// resources it creates so callers can reach under the abstraction (escape
// hatches), as aws-ecs-patterns does.
//
// It is a library: it imports nothing of this module outside constructs/,
// so any cdktf Go app can use it (see examples/). Defaults follow one rule
// (docs/DESIGN.md, "Defaults"): a value that one of the app's settings
// controls has its default in config/fields.go alone, and the prop is
// required here; a value no setting controls is defaulted here, on its
// Props field. User input is validated once, by config, before synth; a
// construct refuses only props a program got wrong (a required prop left
// unset), naming every one.
package constructs
