#!/usr/bin/env bash
# A private, throwaway PostgreSQL cluster for the daemon and the tests.
#
#   scripts/pg-cluster.sh start DIR PORT   initdb (once) and start; prints the database URL
#   scripts/pg-cluster.sh stop DIR [MODE]  stop it (pg_ctl -m MODE: fast, the default, or immediate)
#   scripts/pg-cluster.sh standby DIR PORT PRIMARY_PORT
#                                          a streaming standby of the cluster on 127.0.0.1:PRIMARY_PORT
#                                          (pg_basebackup -R, once), started like `start`
#   scripts/pg-cluster.sh promote DIR      promote a standby to primary (pg_ctl promote)
#
# PostgreSQL refuses to run as root, so as root the cluster is owned by the `postgres`
# user. The socket lives in DIR/socket; the server listens on 127.0.0.1:PORT only.
set -euo pipefail

cmd=${1:?usage: pg-cluster.sh start|stop DIR [PORT]}
dir=${2:?usage: pg-cluster.sh start|stop DIR [PORT]}
port=${3:-55432}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "pg-cluster: PostgreSQL server binaries not found; install the 'postgresql' package" >&2
    exit 1
fi

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
standby)
    primary=${4:?usage: pg-cluster.sh standby DIR PORT PRIMARY_PORT}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bindir/pg_basebackup" -h 127.0.0.1 -p "$primary" -U liaison -D "$dir/data" -R -X stream -c fast \
            >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
    fi
    exec "$0" start "$dir" "$port"
    ;;
promote)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null
    ;;
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner mkdir -p "$dir/data" "$dir/socket"
        as_owner "$bindir/initdb" -D "$dir/data" -U liaison --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_owner mkdir -p "$dir/socket"
    if as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        # Already running (a run that did not stop it): the URL below is right only on its port.
        running=$(sed -n 4p "$dir/data/postmaster.pid" 2>/dev/null || true)
        if [ -n "$running" ] && [ "$running" != "$port" ]; then
            echo "pg-cluster: $dir is already running on port $running, not $port; stop it with: scripts/pg-cluster.sh stop $dir" >&2
            exit 1
        fi
    else
        as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
            -o "-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on" start >/dev/null \
            || { tail -n 30 "$dir/postgres.log" >&2; exit 1; }
    fi
    echo "postgresql://liaison@127.0.0.1:$port/postgres"
    ;;
stop)
    if [ -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m "${3:-fast}" -w stop >/dev/null 2>&1 || true
    fi
    ;;
*)
    echo "usage: pg-cluster.sh start|stop|standby|promote DIR [PORT|MODE] [PRIMARY_PORT]" >&2
    exit 2
    ;;
esac
