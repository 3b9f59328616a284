# Shared by ./run, ./test and .ci/run: paths, logging, and installing only what is missing.
# Sourced, not executed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/insightops-target}"
export PATH="$HOME/.cargo/bin:$PATH"
CARGO_LEPTOS_VERSION="0.3.10"
ECHARTS_VERSION="5.5.1"
ECHARTS_SHA256="e84270bd0cd5bdf60fefc26d00c2a391cb2e81f4d26a7a9ee16185a54773a3cf"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} (apt)"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The wasm-bindgen version the lock file pins; the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_rust_tools() {
  command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup first (https://rustup.rs)"
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 25 minutes, once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  fi
  local wbg; wbg="$(wasm_bindgen_version)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg\$"; then
    say "installing wasm-bindgen-cli $wbg (matches Cargo.lock)"
    cargo install wasm-bindgen-cli --version "$wbg" --force
  fi
}

ensure_node() {
  command -v npm >/dev/null || apt_install nodejs npm
}

# echarts.min.js comes from the npm package, checked against a pinned hash, into public/.
ensure_echarts() {
  local target="$ROOT/public/echarts.min.js"
  if [ -f "$target" ] && echo "$ECHARTS_SHA256  $target" | sha256sum -c --quiet 2>/dev/null; then
    return 0
  fi
  ensure_node
  say "fetching echarts@$ECHARTS_VERSION from the npm registry"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack "echarts@$ECHARTS_VERSION" --silent >/dev/null && tar -xzf "echarts-$ECHARTS_VERSION.tgz" package/dist/echarts.min.js)
  echo "$ECHARTS_SHA256  $tmp/package/dist/echarts.min.js" | sha256sum -c --quiet \
    || die "echarts.min.js does not match the pinned sha256"
  cp "$tmp/package/dist/echarts.min.js" "$target"
  rm -rf "$tmp"
}

# wasm-opt for release builds, from the npm binaryen package (Debian's is too old).
ensure_wasm_opt() {
  local dir="$HOME/.cache/insightops-tools"
  if [ ! -x "$dir/node_modules/.bin/wasm-opt" ]; then
    ensure_node
    say "installing wasm-opt (npm binaryen)"
    mkdir -p "$dir"
    (cd "$dir" && npm install --silent --no-audit --no-fund binaryen@132.0.0 >/dev/null)
  fi
  export PATH="$dir/node_modules/.bin:$PATH"
}

# Waits until $1 answers HTTP 200, or gives up after $2 seconds.
wait_for_http() {
  local url="$1" limit="${2:-60}" i=0
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    i=$((i + 1)); [ "$i" -ge "$limit" ] && return 1; sleep 1
  done
}
