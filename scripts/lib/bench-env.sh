# Shared set-up of the benchmark scripts (scripts/bench.sh, scripts/bench-audit.sh); sourced, not run.
#
# bench_setup       builds the release binaries (unless LIAISON_BENCH_BIN names a folder that has
#                   them), starts a private PostgreSQL cluster with stock durability (fsync=on,
#                   synchronous_commit=on) on LIAISON_BENCH_PG_PORT (default 55491), migrates a
#                   fresh `bench` database, adds the account `benchpub` allowed to publish and
#                   subscribe to `bench.>`; sets $bin, $db, $token, $listen, $benchdir.
# bench_start_daemon [VAR=value ...]
#                   starts `liaisond` on $listen with no per-account publish rate limit and the
#                   given extra environment (configuration keys as LIAISON_* variables); waits
#                   until it listens.
# bench_stop_daemon stops it (SIGTERM, then waits).
# The EXIT trap stops the daemon and the cluster and removes the scratch folder, whatever happened.

bench_daemon=""
bench_cleanup() {
    bench_stop_daemon
    if [ -n "${benchdir:-}" ]; then
        scripts/pg-cluster.sh stop "$benchdir" >/dev/null 2>&1 || true
        rm -rf "$benchdir"
    fi
}
trap bench_cleanup EXIT

bench_setup() {
    if [ -n "${LIAISON_BENCH_BIN:-}" ]; then
        bin=$LIAISON_BENCH_BIN
    else
        swift build -c release --product liaisond >&2
        swift build -c release --product liaisonctl >&2
        bin=$(swift build -c release --show-bin-path)
    fi
    local port=${LIAISON_BENCH_PG_PORT:-55491}
    listen=${LIAISON_BENCH_LISTEN:-127.0.0.1:7498}
    benchdir=$(mktemp -d /tmp/liaison-bench-pg.XXXXXX)
    chmod 755 "$benchdir"
    local server_url
    server_url=$(scripts/pg-cluster.sh start "$benchdir" "$port")
    psql "$server_url" -qc 'CREATE DATABASE bench'
    db=${server_url%/*}/bench
    export LIAISON_DATABASE_URL=$db
    "$bin/liaisonctl" migrate >&2
    "$bin/liaisonctl" account add benchpub --kind entity >&2
    "$bin/liaisonctl" acl grant benchpub pub 'bench.>' >&2
    "$bin/liaisonctl" acl grant benchpub sub 'bench.>' >&2
    token=$("$bin/liaisonctl" token issue benchpub)
}

bench_listening() { (exec 3<>"/dev/tcp/${listen%:*}/${listen##*:}") 2>/dev/null; }

bench_start_daemon() {
    env LIAISON_LIMITS_PUBLISH_RATE_PER_SECOND=0 "$@" "$bin/liaisond" --database-url "$db" \
        --listen "$listen" --log-level warning >>"$benchdir/liaisond.log" 2>&1 &
    bench_daemon=$!
    for _ in $(seq 1 300); do
        if bench_listening; then return 0; fi
        kill -0 "$bench_daemon" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench: liaisond did not listen on $listen" >&2
    cat "$benchdir/liaisond.log" >&2
    exit 1
}

bench_stop_daemon() {
    if [ -n "$bench_daemon" ]; then
        kill "$bench_daemon" 2>/dev/null || true
        wait "$bench_daemon" 2>/dev/null || true
        bench_daemon=""
    fi
}
