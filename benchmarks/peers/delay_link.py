"""benchmarks/latency's wire: a point-to-point IP link with a fixed one-way delay, between two TUN devices.

    delay_link.py DEV_A DEV_B ONE_WAY_MS READY_FILE

Attaches to two existing (persistent, `ip tuntap add … mode tun`) TUN devices and copies every IP
packet read from one to the other after ONE_WAY_MS milliseconds, in order, both ways. Packets are
never dropped, reordered or rate-limited; only delayed. It is a stand-in for `tc qdisc … netem delay`,
which this kernel does not have (no sch_netem, no sch_fq, no modules): the kernel's TCP on both ends
sees a real link with a real round-trip time (slow start, ACK clocking, delayed ACKs and Nagle all
apply), unlike a TCP proxy, which would terminate the connection and hide them.

Writes READY_FILE once both devices are attached (the caller may then move DEV_B into a namespace:
the attachment follows the device). Runs until killed (SIGTERM/SIGINT).
"""
import collections
import fcntl
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def attach(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def main():
    dev_a, dev_b, delay_ms, ready = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    delay = delay_ms / 1000.0
    a, b = attach(dev_a), attach(dev_b)
    peer = {a: b, b: a}
    # One FIFO per direction: (due time, packet). The delay is constant, so FIFO order is due order.
    queues = {a: collections.deque(), b: collections.deque()}  # keyed by destination fd
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(ready, "w") as f:
        f.write(f"{os.getpid()}\n")
    poller = select.poll()
    poller.register(a, select.POLLIN)
    poller.register(b, select.POLLIN)
    while True:
        now = time.monotonic()
        due = min((q[0][0] for q in queues.values() if q), default=None)
        timeout = None if due is None else max(0, (due - now) * 1000.0)
        for fd, _ in poller.poll(timeout):
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if not packet:
                    break
                queues[peer[fd]].append((time.monotonic() + delay, packet))
        now = time.monotonic()
        for dst, q in queues.items():
            while q and q[0][0] <= now:
                try:
                    os.write(dst, q[0][1])
                except BlockingIOError:
                    break  # the device queue is full: retry on the next turn
                except OSError:
                    pass  # e.g. the device is down for a moment: drop it like a wire would
                q.popleft()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
