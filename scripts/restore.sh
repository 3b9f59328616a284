#!/usr/bin/env bash
# Restores what scripts/backup.sh made.
#
#   scripts/restore.sh pitr BASE WAL_DIR DATA_DIR (--time 'YYYY-MM-DD HH:MM:SS+00' | --name POINT | --latest)
#       unpacks the base backup BASE into the empty DATA_DIR and sets it to replay the archived
#       WAL in WAL_DIR up to the target, then promote; start it with pg_ctl (or pg_ctlcluster).
#   scripts/restore.sh dump FILE DATABASE_URL
#       restores a dump into the (new, empty) database DATABASE_URL.
set -euo pipefail

die() { printf 'restore: %s\n' "$*" >&2; exit 1; }

case "${1:-}" in
  pitr)
    base="${2:?usage: see the header}" wal="${3:?WAL_DIR}" data="${4:?DATA_DIR}"
    target_kind="${5:-}" target="${6:-}"
    [ -f "$base/base.tar.gz" ] || die "$base holds no base.tar.gz (made by backup.sh base)"
    [ -d "$wal" ] || die "no WAL archive at $wal"
    if [ -d "$data" ] && [ -n "$(ls -A "$data")" ]; then die "$data is not empty"; fi
    mkdir -p "$data" && chmod 700 "$data"
    tar -xzf "$base/base.tar.gz" -C "$data"
    mkdir -p "$data/pg_wal" && tar -xzf "$base/pg_wal.tar.gz" -C "$data/pg_wal"
    {
      echo "restore_command = 'cp $wal/%f %p'"
      case "$target_kind" in
        --time) echo "recovery_target_time = '$target'" ;;
        --name) echo "recovery_target_name = '$target'" ;;
        --latest) ;;
        *) die "give --time TIMESTAMP, --name POINT or --latest" ;;
      esac
      echo "recovery_target_action = 'promote'"
    } >>"$data/postgresql.auto.conf"
    # The archive settings of the source would archive into the same directory: off here.
    echo "archive_mode = off" >>"$data/postgresql.auto.conf"
    touch "$data/recovery.signal"
    printf 'restored into %s; start it to replay up to the target\n' "$data"
    ;;
  dump)
    file="${2:?usage: restore.sh dump FILE DATABASE_URL}" url="${3:?DATABASE_URL}"
    [ -f "$file" ] || die "no dump at $file"
    pg_restore --dbname="$url" --no-owner --exit-on-error --single-transaction "$file"
    ;;
  *)
    sed -n '2,9p' "$0" >&2
    exit 2
    ;;
esac
