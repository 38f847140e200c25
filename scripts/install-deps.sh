#!/usr/bin/env bash
# Installs what scripts/dovecot.sh needs (Debian/Ubuntu): dovecot-core, dovecot-pop3d, dovecot-lmtpd, openssl;
# and what scripts/proxies.sh needs for the proxy tests: dante-server (SOCKS5) and tinyproxy (HTTP CONNECT).
# Idempotent and silent when everything is already there.
set -euo pipefail

PROG=${0##*/}
missing=()
[[ -x /usr/sbin/dovecot ]]       || missing+=("/usr/sbin/dovecot")
[[ -x /usr/lib/dovecot/pop3 ]]   || missing+=("/usr/lib/dovecot/pop3")
[[ -x /usr/lib/dovecot/lmtp ]]   || missing+=("/usr/lib/dovecot/lmtp")
[[ -x /usr/bin/doveconf ]]       || missing+=("/usr/bin/doveconf")
command -v openssl >/dev/null 2>&1 || missing+=("openssl")
[[ -x /usr/sbin/danted ]]        || missing+=("/usr/sbin/danted")
[[ -x /usr/bin/tinyproxy ]]      || missing+=("/usr/bin/tinyproxy")

((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "$PROG: missing: ${missing[*]}" >&2
    echo "$PROG: installing them needs root; run as root (or: sudo $0)," >&2
    echo "$PROG: or install by hand: apt-get install --no-install-recommends dovecot-core dovecot-pop3d dovecot-lmtpd openssl dante-server tinyproxy" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "$PROG: missing: ${missing[*]}; apt-get not found - install dovecot (2.3.x, with pop3 and lmtp) and openssl by hand" >&2
    exit 1
fi

echo "$PROG: missing: ${missing[*]}; installing dovecot-core dovecot-pop3d dovecot-lmtpd openssl dante-server tinyproxy" >&2

# Keep the package scripts from starting the system-wide dovecot, danted and tinyproxy services: the
# test instances are private and the system services are none of our business. Only done if no policy exists.
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
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    dovecot-core dovecot-pop3d dovecot-lmtpd openssl dante-server tinyproxy

for f in /usr/sbin/dovecot /usr/lib/dovecot/pop3 /usr/lib/dovecot/lmtp /usr/bin/doveconf /usr/sbin/danted /usr/bin/tinyproxy; do
    [[ -x $f ]] || { echo "$PROG: $f still missing after install" >&2; exit 1; }
done
command -v openssl >/dev/null 2>&1 || { echo "$PROG: openssl still missing after install" >&2; exit 1; }
