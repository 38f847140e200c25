#!/usr/bin/env bash
# Private, throw-away Dovecot POP3 instances on loopback for Poplib's integration tests; with
# --lmtp also Dovecot's LMTP server (TCP port and Unix socket) delivering into the same users' Maildirs.
#
#   dovecot.sh start DIR [--strict] [--listen ADDR] [--lmtp] [--gssapi KDC_DIR]
#   dovecot.sh add-user DIR NAME PASSWORD [SOURCE_DIR]
#   dovecot.sh stop DIR
#   dovecot.sh status DIR
#
# See scripts/README.md for the contract (env file keys, message numbering, exit codes).
# Never touches /etc/dovecot or the system's dovecot service: everything lives under DIR.
set -euo pipefail

PROG=${0##*/}
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

DOVECOT=/usr/sbin/dovecot
DOVECONF=/usr/bin/doveconf
MAIL_USER=${POPLIB_DOVECOT_MAIL_USER:-poplibtest}     # unprivileged owner of all mail
START_TIMEOUT=${POPLIB_DOVECOT_START_TIMEOUT:-20}     # seconds until the first +OK greeting
STOP_TIMEOUT=${POPLIB_DOVECOT_STOP_TIMEOUT:-20}
AUTH_MECHANISMS="plain login cram-md5 apop scram-sha-1 scram-sha-256"
MARKER=.poplib-dovecot                                # marks a DIR as ours
GLOBAL_LOCK=/run/lock/poplib-dovecot.lock             # serialises useradd between instances

die()  { echo "$PROG: error: $*" >&2; exit 1; }
info() { echo "$PROG: $*" >&2; }

usage() {
    cat >&2 <<EOF
usage: $PROG start DIR [--strict] [--listen ADDR] [--lmtp]
       $PROG add-user DIR NAME PASSWORD [SOURCE_DIR]
       $PROG stop DIR
       $PROG status DIR
EOF
    exit 2
}

need_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (dovecot needs it to switch to the '$MAIL_USER' mail user)"
}

