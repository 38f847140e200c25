#!/usr/bin/env bash
# Starts or stops the shared lab's Courier POP3 server for tests/Poplib.Tests/Interop/Courier*.cs.
# The lab's own scripts do the work (they install Courier if needed, as root, and are idempotent);
# this only finds them and says clearly when they cannot run.
#   courier.sh start    exit 0 when Courier answers on 127.0.0.1:${COURIER_PORT:-14110}
#   courier.sh stop     stops it (by the PIDs in the lab's pidfiles)
#   courier.sh status   exit 0 when it answers
# POP3LAB_DIR: the lab's folder (default /work/shared/pop3-servers). COURIER_PORT, COURIER_TLS_PORT
# and POP3LAB_RUN are read by the lab's scripts and by the tests alike.
set -uo pipefail

PROG=${0##*/}
LAB=${POP3LAB_DIR:-/work/shared/pop3-servers}
PORT=${COURIER_PORT:-14110}

# A POP3 greeting on the plain port, within two seconds.
answers() {
  local greeting
  { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || return 1
  IFS= read -r -t 2 greeting <&3 || greeting=
  printf 'QUIT\r\n' >&3 2>/dev/null
  exec 3<&- 3>&-
  [[ $greeting == "+OK"* ]]
}

case "${1:-}" in
  start)
    answers && exit 0
    if [[ ! -f $LAB/courier/start.sh ]]; then
      echo "$PROG: $LAB/courier/start.sh not found (set POP3LAB_DIR to the lab's folder)" >&2
      exit 1
    fi
    if [[ $(id -u) -ne 0 ]]; then
      echo "$PROG: starting Courier needs root (it installs packages and runs as the mail user)" >&2
      exit 1
    fi
    log="${POP3LAB_RUN:-/tmp/pop3lab}/courier-start.log"
    mkdir -p "$(dirname "$log")"
    # Never into a pipe: the daemons it starts would keep the pipe open.
    if ! bash "$LAB/courier/start.sh" >"$log" 2>&1 </dev/null; then
      echo "$PROG: $LAB/courier/start.sh failed:" >&2
      tail -n 20 "$log" >&2
      exit 1
    fi
    answers || { echo "$PROG: Courier started but does not answer on 127.0.0.1:$PORT" >&2; exit 1; }
    ;;
  stop)
    bash "$LAB/courier/stop.sh" </dev/null
    ;;
  status)
    answers
    ;;
  *)
    echo "usage: $PROG start|stop|status" >&2
    exit 2
    ;;
esac
