#!/usr/bin/env python3
"""Process time of a command, as start-up measurements need it: runs COMMAND N times (output discarded),
and prints the medians of CPU (user+sys of the process and its children, from wait4's rusage, in
microseconds, not /usr/bin/time's centiseconds) and wall time, in milliseconds:

    proctime.py [-n N] -- COMMAND [ARGS...]      ->  "CPU_MS WALL_MS" (one decimal each)

A run that exits non-zero stops it with that run's stderr (a failing command has no start-up time)."""
import os
import statistics
import subprocess
import sys
import time


def main(argv):
    runs = 5
    if argv[:1] == ["-n"]:
        runs, argv = int(argv[1]), argv[2:]
    if argv[:1] != ["--"] or len(argv) < 2 or runs < 1:
        sys.exit("usage: proctime.py [-n N] -- COMMAND [ARGS...]")
    command = argv[1:]
    cpu, wall = [], []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # wait4 rather than communicate(): the rusage of exactly this process, taken as it is reaped.
        stderr = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            sys.stderr.write(stderr.decode(errors="replace"))
            sys.exit(f"proctime.py: {' '.join(command)} exited {process.returncode}")
        cpu.append((usage.ru_utime + usage.ru_stime) * 1000)
        wall.append(elapsed * 1000)
    print(f"{statistics.median(cpu):.1f} {statistics.median(wall):.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
