#!/usr/bin/env python3
"""What Python's poplib returns from a POP3 server, as JSON on stdout, for the CLI parity test
(tests/Poplib.Tests/Interop/InteropSuite.Cli.cs): `poplib stat/list/uidl/retr/top` must say the same.

usage: poplib_parity.py HOST PORT USER PASSWORD_ENV plain|stls CAFILE TOP_LINES

Logs in with USER/PASS (over STLS with CAFILE as the only trusted root when "stls"), sends UIDL
first (GNU pop3d changes its messages, and their sizes, the first time it tells their UIDLs), then
STAT, LIST, UIDL, and for every message LIST n, UIDL n, RETR n, TOP n 0 and TOP n TOP_LINES; QUIT.
Messages are given as the bytes on the wire after dot-unstuffing: the lines poplib returns, each
ended with CRLF. Bytes travel as base64.
"""
import base64
import json
import os
import poplib
import ssl
import sys


def wire(lines):
    return base64.b64encode(b"".join(line + b"\r\n" for line in lines)).decode("ascii")


def main():
    host, port, user, password_env, security, cafile, top_lines = sys.argv[1:8]
    pop = poplib.POP3(host, int(port), timeout=20)
    if security == "stls":
        pop.stls(ssl.create_default_context(cafile=cafile))
    pop.user(user)
    pop.pass_(os.environ[password_env])
    pop.uidl()
    count, size = pop.stat()
    listing = [line.decode("ascii").split() for line in pop.list()[1]]
    uids = [line.decode("ascii").split() for line in pop.uidl()[1]]
    result = {
        "stat": [count, size],
        "list": [[int(n), int(s)] for n, s in listing],
        "uidl": [[int(n), u] for n, u in uids],
        "list_one": {}, "uidl_one": {}, "retr": {}, "top0": {}, "top": {},
    }
    for n, _ in listing:
        result["list_one"][n] = int(pop.list(int(n)).decode("ascii").split()[2])
        result["uidl_one"][n] = pop.uidl(int(n)).decode("ascii").split()[2]
        result["retr"][n] = wire(pop.retr(int(n))[1])
        result["top0"][n] = wire(pop.top(int(n), 0)[1])
        result["top"][n] = wire(pop.top(int(n), int(top_lines))[1])
    pop.quit()
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
