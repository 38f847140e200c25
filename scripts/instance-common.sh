# Shared by dovecot.sh and postgres.sh (sourced, not run): the helpers of a script that keeps
# private server instances in directories. The sourcing script sets PROG first; log_tail shows $LOG.

die()  { echo "$PROG: error: $*" >&2; exit 1; }
info() { echo "$PROG: $*" >&2; }

# DIR must be absolute and made of characters that need no quoting in a server's config file, in a
# URL or in the shell-sourceable env file.
check_dir() {
    local d=$1
    [[ $d == /* ]] || die "DIR must be an absolute path: '$d'"
    [[ $d =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "DIR may only contain A-Z a-z 0-9 . _ / + - : '$d'"
    [[ /$d/ != *"/../"* && /$d/ != *"/./"* && $d != *//* ]] || die "DIR must be normalized: '$d'"
    d=${d%/}
    [[ -n $d ]] || die "refusing to use / as DIR"
    printf '%s\n' "$d"
}

# A short name derived from DIR, for things that cannot live inside a long DIR (Unix sockets: at
# most 107 bytes of path).
hash_of() { printf '%s' "$1" | sha1sum | cut -c1-10; }

# COUNT (default 2) TCP ports on ADDR that are free right now, space-separated. Someone else may
# take one before the server binds it: callers retry on "Address already in use".
pick_ports() { # ADDR [COUNT]
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

log_tail() {
    if [[ -r $LOG ]]; then
        { echo "---- tail of $LOG ----"; tail -n 30 "$LOG"; echo "----"; } >&2
    fi
}
