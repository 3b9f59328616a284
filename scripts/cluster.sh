#!/usr/bin/env bash
# The production topology on one machine, for a newcomer and for the load test:
#   PostgreSQL primary (:5450) -> streaming hot standby (:5451, pg_basebackup)
#   two app instances (:3201, :3202; metrics on :9465, :9466) writing to the primary and reading
#   dashboards and the board from the standby -> nginx on :3200 in front of both.
# Everything lives in .data/cluster; nothing outside it is changed.
#
#   scripts/cluster.sh up      build (release), start it all, seed the demo data, check it
#   scripts/cluster.sh check   sessions, replica reads and both instances, through nginx
#   scripts/cluster.sh bench   wrk: one instance alone, then 4x the connections through nginx while
#                              one instance is killed mid-run; prints rps, p95 and failures
#   scripts/cluster.sh down    stop it all (the data stays; `down --purge` deletes it)
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

dir="$ROOT/.data/cluster"
primary_port=5450 replica_port=5451 lb_port=3200
instances=(3201 3202)
bin="$CARGO_TARGET_DIR/release/insightops"
db_url="postgres://postgres@127.0.0.1:$primary_port/insightops"
read_url="postgres://postgres@127.0.0.1:$replica_port/insightops"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_pg() {
  local run_as=()
  [ "$(id -u)" -eq 0 ] && run_as=(runuser -u postgres --)
  "${run_as[@]}" env PATH="$(pg_bin):$PATH" "$@"
}
pg_start() { as_pg pg_ctl -D "$1" -l "$1.log" -w -o "-p $2 -c listen_addresses=127.0.0.1 -k /tmp" start >/dev/null; }
answers() { psql "postgres://postgres@127.0.0.1:$1/postgres" -tAc 'select 1' >/dev/null 2>&1; }

start_databases() {
  [ -x "$(pg_bin)/initdb" ] || apt_install postgresql
  mkdir -p "$dir" && chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  if [ ! -f "$dir/primary/PG_VERSION" ]; then
    say "creating the primary in $dir/primary"
    as_pg initdb -D "$dir/primary" -U postgres --auth=trust >/dev/null
  fi
  answers $primary_port || pg_start "$dir/primary" $primary_port
  if [ ! -f "$dir/replica/PG_VERSION" ]; then
    say "cloning the hot standby (pg_basebackup -R: streams from the primary)"
    as_pg pg_basebackup -h 127.0.0.1 -p $primary_port -U postgres -D "$dir/replica" -R -X stream --checkpoint=fast
  fi
  answers $replica_port || pg_start "$dir/replica" $replica_port
  [ "$(psql "postgres://postgres@127.0.0.1:$replica_port/postgres" -tAc 'select pg_is_in_recovery()')" = t ] || die "the replica is not in recovery"
}

instance_config() {
  cat >"$dir/instance.toml" <<TOML
environment = "staging"
[server]
site_root = "$ROOT/target/site"
[database]
migrate_on_start = false
[auth]
secure_cookie = false
trusted_proxies = ["127.0.0.1"]
[ops]
drain_seconds = 3
grace_seconds = 10
log_format = "json"
TOML
}

start_instance() {
  local port="$1" metrics=$(( $1 + 6264 ))
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/api/health/live" 2>/dev/null; then return 0; fi
  INSIGHTOPS_CONFIG="$dir/instance.toml" DATABASE_URL="$db_url" DATABASE_READ_URL="$read_url" \
    INSIGHTOPS_ADDR="127.0.0.1:$port" INSIGHTOPS_METRICS_ADDR="127.0.0.1:$metrics" \
    nohup "$bin" serve --no-migrate >"$dir/app-$port.log" 2>&1 &
  echo $! >"$dir/app-$port.pid"
  wait_for_http "http://127.0.0.1:$port/api/health/ready" 60 || { tail -20 "$dir/app-$port.log"; die "instance $port did not become ready"; }
}

start_nginx() {
  command -v nginx >/dev/null || apt_install nginx
  mkdir -p "$dir/nginx" && chmod 777 "$dir/nginx"
  cat >"$dir/nginx.conf" <<NGINX
worker_processes 2;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/body;
  proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  upstream insightops {
    # A refused connection or a reset takes an instance out for 5 s; idempotent requests are
    # retried on the other one, so a stopped instance costs at most its in-flight requests.
    server 127.0.0.1:${instances[0]} max_fails=1 fail_timeout=5s;
    server 127.0.0.1:${instances[1]} max_fails=1 fail_timeout=5s;
    keepalive 32;
  }
  server {
    listen 127.0.0.1:$lb_port;
    client_max_body_size 256m;
    location / {
      proxy_pass http://insightops;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 2;
      proxy_read_timeout 120s;
    }
  }
}
NGINX
  if [ -f "$dir/nginx/nginx.pid" ] && kill -0 "$(cat "$dir/nginx/nginx.pid")" 2>/dev/null; then
    nginx -c "$dir/nginx.conf" -s reload
  else
    nginx -c "$dir/nginx.conf"
  fi
  wait_for_http "http://127.0.0.1:$lb_port/api/health/ready" 30 || die "nginx does not answer on $lb_port"
}

