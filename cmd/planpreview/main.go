// Command planpreview summarises Terraform plans for a merge request.
//
//	planpreview [-o summary.md] [-gitlab-report report.json] [-fail-on-destroy] plan.json...
//	planpreview -post-gitlab-note summary.md
//
// Each plan.json is `terraform show -json <planfile>`; a cdk.tf.json in the
// same folder (make plan-out puts them together) supplies the construct
// paths and the stack name. The Markdown goes to -o (default stdout), the
// GitLab merge-request widget report to -gitlab-report.
//
// Exit status: 0 done; 1 an error; 3 with -fail-on-destroy when any plan
// deletes or replaces a resource (the outputs are written first, so CI can
// still show them).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/prometheus-aws/prometheus-aws/planpreview"
)

// exitDestroys is the status for "this plan destroys something".
const exitDestroys = 3

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("planpreview", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "-", "write the Markdown summary to this file (- for stdout)")
	report := fs.String("gitlab-report", "", "write GitLab's Terraform report JSON ({\"create\":n,\"update\":n,\"delete\":n}) to this file")
	failOnDestroy := fs.Bool("fail-on-destroy", false, fmt.Sprintf("exit %d when any plan deletes or replaces a resource", exitDestroys))
	note := fs.String("post-gitlab-note", "", "post this Markdown file as the merge-request note, updating the one posted before (GitLab CI only)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: planpreview [-o summary.md] [-gitlab-report report.json] [-fail-on-destroy] plan.json...\n       planpreview -post-gitlab-note summary.md")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *note != "" {
		return postNote(*note, stderr)
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "planpreview: no plan given: pass one or more plan.json files (terraform show -json tfplan > plan.json, or make plan-out)")
		return 2
	}
	var stacks []*planpreview.Stack
	for _, file := range fs.Args() {
		s, err := planpreview.Load(file)
		if err != nil {
			fmt.Fprintln(stderr, "planpreview:", err)
			return 1
		}
		stacks = append(stacks, s)
	}
	var md bytes.Buffer
	if err := planpreview.WriteMarkdown(&md, stacks); err != nil {
		fmt.Fprintln(stderr, "planpreview:", err)
		return 1
	}
	if err := writeOut(*out, md.Bytes(), stdout); err != nil {
		fmt.Fprintln(stderr, "planpreview:", err)
		return 1
	}
	total := planpreview.Total(stacks)
	if *report != "" {
		data, err := planpreview.GitLabReport(stacks)
		if err == nil {
			err = os.WriteFile(*report, data, 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "planpreview: GitLab report:", err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "planpreview: %d to create, %d to update, %d to replace, %d to delete\n",
		total.Create, total.Update, total.Replace, total.Delete)
	if *failOnDestroy && total.Destroys() {
		for _, s := range stacks {
			for _, c := range s.Changes {
				if c.Action == planpreview.Delete || c.Action == planpreview.Replace {
					fmt.Fprintf(stderr, "  %-7s %s (%s): %s\n", c.Action, c.Address, s.Name, c.Why)
				}
			}
		}
		fmt.Fprintf(stderr, "planpreview: the plan destroys %d resource(s) (%d deleted, %d replaced); it needs an explicit approval: set ALLOW_DESTROY=1 for the apply (docs/CI.md)\n",
			total.Delete+total.Replace, total.Delete, total.Replace)
		return exitDestroys
	}
	return 0
}

func writeOut(path string, data []byte, stdout io.Writer) error {
	if path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func postNote(file string, stderr io.Writer) int {
	body, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "planpreview: %v (write it first with make plan-preview)\n", err)
		return 1
	}
	n, err := planpreview.GitLabNoteFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "planpreview:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := n.Upsert(ctx, string(body))
	if err != nil {
		fmt.Fprintln(stderr, "planpreview:", err)
		return 1
	}
	fmt.Fprintf(stderr, "planpreview: merge-request note %d is up to date\n", id)
	return 0
}
