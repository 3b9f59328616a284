#!/usr/bin/env bash
# Ingest benchmark (issue 13), printing figures for the README: ROWS KPI rows (default 1,000,000)
# as one CSV through `POST /api/v1/kpis.csv` on loopback (release build), first into an empty org
# (all inserts), then the same file again (all unchanged), against `psql \copy` of the same file
# into a bare table in the same run.
# Usage: scripts/bench-ingest.sh [ROWS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
source "$ROOT/scripts/postgres.sh"
cd "$ROOT"

rows="${1:-1000000}"
ensure_rust_tools
ensure_postgres
db="insightops_bench_ingest"
export DATABASE_URL="$PG_BASE_URL/$db"
bin="$CARGO_TARGET_DIR/release/insightops"

say "building (release)"
cargo build --release --features ssr --bin insightops
psql "$PG_BASE_URL/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
"$bin" migrate

token="iot_bench_$(date +%s%N)"
hash=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
psql "$DATABASE_URL" -q <<SQL
INSERT INTO io_org (slug, name) VALUES ('bench', 'Bench');
INSERT INTO io_metric (org_id, key, label, unit, direction, aggregation)
SELECT id, 'm' || n, 'Metric ' || n, 'count', 'higher_is_better', 'sum' FROM io_org, generate_series(0, 9) n WHERE slug = 'bench';
INSERT INTO io_api_token (org_id, name, token_hash, prefix, scopes)
SELECT id, 'bench', '$hash', 'iot_bench', ARRAY['ingest'] FROM io_org WHERE slug = 'bench';
CREATE TABLE bench_bare (date date, metric text, value numeric, region text, segment text, channel text, product text);
SQL

file="$CARGO_TARGET_DIR/bench-ingest.csv"
say "writing $rows rows to $file"
# Distinct keys: 10 metrics x 4 regions x 5 products x days.
python3 - "$rows" "$file" <<'PY'
import sys, datetime
rows, path = int(sys.argv[1]), sys.argv[2]
start = datetime.date(2020, 1, 1)
regions, products = ["EMEA", "AMER", "APAC", "LATAM"], ["p0", "p1", "p2", "p3", "p4"]
with open(path, "w") as f:
    f.write("date,metric,value,region,segment,channel,product\n")
    for i in range(rows):
        day, rest = divmod(i, 200)
        metric, rest = divmod(rest, 20)
        region, product = divmod(rest, 5)
        f.write(f"{start + datetime.timedelta(days=day)},m{metric},{(i * 7919) % 100000 / 10},{regions[region]},smb,web,{products[product]}\n")
PY
ls -l "$file" | awk '{ printf "%.1f MB\n", $5 / 1e6 }'

port=3199
INSIGHTOPS_ADDR="127.0.0.1:$port" INSIGHTS_ENV=offline "$bin" serve --no-migrate >"$CARGO_TARGET_DIR/bench-ingest-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
wait_for_http "http://127.0.0.1:$port/api/health" 60

seconds() { local a b; a=$(date +%s.%N); "$@" >/dev/null; b=$(date +%s.%N); awk -v a="$a" -v b="$b" 'BEGIN { print b - a }'; }
post() { curl -sS -f -X POST "http://127.0.0.1:$port/api/v1/kpis.csv" -H "Authorization: Bearer $token" --data-binary @"$file" -o "$CARGO_TARGET_DIR/bench-ingest-reply.json"; }

copy_s=$(seconds psql "$DATABASE_URL" -qc "\\copy bench_bare FROM '$file' WITH (FORMAT csv, HEADER true)")
first_s=$(seconds post)
head -c 300 "$CARGO_TARGET_DIR/bench-ingest-reply.json"; echo
again_s=$(seconds post)
head -c 300 "$CARGO_TARGET_DIR/bench-ingest-reply.json"; echo
awk -v n="$rows" -v c="$copy_s" -v f="$first_s" -v a="$again_s" 'BEGIN {
  printf "psql \\copy into a bare table: %.2f s, %.0f rows/s\n", c, n / c
  printf "POST /api/v1/kpis.csv, new rows: %.2f s, %.0f rows/s, %.1fx the time of \\copy\n", f, n / f, f / c
  printf "POST /api/v1/kpis.csv, same rows again: %.2f s, %.0f rows/s, %.1fx the time of \\copy\n", a, n / a, a / c
}'
echo "where the time went (server log):"
sed 's/\x1b\[[0-9;]*m//g' "$CARGO_TARGET_DIR/bench-ingest-server.log" | grep -o 'rows=[0-9]* inserted=[0-9]* updated=[0-9]* steps=.*' || true
