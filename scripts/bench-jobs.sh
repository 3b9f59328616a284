#!/usr/bin/env bash
# Job queue benchmark (issue 12), printing figures for the README:
#  1. throughput: `insightops bench-jobs` (no-op jobs claimed and finished by 2 workers, against
#     single-row commits/s on the same database in the same run);
#  2. freshness: with the server (and its worker) running on a database seeded at SCALE, load one
#     new day for every metric ten times and time each load's end to its detection job finishing
#     (its findings visible), p50/p95.
# Usage: scripts/bench-jobs.sh [SCALE (default 20)] [JOBS (default 20000)]
set -euo pipefail
source "$(dirname "$0")/common.sh"
source "$ROOT/scripts/postgres.sh"
cd "$ROOT"

scale="${1:-20}"
jobs="${2:-20000}"
ensure_rust_tools
ensure_echarts
ensure_postgres
export DATABASE_URL="$PG_BASE_URL/insightops_bench_jobs"
bin="$CARGO_TARGET_DIR/release/insightops"

say "building (release)"
cargo build --release --features ssr --bin insightops
"$bin" migrate

say "throughput: $jobs no-op jobs, 2 workers"
"$bin" bench-jobs --jobs "$jobs" --workers 2

end=$(psql "$DATABASE_URL" -tAc "SELECT max(kpi_date) FROM io_kpi_daily")
if [ -z "$end" ]; then
  say "seeding scale $scale (a few minutes)"
  "$bin" seed --scale "$scale" >/dev/null
  psql "$DATABASE_URL" -qc "VACUUM ANALYZE"
  end=$(psql "$DATABASE_URL" -tAc "SELECT max(kpi_date) FROM io_kpi_daily")
fi
say "$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM io_kpi_daily") KPI rows, last day $end"

port=3198
INSIGHTOPS_ADDR="127.0.0.1:$port" "$bin" serve --no-migrate >"$CARGO_TARGET_DIR/bench-jobs-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
wait_for_http "http://127.0.0.1:$port/api/health" 60

times=()
for i in $(seq 1 10); do
  day=$(date -u -d "$end + $i day" +%F)
  "$bin" seed --scale "$scale" --days 1 --end-date "$day" >/dev/null
  loaded=$(date +%s.%N)
  while [ "$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM io_job WHERE kind = 'detect' AND status IN ('queued', 'running')")" != "0" ]; do
    sleep 0.2
  done
  done_at=$(date +%s.%N)
  t=$(awk -v a="$done_at" -v b="$loaded" 'BEGIN { print a - b }')
  times+=("$t")
  printf 'load %2d (%s): findings after %.1f s\n' "$i" "$day" "$t"
done
printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "freshness over %d loads: p50 %.1f s, p95 %.1f s\n", NR, a[int((NR + 1) / 2)], a[int(NR * 0.95 + 0.999)] }'
