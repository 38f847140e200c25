"""benchmarks/run's Python peer: the standard library's poplib, one message at a time.

Logs in with USER/PASS, STAT, RETR of every message (poplib keeps each one in memory as a list
of lines), QUIT. poplib refuses lines over 2048 bytes (poplib._MAXLINE); it is raised here so the
large mailbox (50 KB lines) can be fetched at all.
Settings from the environment: BENCH_HOST, BENCH_PORT, BENCH_USER, BENCH_PASS, BENCH_CERT (PEM:
implicit TLS verified against it; empty: plain). Prints one JSON line: messages, bytes, seconds.
"""
import json
import os
import poplib
import ssl
import time

poplib._MAXLINE = 64 * 1024 * 1024

host = os.environ.get("BENCH_HOST", "127.0.0.1")
port = int(os.environ["BENCH_PORT"])
cert = os.environ.get("BENCH_CERT", "")

start = time.perf_counter()
if cert:
    context = ssl.create_default_context(cafile=cert)
    client = poplib.POP3_SSL(host, port, context=context)
else:
    client = poplib.POP3(host, port)
client.user(os.environ["BENCH_USER"])
client.pass_(os.environ["BENCH_PASS"])
count, _size = client.stat()
total = 0
for number in range(1, count + 1):
    _response, _lines, octets = client.retr(number)
    total += octets
client.quit()
print(json.dumps({"messages": count, "bytes": total, "seconds": time.perf_counter() - start}))
