#!/usr/bin/env bash
# Installs what the integration tests need (Debian/Ubuntu), by component:
#   dovecot    scripts/dovecot.sh: dovecot-core, dovecot-pop3d, dovecot-lmtpd, dovecot-gssapi (its --gssapi), openssl
#   postgres   scripts/postgres.sh: postgresql (server, initdb, pg_ctl, pg_isready, psql)
#   negotiate  the NTLM and GSSAPI tests: the platform's providers .NET uses (libgssapi-krb5-2, gss-ntlmssp:
#              NTLM through GSSAPI) and, for scripts/kdc.sh, MIT Kerberos' KDC (krb5-kdc, krb5-admin-server
#              for kadmin.local, krb5-user for kinit)
#   proxies    scripts/proxies.sh: dante-server (SOCKS5) and tinyproxy (HTTP CONNECT)
#   aot        Native AOT publishing (scripts/poplib-aot.sh, aot-smoke.sh, check-package.sh): clang, the
#              ILCompiler's linker driver, and zlib1g-dev, as the .NET docs' prerequisites for Linux list them
#
#   install-deps.sh [dovecot|postgres|negotiate|proxies|aot]...     (no argument: all of them)
#
# Idempotent and silent when everything is already there.
set -euo pipefail

PROG=${0##*/}
want_dovecot=0 want_postgres=0 want_negotiate=0 want_proxies=0 want_aot=0
(($# > 0)) || set -- dovecot postgres negotiate proxies aot
for component in "$@"; do
    case $component in
        dovecot) want_dovecot=1 ;;
        postgres) want_postgres=1 ;;
        negotiate) want_negotiate=1 ;;
        proxies) want_proxies=1 ;;
        aot) want_aot=1 ;;
        *) echo "usage: $PROG [dovecot|postgres|negotiate|proxies|aot]..." >&2; exit 2 ;;
    esac
done

dovecot_missing() {
    local m=()
    [[ -x /usr/sbin/dovecot ]]       || m+=("/usr/sbin/dovecot")
    [[ -x /usr/lib/dovecot/pop3 ]]   || m+=("/usr/lib/dovecot/pop3")
    [[ -x /usr/lib/dovecot/lmtp ]]   || m+=("/usr/lib/dovecot/lmtp")
    [[ -f /usr/lib/dovecot/modules/auth/libmech_gssapi.so ]] || m+=("/usr/lib/dovecot/modules/auth/libmech_gssapi.so")
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

# .NET's NegotiateAuthentication loads libgssapi_krb5.so.2; gss-ntlmssp registers NTLM with it.
negotiate_missing() {
    local m=()
    ldconfig -p 2>/dev/null | grep -q 'libgssapi_krb5\.so\.2 ' || m+=("libgssapi_krb5.so.2")
    [[ -f /etc/gss/mech.d/mech.ntlmssp.conf ]] || m+=("/etc/gss/mech.d/mech.ntlmssp.conf")
    [[ -x /usr/sbin/krb5kdc ]]       || m+=("/usr/sbin/krb5kdc")
    [[ -x /usr/sbin/kdb5_util ]]     || m+=("/usr/sbin/kdb5_util")
    [[ -x /usr/sbin/kadmin.local ]]  || m+=("/usr/sbin/kadmin.local")
    command -v kinit >/dev/null 2>&1 || m+=("kinit")
    echo "${m[*]-}"
}

proxies_missing() {
    local m=()
    [[ -x /usr/sbin/danted ]]   || m+=("/usr/sbin/danted")
    [[ -x /usr/bin/tinyproxy ]] || m+=("/usr/bin/tinyproxy")
    echo "${m[*]-}"
}

# The ILCompiler links with clang (it calls it as `clang`) and, per the .NET docs, wants zlib's headers and library.
aot_missing() {
    local m=()
    command -v clang >/dev/null 2>&1 || m+=("clang")
    [[ -f /usr/include/zlib.h ]]       || m+=("/usr/include/zlib.h")
    echo "${m[*]-}"
}

missing=() packages=()
if ((want_dovecot)) && [[ -n $(dovecot_missing) ]]; then
    missing+=("$(dovecot_missing)"); packages+=(dovecot-core dovecot-pop3d dovecot-lmtpd dovecot-gssapi openssl)
fi
if ((want_postgres)) && [[ -n $(postgres_missing) ]]; then
    missing+=("$(postgres_missing)"); packages+=(postgresql)
fi
if ((want_negotiate)) && [[ -n $(negotiate_missing) ]]; then
    missing+=("$(negotiate_missing)"); packages+=(libgssapi-krb5-2 gss-ntlmssp krb5-kdc krb5-admin-server krb5-user)
fi
if ((want_proxies)) && [[ -n $(proxies_missing) ]]; then
    missing+=("$(proxies_missing)"); packages+=(dante-server tinyproxy)
fi
if ((want_aot)) && [[ -n $(aot_missing) ]]; then
    missing+=("$(aot_missing)"); packages+=(clang zlib1g-dev)
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

# Keep the package scripts from starting the system-wide dovecot, postgresql, krb5kdc, kadmind, danted
# and tinyproxy services: the test instances are private and the system services are none of our business. Only
# done if no policy exists. (postgresql's scripts may still create the default cluster 15/main under
# /etc/postgresql and /var/lib/postgresql; it stays stopped and untouched - postgres.sh never uses it.)
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
# Non-interactive: krb5-config's questions (the default realm of /etc/krb5.conf) keep their defaults;
# the tests never use that file (scripts/kdc.sh writes its own realm's configuration).
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"

still=""
if ((want_dovecot)); then still+=$(dovecot_missing); fi
if ((want_postgres)); then still+=${still:+ }$(postgres_missing); fi
if ((want_negotiate)); then still+=${still:+ }$(negotiate_missing); fi
if ((want_proxies)); then still+=${still:+ }$(proxies_missing); fi
if ((want_aot)); then still+=${still:+ }$(aot_missing); fi
[[ -z ${still// /} ]] || { echo "$PROG: still missing after install: $still" >&2; exit 1; }
