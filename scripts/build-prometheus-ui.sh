#!/usr/bin/env bash
# build-prometheus-ui.sh — build Prometheus 3.16 WITH its web UI into the
# tools cache (prometheus-ui). `go install` builds have no UI assets (the API
# works, pages answer 500); the screenshot needs the pages. Takes minutes and
# npm packages; only `make screenshot` needs it.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS_BIN=${PROMAWS_TOOLS_BIN:-$HOME/.cache/prometheus-aws/bin}
VERSION=v0.316.0
STAMP="$VERSION static" # static (CGO off, netgo), as the image replica needs
if [[ -x $TOOLS_BIN/prometheus-ui && $(cat "$TOOLS_BIN/.prometheus-ui.version" 2>/dev/null) == "$STAMP" ]]; then
  echo "build-prometheus-ui: prometheus-ui $VERSION already built"
  exit 0
fi
command -v npm >/dev/null || { echo "build-prometheus-ui: npm is required" >&2; exit 1; }

src=$(GOFLAGS=-mod=mod go mod download -json "github.com/prometheus/prometheus@$VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "build-prometheus-ui: copying the Prometheus module to $work"
cp -r "$src" "$work/prometheus"
chmod -R u+w "$work/prometheus"
cd "$work/prometheus/web/ui"

echo "build-prometheus-ui: installing pnpm 10 and the UI's packages (npm registry)"
npm install --no-save --prefix "$work/pnpm" pnpm@10 >/dev/null
export PATH="$work/pnpm/node_modules/.bin:$PATH" # build_ui.sh calls pnpm by name
pnpm=pnpm
# The newest @mantine/code-highlight the registry serves.
node -e '
  const fs = require("fs"); const p = "mantine-ui/package.json";
  const j = JSON.parse(fs.readFileSync(p)); j.dependencies["@mantine/code-highlight"] = "9.6.2";
  fs.writeFileSync(p, JSON.stringify(j, null, 2));'
"$pnpm" install --no-frozen-lockfile --reporter=silent
echo "build-prometheus-ui: building the UI"
"$pnpm" run build:mantine-ui >/dev/null
cd "$work/prometheus"
bash scripts/compress_assets.sh # module-cache copies lose the exec bit
echo "build-prometheus-ui: compiling prometheus with the UI embedded (static, as a release build)"
GOWORK=off CGO_ENABLED=0 go build -tags netgo,builtinassets -ldflags "-X github.com/prometheus/common/version.Version=3.16.0" \
  -o "$TOOLS_BIN/prometheus-ui" ./cmd/prometheus
echo "$STAMP" >"$TOOLS_BIN/.prometheus-ui.version"
echo "build-prometheus-ui: $TOOLS_BIN/prometheus-ui ready"
