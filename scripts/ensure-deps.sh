#!/usr/bin/env bash
# Installs the Debian packages Liaison needs to build and to run its private PostgreSQL,
# when they are missing: libpq-dev (headers and pkg-config file), pkg-config, postgresql.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v nc >/dev/null 2>&1 || missing+=(netcat-openbsd)

if [ ${#missing[@]} -eq 0 ]; then exit 0; fi

echo "ensure-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "ensure-deps: need root to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Another apt job may hold the lock for a while (a machine's own updates): wait for it, up to 5 min.
for attempt in $(seq 1 30); do
    if $sudo apt-get -o DPkg::Lock::Timeout=10 update -qq; then break; fi
    if [ "$attempt" = 30 ]; then echo "ensure-deps: apt-get update kept failing" >&2; exit 1; fi
    echo "ensure-deps: apt busy, retrying in 10 s" >&2
    sleep 10
done
$sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's postgresql package starts a system cluster on 5432; Liaison runs its own, so leave it.
