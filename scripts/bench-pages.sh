#!/usr/bin/env bash
# Page latency benchmark (issues 4 and 17): seeds >= 10 M KPI rows into a separate database, serves
# a release build on loopback and measures /exec, /dashboard and a saved dashboard of 12 widgets:
# SSR latency (p50/p95) and throughput with wrk. Usage: scripts/bench-pages.sh [SCALE (default 20 -> 10.5 M KPI rows)] [SECONDS (20)]
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
sign_in() {
  curl -fsS -o /dev/null -D - -H "Origin: http://127.0.0.1:$port" \
    --data-urlencode "email=$1@acme.example" --data-urlencode "password=$1-acme-demo" --data-urlencode "next=/" \
    "http://127.0.0.1:$port/api/login" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p'
}
cookie=$(sign_in board)
[ -n "$cookie" ] || die "could not sign in to the benchmark server"

# A saved dashboard of 12 widgets (every widget type and chart type) by the demo manager, shared
# with the board member, so the same session measures it.
manager=$(sign_in manager)
widget() { printf '{"id":null,"widget_type":"%s","chart_type":%s,"title":"%s","query":"%s","pinned":false,"body":"","x":%d,"y":%d,"w":%d,"h":%d}' "$@"; }
parts=(
  "$(widget metric_card null Revenue metric=revenue 0 0 3 2)" "$(widget metric_card null Orders metric=orders 3 0 3 2)"
  "$(widget metric_card null 'New customers' metric=new_customers 6 0 3 2)" "$(widget metric_card null NPS metric=nps 9 0 3 2)"
  "$(widget chart '"line"' 'Revenue by day' metric=revenue 0 2 6 4)" "$(widget chart '"line"' 'Orders by day' metric=orders 6 2 6 4)"
  "$(widget chart '"bar"' 'Revenue by region' metric=revenue 0 6 4 4)" "$(widget chart '"pie"' 'Orders by region' metric=orders 4 6 4 4)"
  "$(widget chart '"area"' 'Revenue composition' metric=revenue 8 6 4 4)" "$(widget chart '"scatter"' 'Conversion against users' 'metric=conversion_rate&vs=active_users' 0 10 6 4)"
  "$(widget table null 'New customers by region' metric=new_customers 6 10 6 4)" "$(widget chart '"line"' 'Active users' metric=active_users 0 14 12 4)"
)
widgets=$(IFS=,; echo "${parts[*]}")
spec="{\"name\":\"Bench: 12 widgets\",\"description\":\"\",\"default_query\":\"range=90d\",\"refresh\":\"off\",\"is_template\":false,\"template_type\":null,\"widgets\":[$widgets]}"
post() { curl -fsS -H "Origin: http://127.0.0.1:$port" -H "Cookie: $manager" "$@"; }
saved=$(post --data-urlencode "spec=$spec" "http://127.0.0.1:$port/api/saved_dashboard_create" | sed -n 's/^{"id":"\([0-9a-f-]*\)".*/\1/p')
[ -n "$saved" ] || die "could not create the 12-widget dashboard"
post --data-urlencode "dashboard_id=$saved" --data-urlencode "email=board@acme.example" --data-urlencode "permission=view" \
  "http://127.0.0.1:$port/api/saved_dashboard_share" >/dev/null

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
for path in "/exec" "/exec?grain=quarter" "/dashboard" "/dashboard?metric=orders&range=30d&drill=EMEA,SMB" "/dashboard?metric=revenue&range=365d&channel=web,mobile" "/dashboards/$saved"; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:$port$path")   # warm up
  [ "$code" = 200 ] || die "$path answered $code, not 200"
  result=$(wrk -t2 -c4 -d"${seconds}s" -H "Cookie: $cookie" -s "$script" "http://127.0.0.1:$port$path" | grep RESULT)
  printf '%-58s %s\n' "$path" "${result#RESULT }"
done
# The dashboard is this run's own: leave the bench database as it was.
post --data-urlencode "dashboard_id=$saved" "http://127.0.0.1:$port/api/saved_dashboard_delete" >/dev/null