# DIR must be absolute and made of characters that need no quoting in dovecot.conf or in the
# shell-sourceable env file.
check_dir() {
    local d=$1
    [[ $d == /* ]] || die "DIR must be an absolute path: '$d'"
    [[ $d =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "DIR may only contain A-Z a-z 0-9 . _ / + - : '$d'"
    [[ /$d/ != *"/../"* && /$d/ != *"/./"* && $d != *//* ]] || die "DIR must be normalized: '$d'"
    d=${d%/}
    [[ -n $d ]] || die "refusing to use / as DIR"
    printf '%s\n' "$d"
}

hash_of() { printf '%s' "$1" | sha1sum | cut -c1-10; }

# Per-DIR derived names. Unix socket paths are limited to 108 bytes, so if DIR is long the
# base_dir (sockets, master.pid) goes to a short directory derived from DIR's hash instead.
set_paths() {
    DIR=$1
    local h
    h=$(hash_of "$DIR")
    INSTANCE=poplib-$h
    CONF=$DIR/dovecot.conf
    LOG=$DIR/dovecot.log
    ENV_FILE=$DIR/env
    USERS=$DIR/users
    USERS_DIR=$DIR/users.d
    HOME_ROOT=$DIR/home
    CERT=$DIR/cert.pem
    KEY=$DIR/key.pem
    STATE_DIR=$DIR/state
    if ((${#DIR} <= 60)); then
        BASE_DIR=$DIR/run
    else
        BASE_DIR=/run/poplib-dovecot-$h
    fi
    PID_FILE=$BASE_DIR/master.pid
}

# Prints the master's PID if this instance is running, else returns 1.
master_pid() {
    local pid cmd
    [[ -r $PID_FILE ]] || return 1
    pid=$(tr -cd '0-9' <"$PID_FILE")
    [[ -n $pid ]] || return 1
    # Make sure it is the master of *this* config, not a recycled PID.
    cmd=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) || return 1
    [[ $cmd == "$DOVECOT -c $CONF "* ]] || return 1
    printf '%s\n' "$pid"
}

# PIDs of this instance's child processes (their titles start with "dovecot-<instance_name>/").
# Used to reap stragglers after the master has gone.
instance_children() {
    local p t
    for p in /proc/[0-9]*; do
        t=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
        [[ $t == "dovecot-$INSTANCE/"* || $t == "$INSTANCE/"* ]] && printf '%s\n' "${p#/proc/}"
    done
    return 0
}

ensure_mail_user() {
    mkdir -p "$(dirname "$GLOBAL_LOCK")"
    (
        exec 8>"$GLOBAL_LOCK"
        flock -w 60 8 || die "timed out waiting for $GLOBAL_LOCK"
        if ! id -u "$MAIL_USER" >/dev/null 2>&1; then
            useradd --system --user-group --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin --comment "Poplib POP3 test mail owner" "$MAIL_USER" \
                || die "useradd $MAIL_USER failed"
            info "created Unix user $MAIL_USER"
        fi
    )
    MAIL_UID=$(id -u "$MAIL_USER")
    MAIL_GID=$(id -g "$MAIL_USER")
    ((MAIL_UID != 0 && MAIL_GID != 0)) || die "mail user $MAIL_USER must not be root"
    INTERNAL_GID=$(id -g dovecot 2>/dev/null) || die "Unix user 'dovecot' missing (dovecot-core not installed?)"
    id -u dovenull >/dev/null 2>&1 || die "Unix user 'dovenull' missing (dovecot-core not installed?)"
}

# true if Unix uid $1 (gid $2) can do `test $3 $4`
can_access() { setpriv --reuid="$1" --regid="$2" --clear-groups test "$3" "$4" 2>/dev/null; }

pick_ports() { # ADDR [COUNT] -> prints COUNT (default 2) free ports: "PLAIN TLS [LMTP]"
    local addr=$1 count=${2:-2}
    if command -v python3 >/dev/null 2>&1 && python3 - "$addr" "$count" <<'PY' 2>/dev/null; then return 0; fi
import socket, sys
socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(int(sys.argv[2]))]
for s in socks:
    s.bind((sys.argv[1], 0))
print(*(s.getsockname()[1] for s in socks))
PY
    # Fallback without python3: random ports that nobody answers on (bind failures are retried).
    local p ports=()
    while ((${#ports[@]} < count)); do
        p=$((20000 + RANDOM % 40000))
        [[ " ${ports[*]-} " == *" $p "* ]] && continue
        if ! (exec 3<>"/dev/tcp/$addr/$p") 2>/dev/null; then ports+=("$p"); fi
    done
    echo "${ports[*]}"
}

# One attempt to read a greeting from ADDR PORT (2 s budget) that starts with PREFIX ("+OK" for
# POP3, the default; "220 " for LMTP). Prints the greeting.
greeting() {
    local prefix=${3:-+OK}
    (
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        IFS= read -r -t 2 line <&3 || exit 1
        printf 'QUIT\r\n' >&3 || true
        printf '%s\n' "${line%$'\r'}"
        [[ $line == "$prefix"* ]]
    ) 2>/dev/null
}

write_conf() { # STRICT LISTEN PLAIN_PORT TLS_PORT [LMTP_PORT]
    local strict=$1 listen=$2 pport=$3 tport=$4 lport=${5-} dpa=no protocols=pop3
    [[ -n $lport ]] && protocols="pop3 lmtp"
    ((strict)) && dpa=yes
    cat >"$CONF.tmp" <<EOF
# Generated by poplib scripts/dovecot.sh on every start - do not edit. Stand-alone: no includes.
instance_name = $INSTANCE
base_dir = $BASE_DIR
state_dir = $STATE_DIR
log_path = $LOG
verbose_proctitle = yes

protocols = $protocols
listen = $listen
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = $MAIL_UID
last_valid_uid = $MAIL_UID
first_valid_gid = $MAIL_GID
last_valid_gid = $MAIL_GID

ssl = yes
ssl_cert = <$CERT
ssl_key = <$KEY
ssl_min_protocol = TLSv1.2

# NB: Dovecot treats a connection whose remote IP equals its local IP as "secured", so on
# 127.0.0.1 -> 127.0.0.1 plaintext auth is always allowed. --strict therefore listens on
# 127.0.0.2 (clients still connect from 127.0.0.1).
disable_plaintext_auth = $dpa
auth_mechanisms = $AUTH_MECHANISMS
auth_username_format = %Lu
auth_cache_size = 0
# Fail wrong passwords without the default 2 s delay (tests exercise the failure path a lot).
# Dovecot still answers failures on a 0.5 s tick, so a failed login takes up to 0.5 s.
auth_failure_delay = 0
auth_verbose = yes
login_greeting = Dovecot ready.

# Dovecot re-checks a passwd-file at most once per second, so a user appended to USERS can stay
# invisible for up to 1 s. add-user therefore also writes a one-line file per user into
# USERS_DIR: a per-user file that was never looked up before is always read fresh. USERS
# (the combined list) still works for users appended to it by hand.
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $USERS
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $USERS_DIR/%u
}
userdb {
  driver = static
  args = uid=$MAIL_UID gid=$MAIL_GID home=$HOME_ROOT/%u
}

mail_location = maildir:~/Maildir
mail_fsync = never
mail_max_userip_connections = 1000
pop3_no_flag_updates = yes
pop3_uidl_format = %08Xu%08Xv

default_process_limit = 1000
default_client_limit = 4000

service pop3-login {
  inet_listener pop3 {
    address = $listen
    port = $pport
  }
  inet_listener pop3s {
    address = $listen
    port = $tport
    ssl = yes
  }
  # "high-performance" login mode: few long-lived login processes, many clients each.
  service_count = 0
  process_min_avail = 2
  process_limit = 4
  client_limit = 1000
}
service pop3 {
  process_limit = 1000
}
service auth {
  client_limit = 4000
}
service anvil {
  client_limit = 4000
  # The documented way to switch off the per-IP auth penalty (failed logins from 127.0.0.1
  # would otherwise delay *every* later login, failed or not, by 2 -> 4 -> 8 -> 15 s).
  # With mode 0 the socket is not created and auth silently skips penalties; a stale socket
  # file would make auth retry it for 5 s, hence start wipes base_dir first.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
    [[ -n $lport ]] && cat >>"$CONF.tmp" <<EOF

# --lmtp: Dovecot's LMTP server, delivering into the users' Maildirs (mail_location above). A
# recipient is looked up by its local part (user@any.domain -> user), in the same passwd-files as
# POP3 logins (the static userdb asks the passdb), so an unknown one gets "550 5.1.1".
postmaster_address = postmaster@localhost
lmtp_save_to_detail_mailbox = no
protocol lmtp {
  auth_username_format = %Ln
}
service lmtp {
  inet_listener lmtp {
    address = $listen
    port = $lport
  }
  unix_listener lmtp {
    mode = 0600
  }
}
EOF
    [[ -n $GSSAPI_KDC ]] && cat >>"$CONF.tmp" <<EOF

# --gssapi: AUTH GSSAPI (RFC 4752) with the service key of pop/localhost from a scripts/kdc.sh realm,
# whose krb5.conf the auth process finds through KRB5_CONFIG (Dovecot clears the environment). The
# principal user@REALM logs in as "user" (%n), the name its passwd-file entry has.
auth_mechanisms = $AUTH_MECHANISMS gssapi
auth_krb5_keytab = $DIR/pop.keytab
auth_gssapi_hostname = localhost
auth_username_format = %Ln
import_environment = TZ KRB5_CONFIG=$DIR/krb5.conf
EOF
    mv -f "$CONF.tmp" "$CONF"
}

make_cert() {
    [[ -s $CERT && -s $KEY ]] && return 0
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -keyout "$KEY.tmp" -out "$CERT.tmp" -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
        -addext "extendedKeyUsage=serverAuth" >/dev/null 2>&1 \
        || die "openssl req failed"
    chmod 0600 "$KEY.tmp"; chmod 0644 "$CERT.tmp"
    mv -f "$KEY.tmp" "$KEY"; mv -f "$CERT.tmp" "$CERT"
}

log_tail() {
    if [[ -r $LOG ]]; then
        { echo "---- tail of $LOG ----"; tail -n 30 "$LOG"; echo "----"; } >&2
    fi
}

cmd_start() {
    local dir="" strict=0 listen="" lmtp=0
    GSSAPI_KDC=""
    while (($#)); do
        case $1 in
            --strict) strict=1 ;;
            --lmtp) lmtp=1 ;;
            --gssapi) (($# >= 2)) || usage; GSSAPI_KDC=$2; shift ;;
            --listen) (($# >= 2)) || usage; listen=$2; shift ;;
            --listen=*) listen=${1#--listen=} ;;
            -*) usage ;;
            *) [[ -z $dir ]] || usage; dir=$1 ;;
        esac
        shift
    done
    [[ -n $dir ]] || usage
    need_root
    "$SCRIPT_DIR/install-deps.sh"
    dir=$(check_dir "$dir")
    set_paths "$dir"
    if [[ -z $listen ]]; then
        if ((strict)); then listen=127.0.0.2; else listen=127.0.0.1; fi
    fi
    # Loopback, or a private 10.x address on a link that exists only inside this machine (benchmarks/latency
    # runs Dovecot in a network namespace behind a delayed point-to-point link).
    [[ $listen =~ ^(127|10)\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--listen must be a 127.x.y.z or 10.x.y.z address"

    if [[ -e $DIR ]]; then
        [[ -d $DIR ]] || die "$DIR exists and is not a directory"
        if [[ ! -e $DIR/$MARKER && -n $(ls -A "$DIR") ]]; then
            die "$DIR is not empty and was not made by $PROG; refusing to use it"
        fi
    fi
    if master_pid >/dev/null; then
        info "an instance is already running in $DIR; stopping it first"
        cmd_stop "$DIR"
    fi

    ensure_mail_user
    # Stale sockets from an earlier run confuse the new instance (e.g. a leftover
    # anvil-auth-penalty socket makes auth retry a dead socket for 5 s); base_dir is ours alone.
    rm -rf -- "$BASE_DIR"
    mkdir -p "$DIR" "$STATE_DIR" "$HOME_ROOT" "$BASE_DIR"
    chmod 0755 "$DIR" "$HOME_ROOT"
    : >"$DIR/$MARKER"
    # The auth process (user dovecot) reads USERS; mail processes ($MAIL_USER) chdir into homes.
    can_access "$MAIL_UID" "$MAIL_GID" -x "$HOME_ROOT" \
        || die "$MAIL_USER cannot reach $HOME_ROOT (a parent directory is not world-searchable, e.g. /root); use a DIR under /tmp"
    [[ -e $USERS ]] || install -m 0640 -o root -g "$INTERNAL_GID" /dev/null "$USERS"
    install -d -m 0750 -o root -g "$INTERNAL_GID" "$USERS_DIR"
    can_access "$(id -u dovecot)" "$INTERNAL_GID" -r "$USERS" \
        || die "user dovecot cannot read $USERS (a parent directory is not world-searchable?)"
    make_cert
    rm -f "$ENV_FILE"
    if [[ -n $GSSAPI_KDC ]]; then
        # --gssapi: a realm made by scripts/kdc.sh. The auth process (user dovecot) reads its own copies of the
        # keytab and of krb5.conf, in DIR: the realm's folder may be where dovecot cannot look (under /root).
        [[ -f $GSSAPI_KDC/krb5.conf && -f $GSSAPI_KDC/service.keytab ]] || die "--gssapi $GSSAPI_KDC: no realm there (scripts/kdc.sh start it first)"
        install -m 0600 -o dovecot -g "$INTERNAL_GID" "$GSSAPI_KDC/service.keytab" "$DIR/pop.keytab"
        install -m 0644 "$GSSAPI_KDC/krb5.conf" "$DIR/krb5.conf"
    fi

    # Raise the fd limit for dovecot (it warns below ~ process/client limits).
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

    local attempt ports pport tport lport="" out t0 t1 greet="" pid="" ok=0 logoff
    t0=$(date +%s%N)
    for attempt in 1 2 3 4 5; do
        ((attempt == 1)) || sleep 0.1
        ports=$(pick_ports "$listen" $((2 + lmtp))) || die "could not pick free ports on $listen"
        read -r pport tport lport <<<"$ports"
        write_conf "$strict" "$listen" "$pport" "$tport" "$lport"
        if ! out=$("$DOVECONF" -c "$CONF" -n 2>&1 >/dev/null); then
            echo "$out" >&2; die "doveconf rejected $CONF"
        fi
        [[ -n $out ]] && info "doveconf says: $out"
        logoff=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
        # The master keeps its stderr open for life: send it to a file, never to a pipe.
        if "$DOVECOT" -c "$CONF" </dev/null >"$DIR/dovecot.stderr" 2>&1; then ok=1; break; fi
        out=$(cat "$DIR/dovecot.stderr")
        if grep -q "Address already in use" <<<"$out"; then
            info "port race ($pport/$tport${lport:+/$lport} taken), retrying"
            continue
        fi
        echo "$out" >&2; log_tail; die "dovecot failed to start"
    done
    ((ok)) || die "dovecot could not bind free ports after 5 attempts"

    local deadline=$((SECONDS + START_TIMEOUT))
    while :; do
        if greet=$(greeting "$listen" "$pport"); then break; fi
        if ! master_pid >/dev/null; then
            sleep 0.2; master_pid >/dev/null || { log_tail; die "dovecot exited during start-up"; }
        fi
        if ((SECONDS >= deadline)); then
            log_tail; cmd_stop "$DIR" || true
            die "no +OK greeting on $listen:$pport within ${START_TIMEOUT}s (last: '${greet}')"
        fi
        sleep 0.05
    done
    if ((lmtp)); then
        while ! greet=$(greeting "$listen" "$lport" "220 "); do
            if ((SECONDS >= deadline)); then
                log_tail; cmd_stop "$DIR" || true
                die "no LMTP 220 greeting on $listen:$lport within ${START_TIMEOUT}s (last: '${greet}')"
            fi
            sleep 0.05
        done
        [[ -S $BASE_DIR/lmtp ]] || { log_tail; cmd_stop "$DIR" || true; die "the LMTP socket $BASE_DIR/lmtp is missing"; }
    fi
    t1=$(date +%s%N)
    pid=$(master_pid) || { log_tail; die "dovecot master vanished"; }

    # Anything fatal during start-up (e.g. an auth mechanism Dovecot does not know)?
    sleep 0.1
    if tail -c +"$((logoff + 1))" "$LOG" 2>/dev/null | grep -E ' (Fatal|Error|Panic): ' | grep -v 'net_connect_unix(anvil-auth-penalty)' >&2; then
        log_tail; cmd_stop "$DIR" || true
        die "dovecot logged errors during start-up"
    fi

    cat >"$ENV_FILE.tmp" <<EOF
HOST=$listen
PLAIN_PORT=$pport
TLS_PORT=$tport
CERT=$CERT
USERS=$USERS
USERS_DIR=$USERS_DIR
HOME_ROOT=$HOME_ROOT
STRICT=$strict
AUTH_MECHANISMS=${AUTH_MECHANISMS// /,}
MAIL_USER=$MAIL_USER
CONF=$CONF
LOG=$LOG
BASE_DIR=$BASE_DIR
PID=$pid
INSTANCE=$INSTANCE
STARTUP_MS=$(((t1 - t0) / 1000000))
EOF
    if ((lmtp)); then
        printf 'LMTP_PORT=%s\nLMTP_SOCKET=%s\n' "$lport" "$BASE_DIR/lmtp" >>"$ENV_FILE.tmp"
    fi
    chmod 0644 "$ENV_FILE.tmp"
    mv -f "$ENV_FILE.tmp" "$ENV_FILE"
    cat "$ENV_FILE"
}

cmd_stop() {
    (($# == 1)) || usage
    need_root
    local dir pid i
    dir=$(check_dir "$1")
    set_paths "$dir"
    if pid=$(master_pid); then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            info "master $pid did not exit within ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.2
        fi
    fi
    # Stragglers (normally none: the master takes its children down with it).
    local left=()
    for ((i = 0; i < 50; i++)); do
        mapfile -t left < <(instance_children)
        ((${#left[@]} == 0)) && break
        if ((i < 20)); then
            kill -TERM "${left[@]}" 2>/dev/null || true
        elif ((i == 20)); then
            info "killing leftover processes: ${left[*]}"
            kill -KILL "${left[@]}" 2>/dev/null || true
        fi
        sleep 0.1
    done
    mapfile -t left < <(instance_children)
    ((${#left[@]} == 0)) || die "processes of $INSTANCE still alive: ${left[*]}"
    rm -f "$ENV_FILE"
    if [[ $BASE_DIR != "$DIR/"* && -d $BASE_DIR ]]; then rm -rf -- "$BASE_DIR"; fi
    return 0
}

cmd_status() {
    (($# == 1)) || usage
    local dir pid
    dir=$(check_dir "$1")
    set_paths "$dir"
    if pid=$(master_pid); then
        echo "running (pid $pid)"
        return 0
    fi
    echo "not running"
    return 1
}

cmd_add_user() {
    (($# == 3 || $# == 4)) || usage
    need_root
    local dir name=$2 pass=$3 src=${4-}
    dir=$(check_dir "$1")
    set_paths "$dir"
    [[ -e $DIR/$MARKER && -e $USERS ]] || die "$DIR is not initialised; run '$PROG start $DIR' first"
    [[ $name =~ ^[a-z0-9][a-z0-9._@-]{0,63}$ ]] \
        || die "NAME must match [a-z0-9][a-z0-9._@-]* (Dovecot lower-cases logins): '$name'"
    [[ -n $pass ]] || die "PASSWORD must not be empty"
    [[ $pass != *[:$'\r\n']* ]] || die "PASSWORD must not contain ':', CR or LF"
    if [[ -n $src ]]; then [[ -d $src ]] || die "SOURCE_DIR '$src' is not a directory"; fi
    MAIL_UID=$(id -u "$MAIL_USER") && MAIL_GID=$(id -g "$MAIL_USER") \
        || die "Unix user $MAIL_USER missing; run '$PROG start $DIR' first"
    INTERNAL_GID=$(id -g dovecot) || die "Unix user 'dovecot' missing"
    [[ -d $USERS_DIR ]] || die "$USERS_DIR missing; run '$PROG start $DIR' first"

    exec 9>"$DIR/.lock"
    flock -w 120 9 || die "timed out waiting for $DIR/.lock"

    if [[ -e $USERS_DIR/$name ]] || awk -F: -v n="$name" '$1 == n { found = 1 } END { exit !found }' "$USERS"; then
        die "user '$name' already exists in $USERS"
    fi

    local home=$HOME_ROOT/$name md
    md=$home/Maildir
    install -d -m 0700 -o "$MAIL_UID" -g "$MAIL_GID" "$home" "$md" "$md/cur" "$md/new" "$md/tmp"

    if [[ -n $src ]]; then
        # Dovecot sorts newly found maildir files by the number their name starts with (it takes
        # it for the delivery time), so a zero-padded sequence number gives UIDs, and therefore
        # POP3 message numbers, in the sorted order of the source file names.
        # The files go straight into cur/: the user is not in the passwd-file yet, so no POP3
        # session can see a half-copied file.
        local next=0 f n base bad files=() names=()
        for f in "$md"/cur/* "$md"/new/*; do
            base=${f##*/}
            if [[ $base =~ ^([0-9]+)\.poplib ]]; then
                n=$((10#${BASH_REMATCH[1]}))
                if ((n > next)); then next=$n; fi
            fi
        done
        while IFS= read -r -d '' f; do
            files+=("$f")
        done < <(find "$src" -mindepth 1 -maxdepth 1 -xtype f ! -name '.*' -print0 | LC_ALL=C sort -z)
        if ((${#files[@]} > 0)); then
            # Stored byte-for-byte; warn about what breaks "LIST size == RETR byte count".
            bad=$(LC_ALL=C grep -l -e $'[^\r]$' -e '^$' -- "${files[@]}" || true)
            if [[ -n $bad ]]; then
                info "warning: lines not ending in CRLF (LIST size will differ from RETR bytes) in:"
                printf '  %s\n' "$bad" >&2
            fi
            for f in "${files[@]}"; do
                next=$((next + 1))
                printf -v base '%010d.poplib:2,' "$next"
                cp -- "$f" "$md/cur/$base"
                names+=("$md/cur/$base")
            done
            chown "$MAIL_UID:$MAIL_GID" -- "${names[@]}"
            chmod 0600 -- "${names[@]}"
        fi
    fi

    # The user goes live with the rename of its own passwd-file (read fresh on first lookup);
    # the combined USERS list is replaced atomically too.
    local line
    printf -v line '%s:{PLAIN}%s::::::' "$name" "$pass"
    install -m 0640 -o root -g "$INTERNAL_GID" /dev/null "$USERS_DIR/.$name.tmp"
    printf '%s\n' "$line" >"$USERS_DIR/.$name.tmp"
    mv -f -- "$USERS_DIR/.$name.tmp" "$USERS_DIR/$name"
    cp -p -- "$USERS" "$USERS.tmp"
    printf '%s\n' "$line" >>"$USERS.tmp"
    mv -f -- "$USERS.tmp" "$USERS"
    flock -u 9
}

main() {
    (($# >= 1)) || usage
    local cmd=$1; shift
    case $cmd in
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
        add-user) cmd_add_user "$@" ;;
        -h|--help|help) usage ;;
        *) usage ;;
    esac
}

main "$@"
