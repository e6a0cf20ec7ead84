# prometheus-aws: the commands a developer and CI run. CI pipelines call these
# same targets; no logic lives only in pipeline YAML. `make help` lists them.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Tools built once per machine (Prometheus, promtool, node_exporter, linters)
# live outside the clone so fresh clones and CI reruns reuse them.
TOOLS_BIN ?= $(HOME)/.cache/prometheus-aws/bin
export PROMAWS_TOOLS_BIN := $(TOOLS_BIN)
export PATH := $(TOOLS_BIN):$(PATH)
export TF_CLI_CONFIG_FILE := $(TOOLS_BIN)/../terraformrc
export TF_IN_AUTOMATION := 1
export TFLINT_DISABLE_VERSION_CHECK := 1
export CHECKPOINT_DISABLE := 1
# jsii prints a banner per process on Node 20 (works, end-of-life); the README says how to use Node 22.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

# The synth program, compiled once: running it directly skips the ~25 s the
# cdktf CLI adds around the same program.
APP := bin/prometheus-aws
OUT := cdktf.out
GO_SOURCES := $(shell git ls-files -co --exclude-standard -- '*.go' '*.sh' '*.yml' 2>/dev/null) go.mod go.sum
# Inside the loopback-only network namespace Go must not try the network.
NETNS := scripts/netns.sh env GOFLAGS=-mod=readonly GOPROXY=off GOTOOLCHAIN=local

.PHONY: help
help: ## Show commands and settings
	@./help

.PHONY: tools
tools: ## Install/build what tests and the demo need (idempotent, cached)
	@scripts/install-tools.sh

.PHONY: tools-demo
tools-demo: ## Install/build what make demo needs (a subset of make tools: no promtool, shellcheck, gitlab-ci-local)
	@scripts/install-tools.sh demo

.PHONY: tools-lint
tools-lint: ## Install/build the linters and scanners (tflint, tfsec, actionlint)
	@scripts/install-tools.sh lint

$(APP): $(GO_SOURCES)
	@mkdir -p bin
	go build -o $(APP) .

.PHONY: build
build: $(APP) ## Compile the synth program

.PHONY: synth
synth: $(APP) ## Synthesize Terraform JSON into cdktf.out/stacks/<stack>/
	@$(APP)

