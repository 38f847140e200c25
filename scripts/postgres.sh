#!/usr/bin/env bash
# Private, throw-away PostgreSQL servers on 127.0.0.1 for Poplib's tests, benchmarks and crash tests
# (the retriever's PostgreSQL state store), one per directory.
#
#   postgres.sh start   DIR     initdb (first time only), start, create roles and database, write DIR/env
#   postgres.sh stop    DIR     fast shutdown; removes DIR/env
#   postgres.sh status  DIR     exit 0 only if the server accepts connections
#   postgres.sh restart DIR     stop, then start the same data on the same port
#   postgres.sh pause   DIR     stop, keeping DIR/env (the address stays the instance's)
#   postgres.sh resume  DIR     start a paused (or stopped) instance again on its port
#   postgres.sh reset   DIR     drop and recreate the database (empty, same roles and rights)
#
# See scripts/README.md for the contract (env file keys, roles, exit codes). Never touches the
# system's clusters (/etc/postgresql, /var/lib/postgresql) or the postgresql service: everything
# lives under DIR.
set -euo pipefail

PROG=${0##*/}
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=instance-common.sh
. "$SCRIPT_DIR/instance-common.sh"   # die, info, check_dir, hash_of, pick_ports, log_tail

START_TIMEOUT=${POPLIB_POSTGRES_START_TIMEOUT:-60}    # seconds for pg_ctl start -w (crash recovery included)
STOP_TIMEOUT=${POPLIB_POSTGRES_STOP_TIMEOUT:-60}
MAX_CONNECTIONS=${POPLIB_POSTGRES_MAX_CONNECTIONS:-200}
# Server modules loaded at start (shared_preload_libraries), e.g. pg_stat_statements for the fleet
# benchmark's per-statement counts; empty by default. Letters, digits, _ and commas only.
PRELOAD=${POPLIB_POSTGRES_PRELOAD:-}
HOST=127.0.0.1
DATABASE=poplib
OWNER_USER=poplib_owner
READER_USER=poplib_reader
MARKER=.poplib-postgres                               # marks a DIR as ours

# The server cannot run as root (initdb and pg_ctl refuse). As root we run it as Debian's
# `postgres` system user: the postgresql package creates it (no useradd of our own, no race between
# instances creating it), it is unprivileged, and it already owns nothing of ours but DIR/data.
# The system clusters belong to the same user but are never read or started here. Run as another
# user, the server runs as that user.
if [[ $(id -u) -eq 0 ]]; then
    SERVER_USER=${POPLIB_POSTGRES_USER:-postgres}
else
    SERVER_USER=$(id -un)
fi

usage() {
    cat >&2 <<EOF
usage: $PROG start|stop|status|restart|pause|resume|reset DIR
EOF
    exit 2
}

# Per-DIR derived names. A Unix socket path is at most 107 bytes; the server's is
# SOCKET_DIR/.s.PGSQL.NNNNN (15 more), so for a long DIR the socket goes to a short directory
# derived from DIR's hash instead.
set_paths() {
    DIR=$1
    DATA_DIR=$DIR/data
    LOG=$DIR/postgres.log
    ENV_FILE=$DIR/env
    SECRETS=$DIR/secrets          # the generated passwords, kept across stop/start
    PORT_FILE=$DIR/port           # the port of the last start: restart/resume/start reuse it
    PAUSED=$DIR/.paused
    SETUP_DONE=$DIR/.setup-done   # roles and database exist
    if ((${#DIR} <= 80)); then
        SOCKET_DIR=$DIR/run
    else
        # /run is root's; anyone else gets a directory of their own under /tmp.
        if [[ $(id -u) -eq 0 ]]; then SOCKET_DIR=/run; else SOCKET_DIR=/tmp; fi
        SOCKET_DIR+=/poplib-postgres-$(hash_of "$DIR")
    fi
}

# The newest installed server's bin directory, or - for an existing data directory - the one of
# the major version that made it (a newer server cannot open it).
find_bin() {
    local v=""
    [[ -r $DATA_DIR/PG_VERSION ]] && v=$(tr -cd '0-9.' <"$DATA_DIR/PG_VERSION")
    if [[ -n $v ]]; then
        BIN=/usr/lib/postgresql/$v/bin
        [[ -x $BIN/postgres ]] || die "$DATA_DIR was made by PostgreSQL $v, which is not installed ($BIN/postgres missing)"
    else
        BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
        [[ -x $BIN/postgres && -x $BIN/initdb ]] \
            || die "no PostgreSQL server under /usr/lib/postgresql/*/bin (run scripts/install-deps.sh as root)"
    fi
}

# Runs a command as the server's Unix user.
as_server() {
    if [[ $(id -un) == "$SERVER_USER" ]]; then
        "$@"
    else
        setpriv --reuid="$SERVER_USER" --regid="$SERVER_USER" --init-groups --reset-env -- "$@"
    fi
}

# SQL as the superuser over the Unix socket (peer authentication: only the server's Unix user).
# ON_ERROR_STOP makes any failing statement fail the call.
superuser_sql() { # DATABASE SQL
    as_server env PGOPTIONS="-c client_min_messages=warning" "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$PORT" -U "$SERVER_USER" -d "$1" -c "$2" >/dev/null
}

running_pid() { # prints the postmaster's PID if this DIR's server runs, else returns 1
    local pid
    [[ -r $DATA_DIR/postmaster.pid ]] || return 1
    pid=$(head -n 1 "$DATA_DIR/postmaster.pid" | tr -cd '0-9')
    [[ -n $pid ]] || return 1
    # Our postmaster, not a recycled PID: its command line names our data directory.
    [[ $({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) == "$BIN/postgres -D $DATA_DIR"* ]] || return 1
    printf '%s\n' "$pid"
}

# PIDs of live processes working in DATA_DIR: every PostgreSQL process (postmaster, backends,
# checkpointer, ...) chdirs there. A zombie has no working directory and is not listed.
data_dir_processes() {
    local p
    for p in /proc/[0-9]*; do
        [[ $(readlink "$p/cwd" 2>/dev/null) == "$DATA_DIR" ]] && printf '%s ' "${p#/proc/}"
    done
    return 0
}

# After a crash (postmaster SIGKILLed, e.g. by a crash test): waits until its orphaned processes
# have noticed and exited, then removes a postmaster.pid whose PID is gone or a zombie. PostgreSQL
# clears a lock of a dead PID itself, but takes a zombie that nobody reaps (a container's init)
# for a live postmaster and refuses to start. With no process left in DATA_DIR nothing can use
# the old shared memory, so removing the file is safe.
clear_stale_pid_file() {
    [[ -e $DATA_DIR/postmaster.pid ]] || return 0
    local pid left="" i state
    for ((i = 0; i < 300; i++)); do
        left=$(data_dir_processes)
        [[ -z $left ]] && break
        sleep 0.1
    done
    [[ -z $left ]] || die "processes still working in $DATA_DIR 30 s after the server stopped: $left"
    pid=$(head -n 1 "$DATA_DIR/postmaster.pid" | tr -cd '0-9')
    state=$({ sed 's/.*) //' "/proc/$pid/stat" | cut -c1; } 2>/dev/null) || state=""
    if [[ -z $pid || -z $state || $state == Z ]]; then
        info "removing the stale $DATA_DIR/postmaster.pid (pid ${pid:-?} is gone)"
        rm -f -- "$DATA_DIR/postmaster.pid"
    fi
}

# true if the server's Unix user can do `test $1 $2`
server_can() { as_server test "$1" "$2" 2>/dev/null; }

random_password() { od -An -N18 -tx1 /dev/urandom | tr -d ' \n'; }

# Takes DIR's lock for the rest of the command: two commands on one DIR never interleave.
lock_dir() {
    exec 9>"$DIR/.lock"
    flock -w 300 9 || die "timed out waiting for $DIR/.lock"
}

write_conf() { # PORT
    [[ $PRELOAD =~ ^[A-Za-z0-9_,]*$ ]] || die "POPLIB_POSTGRES_PRELOAD: a comma-separated list of module names, not '$PRELOAD'"
    cat >"$DATA_DIR/postgresql.conf.tmp" <<EOF
# Generated by poplib scripts/postgres.sh on every start - do not edit.
listen_addresses = '$HOST'
port = $1
unix_socket_directories = '$SOCKET_DIR'
# The socket is for the setup's superuser only (peer authentication).
unix_socket_permissions = 0700
max_connections = $MAX_CONNECTIONS
password_encryption = 'scram-sha-256'

# Durability is what the state store's tests and crash tests check: never weaken it here.
fsync = on
synchronous_commit = on
full_page_writes = on

# Small and quick: many instances may run on one machine at once.
shared_buffers = 32MB
max_wal_size = 256MB

shared_preload_libraries = '$PRELOAD'
$([[ ,$PRELOAD, == *,pg_stat_statements,* ]] && echo "pg_stat_statements.track = all")

log_destination = 'stderr'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_connections = off
lc_messages = 'C'
datestyle = 'iso, mdy'
timezone = 'UTC'
EOF
    cat >"$DATA_DIR/pg_hba.conf.tmp" <<EOF
# Generated by poplib scripts/postgres.sh on every start - do not edit.
# TYPE  DATABASE  USER                         ADDRESS        METHOD
local   all       $SERVER_USER                                peer
host    all       $OWNER_USER,$READER_USER     $HOST/32       scram-sha-256
local   all       all                                         reject
host    all       all                          0.0.0.0/0      reject
host    all       all                          ::/0           reject
EOF
    if [[ $(id -un) != "$SERVER_USER" ]]; then
        chown "$SERVER_USER:" "$DATA_DIR/postgresql.conf.tmp" "$DATA_DIR/pg_hba.conf.tmp"
    fi
    chmod 0600 "$DATA_DIR/postgresql.conf.tmp" "$DATA_DIR/pg_hba.conf.tmp"
    mv -f "$DATA_DIR/postgresql.conf.tmp" "$DATA_DIR/postgresql.conf"
    mv -f "$DATA_DIR/pg_hba.conf.tmp" "$DATA_DIR/pg_hba.conf"
}

# Starts the server on PORT; returns 3 if the port was taken (the caller may pick another).
launch() { # PORT
    local port=$1 logoff
    write_conf "$port"
    rm -f -- "$SOCKET_DIR"/.s.PGSQL.*
    logoff=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
    # 9>&-: the postmaster must not inherit DIR's lock (see lock_dir).
    if as_server "$BIN/pg_ctl" -D "$DATA_DIR" -l "$LOG" -w -t "$START_TIMEOUT" start </dev/null >/dev/null 2>&1 9>&-; then
        return 0
    fi
    if tail -c +"$((logoff + 1))" "$LOG" 2>/dev/null | grep -q 'could not bind .*Address already in use'; then
        return 3
    fi
    log_tail
    running_pid >/dev/null && as_server "$BIN/pg_ctl" -D "$DATA_DIR" -m immediate -w stop >/dev/null 2>&1
    die "postgres failed to start (see $LOG)"
}

# Roles and database, created once per DIR. The owner owns the database (and so, on PostgreSQL
# 15+, its public schema); the reader may connect and use the public schema but create nothing.
create_database() {
    superuser_sql postgres "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)"
    superuser_sql postgres "CREATE DATABASE $DATABASE OWNER $OWNER_USER TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
    superuser_sql "$DATABASE" "
        REVOKE ALL ON DATABASE $DATABASE FROM PUBLIC;
        GRANT CONNECT ON DATABASE $DATABASE TO $READER_USER;
        ALTER SCHEMA public OWNER TO $OWNER_USER;
        REVOKE ALL ON SCHEMA public FROM PUBLIC;
        GRANT USAGE ON SCHEMA public TO $READER_USER;"
}

setup_roles() {
    superuser_sql postgres "
        DO \$\$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$OWNER_USER') THEN
                CREATE ROLE $OWNER_USER LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
            END IF;
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$READER_USER') THEN
                CREATE ROLE $READER_USER LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
            END IF;
        END \$\$;
        ALTER ROLE $OWNER_USER PASSWORD '$OWNER_PASSWORD';
        ALTER ROLE $READER_USER PASSWORD '$READER_PASSWORD';"
    create_database
    : >"$SETUP_DONE"
}

write_env() { # PID STARTUP_MS
    local owner_url=postgres://$OWNER_USER:$OWNER_PASSWORD@$HOST:$PORT/$DATABASE
    local reader_url=postgres://$READER_USER:$READER_PASSWORD@$HOST:$PORT/$DATABASE
    (
        umask 077   # passwords inside
        cat >"$ENV_FILE.tmp" <<EOF
HOST=$HOST
PORT=$PORT
DATABASE=$DATABASE
OWNER_USER=$OWNER_USER
OWNER_PASSWORD=$OWNER_PASSWORD
READER_USER=$READER_USER
READER_PASSWORD=$READER_PASSWORD
OWNER_URL=$owner_url
READER_URL=$reader_url
SOCKET_DIR=$SOCKET_DIR
DATA_DIR=$DATA_DIR
LOG=$LOG
BIN_DIR=$BIN
VERSION=$(tr -cd '0-9.' <"$DATA_DIR/PG_VERSION")
SERVER_USER=$SERVER_USER
PID=$1
STARTUP_MS=$2
EOF
    )
    mv -f "$ENV_FILE.tmp" "$ENV_FILE"
}

load_secrets() {
    if [[ ! -s $SECRETS ]]; then
        (umask 077; printf 'OWNER_PASSWORD=%s\nREADER_PASSWORD=%s\n' "$(random_password)" "$(random_password)" >"$SECRETS.tmp")
        mv -f "$SECRETS.tmp" "$SECRETS"
    fi
    OWNER_PASSWORD=$(sed -n 's/^OWNER_PASSWORD=//p' "$SECRETS")
    READER_PASSWORD=$(sed -n 's/^READER_PASSWORD=//p' "$SECRETS")
    [[ $OWNER_PASSWORD =~ ^[0-9a-f]{16,}$ && $READER_PASSWORD =~ ^[0-9a-f]{16,}$ ]] || die "$SECRETS is damaged"
}

# start (SAME_PORT=0): the port of the last start if it is still free, else a new one.
# restart/resume (SAME_PORT=1): the port of the last start or nothing - clients must find the
# server where it was.
start_instance() { # SAME_PORT
    local same_port=$1 pid t0 t1 attempt rc port=""
    if pid=$(running_pid); then
        info "already running in $DIR (pid $pid)"
        [[ -s $ENV_FILE ]] || die "running but $ENV_FILE is missing; run '$PROG restart $DIR'"
        rm -f "$PAUSED"
        cat "$ENV_FILE"
        return 0
    fi
    [[ -r $PORT_FILE ]] && port=$(tr -cd '0-9' <"$PORT_FILE")
    if ((same_port)) && [[ -z $port ]]; then
        die "$DIR has never been started; run '$PROG start $DIR' first"
    fi
    load_secrets
    clear_stale_pid_file
    install -d -m 0700 -o "$SERVER_USER" -g "$(id -gn "$SERVER_USER")" "$SOCKET_DIR"
    [[ -e $LOG ]] || install -m 0640 -o "$SERVER_USER" -g "$(id -gn "$SERVER_USER")" /dev/null "$LOG"

    t0=$(date +%s%N)
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        if [[ -z $port ]]; then
            port=$(pick_ports "$HOST" 1) || die "could not pick a free port on $HOST"
        fi
        rc=0; launch "$port" || rc=$?
        ((rc == 0)) && break
        if ((same_port)); then
            # Our own old server's socket may linger for a moment; someone else's port stays taken.
            info "port $port is taken, retrying (attempt $attempt)"
            sleep 0.5
        else
            info "port $port is taken, picking another"
            port=""
        fi
    done
    ((rc == 0)) || die "could not bind $HOST:$port after 10 attempts (another program has it)"
    t1=$(date +%s%N)
    PORT=$port
    printf '%s\n' "$PORT" >"$PORT_FILE"
    pid=$(running_pid) || { log_tail; die "postgres vanished right after starting"; }
    [[ -e $SETUP_DONE ]] || setup_roles
    write_env "$pid" $(((t1 - t0) / 1000000))
    rm -f "$PAUSED"
    cat "$ENV_FILE"
}

stop_instance() {
    local pid
    pid=$(running_pid) || return 0
    if ! as_server "$BIN/pg_ctl" -D "$DATA_DIR" -m fast -w -t "$STOP_TIMEOUT" stop >/dev/null 2>&1; then
        info "fast shutdown did not finish within ${STOP_TIMEOUT}s; immediate shutdown"
        as_server "$BIN/pg_ctl" -D "$DATA_DIR" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
    fi
    if running_pid >/dev/null; then
        info "postmaster $pid still alive; SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
    ! running_pid >/dev/null || die "postmaster $pid is still alive"
}

# Common preamble: check DIR, take its lock, find the binaries.
open_dir() { # DIR MUST_EXIST
    local dir
    dir=$(check_dir "$1")
    set_paths "$dir"
    if (($2)); then
        [[ -e $DIR/$MARKER ]] || die "$DIR is not a $PROG directory; run '$PROG start $DIR' first"
    fi
    lock_dir
    find_bin
}

cmd_start() {
    (($# == 1)) || usage
    "$SCRIPT_DIR/install-deps.sh" postgres
    local dir out
    dir=$(check_dir "$1")
    set_paths "$dir"
    if [[ -e $DIR ]]; then
        [[ -d $DIR ]] || die "$DIR exists and is not a directory"
        if [[ ! -e $DIR/$MARKER && -n $(ls -A "$DIR") ]]; then
            die "$DIR is not empty and was not made by $PROG; refusing to use it"
        fi
    fi
    id -u "$SERVER_USER" >/dev/null 2>&1 || die "Unix user '$SERVER_USER' missing (postgresql not installed?)"
    mkdir -p "$DIR"
    chmod 0755 "$DIR"
    : >"$DIR/$MARKER"
    lock_dir
    find_bin
    server_can -x "$DIR" || die "Unix user $SERVER_USER cannot reach $DIR (a parent directory is not world-searchable, e.g. /root); use a DIR under /tmp"

    if [[ ! -s $DATA_DIR/PG_VERSION ]]; then
        rm -rf -- "$DATA_DIR"
        install -d -m 0700 -o "$SERVER_USER" -g "$(id -gn "$SERVER_USER")" "$DATA_DIR"
        # --no-sync, as PostgreSQL's own test suites do: initdb skips flushing the fresh cluster to
        # disk once (seconds on a busy disk). That only matters if the machine loses power in the
        # next moments; the server itself runs with fsync on, and after a crash of the server it
        # fsyncs the whole data directory before recovery anyway.
        if ! out=$(as_server "$BIN/initdb" -D "$DATA_DIR" -U "$SERVER_USER" --auth=reject \
                --encoding=UTF8 --locale=C --no-instructions --no-sync 2>&1); then
            echo "$out" >&2
            rm -rf -- "$DATA_DIR"
            die "initdb failed"
        fi
        rm -f "$SETUP_DONE"
    fi
    start_instance 0
}

cmd_stop() {
    (($# == 1)) || usage
    local dir
    dir=$(check_dir "$1")
    set_paths "$dir"
    [[ -e $DIR/$MARKER ]] || return 0   # nothing ever ran here
    lock_dir
    find_bin
    stop_instance
    rm -f "$ENV_FILE" "$PAUSED"
    if [[ $SOCKET_DIR != "$DIR/"* && -d $SOCKET_DIR ]]; then rm -rf -- "$SOCKET_DIR"; fi
    return 0
}

cmd_pause() {
    (($# == 1)) || usage
    open_dir "$1" 1
    running_pid >/dev/null || die "not running in $DIR"
    stop_instance
    : >"$PAUSED"
}

cmd_resume() {
    (($# == 1)) || usage
    open_dir "$1" 1
    start_instance 1
}

cmd_restart() {
    (($# == 1)) || usage
    open_dir "$1" 1
    stop_instance
    start_instance 1
}

cmd_reset() {
    (($# == 1)) || usage
    open_dir "$1" 1
    running_pid >/dev/null || die "not running in $DIR; start it first"
    [[ -e $SETUP_DONE ]] || die "$DIR was never set up completely; run '$PROG start $DIR'"
    PORT=$(tr -cd '0-9' <"$PORT_FILE")
    create_database
}

cmd_status() {
    (($# == 1)) || usage
    local dir pid port out
    dir=$(check_dir "$1")
    set_paths "$dir"
    [[ -e $DIR/$MARKER ]] || { echo "not running"; return 1; }
    find_bin
    if ! pid=$(running_pid); then
        if [[ -e $PAUSED ]]; then echo "paused"; else echo "not running"; fi
        return 1
    fi
    port=$(tr -cd '0-9' <"$PORT_FILE")
    if out=$("$BIN/pg_isready" -h "$HOST" -p "$port" -d "$DATABASE" -t 5 2>&1); then
        echo "running (pid $pid, $HOST:$port)"
        return 0
    fi
    echo "not accepting connections (pid $pid): $out"
    return 1
}

main() {
    (($# >= 1)) || usage
    local cmd=$1; shift
    case $cmd in
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
        restart) cmd_restart "$@" ;;
        pause) cmd_pause "$@" ;;
        resume) cmd_resume "$@" ;;
        reset) cmd_reset "$@" ;;
        -h|--help|help) usage ;;
        *) usage ;;
    esac
}

cd /   # every path is absolute; and the server's user may not be allowed into the caller's cwd
main "$@"
