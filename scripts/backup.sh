#!/usr/bin/env bash
# Backups of the InsightOps database (seed 002 §2.2: RPO 15 min / RTO 60 min in prod, 60 / 240 in
# staging, a nightly dump in dev). See README "Running in production" for the schedule.
#
#   scripts/backup.sh base DEST             base backup of the server in DATABASE_URL (pg_basebackup:
#                                           tar, compressed, with the WAL to make it consistent)
#   scripts/backup.sh dump DEST             logical dump of the database in DATABASE_URL (pg_dump -Fc)
#   scripts/backup.sh archive-config DIR    the postgresql.conf lines that archive every WAL segment
#                                           into DIR (at least every 5 min: inside prod's 15-min RPO)
#
# The server needs a replication connection for `base` (pg_hba: host replication ...).
set -euo pipefail

die() { printf 'backup: %s\n' "$*" >&2; exit 1; }
url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/insightops}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

case "${1:-}" in
  base)
    dest="${2:?usage: backup.sh base DEST}"
    mkdir -p "$dest"
    target="$dest/base-$stamp"
    pg_basebackup --dbname="$url" --pgdata="$target" --format=tar --gzip --wal-method=stream \
      --checkpoint=fast --label="insightops-$stamp" --no-password
    printf '%s\n' "$target"
    ;;
  dump)
    dest="${2:?usage: backup.sh dump DEST}"
    mkdir -p "$dest"
    target="$dest/insightops-$stamp.dump"
    pg_dump --dbname="$url" --format=custom --no-owner --file="$target.partial"
    mv "$target.partial" "$target"
    printf '%s\n' "$target"
    ;;
  archive-config)
    dir="${2:?usage: backup.sh archive-config DIR}"
    cat <<CONF
wal_level = replica
archive_mode = on
# Never overwrite a segment already archived; fail (and retry) instead.
archive_command = 'test ! -f $dir/%f && cp %p $dir/%f'
# A quiet server still closes a segment every 5 minutes, so at most 5 minutes of writes are unarchived.
archive_timeout = 300
CONF
    ;;
  *)
    sed -n '2,13p' "$0" >&2
    exit 2
    ;;
esac