.PHONY: validate
validate: synth ## terraform init + validate every synthesized stack
	@for dir in $(OUT)/stacks/*/; do \
	  echo "== terraform validate $$dir"; \
	  terraform -chdir=$$dir init -backend=false -input=false >/dev/null; \
	  terraform -chdir=$$dir validate; \
	done

.PHONY: plan
plan: synth ## terraform plan of the main stack (uses your AWS credentials)
	@scripts/terraform-stack.sh plan

.PHONY: deploy
deploy: synth ## terraform apply of the main stack (uses your AWS credentials)
	@scripts/terraform-stack.sh apply

# The verify program, built like planpreview (go run would turn exit status 1,
# "a check failed", into the same status as any error).
VERIFY := bin/verify

$(VERIFY): $(GO_SOURCES)
	@mkdir -p bin
	go build -o $@ ./cmd/verify

# VERIFY_FLAGS: --wait 10m (a fresh deployment), --json, --alert-roundtrip,
# --prometheus-url/--alertmanager-url (a tunnel). ENVIRONMENT picks the
# environment as PROMAWS_ENVIRONMENT does.
VERIFY_FLAGS ?=
.PHONY: verify
verify: $(VERIFY) ## Check the applied deployment: service, health, configuration served, discovery, storage, alerts, alarms (ENVIRONMENT=prod VERIFY_FLAGS="--wait 10m")
	@$(if $(ENVIRONMENT),PROMAWS_ENVIRONMENT=$(ENVIRONMENT)) $(VERIFY) $(VERIFY_FLAGS)

.PHONY: bootstrap
bootstrap: synth ## Create the Terraform state bucket (needs stateBucket set)
	@STACK=bootstrap scripts/terraform-stack.sh apply

.PHONY: destroy
destroy: synth ## terraform destroy of the main stack
	@scripts/terraform-stack.sh destroy

.PHONY: docker-config
docker-config: ## Regenerate docker/prometheus.yml (default settings), docker/rules.yml and docker/entrypoint.sh
	go run ./cmd/promconfig -defaults -o docker/prometheus.yml
	cp alerting/rules.yml docker/rules.yml
	cp constructs/taskcontract/entrypoint.sh docker/entrypoint.sh

# UNIT_FLAGS: more go test flags for make unit, e.g. UNIT_FLAGS=-run=TestX
# (the e2e pipeline test selects one test: make test runs them all itself).
UNIT_FLAGS ?=
.PHONY: unit
unit: ## Fast tests: settings, config generation, synth policies (no emulator); UNIT_FLAGS="-run X" selects
	$(NETNS) PROMAWS_SKIP_E2E=1 go test -count=1 $(UNIT_FLAGS) $$(go list ./... | grep -v /e2e)

.PHONY: test
test: ## All tests: unit, synth policies, terraform validate, emulator end-to-end
	@scripts/record-make-test.sh $(MAKE) --no-print-directory test-steps

# make test's steps; make test runs them timed, for make bench (section 6).
# The e2e tests run side by side, each on an emulator of its own; all 8 at
# once keep both cores busy through the waits (health checks, refreshes),
# and the longest never waits for a slot. Three test binaries at once (-p 3)
# let the other packages run beside the e2e one instead of after it.
# GOTESTFLAGS=-json times each test. The tools are make tools, tools-lint
# (e2e runs the GitLab pipeline's lint job: TestGitLabJobsRunLocally) and
# tools-bench, installed while the tests compile beside them
# (scripts/compile-beside.sh: from empty caches the builds leave a core
# partly idle); bench and lint first, their npm downloads (cdktf, Renovate)
# beside the compile rather than alone after the Go builds (install-tools.sh
# itself, not $(MAKE) tools...: make -n runs lines naming $(MAKE), and
# TestMakeTestRunsTheE2ETests's make -n would then compile). PROMAWS_SKIP_E2E (make
# unit's) is unset: leaked from a shell it would skip every e2e test, and
# make test would pass (e2e TestMakeTestRunsTheE2ETests). -vet=off: make
# lint runs go vet on every package, with all of its checks; the subset go
# test runs would vet each package a second time.
TEST_PARALLEL ?= 8
.PHONY: test-steps
test-steps:
	go mod download
	@scripts/compile-beside.sh scripts/install-tools.sh bench lint core
	$(NETNS) env -u PROMAWS_SKIP_E2E go test -count=1 -vet=off -timeout 80m -p 3 -parallel $(TEST_PARALLEL) $(GOTESTFLAGS) ./...

# How long make fuzz searches; the seed corpus runs in make test.
FUZZTIME ?= 10m

.PHONY: fuzz
fuzz: ## Fuzz the settings loader (cdktf.json + PROMAWS_*) for FUZZTIME (10m): executions, then PASS or the failing input
	$(NETNS) go test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./config

.PHONY: lint
lint: tools tools-lint synth ## gofmt, go vet, shellcheck, policy checks, tflint, tfsec
	@scripts/lint.sh

.PHONY: demo
demo: tools-demo ## Deploy to the local AWS emulator and watch Prometheus discover the nodes
	@go run ./cmd/demo up

.PHONY: demo-down
demo-down: ## Destroy the demo stack and stop exactly the processes the demo started
	@go run ./cmd/demo down

.PHONY: screenshot
screenshot: ## Screenshot the running demo's targets page into docs/targets.png (headless Chromium)
	@scripts/install-tools.sh demo --with-chromium
	@go run ./cmd/demo screenshot docs/targets.png

.PHONY: clean
clean: ## Remove build and synth output (not Terraform state of real deployments)
	rm -rf bin $(OUT)

# ---- Plan review: merge-request pipelines run these same targets (docs/CI.md).

# PLAN_STACKS: the stacks make plan-out plans; empty = the main stack. (The
# bootstrap stack keeps a local state by design, so CI never plans it.)
PLAN_STACKS ?=
# Built, not go run: `go run` turns the "plan destroys" exit status 3 into 1.
PLANPREVIEW := bin/planpreview

$(PLANPREVIEW): $(GO_SOURCES)
	@mkdir -p bin
	go build -o $@ ./cmd/planpreview

# Plan and apply jobs need Terraform's CLI configuration (provider mirror,
# plugin cache) but not the rest of make tools.
$(TF_CLI_CONFIG_FILE):
	go run ./cmd/tfrc

.PHONY: plan-out
plan-out: $(APP) | $(TF_CLI_CONFIG_FILE) ## Save the plan of what make synth wrote: cdktf.out/stacks/<stack>/tfplan + plan.json
	@rm -f $(OUT)/stacks/*/tfplan $(OUT)/stacks/*/plan.json
	@for stack in $(or $(PLAN_STACKS),""); do STACK=$$stack scripts/terraform-stack.sh plan-out; done

.PHONY: plan-preview
plan-preview: $(PLANPREVIEW) ## Summarise the saved plans: cdktf.out/plan-preview.md + GitLab report cdktf.out/plan-report.json
	@$(PLANPREVIEW) -o $(OUT)/plan-preview.md -gitlab-report $(OUT)/plan-report.json $(wildcard $(OUT)/stacks/*/plan.json)
	@cat $(OUT)/plan-preview.md

