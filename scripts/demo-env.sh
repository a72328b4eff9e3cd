#!/usr/bin/env bash
# Writes the settings file of deploy/run-local.sh (var/demo-tokens.env) for `source` in another
# terminal:
#
#   scripts/demo-env.sh FILE DATABASE_URL LIAISONCTL
#
# The LIAISON_DATABASE_URL line is written anew on every run, since the database's port
# (LIAISON_PG_PORT) may differ from the last run. The demo tokens are issued once, with
# LIAISONCTL against DATABASE_URL, and kept: a token missing from FILE is issued and added.
# FILE is readable by its owner only, since it holds tokens.
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 FILE DATABASE_URL LIAISONCTL" >&2
    exit 64
fi
file=$1
url=$2
liaisonctl=$3
accounts=(unhcr-mm-sittwe undp-mm-yangon ohchr undp netadmin)

lines=()
for account in "${accounts[@]}"; do
    var=$(echo "TOKEN_$account" | tr 'a-z-' 'A-Z_')
    line=""
    if [ -f "$file" ]; then line=$(grep -m 1 "^export $var=" "$file" || true); fi
    if [ -z "$line" ]; then
        token=$(LIAISON_DATABASE_URL="$url" "$liaisonctl" token issue "$account" --label demo)
        line="export $var=$token"
    fi
    lines+=("$line")
done

tmp="$file.tmp.$$"
trap 'rm -f "$tmp"' EXIT
(
    umask 077
    {
        echo "# Demo settings of deploy/run-local.sh; source this file in another terminal."
        printf 'export LIAISON_DATABASE_URL=%q\n' "$url"
        printf '%s\n' "${lines[@]}"
    } >"$tmp"
)
mv "$tmp" "$file"
