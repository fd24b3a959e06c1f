#!/usr/bin/env bash
# Autobahn|Testsuite against our echo servers and clients, strict: every
# case OK or INFORMATIONAL, no NON-STRICT, no UNIMPLEMENTED, no FAILED.
#
# usage: tests/autobahn/run.sh [PROFILE] [TARGET...]
#   PROFILE  core (default: cases 1.*-10.*), fast, all, or case patterns
#   TARGET   core (bare core over blocking sockets), std, tokio, mio, axum
#            (axum: the axum_echo_server example over HTTP/1.1; server only)
#            (default: core std tokio mio axum)
# DEFLATE=1 runs the servers and clients with permessage-deflate on
# (`--deflate`), for cases 12.* and 13.*; reports then go to
# target/autobahn/<target>-deflate-{server,client}/.
# ROLES=server or ROLES=client runs one role only (default: both), so CI
# can run the two on separate cores.
# EXCLUDE=patterns leaves those cases out (comma-separated; see
# ../shared/autobahn/profiles.sh); `run.sh --large SECTION GROUP...`
# prints the cases of SECTION.GROUP.* with payloads of 8 KiB and more
# (cases 8 to 18), e.g. EXCLUDE="$(tests/autobahn/run.sh --large 12 4 5)".
# Needs ../shared/autobahn beside the repository (it installs itself).
# Reports: target/autobahn/<target>-{server,client}/.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = --large ]; then
    section="$2"
    shift 2
    python3 -c 'import sys; print(",".join("%s.%s.%d" % (sys.argv[1], g, i) for g in sys.argv[2:] for i in range(8, 19)))' "$section" "$@"
    exit 0
fi
profile="${1:-core}"
exclude="${EXCLUDE:-}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(core std tokio mio axum)
autobahn="${AUTOBAHN_DIR:-../shared/autobahn}"
port="${AB_PORT:-9301}"
flag="" suffix=""
if [ "${DEFLATE:-0}" = 1 ]; then flag="--deflate" suffix="-deflate"; fi

strict() { # report dir, label
    local total
    total=$(python3 "$autobahn/summarize.py" "$1" | grep '^TOTAL')
    echo "$2: $total"
    # UNIMPLEMENTED counts too: for 12.*/13.* it means compression was not
    # negotiated at all.
    [[ "$total" =~ nonstrict=0\ info=[0-9]+\ unimpl=0\ failed=0$ ]] || { python3 "$autobahn/summarize.py" "$1"; return 1; }
}

status=0
for target in "${targets[@]}"; do
    case "$target" in
        core) package=sockweave-tests ;;
        std) package=sockweave-std ;;
        tokio) package=sockweave-tokio ;;
        mio) package=sockweave-mio ;;
        axum) package=sockweave-axum ;;
        *) echo "unknown target $target" >&2; exit 2 ;;
    esac
    roles="${ROLES:-server client}"
    server_role=0 client=0
    [[ " $roles " == *" server "* ]] && server_role=1
    [[ " $roles " == *" client "* ]] && client=1
    [ "$target" = axum ] && client=0
    examples=(--example "${target}_echo_server")
    [ $client = 1 ] && examples+=(--example "${target}_autobahn_client")
    cargo build --release -q -p "$package" "${examples[@]}"
    if [ $server_role = 1 ]; then
        "./target/release/examples/${target}_echo_server" "127.0.0.1:$port" $flag 2>/dev/null &
        server=$!
        for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
        OUTDIR="$PWD/target/autobahn/$target$suffix-server" AGENT="sockweave-$target" \
            bash "$autobahn/test-server.sh" "127.0.0.1:$port" "$profile" "$exclude" >/dev/null || true
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
        strict "target/autobahn/$target$suffix-server" "$target$suffix server" || status=1
    fi
    [ $client = 1 ] || continue
    OUTDIR="$PWD/target/autobahn/$target$suffix-client" \
        bash "$autobahn/test-client.sh" "./target/release/examples/${target}_autobahn_client {url} sockweave-$target $flag" "$profile" "$exclude" >/dev/null || true
    strict "target/autobahn/$target$suffix-client" "$target$suffix client" || status=1
done
exit $status
