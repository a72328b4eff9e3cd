#!/usr/bin/env bash
# The README's run command: liaisond on a private, local PostgreSQL that this script sets up.
#
#   deploy/run-local.sh [liaisond flags, e.g. --listen 127.0.0.1:7420 --log-level debug]
#
# First run: installs missing Debian packages, builds (a few minutes), creates a PostgreSQL
# cluster in var/pg (port $LIAISON_PG_PORT, default 55432, owned by `postgres` when run as
# root), migrates, imports the network's accounts from config/network.json and prints demo
# tokens (saved with the database URL in var/demo-tokens.env, by scripts/demo-env.sh). Later
# runs reuse all of it; the URL in var/demo-tokens.env follows LIAISON_PG_PORT. Ctrl-C stops
# the daemon gracefully, then the database.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/ensure-deps.sh

config=${LIAISON_BUILD_CONFIG:-release}
echo "run-local: building ($config; the first build takes 12 to 25 minutes on two cores)" >&2
swift build -c "$config" --product liaisond >&2
swift build -c "$config" --product liaisonctl >&2
bin=$(swift build -c "$config" --show-bin-path)

port=${LIAISON_PG_PORT:-55432}
mkdir -p var
# A cluster that is already running belongs to another run-local (or a person): use it, but leave
# stopping it to whoever started it.
already_running=no
if [ -f "$root/var/pg/data/postmaster.pid" ] && kill -0 "$(head -n 1 "$root/var/pg/data/postmaster.pid")" 2>/dev/null; then
    already_running=yes
fi
server_url=$(scripts/pg-cluster.sh start "$root/var/pg" "$port")
stop_db() {
    if [ "$already_running" = yes ]; then
        echo "run-local: leaving the database running (var/pg, port $port): this run did not start it" >&2
        return
    fi
    echo "run-local: stopping the database (var/pg, port $port)" >&2
    scripts/pg-cluster.sh stop "$root/var/pg"
    echo "run-local: database stopped" >&2
}
trap stop_db EXIT

export LIAISON_DATABASE_URL="${server_url%/postgres}/liaison"
if ! psql "$server_url" -tAc "SELECT 1 FROM pg_database WHERE datname = 'liaison'" | grep -q 1; then
    psql "$server_url" -qc "CREATE DATABASE liaison" >/dev/null
fi

"$bin/liaisonctl" migrate --migrations-dir "$root/migrations" >&2
"$bin/liaisonctl" account import "$root/config/network.json" >&2

# Every run: the database URL (its port may have changed); tokens only when missing.
scripts/demo-env.sh var/demo-tokens.env "$LIAISON_DATABASE_URL" "$bin/liaisonctl"

cat >&2 <<MSG

Liaison is starting on ${LIAISON_LISTEN:-127.0.0.1:7420} with its database at $LIAISON_DATABASE_URL
Demo tokens (in var/demo-tokens.env; run 'source var/demo-tokens.env' in another terminal):
$(grep '^export TOKEN_' var/demo-tokens.env | sed 's/^export /  /')
liaisonctl is at $bin/liaisonctl. Ctrl-C stops the daemon, then the database.

MSG
"$bin/liaisond" --listen "${LIAISON_LISTEN:-127.0.0.1:7420}" "$@" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true' INT TERM
status=0
wait $daemon || status=$?
# A trapped signal ends the first wait early (status > 128): the second has the daemon's own.
if [ "$status" -gt 128 ]; then
    status=0
    wait $daemon 2>/dev/null || status=$?
fi
# The daemon's exit status, so a script sees a daemon that could not start (e.g. port in use).
exit "$status"
