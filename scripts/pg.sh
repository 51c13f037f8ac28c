#!/usr/bin/env bash
# PostgreSQL helpers for `make run`, `make test` and `make bench`; source this file.
# Clusters are private: trust auth on 127.0.0.1 only, the socket in the cluster folder.
# initdb and postgres refuse to run as root, so as root they run as the `postgres` user.

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ] && command -v pg_config >/dev/null 2>&1; then dir=$(pg_config --bindir); fi
  printf '%s' "$dir"
}

# Installs the PostgreSQL server when its binaries are missing (Debian/Ubuntu).
pg_ensure_installed() {
  local bin
  bin=$(pg_bin)
  if [ -n "$bin" ] && [ -x "$bin/initdb" ]; then return 0; fi
  echo "PostgreSQL server binaries not found; installing them with apt-get..." >&2
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
  bin=$(pg_bin)
  [ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "could not install PostgreSQL; install it and retry" >&2; return 1; }
}

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves.
pg_as_owner() {
  # From /: the checkout may be a folder the postgres user cannot enter.
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pg_ensure_user() {
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
}

# The development cluster's folder for the checkout in $PWD: .data/postgres, unless we are
# root and the postgres user cannot reach it (a clone under /root, or under any folder that
# is not world-traversable). Then the cluster lives in the postgres user's own home,
# /var/lib/postgresql/gallery-dev/<hash of the checkout's path>. `.data/postgres.dir`
# records which, for `make clean-data`.
pg_dev_dir() {
  local dir="$PWD/.data/postgres"
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    pg_ensure_user
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      dir=/var/lib/postgresql/gallery-dev/$(printf '%s' "$PWD" | sha256sum | cut -c1-12)
      mkdir -p "$dir"
      chown postgres: /var/lib/postgresql/gallery-dev "$dir"
    fi
  fi
  printf '%s\n' "$dir" > "$PWD/.data/postgres.dir"
  printf '%s' "$dir"
}

# pg_start DIR PORT [extra postgres options...]: initialises DIR on first use, then starts.
pg_start() {
  local dir=$1 port=$2; shift 2
  local bin
  bin=$(pg_bin)
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    pg_ensure_user
    chown postgres: "$dir"
    runuser -u postgres -- test -w "$dir" || {
      echo "the postgres user cannot write $dir (a parent folder is private?); set DATABASE_URL instead" >&2
      return 1
    }
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      return 1
    }
  fi
  pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $*" start >/dev/null || {
    tail -n 20 "$dir/postgres.log" >&2
    return 1
  }
}

pg_stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  pg_as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
