// Command policycheck runs the policy rules (package policy) on synthesized
// stacks: `policycheck cdktf.out/stacks/*/cdk.tf.json`. It is the Go gate of
// `make lint`, for the rules scanners miss. Exit 1 on any violation.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/prometheus-aws/prometheus-aws/config"
	"github.com/prometheus-aws/prometheus-aws/policy"
)

func main() {
	list := flag.Bool("rules", false, "list the rules and exit")
	flag.Parse()
	if *list {
		for _, r := range policy.Rules {
			fmt.Printf("%-28s %s\n", r.Name, r.Doc)
		}
		return
	}
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: policycheck cdktf.out/stacks/*/cdk.tf.json (run make synth first)")
		os.Exit(2)
	}
	// The same settings the synth used tell which opt-ins are deliberate.
	ctx, err := config.LoadContext(".")
	if err == nil {
		var s *config.Settings
		if s, err = config.Load(ctx, config.OSEnv()); err == nil {
			os.Exit(check(flag.Args(), policy.OptionsFor(s)))
		}
	}
	fmt.Fprintln(os.Stderr, "policycheck:", err)
	os.Exit(2)
}

func check(files []string, o policy.Options) int {
	failed := 0
	for _, f := range files {
		d, err := policy.ParseFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "policycheck:", err)
			return 2
		}
		v := policy.Check(d, o)
		for _, x := range v {
			fmt.Printf("%s: %s\n", f, x)
		}
		if len(v) == 0 {
			fmt.Printf("%s: %d rules, no violations\n", f, len(policy.Rules))
		}
		failed += len(v)
	}
	if failed > 0 {
		return 1
	}
	return 0
}