.PHONY: plan-guard
plan-guard: $(PLANPREVIEW) ## Fail when a saved plan deletes or replaces anything (planpreview exits 3; make reports 2)
	@$(PLANPREVIEW) -o /dev/null -fail-on-destroy $(wildcard $(OUT)/stacks/*/plan.json)

.PHONY: apply-plan
apply-plan: $(APP) | $(TF_CLI_CONFIG_FILE) ## Apply exactly the saved plan (no synth); one that destroys needs ALLOW_DESTROY=1
	@for stack in $(or $(PLAN_STACKS),""); do STACK=$$stack scripts/terraform-stack.sh apply-plan; done

.PHONY: mr-note
mr-note: $(PLANPREVIEW) ## GitLab CI: post cdktf.out/plan-preview.md as the merge-request note (updated on each push)
	@$(PLANPREVIEW) -post-gitlab-note $(OUT)/plan-preview.md

.PHONY: tools-bench
tools-bench: ## Install the cdktf CLI (npm): make bench times it, make test deploys with it
	@scripts/install-tools.sh bench

.PHONY: bench
bench: tools tools-bench $(APP) ## Benchmarks into BENCHMARKS.md + bench/results.json (~40 min, sizing ~25 of it: BENCH_FLAGS="-skip sizing"; quick look: BENCH_FLAGS="-runs 1 -warmup 0 -out /tmp/b.md -json /tmp/b.json")
	go mod download
	$(NETNS) go run ./cmd/bench $(BENCH_FLAGS)

.PHONY: bench-soak
bench-soak: tools tools-bench $(APP) ## The two-hour soak of fleets on the default task size, into BENCHMARKS.md 5c and bench/soak.csv (~2 h 15 min)
	go mod download
	$(NETNS) go run ./cmd/bench -soak-for 2h -update -skip synth,scale-synth,cli,build,cold-build,plan,discovery,reload,disc1000,scale-plan,sizing $(BENCH_FLAGS)

.PHONY: bench-test
bench-test: ## make test timed from empty Go and tools caches, then warm, into BENCHMARKS.md (~40 min)
	@scripts/bench-make-test.sh
