#!/usr/bin/env bash
# The main job, end to end: generate a sample mailbox, serve it with a private Dovecot on 127.0.0.1,
# then log in with Poplib over STLS (certificate verified), download every message into
# ./demo-mail/ as a Maildir, and check each one is byte-identical to its original.
# Installs Dovecot from Debian's packages if missing (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
count=${DEMO_MESSAGES:-300}

bash scripts/install-deps.sh

work=$(mktemp -d /tmp/poplib-demo.XXXXXX)
chmod 755 "$work" # the unprivileged mail user must reach the mailbox inside
cleanup() { bash scripts/dovecot.sh stop "$work/dovecot" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

echo "Building the demo…"
dotnet build samples/Poplib.Demo -c Release --nologo -v quiet -clp:ErrorsOnly >/dev/null
demo() { dotnet "$root/samples/Poplib.Demo/bin/Release/net10.0/Poplib.Demo.dll" "$@"; }

echo "Generating $count sample messages…"
demo generate "$work/source" "$count"

echo "Starting Dovecot on 127.0.0.1…"
bash scripts/dovecot.sh start "$work/dovecot" >/dev/null
bash scripts/dovecot.sh add-user "$work/dovecot" demo demo-password "$work/source" >/dev/null
# shellcheck disable=SC1091
source "$work/dovecot/env"

rm -rf demo-mail
echo
demo fetch "$PLAIN_PORT" "$CERT" demo demo-password "$work/source" demo-mail
