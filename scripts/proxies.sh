#!/usr/bin/env bash
# Private, throw-away proxies on 127.0.0.1 for the proxy tests of Poplib (tests/Poplib.Tests/Proxy/):
#   - Dante (danted) as a SOCKS5 proxy without authentication,
#   - Dante as a SOCKS5 proxy that requires user/password (RFC 1929), checked against a system user,
#   - tinyproxy as an HTTP CONNECT proxy without authentication,
#   - tinyproxy as an HTTP CONNECT proxy with Basic authentication.
#
#   proxies.sh start DIR     start all four on free loopback ports; writes DIR/env (see below)
#   proxies.sh stop DIR      stop them (and remove nothing else)
#   proxies.sh status DIR    exit 0 if all four are running
#
# DIR/env (shell-sourceable, KEY=VALUE): SOCKS5_PORT, SOCKS5_AUTH_PORT, HTTP_PORT, HTTP_AUTH_PORT,
# PROXY_USER, PROXY_PASSWORD. The user is a dedicated system user without a shell or home
# (poplibproxy), created on first use; its password is set anew at each start (danted checks it
# through the system's password database, which needs root). Needs root; the packages come from
# scripts/install-deps.sh (dante-server, tinyproxy). Never touches /etc/danted.conf, /etc/tinyproxy
# or the system services: everything lives under DIR.
set -euo pipefail

PROG=${0##*/}
PROXY_USER=${POPLIB_PROXY_USER:-poplibproxy}
START_TIMEOUT=${POPLIB_PROXY_START_TIMEOUT:-20}   # seconds until every proxy accepts connections

die()  { echo "$PROG: error: $*" >&2; exit 1; }
info() { echo "$PROG: $*" >&2; }

usage() {
  echo "usage: $PROG start DIR | stop DIR | status DIR" >&2
  exit 2
}

check_dir() {
  local d=$1
  [[ $d == /* ]] || die "DIR must be an absolute path: '$d'"
  [[ $d =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "DIR may only contain A-Z a-z 0-9 . _ / + - : '$d'"
  printf '%s\n' "${d%/}"
}

pick_ports() { # COUNT -> COUNT free loopback ports
  if command -v python3 >/dev/null 2>&1 && python3 - "$1" <<'PY' 2>/dev/null; then return 0; fi
import socket, sys
socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
PY
  # Without python3 (a fresh machine may lack it): random high ports nobody answers on.
  local p ports=()
  while ((${#ports[@]} < $1)); do
    p=$((20000 + RANDOM % 40000))
    [[ " ${ports[*]-} " == *" $p "* ]] && continue
    listening "$p" || ports+=("$p")
  done
  echo "${ports[*]}"
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# danted: one instance per config; method "none" or "username" (RFC 1929 against the system user).
write_danted() { # CONF PORT METHOD
  cat >"$1" <<EOF
logoutput: $DIR/$(basename "$1" .conf).log
internal: 127.0.0.1 port = $2
external: lo
socksmethod: $3
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
}
socks pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  command: connect
  protocol: tcp
}
EOF
}

# tinyproxy: no ConnectPort line allows CONNECT to every port (the test servers' ports are random).
write_tinyproxy() { # CONF PORT [USER PASSWORD]
  local name
  name=$(basename "$1" .conf)
  cat >"$1" <<EOF
User nobody
Group nogroup
Port $2
Listen 127.0.0.1
Timeout 60
LogFile "$DIR/$name.log"
LogLevel Info
PidFile "$DIR/$name.pid"
MaxClients 50
Allow 127.0.0.1
EOF
  if (($# == 4)); then echo "BasicAuth $3 $4" >>"$1"; fi
}

start() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (danted checks user/password against the system's password database)"
  command -v danted >/dev/null 2>&1 || die "danted missing: apt-get install dante-server (scripts/install-deps.sh)"
  command -v tinyproxy >/dev/null 2>&1 || die "tinyproxy missing: apt-get install tinyproxy (scripts/install-deps.sh)"
  if status >/dev/null 2>&1; then info "already running in $DIR"; return 0; fi
  mkdir -p "$DIR"
  chmod 0755 "$DIR"   # tinyproxy writes its log as nobody

  id -u "$PROXY_USER" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PROXY_USER"
  local password
  password=pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  echo "$PROXY_USER:$password" | chpasswd

  local socks socks_auth http http_auth
  read -r socks socks_auth http http_auth <<<"$(pick_ports 4)"
  write_danted "$DIR/socks5.conf" "$socks" none
  write_danted "$DIR/socks5-auth.conf" "$socks_auth" username
  write_tinyproxy "$DIR/http.conf" "$http"
  write_tinyproxy "$DIR/http-auth.conf" "$http_auth" "$PROXY_USER" "$password"
  touch "$DIR/http.log" "$DIR/http-auth.log"
  chown nobody "$DIR/http.log" "$DIR/http-auth.log"

  danted -D -f "$DIR/socks5.conf" -p "$DIR/socks5.pid"
  danted -D -f "$DIR/socks5-auth.conf" -p "$DIR/socks5-auth.pid"
  tinyproxy -c "$DIR/http.conf"
  tinyproxy -c "$DIR/http-auth.conf"

  local t0=$SECONDS port
  for port in "$socks" "$socks_auth" "$http" "$http_auth"; do
    until listening "$port"; do
      ((SECONDS - t0 < START_TIMEOUT)) || { stop || true; die "nothing listens on 127.0.0.1:$port after ${START_TIMEOUT}s (logs in $DIR)"; }
      sleep 0.1
    done
  done

  umask 077
  cat >"$DIR/env.tmp" <<EOF
SOCKS5_PORT=$socks
SOCKS5_AUTH_PORT=$socks_auth
HTTP_PORT=$http
HTTP_AUTH_PORT=$http_auth
PROXY_USER=$PROXY_USER
PROXY_PASSWORD=$password
EOF
  mv "$DIR/env.tmp" "$DIR/env"
  info "started in $DIR: socks5 $socks, socks5+auth $socks_auth, http $http, http+auth $http_auth"
}

stop() {
  local pid_file pid
  for pid_file in "$DIR"/socks5.pid "$DIR"/socks5-auth.pid "$DIR"/http.pid "$DIR"/http-auth.pid; do
    alive "$pid_file" || continue
    pid=$(cat "$pid_file")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -f "$DIR"/*.pid
}

status() {
  local pid_file
  for pid_file in "$DIR"/socks5.pid "$DIR"/socks5-auth.pid "$DIR"/http.pid "$DIR"/http-auth.pid; do
    alive "$pid_file" || return 1
  done
}

(($# == 2)) || usage
DIR=$(check_dir "$2")
case $1 in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
