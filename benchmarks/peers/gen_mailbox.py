"""Writes COUNT messages of exactly SIZE bytes into DIR, for benchmarks/run.

usage: gen_mailbox.py DIR COUNT SIZE LINE_LENGTH

Each message is a plain RFC 5322 message with CRLF line endings (so Dovecot's LIST size equals the
RETR byte count): a few headers, then body lines of LINE_LENGTH printable bytes; every 17th body
line starts with '.', so the server dot-stuffs it and the clients unstuff it. Deterministic (fixed
seed), so every run of the benchmark fetches the same bytes. Prints the total size in bytes.
"""
import os
import random
import sys


ALPHABET = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
PRINTABLE = bytes(ALPHABET[i % len(ALPHABET)] for i in range(256))


def message(rng, number, size, line_length):
    head = (
        f"From: Sender {number} <sender{number}@example.org>\r\n"
        f"To: bench@example.org\r\n"
        f"Subject: benchmark message {number}\r\n"
        f"Message-ID: <{number}.bench@example.org>\r\n"
        f"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
        f"MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    ).encode("ascii")
    if len(head) + 3 > size:
        raise SystemExit(f"SIZE {size} is too small for the headers ({len(head)} bytes)")
    out = bytearray(head)
    line = 0
    while len(out) < size:
        room = size - len(out) - 2
        length = max(0, min(line_length, room))
        if room - length == 1:  # a 1-byte tail could not hold a CRLF line
            length -= 1
        body = bytearray(rng.randbytes(min(length, 64)).translate(PRINTABLE))
        body = (body * (length // max(1, len(body)) + 1))[:length]
        if length and line % 17 == 0:
            body[0] = ord(".")
        out += body + b"\r\n"
        line += 1
    if len(out) != size:
        raise SystemExit(f"internal error: {len(out)} != {size}")
    return bytes(out)


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    directory, count, size, line_length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    os.makedirs(directory, exist_ok=True)
    rng = random.Random(6)
    for number in range(1, count + 1):
        with open(os.path.join(directory, f"{number:07d}.eml"), "wb") as f:
            f.write(message(rng, number, size, line_length))
    print(count * size)


if __name__ == "__main__":
    main()
