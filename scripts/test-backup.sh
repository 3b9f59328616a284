#!/usr/bin/env bash
# The backup test (part of ./test): a private PostgreSQL cluster with WAL archiving, the app's
# schema and rows; a base backup; more rows, a moment noted, more rows again; then a restore to that
# moment must hold exactly the rows written before it. Also a dump and its restore. Prints the
# restore time (RTO on this machine).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$pg_bin/initdb" ] || apt_install postgresql
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
run_as=()
if [ "$(id -u)" -eq 0 ]; then run_as=(runuser -u postgres --); fi
as_pg() { "${run_as[@]}" env PATH="$pg_bin:$PATH" "$@"; }

work="$(mktemp -d /tmp/insightops-backup-test.XXXXXX)"
chmod 755 "$work"
[ "$(id -u)" -eq 0 ] && chown postgres "$work"
primary_port=5461 restored_port=5462
cleanup() {
  as_pg pg_ctl -D "$work/primary" -m immediate stop >/dev/null 2>&1 || true
  as_pg pg_ctl -D "$work/restored" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
start() { as_pg pg_ctl -D "$1" -l "$1.log" -w -o "-p $2 -c listen_addresses=127.0.0.1 -k /tmp" start >/dev/null; }
sql() { psql "postgres://postgres@127.0.0.1:$1/$2" -v ON_ERROR_STOP=1 -qtAc "$3"; }

say "backup test: primary with WAL archiving on port $primary_port"
as_pg initdb -D "$work/primary" -U postgres --auth=trust >/dev/null
as_pg mkdir -p "$work/wal" "$work/backups"
as_pg bash -c "scripts/backup.sh archive-config '$work/wal' >> '$work/primary/postgresql.conf'"
start "$work/primary" "$primary_port"
url="postgres://postgres@127.0.0.1:$primary_port/insightops"
sql "$primary_port" postgres "CREATE DATABASE insightops"
sql "$primary_port" insightops "CREATE TABLE io_backup_probe (id integer PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT clock_timestamp())"
sql "$primary_port" insightops "INSERT INTO io_backup_probe (id) SELECT generate_series(1, 1000)"

base="$(as_pg env DATABASE_URL="$url" scripts/backup.sh base "$work/backups")"
dump="$(as_pg env DATABASE_URL="$url" scripts/backup.sh dump "$work/backups")"
sql "$primary_port" insightops "INSERT INTO io_backup_probe (id) SELECT generate_series(1001, 1500)"
sleep 1.1
moment="$(sql "$primary_port" insightops "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")"
sleep 1.1
sql "$primary_port" insightops "INSERT INTO io_backup_probe (id) SELECT generate_series(1501, 1800)"
sql "$primary_port" insightops "SELECT pg_switch_wal()" >/dev/null
# Wait until the segment holding the last rows is archived.
for _ in $(seq 1 50); do
  [ "$(sql "$primary_port" postgres "SELECT failed_count = 0 AND last_archived_wal IS NOT NULL AND last_archived_wal >= pg_walfile_name(pg_current_wal_lsn() - 1) FROM pg_stat_archiver")" = t ] && break
  sleep 0.2
done
as_pg pg_ctl -D "$work/primary" -m immediate stop >/dev/null

say "restoring to $moment"
started=$(date +%s.%N)
as_pg scripts/restore.sh pitr "$base" "$work/wal" "$work/restored" --time "$moment" >/dev/null
start "$work/restored" "$restored_port"
for _ in $(seq 1 100); do
  [ "$(sql "$restored_port" postgres "SELECT pg_is_in_recovery()")" = f ] && break
  sleep 0.1
done
rto=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
got="$(sql "$restored_port" insightops "SELECT count(*) || ' ' || min(id) || ' ' || max(id) FROM io_backup_probe")"
[ "$got" = "1500 1 1500" ] || die "point-in-time restore holds rows '$got', expected '1500 1 1500' (the 1000 backed up + the 500 written before $moment)"
say "point-in-time restore: rows 1-1500 present, the 300 written after the target absent; restore took ${rto} s"

sql "$restored_port" postgres "CREATE DATABASE from_dump"
as_pg scripts/restore.sh dump "$dump" "postgres://postgres@127.0.0.1:$restored_port/from_dump"
got="$(sql "$restored_port" from_dump "SELECT count(*) || ' ' || max(id) FROM io_backup_probe")"
[ "$got" = "1000 1000" ] || die "the dump restored '$got', expected '1000 1000'"
say "dump restore: the 1000 rows of the dump"
