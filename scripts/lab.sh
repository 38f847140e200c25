#!/usr/bin/env bash
# Starts, stops or checks a server of the shared POP3 lab for the interop suite
# (tests/Poplib.Tests/Interop/). The lab's own scripts do the work ($POP3LAB_DIR, default
# /work/shared/pop3-servers: NAME/start.sh installs the server's packages if they are missing, as root,
# and is idempotent; NAME/stop.sh stops it by its pidfiles); this knows each server's port, runs them
# without a pipe (the daemons they start would keep it open), and says clearly when they cannot run.
#   lab.sh start NAME    exit 0 when NAME greets on its plain port (started first if it did not)
#   lab.sh stop NAME     stops it
#   lab.sh status NAME   exit 0 when it greets
#   lab.sh reset NAME    gives it a freshly generated mailbox (what the interop suite leaves behind
#                        may be emptied by its tests; the lab's stamp would still call it complete)
#   lab.sh names         the six servers, one per line, in the order scripts/test.sh runs them
# NAME: dovecot popa3d mailutils courier cyrus solid-pop3d. The ports follow the variables the lab's
# scripts and the tests read (DOVECOT_PORT, POPA3D_PORT, MAILUTILS_PORT, COURIER_PORT, CYRUS_PORT,
# SOLID_PORT); POP3LAB_RUN moves the lab's runtime folder (default /tmp/pop3lab).
set -uo pipefail

PROG=${0##*/}
LAB=${POP3LAB_DIR:-/work/shared/pop3-servers}
RUN=${POP3LAB_RUN:-/tmp/pop3lab}
NAMES=(dovecot popa3d mailutils courier cyrus solid-pop3d)

usage() {
  echo "usage: $PROG start|stop|status|reset NAME | names    (NAME: ${NAMES[*]})" >&2
  exit 2
}

port_of() {
  case "$1" in
    dovecot) echo "${DOVECOT_PORT:-11110}" ;;
    popa3d) echo "${POPA3D_PORT:-12110}" ;;
    mailutils) echo "${MAILUTILS_PORT:-13110}" ;;
    courier) echo "${COURIER_PORT:-14110}" ;;
    cyrus) echo "${CYRUS_PORT:-15110}" ;;
    solid-pop3d) echo "${SOLID_PORT:-16110}" ;;
    *) usage ;;
  esac
}

# A POP3 greeting on the plain port within two seconds.
greets() {
  local greeting
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  IFS= read -r -t 2 greeting <&3 || greeting=
  printf 'QUIT\r\n' >&3 2>/dev/null
  exec 3<&- 3>&-
  [[ $greeting == "+OK"* ]]
}

# The lab's start.sh, its output in a log (never a pipe). The mailbox is the one the interop suite
# uses (LabMailbox.Standard: 30 messages of 4096 octets, seed 13); its tests regenerate it anyway.
run_start() {
  mkdir -p "$RUN"
  bash "$LAB/$1/start.sh" 30 4096 13 >"$2" 2>&1 </dev/null
}

cmd=${1:-}
[[ $cmd == names ]] && { printf '%s\n' "${NAMES[@]}"; exit 0; }
(($# == 2)) || usage
name=$2
port=$(port_of "$name") || exit 2

case "$cmd" in
  start)
    greets "$port" && exit 0
    if [[ ! -f $LAB/$name/start.sh ]]; then
      echo "$PROG: $LAB/$name/start.sh not found (set POP3LAB_DIR to the lab's folder)" >&2
      exit 1
    fi
    if [[ $(id -u) -ne 0 ]]; then
      echo "$PROG: starting $name needs root (it installs packages and runs as the mail user)" >&2
      exit 1
    fi
    mkdir -p "$RUN"
    log="$RUN/$name-start.log"
    if ! run_start "$name" "$log"; then
      # A package that apt cannot find yet: the lab expects "apt-get update" once first.
      echo "$PROG: $name/start.sh failed; running apt-get update and trying again" >&2
      apt-get update >>"$log" 2>&1
      if ! run_start "$name" "$log"; then
        echo "$PROG: $LAB/$name/start.sh failed:" >&2
        tail -n 20 "$log" >&2
        exit 1
      fi
    fi
    greets "$port" || { echo "$PROG: $name started but does not answer on 127.0.0.1:$port" >&2; exit 1; }
    ;;
  stop)
    bash "$LAB/$name/stop.sh" </dev/null
    ;;
  status)
    greets "$port"
    ;;
  reset)
    FRESH=1 run_start "$name" "$RUN/$name-start.log"
    ;;
  *)
    usage
    ;;
esac
