#!/usr/bin/env python3
"""A POP3 server that offers only AUTH NTLM and checks the client's first token, for scripts/aot-smoke.sh:
NegotiateAuthentication builds that token in the platform's GSSAPI (libgssapi_krb5 with gss-ntlmssp),
loaded at run time — the part of `poplib` a trimmed, AOT-compiled build could lose without a compiler
noticing. One connection, then it exits:

    ntlm-probe.py PORTFILE     writes its port to PORTFILE, prints "ntlm token ok" (exit 0) when the
                               client's AUTH NTLM token is an NTLMSSP NEGOTIATE message, else why not (1)

It never completes the login (it answers -ERR): the point is that the native library loaded and ran."""
import base64
import socket
import sys


def main(port_file):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(60)
    with open(port_file, "w") as f:
        f.write(str(listener.getsockname()[1]))
    connection, _ = listener.accept()
    connection.settimeout(30)
    reader = connection.makefile("rb")

    def send(line):
        connection.sendall(line.encode() + b"\r\n")

    send("+OK ntlm probe ready")
    verdict = "the client never sent AUTH NTLM"
    while True:
        line = reader.readline(1024)
        if not line:
            break
        command = line.strip().decode(errors="replace")
        verb = command.split(" ")[0].upper()
        if verb == "CAPA":
            send("+OK\r\nSASL NTLM\r\nRESP-CODES\r\n.")
        elif verb == "AUTH" and command.upper().startswith("AUTH NTLM"):
            parts = command.split(" ")
            if len(parts) > 2:  # the first token as SASL's initial response
                token = parts[2]
            else:
                send("+ ")
                token = reader.readline(65536).strip().decode(errors="replace")
            try:
                raw = base64.b64decode(token, validate=True)
            except ValueError:
                raw = b""
            if raw[:8] == b"NTLMSSP\0" and int.from_bytes(raw[8:12], "little") == 1:
                verdict = "ntlm token ok"
            else:
                verdict = f"not an NTLM NEGOTIATE message: {token[:60]!r}"
            send("-ERR [AUTH] the probe logs nobody in")
        elif verb == "QUIT":
            send("+OK bye")
            break
        else:
            send("-ERR not here")
    connection.close()
    print(verdict)
    return 0 if verdict == "ntlm token ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
