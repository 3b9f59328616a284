# Finds or starts PostgreSQL and exports PG_BASE_URL (no database name).
# Order: $DATABASE_URL's server; one on 127.0.0.1:5432; Debian's cluster; a private cluster in .data/pg.
# Sourced, not executed.

pg_answers() { psql "$1/postgres" -tAc 'select 1' >/dev/null 2>&1; }

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    PG_BASE_URL="${DATABASE_URL%/*}"
    pg_answers "$PG_BASE_URL" || die "DATABASE_URL is set but its server does not answer: $PG_BASE_URL"
    export PG_BASE_URL; return 0
  fi
  command -v psql >/dev/null || apt_install postgresql-client
  local system="postgres://postgres@127.0.0.1:5432"
  if pg_answers "$system"; then PG_BASE_URL="$system"; export PG_BASE_URL; return 0; fi

  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
    local version; version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    say "starting the system PostgreSQL $version cluster"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
    for _ in $(seq 1 20); do pg_answers "$system" && break; sleep 0.5; done
    if pg_answers "$system"; then PG_BASE_URL="$system"; export PG_BASE_URL; return 0; fi
  fi

  # A private cluster: trust auth on loopback only, owned by the postgres user when run as root.
  apt_install postgresql
  local bin; bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  local data="$ROOT/.data/pg" port=55432 run_as=()
  if [ "$(id -u)" -eq 0 ]; then run_as=(runuser -u postgres --); fi
  mkdir -p "$ROOT/.data"
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating a private PostgreSQL cluster in .data/pg"
    mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown -R postgres "$ROOT/.data"
    "${run_as[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust >/dev/null
  fi
  local url="postgres://postgres@127.0.0.1:$port"
  if ! pg_answers "$url"; then
    say "starting the private PostgreSQL cluster on port $port"
    "${run_as[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p $port -c listen_addresses=127.0.0.1 -k /tmp" start >/dev/null
  fi
  pg_answers "$url" || die "PostgreSQL did not start; see .data/pg/server.log"
  PG_BASE_URL="$url"; export PG_BASE_URL
}