sign_in() {
  curl -fsS -o /dev/null -D - -H "Origin: http://127.0.0.1:$lb_port" \
    --data-urlencode "email=$1" --data-urlencode "password=$2" --data-urlencode "next=/" \
    "http://127.0.0.1:$lb_port/api/login" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p'
}

served_by() {  # requests each instance has answered (its own /metrics)
  curl -fsS "http://127.0.0.1:$(( $1 + 6264 ))/metrics" | awk '/^insightops_http_requests_total/ { n += $NF } END { print n + 0 }'
}

check() {
  local cookie before_a before_b replica_reads
  cookie="$(sign_in board@acme.example board-acme-demo)"
  [ -n "$cookie" ] || die "sign-in through nginx failed"
  before_a=$(served_by "${instances[0]}") before_b=$(served_by "${instances[1]}")
  for _ in $(seq 1 10); do
    for path in /exec /dashboard; do
      code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:$lb_port$path")
      [ "$code" = 200 ] || die "$path through nginx answered $code (a session must work on both instances)"
    done
  done
  [ "$(served_by "${instances[0]}")" -gt "$before_a" ] && [ "$(served_by "${instances[1]}")" -gt "$before_b" ] \
    || die "nginx did not spread requests over both instances"
  replica_reads=$(psql "postgres://postgres@127.0.0.1:$replica_port/postgres" -tAc \
    "SELECT coalesce(sum(tup_returned), 0) FROM pg_stat_database WHERE datname = 'insightops'")
  [ "$replica_reads" -gt 0 ] || die "nothing was read from the replica"
  # Sign-in throttling is kept in PostgreSQL: 5 failures spread over both instances lock the 6th.
  local email="nobody-$RANDOM@acme.example" codes=""
  for _ in 1 2 3 4 5 6; do
    codes+="$(curl -sS -o /dev/null -w '%{http_code}' -H "Origin: http://127.0.0.1:$lb_port" \
      --data-urlencode "email=$email" --data-urlencode "password=wrong" --data-urlencode "next=/" "http://127.0.0.1:$lb_port/api/login") "
  done
  [ "$codes" = "401 401 401 401 401 429 " ] || die "throttling across instances: got $codes"
  say "check: one session served by both instances (20 pages), $replica_reads rows read on the replica, throttling shared (401 x5 then 429)"
}

wrk_script() {
  cat >"$dir/p95.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f p50_ms=%.1f p95_ms=%.1f non2xx=%d socket_errors=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
LUA
}

bench() {
  command -v wrk >/dev/null || apt_install wrk
  wrk_script
  local cookie seconds="${1:-20}" path="${2:-/exec}"
  cookie="$(sign_in board@acme.example board-acme-demo)"
  run() { wrk -t2 -c"$1" -d"${seconds}s" -H "Cookie: $cookie" -s "$dir/p95.lua" "$2$path" | sed -n 's/^RESULT //p'; }
  printf '%-62s %s\n' "one instance directly, 8 connections:" "$(run 8 "http://127.0.0.1:${instances[0]}")"
  printf '%-62s %s\n' "nginx, both instances, 32 connections (4x):" "$(run 32 "http://127.0.0.1:$lb_port")"
  for signal in KILL TERM; do
    ( sleep $(( seconds / 2 )); kill -"$signal" "$(cat "$dir/app-${instances[0]}.pid")" ) &
    printf '%-62s %s\n' "nginx, 32 connections, SIG$signal to :${instances[0]} at $(( seconds / 2 )) s:" "$(run 32 "http://127.0.0.1:$lb_port")"
    wait
    while kill -0 "$(cat "$dir/app-${instances[0]}.pid")" 2>/dev/null; do sleep 0.2; done
    start_instance "${instances[0]}"
  done
}

down() {
  [ -f "$dir/nginx/nginx.pid" ] && nginx -c "$dir/nginx.conf" -s stop 2>/dev/null || true
  for port in "${instances[@]}"; do
    if [ -f "$dir/app-$port.pid" ]; then
      local pid; pid="$(cat "$dir/app-$port.pid")"
      kill "$pid" 2>/dev/null || true
      # It drains (3 s) and finishes in-flight requests before it exits.
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$dir/app-$port.pid"
  done
  for node in replica primary; do
    [ -f "$dir/$node/postmaster.pid" ] && as_pg pg_ctl -D "$dir/$node" -m fast stop >/dev/null 2>&1 || true
  done
  if [ "${1:-}" = --purge ]; then rm -rf "$dir"; fi
  say "cluster stopped"
}

case "${1:-}" in
  up)
    ensure_rust_tools
    ensure_echarts
    ensure_wasm_opt
    [ "${SKIP_BUILD:-}" = 1 ] || { say "building (release)"; cargo leptos build --release; }
    start_databases
    DATABASE_URL="$db_url" "$bin" migrate
    DATABASE_URL="$db_url" "$bin" seed --if-empty
    instance_config
    for port in "${instances[@]}"; do start_instance "$port"; done
    start_nginx
    check
    say "up: http://127.0.0.1:$lb_port (nginx) -> :${instances[0]}, :${instances[1]}; primary :$primary_port, standby :$replica_port"
    ;;
  check) check ;;
  bench) shift; bench "$@" ;;
  down) shift; down "$@" ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
