# Sourced, not run: starts `poplib serve` on a Maildir for the scripts that need a local POP3 server and
# do not want Dovecot (scripts/aot-smoke.sh, check-package.sh, benchmarks/startup).
#
#   serve_maildir POPLIB MAILDIR TLS USER PASSWORD_VARIABLE CERTIFICATE_FILE LOG_PREFIX
#
# Serves MAILDIR read-only on a free loopback port (TLS: none, starttls or implicit), with the password
# from the environment variable named, writing the server's certificate to CERTIFICATE_FILE and its
# output to LOG_PREFIX.out/.err. Sets SERVE_PID (the caller stops it) and SERVE_PORT once the server
# says it is listening (10 s at most); returns 1 with the server's output on stderr if it did not.
serve_maildir() {
    local poplib=$1 maildir=$2 tls=$3 user=$4 password_variable=$5 certificate=$6 log=$7
    "$poplib" serve --maildir "$maildir" --tls "$tls" --user "$user" --password-env "$password_variable" --read-only \
        --write-certificate "$certificate" >"$log.out" 2>"$log.err" &
    SERVE_PID=$!
    SERVE_PORT=""
    for _ in $(seq 100); do grep -q '^Serving ' "$log.out" 2>/dev/null && break; sleep 0.1; done
    SERVE_PORT=$(sed -nE 's/^Serving .*@[^ ]*:([0-9]+) .*/\1/p' "$log.out")
    [[ -n $SERVE_PORT ]] || { cat "$log.out" "$log.err" >&2; return 1; }
}
