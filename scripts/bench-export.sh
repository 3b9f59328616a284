#!/usr/bin/env bash
# Export benchmark (issue 14), printing figures for the README: a CSV export of ROWS stored KPI rows
# (default 1,000,000) through `GET /export/dashboard` of a release build on loopback, with the
# server's peak RSS before and after, against `psql \copy (SELECT …) TO` of the same rows in the
# same run; then the PDF board pack of the demo org (seconds, five runs).
# Usage: scripts/bench-export.sh [ROWS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
source "$ROOT/scripts/postgres.sh"
cd "$ROOT"

rows="${1:-1000000}"
ensure_rust_tools
ensure_postgres
db="insightops_bench_export"
export DATABASE_URL="$PG_BASE_URL/$db"
bin="$CARGO_TARGET_DIR/release/insightops"
config="$CARGO_TARGET_DIR/bench-export.toml"
# Exports this large need a higher row limit than any environment's default.
printf 'environment = "dev"\n[env.dev]\nexport_max_rows = 5000000\nscheduled_jobs = []\n' >"$config"
export INSIGHTOPS_CONFIG="$config"

say "building (release)"
cargo build --release --features ssr --bin insightops
psql "$PG_BASE_URL/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
"$bin" migrate
"$bin" seed --days 400 >/dev/null
days=$(( (rows + 999) / 1000 ))
psql "$DATABASE_URL" -q <<SQL
INSERT INTO io_org (slug, name) VALUES ('bench', 'Bench');
INSERT INTO io_metric (org_id, key, label, unit, direction, aggregation)
SELECT id, 'm0', 'Metric 0', 'count', 'higher_is_better', 'sum' FROM io_org WHERE slug = 'bench';
-- 1,000 slices a day (4 regions x 5 segments x 5 channels x 10 products), as many days as ROWS
-- needs (a million rows: 1,000 days, within the longest range a view may have).
INSERT INTO io_kpi_daily (org_id, kpi_date, metric_key, value, region, segment, channel, product, source)
SELECT o.id, date '2023-01-01' + d, 'm0', round((random() * 10000)::numeric, 2), 'r' || r, 's' || s, 'c' || c, 'p' || p, 'bench'
FROM io_org o, generate_series(0, $days - 1) d, generate_series(0, 3) r, generate_series(0, 4) s, generate_series(0, 4) c, generate_series(0, 9) p
WHERE o.slug = 'bench' LIMIT $rows;
ANALYZE io_kpi_daily;
SQL
INSIGHTOPS_PASSWORD="bench-export-password" "$bin" user add --org bench --email bench@bench.example --role manager >/dev/null
INSIGHTOPS_PASSWORD="bench-export-password" "$bin" user add --org acme --email bench@acme.example --role board >/dev/null

port=3198
INSIGHTOPS_ADDR="127.0.0.1:$port" "$bin" serve --no-migrate >"$CARGO_TARGET_DIR/bench-export-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
wait_for_http "http://127.0.0.1:$port/api/health" 60
base="http://127.0.0.1:$port"
jar() { echo "$CARGO_TARGET_DIR/bench-export-$1.cookies"; }
for who in bench@bench.example bench@acme.example; do
  curl -sS -f -c "$(jar "$who")" -H "Origin: $base" --data-urlencode "email=$who" --data-urlencode "password=bench-export-password" \
    --data-urlencode "next=/" "$base/api/login" >/dev/null
done

seconds() { local a b; a=$(date +%s.%N); "$@" >/dev/null; b=$(date +%s.%N); awk -v a="$a" -v b="$b" 'BEGIN { print b - a }'; }
rss() { awk '/^VmHWM/ { print $2 / 1024 }' "/proc/$server/status"; }
out="$CARGO_TARGET_DIR/bench-export.csv"
last=$(psql "$DATABASE_URL" -tAc "SELECT max(kpi_date) FROM io_kpi_daily WHERE source = 'bench'")
copy_s=$(seconds psql "$DATABASE_URL" -qc "\\copy (SELECT kpi_date, metric_key, region, segment, channel, product, source, value FROM io_kpi_daily WHERE source = 'bench' ORDER BY metric_key, kpi_date) TO '$out.copy' WITH (FORMAT csv)")
rss_before=$(rss)
export_s=$(seconds curl -sS -f -b "$(jar bench@bench.example)" -o "$out" "$base/export/dashboard?metric=m0&from=2023-01-01&to=$last&format=csv")
rss_after=$(rss)
exported=$(grep -vc '^#' "$out")
pdf_runs=()
for _ in 1 2 3 4 5; do
  pdf_runs+=("$(seconds curl -sS -f -b "$(jar bench@acme.example)" -o "$CARGO_TARGET_DIR/bench-pack.pdf" "$base/export/board.pdf")")
done
pages=$(pdfinfo "$CARGO_TARGET_DIR/bench-pack.pdf" 2>/dev/null | awk '/^Pages/ { print $2 }' || echo "?")
awk -v n="$((exported - 1))" -v c="$copy_s" -v e="$export_s" -v r0="$rss_before" -v r1="$rss_after" 'BEGIN {
  printf "psql \\copy (SELECT ...) TO file: %.2f s, %.0f rows/s\n", c, n / c
  printf "GET /export/dashboard CSV: %d rows, %.2f s, %.0f rows/s, %.1fx the time of \\copy\n", n, e, n / e, e / c
  printf "server peak RSS: %.0f MB before, %.0f MB after the export\n", r0, r1
}'
printf 'PDF board pack (acme, last complete month, %s pages), five runs (s): %s\n' "$pages" "${pdf_runs[*]}"
