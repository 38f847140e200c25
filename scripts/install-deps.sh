#!/usr/bin/env bash
# Installs what the integration tests' servers need (Debian/Ubuntu):
#   dovecot   scripts/dovecot.sh: dovecot-core, dovecot-pop3d, dovecot-lmtpd, openssl
#   postgres  scripts/postgres.sh: postgresql (server, initdb, pg_ctl, pg_isready, psql)
#
#   install-deps.sh [dovecot|postgres]...     (no argument: both)
#
# Idempotent and silent when everything is already there.
set -euo pipefail

PROG=${0##*/}
want_dovecot=0 want_postgres=0
(($# > 0)) || set -- dovecot postgres
for component in "$@"; do
    case $component in
        dovecot) want_dovecot=1 ;;
        postgres) want_postgres=1 ;;
        *) echo "usage: $PROG [dovecot|postgres]..." >&2; exit 2 ;;
    esac
done

dovecot_missing() {
    local m=()
    [[ -x /usr/sbin/dovecot ]]       || m+=("/usr/sbin/dovecot")
    [[ -x /usr/lib/dovecot/pop3 ]]   || m+=("/usr/lib/dovecot/pop3")
    [[ -x /usr/lib/dovecot/lmtp ]]   || m+=("/usr/lib/dovecot/lmtp")
    [[ -x /usr/bin/doveconf ]]       || m+=("/usr/bin/doveconf")
    command -v openssl >/dev/null 2>&1 || m+=("openssl")
    echo "${m[*]-}"
}

# The newest PostgreSQL server under /usr/lib/postgresql/*/bin, with the tools postgres.sh runs,
# and the package's unprivileged `postgres` user (postgres.sh runs the server as it).
postgres_missing() {
    local bin m=()
    bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    for f in postgres initdb pg_ctl pg_isready psql; do [[ -x $bin/$f ]] || m+=("/usr/lib/postgresql/*/bin/$f"); done
    id -u postgres >/dev/null 2>&1 || m+=("Unix user postgres")
    echo "${m[*]-}"
}

missing=() packages=()
if ((want_dovecot)) && [[ -n $(dovecot_missing) ]]; then
    missing+=("$(dovecot_missing)"); packages+=(dovecot-core dovecot-pop3d dovecot-lmtpd openssl)
fi
if ((want_postgres)) && [[ -n $(postgres_missing) ]]; then
    missing+=("$(postgres_missing)"); packages+=(postgresql)
fi
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "$PROG: missing: ${missing[*]}" >&2
    echo "$PROG: installing them needs root; run as root (or: sudo $0)," >&2
    echo "$PROG: or install by hand: apt-get install --no-install-recommends ${packages[*]}" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "$PROG: missing: ${missing[*]}; apt-get not found - install ${packages[*]} (dovecot 2.3.x, with pop3 and lmtp) by hand" >&2
    exit 1
fi

echo "$PROG: missing: ${missing[*]}; installing ${packages[*]}" >&2

# Keep the package scripts from starting the system-wide dovecot and postgresql services: the test
# instances are private and the system services are none of our business. Only done if no policy
# exists. (postgresql's scripts may still create the default cluster 15/main under /etc/postgresql
# and /var/lib/postgresql; it stays stopped and untouched - postgres.sh never uses it.)
policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# temporary, written by poplib scripts/install-deps.sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    own_policy=1
fi
cleanup() { if ((own_policy)); then rm -f "$policy"; fi; }
trap cleanup EXIT

apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"

still=""
if ((want_dovecot)); then still+=$(dovecot_missing); fi
if ((want_postgres)); then still+=${still:+ }$(postgres_missing); fi
[[ -z ${still// /} ]] || { echo "$PROG: still missing after install: $still" >&2; exit 1; }
