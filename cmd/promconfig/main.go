// Command promconfig prints the prometheus.yml that the deployment generates
// from the current settings, loaded exactly as the app loads them (cdktf.json
// context or CDKTF_CONTEXT_JSON, then PROMAWS_* environment): the value of
// the task's configuration parameter. With the local profile (endpoint set)
// that includes its overlay, as the demo's task receives it.
//
//	go run ./cmd/promconfig                          # the config the Fargate task gets
//	go run ./cmd/promconfig -defaults -o docker/prometheus.yml   # make docker-config
//	PROMAWS_ENDPOINT=https://127.0.0.1:5000 go run ./cmd/promconfig   # the local profile's
//
// Bad settings or flags print the problem on standard error, write nothing
// and exit with status 2.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("promconfig", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defaults := fs.Bool("defaults", false, "ignore cdktf.json context and PROMAWS_* variables: the default settings (docker/prometheus.yml)")
	out := fs.String("o", "", "write to this file instead of standard output")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: promconfig [-defaults] [-o file]   (settings: cdktf.json context, PROMAWS_* variables; PROMAWS_ENDPOINT = the local profile)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // the flag package has printed the problem and the usage
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "promconfig:", err)
		return 2
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("unexpected argument %q; settings come from cdktf.json and PROMAWS_* variables (see ./help)", fs.Arg(0)))
	}

	s := config.Defaults()
	if !*defaults {
		ctx, err := config.LoadContext(".")
		if err != nil {
			return fail(err)
		}
		if s, err = config.Load(ctx, config.OSEnv()); err != nil {
			return fail(fmt.Errorf("invalid settings:\n%v", err))
		}
	}
	c, err := promconfig.ForTask(s)
	if err != nil {
		return fail(err)
	}
	data, err := c.YAML()
	if err != nil {
		return fail(err)
	}
	if *out == "" {
		if _, err := stdout.Write(data); err != nil {
			return fail(err)
		}
		return 0
	}
	if err := writeFile(*out, data); err != nil {
		return fail(err)
	}
	return 0
}

// writeFile replaces path through a temporary file in the same folder, so a
// failed write never leaves a half-written config behind.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
