#!/usr/bin/env bash
# Page latency benchmark (issue 4): seeds >= 10 M KPI rows into a separate database, serves a
# release build on loopback and measures /exec and /dashboard SSR latency (p50/p95) and throughput
# with wrk. Usage: scripts/bench-pages.sh [SCALE (default 20 -> 10.5 M KPI rows)] [SECONDS (20)]
set -euo pipefail
source "$(dirname "$0")/common.sh"
source "$ROOT/scripts/postgres.sh"
cd "$ROOT"

scale="${1:-20}"
seconds="${2:-20}"
ensure_rust_tools
ensure_echarts
ensure_wasm_opt
ensure_postgres
apt_install wrk
export DATABASE_URL="$PG_BASE_URL/insightops_bench"
bin="$CARGO_TARGET_DIR/release/insightops"

say "building (release)"
cargo leptos build --release
"$bin" migrate
rows=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM io_kpi_daily")
if [ "$rows" -lt 10000000 ]; then
  say "seeding scale $scale (a few minutes)"
  "$bin" seed --scale "$scale"
  psql "$DATABASE_URL" -qc "VACUUM ANALYZE"
  rows=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM io_kpi_daily")
fi
say "$rows KPI rows"

port=3199
INSIGHTOPS_ADDR="127.0.0.1:$port" "$bin" serve --no-migrate >"$ROOT/target/bench-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
wait_for_http "http://127.0.0.1:$port/api/health" 60

# Pages need a session: sign in as the demo board member (what the board page is for).
cookie=$(curl -fsS -o /dev/null -D - -H "Origin: http://127.0.0.1:$port" \
  --data-urlencode "email=board@acme.example" --data-urlencode "password=board-acme-demo" --data-urlencode "next=/" \
  "http://127.0.0.1:$port/api/login" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
[ -n "$cookie" ] || die "could not sign in to the benchmark server"

# p95 is not in wrk's --latency table; its Lua hook can print any percentile.
script="$(mktemp --suffix=.lua)"
cat >"$script" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f rps=%.1f errors=%d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
LUA
for path in "/exec" "/exec?grain=quarter" "/dashboard" "/dashboard?metric=orders&range=30d&drill=EMEA,SMB" "/dashboard?metric=revenue&range=365d&channel=web,mobile"; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:$port$path")   # warm up
  [ "$code" = 200 ] || die "$path answered $code, not 200"
  result=$(wrk -t2 -c4 -d"${seconds}s" -H "Cookie: $cookie" -s "$script" "http://127.0.0.1:$port$path" | grep RESULT)
  printf '%-58s %s\n' "$path" "${result#RESULT }"
done
