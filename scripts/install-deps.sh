#!/usr/bin/env bash
# Installs what the integration tests need (Debian/Ubuntu): for scripts/dovecot.sh dovecot-core,
# dovecot-pop3d, dovecot-lmtpd, dovecot-gssapi (its --gssapi) and openssl; for the NTLM and GSSAPI tests the platform's providers .NET
# uses (libgssapi-krb5-2, gss-ntlmssp: NTLM through GSSAPI) and for scripts/kdc.sh MIT Kerberos' KDC
# (krb5-kdc, krb5-admin-server for kadmin.local, krb5-user for kinit).
# Idempotent and silent when everything is already there.
set -euo pipefail

PROG=${0##*/}
missing=()
[[ -x /usr/sbin/dovecot ]]       || missing+=("/usr/sbin/dovecot")
[[ -x /usr/lib/dovecot/pop3 ]]   || missing+=("/usr/lib/dovecot/pop3")
[[ -x /usr/lib/dovecot/lmtp ]]   || missing+=("/usr/lib/dovecot/lmtp")
[[ -f /usr/lib/dovecot/modules/auth/libmech_gssapi.so ]] || missing+=("/usr/lib/dovecot/modules/auth/libmech_gssapi.so")
[[ -x /usr/bin/doveconf ]]       || missing+=("/usr/bin/doveconf")
command -v openssl >/dev/null 2>&1 || missing+=("openssl")
# .NET's NegotiateAuthentication loads libgssapi_krb5.so.2; gss-ntlmssp registers NTLM with it.
ldconfig -p 2>/dev/null | grep -q 'libgssapi_krb5\.so\.2 ' || missing+=("libgssapi_krb5.so.2")
[[ -f /etc/gss/mech.d/mech.ntlmssp.conf ]] || missing+=("/etc/gss/mech.d/mech.ntlmssp.conf")
[[ -x /usr/sbin/krb5kdc ]]       || missing+=("/usr/sbin/krb5kdc")
[[ -x /usr/sbin/kdb5_util ]]     || missing+=("/usr/sbin/kdb5_util")
[[ -x /usr/sbin/kadmin.local ]]  || missing+=("/usr/sbin/kadmin.local")
command -v kinit >/dev/null 2>&1 || missing+=("kinit")

packages=(dovecot-core dovecot-pop3d dovecot-lmtpd dovecot-gssapi openssl libgssapi-krb5-2 gss-ntlmssp krb5-kdc krb5-admin-server krb5-user)

((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "$PROG: missing: ${missing[*]}" >&2
    echo "$PROG: installing them needs root; run as root (or: sudo $0)," >&2
    echo "$PROG: or install by hand: apt-get install --no-install-recommends ${packages[*]}" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "$PROG: missing: ${missing[*]}; apt-get not found - install dovecot (2.3.x, with pop3 and lmtp), openssl, MIT Kerberos (GSSAPI library and KDC) and gss-ntlmssp by hand" >&2
    exit 1
fi

echo "$PROG: missing: ${missing[*]}; installing ${packages[*]}" >&2

# Keep the package scripts from starting the system-wide dovecot, krb5kdc and kadmind services: the
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
# Non-interactive: krb5-config's questions (the default realm of /etc/krb5.conf) keep their defaults;
# the tests never use that file (scripts/kdc.sh writes its own realm's configuration).
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"

for f in /usr/sbin/dovecot /usr/lib/dovecot/pop3 /usr/lib/dovecot/lmtp /usr/bin/doveconf; do
    [[ -x $f ]] || { echo "$PROG: $f still missing after install" >&2; exit 1; }
done
command -v openssl >/dev/null 2>&1 || { echo "$PROG: openssl still missing after install" >&2; exit 1; }
for f in /usr/lib/dovecot/modules/auth/libmech_gssapi.so /etc/gss/mech.d/mech.ntlmssp.conf /usr/sbin/krb5kdc /usr/sbin/kdb5_util /usr/sbin/kadmin.local /usr/bin/kinit; do
    [[ -e $f ]] || { echo "$PROG: $f still missing after install" >&2; exit 1; }
done
