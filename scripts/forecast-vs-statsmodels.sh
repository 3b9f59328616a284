#!/usr/bin/env bash
# Compares the forecast's holdout MAPE with statsmodels' Holt-Winters on the labelled set of
# `insightops bench-detection` (same series, same training days, same 28-day holdout).
# statsmodels comes from PyPI into a venv this script creates; it is not part of ./test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
VENV="${INSIGHTOPS_VENV:-$HOME/.cache/insightops-statsmodels-venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet 'statsmodels==0.14.*' 'numpy<3'
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/insightops-target}"
cargo build --release --features ssr --bin insightops --quiet
BIN="$CARGO_TARGET_DIR/release/insightops"
SET="$(mktemp --suffix=.csv)"
trap 'rm -f "$SET"' EXIT
"$BIN" bench-detection --export "$SET"
echo "InsightOps (bench-detection, same series):"
"$BIN" bench-detection 2>/dev/null | "$VENV/bin/python" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["forecast"]))'
echo "statsmodels ExponentialSmoothing(trend=add, seasonal=add, 7):"
"$VENV/bin/python" scripts/forecast-vs-statsmodels.py "$SET"
