#!/usr/bin/env bash
# A private MIT Kerberos KDC on 127.0.0.1 for the GSSAPI tests: a throw-away realm in one folder, a
# service key for pop/localhost in a keytab, users with passwords. Needs no root (the KDC listens on
# a free unprivileged port and keeps its database in DIR); installing krb5-kdc does
# (scripts/install-deps.sh). Never reads or changes /etc/krb5.conf or /etc/krb5kdc: everything is
# in DIR, and a program finds it through the variables DIR/env lists (KRB5_CONFIG, KRB5_KTNAME, ...).
#
#   kdc.sh start    DIR [--service NAME/HOST]...   realm POPLIB.TEST, keytab DIR/service.keytab
#   kdc.sh add-user DIR NAME PASSWORD
#   kdc.sh stop     DIR
#   kdc.sh status   DIR
#
# DIR/env (shell syntax, also read by the tests): REALM, KDC_PORT, KRB5_CONFIG, KRB5_KDC_PROFILE,
# KRB5_KTNAME (the service keytab), KRB5CCNAME (a ticket cache in DIR), SERVICES.
set -euo pipefail

PROG=${0##*/}
REALM=POPLIB.TEST
START_TIMEOUT=${KDC_START_TIMEOUT:-20}

die() { echo "$PROG: $*" >&2; exit 1; }

usage() {
    sed -n '9,12p' "$0" | sed 's/^# *//' >&2
    exit 2
}

need_tools() {
    local tool
    for tool in /usr/sbin/krb5kdc /usr/sbin/kdb5_util /usr/sbin/kadmin.local; do
        [[ -x $tool ]] || die "$tool is missing (apt-get install krb5-kdc krb5-admin-server; scripts/install-deps.sh does it as root)"
    done
}

check_dir() {
    [[ $1 == /* && $1 =~ ^[A-Za-z0-9._/+-]+$ ]] || die "DIR must be an absolute path of A-Z a-z 0-9 . _ / + - (got '$1')"
}

free_port() {
    python3 - <<'EOF' 2>/dev/null && return
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
EOF
    # Without python3: a random high port nobody answers on (a bind race is retried by start).
    local p
    while :; do
        p=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
}

write_conf() { # DIR PORT
    local dir=$1 port=$2
    cat >"$dir/krb5.conf" <<EOF
# Written by poplib scripts/kdc.sh: a throw-away realm on loopback.
[libdefaults]
    default_realm = $REALM
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    default_ccache_name = FILE:$dir/ccache
    default_keytab_name = FILE:$dir/service.keytab

[realms]
    $REALM = {
        kdc = 127.0.0.1:$port
        admin_server = 127.0.0.1:$port
    }

[domain_realm]
    localhost = $REALM
    .localhost = $REALM
EOF
    cat >"$dir/kdc.conf" <<EOF
# Written by poplib scripts/kdc.sh.
[kdcdefaults]
    kdc_listen = 127.0.0.1:$port
    kdc_tcp_listen = 127.0.0.1:$port

[realms]
    $REALM = {
        database_name = $dir/principal
        key_stash_file = $dir/stash
        acl_file = $dir/kadm5.acl
        kdc_listen = 127.0.0.1:$port
        kdc_tcp_listen = 127.0.0.1:$port
        max_life = 1d
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }

[logging]
    kdc = FILE:$dir/kdc.log
EOF
    : >"$dir/kadm5.acl"
}

kenv() { # DIR COMMAND... : runs COMMAND with the realm's configuration
    local dir=$1
    shift
    KRB5_CONFIG=$dir/krb5.conf KRB5_KDC_PROFILE=$dir/kdc.conf "$@"
}

running() { # DIR
    [[ -f $1/kdc.pid ]] && kill -0 "$(cat "$1/kdc.pid")" 2>/dev/null
}

listening() { # PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cmd_start() {
    (($# >= 1)) || usage
    local dir=$1 services=() port attempt t0
    shift
    while (($#)); do
        case $1 in
            --service) (($# >= 2)) || usage; services+=("$2"); shift 2 ;;
            *) usage ;;
        esac
    done
    ((${#services[@]})) || services=(pop/localhost)
    check_dir "$dir"
    need_tools
    if running "$dir"; then
        echo "$PROG: already running in $dir" >&2
        return 0
    fi
    mkdir -p "$dir"
    chmod 0755 "$dir"
    rm -f "$dir"/principal* "$dir/stash" "$dir/service.keytab" "$dir/ccache" "$dir/env"

    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        write_conf "$dir" "$port"
        if [[ ! -f $dir/principal ]]; then
            # The master key only protects the database file in DIR; it is random and thrown away.
            kenv "$dir" /usr/sbin/kdb5_util create -s -r "$REALM" -P "$(head -c 24 /dev/urandom | base64)" >"$dir/kdb5_util.log" 2>&1 \
                || { cat "$dir/kdb5_util.log" >&2; die "kdb5_util create failed"; }
            local service
            for service in "${services[@]}"; do
                kenv "$dir" /usr/sbin/kadmin.local -q "addprinc -randkey $service" >>"$dir/kadmin.log" 2>&1 \
                    || { cat "$dir/kadmin.log" >&2; die "adding $service failed"; }
                kenv "$dir" /usr/sbin/kadmin.local -q "ktadd -k $dir/service.keytab $service" >>"$dir/kadmin.log" 2>&1 \
                    || { cat "$dir/kadmin.log" >&2; die "exporting the key of $service failed"; }
            done
        fi
        kenv "$dir" /usr/sbin/krb5kdc -r "$REALM" -P "$dir/kdc.pid" >>"$dir/kdc.log" 2>&1 || die "krb5kdc did not start (see $dir/kdc.log)"
        t0=$SECONDS
        while ! listening "$port"; do
            if ! running "$dir" && ((SECONDS - t0 >= 2)); then break; fi
            ((SECONDS - t0 < START_TIMEOUT)) || die "the KDC is not listening on 127.0.0.1:$port after ${START_TIMEOUT}s (see $dir/kdc.log)"
            sleep 0.1
        done
        listening "$port" && break
        echo "$PROG: port race ($port taken), retrying" >&2
        [[ -f $dir/kdc.pid ]] && kill "$(cat "$dir/kdc.pid")" 2>/dev/null || true
        rm -f "$dir/kdc.pid"
        ((attempt < 5)) || die "the KDC could not bind a free port after 5 attempts"
    done
    # The keytab is the service's secret: readable by the owner (the test process) only.
    chmod 0600 "$dir/service.keytab"

    cat >"$dir/env.tmp" <<EOF
REALM=$REALM
KDC_PORT=$port
KRB5_CONFIG=$dir/krb5.conf
KRB5_KDC_PROFILE=$dir/kdc.conf
KRB5_KTNAME=FILE:$dir/service.keytab
KRB5CCNAME=FILE:$dir/ccache
SERVICES=${services[*]}
EOF
    mv "$dir/env.tmp" "$dir/env"
    echo "$PROG: realm $REALM on 127.0.0.1:$port (pid $(cat "$dir/kdc.pid")), keytab $dir/service.keytab (${services[*]})"
}

cmd_add_user() {
    (($# == 3)) || usage
    local dir=$1 name=$2 password=$3
    check_dir "$dir"
    [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "NAME must be of A-Z a-z 0-9 . _ - (got '$name')"
    [[ -f $dir/krb5.conf ]] || die "no realm in $dir (kdc.sh start first)"
    # Quoted for kadmin's own parser, which has no escape for a double quote.
    [[ $password != *'"'* && -n $password ]] || die "PASSWORD must be non-empty and hold no double quote"
    kenv "$dir" /usr/sbin/kadmin.local -q "addprinc -pw \"$password\" $name" >>"$dir/kadmin.log" 2>&1 \
        || { cat "$dir/kadmin.log" >&2; die "adding the user $name failed"; }
}

cmd_stop() {
    (($# == 1)) || usage
    local dir=$1 pid
    check_dir "$dir"
    running "$dir" || return 0
    pid=$(cat "$dir/kdc.pid")
    kill "$pid"
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$dir/kdc.pid"; return 0; }
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/kdc.pid"
}

cmd_status() {
    (($# == 1)) || usage
    check_dir "$1"
    running "$1"
}

(($# >= 1)) || usage
command=$1
shift
case $command in
    start) cmd_start "$@" ;;
    add-user) cmd_add_user "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    *) usage ;;
esac
