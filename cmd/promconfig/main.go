// Command promconfig prints the prometheus.yml that the deployment generates
// from the current settings (cdktf.json context, PROMAWS_* environment).
// With -local-endpoint it applies the local-profile overlay, as the demo does.
//
//	go run ./cmd/promconfig                     # the config the Fargate task gets
//	go run ./cmd/promconfig -o docker/prometheus.yml
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/promconfig"
)

func main() {
	endpoint := flag.String("local-endpoint", "", "emulator URL (loopback); applies the local-profile overlay")
	target := flag.String("target", "127.0.0.1:9100", "with -local-endpoint: the loopback node_exporter every scrape goes to")
	accessKey := flag.String("access-key", "test", "with -local-endpoint: the emulator's access key")
	secretKey := flag.String("secret-key", "test", "with -local-endpoint: the emulator's secret key")
	out := flag.String("o", "", "write to this file instead of standard output")
	flag.Parse()

	ctx, err := config.LoadContext(".")
	if err != nil {
		fail(err)
	}
	s, err := config.Load(ctx, config.OSEnv())
	if err != nil {
		fail(fmt.Errorf("invalid settings:\n%v", err))
	}
	c := promconfig.Generate(s)
	if *endpoint != "" {
		if err := c.ApplyLocal(promconfig.LocalOptions{Endpoint: *endpoint, AccessKey: *accessKey, SecretKey: *secretKey, TargetAddress: *target}); err != nil {
			fail(err)
		}
	}
	data, err := c.YAML()
	if err != nil {
		fail(err)
	}
	if *out == "" {
		os.Stdout.Write(data)
		return
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "promconfig:", err)
	os.Exit(2)
}
