package tfenv

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

// NoReattachEnv, set to 1, makes NewAttached start the provider per command
// as Terraform does by itself.
const NoReattachEnv = "PROMAWS_TF_NO_REATTACH"

// NewAttached is New with one AWS provider process for every Terraform
// command of this working folder, when its stack configures the provider
// once (no alias): Terraform reattaches to it (TF_REATTACH_PROVIDERS) instead
// of starting the provider two or three times per command. A start costs
// ~1.2 s of CPU (the schema of ~1,500 resources) and was make test's largest
// CPU cost (process accounting: 42%, issue 29); terraform validate of the
// main stack measured 2.8 s of CPU started, 1.6 s attached. The process
// serves one configuration at a time, so a stack with provider aliases
// (several configurations in one command) gets New's. It lives until ctx
// ends: give it a context no longer than the folder's use.
func NewAttached(ctx context.Context, workdir string, env []string) (*tfexec.Terraform, error) {
	if os.Getenv(NoReattachEnv) == "1" || ProviderConfigs(workdir) != 1 {
		return New(ctx, workdir, env)
	}
	// New fills the plugin cache the provider is started from.
	if _, err := New(ctx, workdir, env); err != nil {
		return nil, err
	}
	full, err := Environ(env)
	if err != nil {
		return nil, err
	}
	// The environment Terraform has (tfexec gives it only SetEnv's), which
	// it would pass to a provider it starts.
	srv, err := startProvider(ctx, providerEnv(full))
	if err != nil {
		return nil, err
	}
	bin, err := tools.Find("terraform")
	if err != nil {
		return nil, err
	}
	// tfexec refuses TF_REATTACH_PROVIDERS in SetEnv and takes it only as an
	// option of some commands (not show, output, validate): a wrapper gives
	// it to every command.
	wrapper := filepath.Join(srv.dir, "terraform")
	script := "#!/bin/sh\nTF_REATTACH_PROVIDERS='" + srv.info + "' exec '" + bin + "' \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		return nil, err
	}
	attached, err := tfexec.NewTerraform(workdir, wrapper)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, kv := range full {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	return attached, attached.SetEnv(vars)
}

// providerEnv is env for a provider configured more than once: the AWS
// SDK's AWS_CA_BUNDLE works for the first ConfigureProvider of a process
// only (the second fails: "unable to add custom RootCAs HTTPClient, has no
// WithTransportOptions"), so the bundle becomes the process's trusted roots
// instead (SSL_CERT_FILE, which Go reads once). Only loopback is reachable
// where the tests run, so the bundle (the emulator's certificate) is all
// the roots it needs.
func providerEnv(env []string) []string {
	var out []string
	bundle := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "AWS_CA_BUNDLE="); ok {
			bundle = v
			continue
		}
		out = append(out, kv)
	}
	if bundle != "" {
		out = append(out, "SSL_CERT_FILE="+bundle)
	}
	return out
}

// ProviderConfigs counts the AWS provider configurations of the
// synthesized stack in dir (0 when it is not one).
func ProviderConfigs(dir string) int {
	var stack struct {
		Provider map[string]json.RawMessage `json:"provider"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "cdk.tf.json"))
	if err != nil || json.Unmarshal(data, &stack) != nil {
		return 0
	}
	var list []json.RawMessage
	if json.Unmarshal(stack.Provider["aws"], &list) != nil {
		return 0
	}
	return len(list)
}

// reattach is a provider process's TF_REATTACH_PROVIDERS value and its
// folder (removed when it exits).
type reattach struct{ info, dir string }

// startProvider starts the AWS provider of the plugin cache (or the
// unpacked mirror) in debug mode, which serves until it is killed and
// prints the TF_REATTACH_PROVIDERS value Terraform attaches with. It is
// killed when ctx ends or this process dies.
func startProvider(ctx context.Context, env []string) (reattach, error) {
	root := filepath.Join(filepath.Dir(tools.Bin()), "terraform-plugin-cache")
	if m := Mirror(); unpacked(m) {
		root = m
	}
	bins, _ := filepath.Glob(filepath.Join(root, "registry.terraform.io", "hashicorp", "aws", "*", runtime.GOOS+"_"+runtime.GOARCH, "terraform-provider-aws_*"))
	if len(bins) == 0 {
		return reattach{}, fmt.Errorf("no AWS provider in %s to attach Terraform to (run make tools)", root)
	}
	dir, err := os.MkdirTemp("", "tfp") // short: the provider's unix socket goes here
	if err != nil {
		return reattach{}, err
	}
	cmd := exec.CommandContext(ctx, bins[len(bins)-1], "-debug")
	cmd.Env = append(env, "TMPDIR="+dir)
	cmd.Stderr = io.Discard
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return reattach{}, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return reattach{}, fmt.Errorf("start the AWS provider: %w", err)
	}
	go func() { _ = cmd.Wait(); os.RemoveAll(dir) }()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "TF_REATTACH_PROVIDERS='"); ok {
				found <- strings.TrimSuffix(v, "'")
				break
			}
		}
		close(found)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case v, ok := <-found:
		if !ok {
			return reattach{}, errors.New("the AWS provider in debug mode printed no TF_REATTACH_PROVIDERS")
		}
		var info tfexec.ReattachInfo
		if err := json.Unmarshal([]byte(v), &info); err != nil || len(info) != 1 {
			return reattach{}, fmt.Errorf("the AWS provider's TF_REATTACH_PROVIDERS %q: %v", v, err)
		}
		return reattach{info: v, dir: dir}, nil
	case <-time.After(2 * time.Minute):
	case <-ctx.Done():
	}
	_ = cmd.Process.Kill()
	return reattach{}, errors.New("the AWS provider in debug mode did not start within 2 minutes")
}
