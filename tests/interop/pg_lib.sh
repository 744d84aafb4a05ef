# pg_lib.sh -- a private PostgreSQL server for the PostgreSQL tests and the
# benchmark (sourced, not run). The server comes from Debian's `postgresql`
# package; it runs from a fresh data directory in a temp dir, listens on a
# private unix-socket directory and on a free loopback port, and is stopped and
# removed by pg_cleanup. initdb refuses to run as root, so as root the server
# runs as the `postgres` system user (or `nobody` when that user is missing).
#
#   pg_find_bin            sets PG_BIN; returns 1 when no server binaries exist
#   pg_start [fsync]       initdb + start; sets PG_DIR PG_SOCK PG_PORT PG_USER PG_PASSWORD
#                          ("fsync" keeps fsync on, as a real deployment; default off)
#   pg_stop [mode]         pg_ctl stop (mode fast|immediate; default fast)
#   pg_restart_server      stop (fast) + start with the same data directory
#   pg_createdb NAME       creates database NAME
#   pg_url NAME            postgresql://user:password@127.0.0.1:port/NAME (TCP, password)
#   pg_sock_url NAME       postgresql:///NAME?host=<socket dir>&port=..&user=.. (unix socket)
#   pg_py_url NAME         postgresql+psycopg2://... as SQLAlchemy/Optuna users write it
#   pg_psql NAME ARGS...   psql on database NAME over the socket
#   pg_cleanup             stops the server and removes its directory (call from a trap)

PG_USER=postgres
PG_PASSWORD='s3cret pw'
PG_PASSWORD_URL='s3cret%20pw' # percent-encoded, as URLs carry it
PG_DIR=
PG_AS=()

pg_find_bin() {
    local d
    PG_BIN=
    for d in ${LOUPE_PG_BIN:-} $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
            PG_BIN=$d
            return 0
        fi
    done
    return 1
}

_pg_free_port() {
    local py
    for py in /usr/bin/python3 python3; do
        if command -v "$py" >/dev/null 2>&1; then
            "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
            return
        fi
    done
    echo $((20000 + RANDOM % 20000))
}

pg_start() {
    local fsync=off
    [ "${1:-}" = fsync ] && fsync=on
    PG_DIR=$(mktemp -d /tmp/loupe-pg-XXXXXX)
    chmod 755 "$PG_DIR"
    mkdir -p "$PG_DIR/sock"
    PG_SOCK=$PG_DIR/sock
    PG_PORT=$(_pg_free_port)
    if [ "$(id -u)" -eq 0 ]; then
        local user=postgres
        id -u postgres >/dev/null 2>&1 || user=nobody
        chown "$user" "$PG_DIR" "$PG_SOCK"
        PG_AS=(runuser -u "$user" --)
    fi
    printf '%s\n' "$PG_PASSWORD" >"$PG_DIR/pwfile"
    [ "$(id -u)" -eq 0 ] && chown "${PG_AS[2]}" "$PG_DIR/pwfile"
    "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" --pwfile="$PG_DIR/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
        >"$PG_DIR/initdb.log" 2>&1 || {
        cat "$PG_DIR/initdb.log" >&2
        return 1
    }
    cat >>"$PG_DIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
fsync = $fsync
synchronous_commit = $fsync
full_page_writes = $fsync
max_connections = 60
shared_buffers = 32MB
log_min_messages = warning
EOF
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
        >/dev/null || {
        cat "$PG_DIR/server.log" >&2
        return 1
    }
}

pg_stop() {
    [ -n "$PG_DIR" ] && [ -d "$PG_DIR/data" ] || return 0
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m "${1:-fast}" -w -t 60 stop >/dev/null 2>&1
}

pg_restart_server() {
    pg_stop fast
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
        >/dev/null
}

pg_psql() {
    local db=$1
    shift
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U "$PG_USER" -d "$db" "$@"
}

pg_createdb() { pg_psql postgres -c "CREATE DATABASE \"$1\""; }

pg_url() { echo "postgresql://$PG_USER:$PG_PASSWORD_URL@127.0.0.1:$PG_PORT/$1"; }
pg_py_url() { echo "postgresql+psycopg2://$PG_USER:$PG_PASSWORD_URL@127.0.0.1:$PG_PORT/$1"; }
pg_sock_url() { echo "postgresql:///$1?host=$PG_SOCK&port=$PG_PORT&user=$PG_USER"; }

pg_cleanup() {
    if [ -n "$PG_DIR" ]; then
        pg_stop immediate
        rm -rf "$PG_DIR"
        PG_DIR=
    fi
}
