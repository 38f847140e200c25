"""Turns benchmarks/run's runs.tsv into the Markdown tables (and copies them into docs/performance.md and README.md).

usage: report.py RUNS_TSV OUT_MD --small CxS --large CxS --large-line N --runs N [--speed SPEED_MD] [--dovecot V ...]
       report.py --readme docs/performance.md TABLE_MD
       report.py --speed-readme README.md SPEED_MD

The reference of every ratio ("vs raw", "CPU × raw") is the terminator-only raw reader (raw-terminator),
or the line-finding one (raw) when only that was measured.
"""
import argparse
import csv
import statistics
import sys

BEGIN = "<!-- benchmark table: begin (written by benchmarks/run --update-docs) -->"
END = "<!-- benchmark table: end -->"
SPEED_BEGIN = "<!-- speed table: begin (written by benchmarks/run --update-docs) -->"
SPEED_END = "<!-- speed table: end -->"

LABELS = {
    "raw-terminator": "raw reader, `\\r\\n.\\r\\n` search only (the reference)",
    "raw-terminator-async": "raw reader, `\\r\\n.\\r\\n` search only, `ReadAsync` (the async floor)",
    "raw": "raw reader, finding every line end",
    "poplib-sync": "Poplib sync, one by one (`RetrTo`)",
    "poplib-async": "Poplib async, one by one (`RetrToAsync`)",
    "poplib-batched-sync": "Poplib sync, pipelined (`RetrMany`)",
    "poplib-batched": "Poplib async, pipelined (`RetrManyAsync`)",
    "mailkit-getstream": "MailKit `GetStream`, one by one",
    "mailkit-getstreams": "MailKit `GetStreams`, one batch",
    "python-poplib": "Python `poplib` (`_MAXLINE` raised)",
    "mpop": "mpop (mbox `/dev/null`)",
}


def human_size(spec, line=None):
    count, size = (int(x) for x in spec.split("x"))
    unit = f"{size / 1048576:g} MiB" if size >= 1048576 else f"{size / 1024:g} KiB"
    text = f"{count:,} × {unit}"
    return text + (f", {line:,}-byte lines" if line else "")


def medians(runs):
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return None
    return {
        "seconds": statistics.median(float(r["seconds"]) for r in ok),
        "cpu": statistics.median(float(r["cpu_s"]) for r in ok),
        "rss": max(int(r["rss_kb"]) for r in ok),
        "messages": int(ok[0]["messages"]),
        "ok": len(ok),
    }


def reference(groups, s, m):
    """The medians of the raw reader that ratios are taken against, for one set and mode."""
    return medians(groups.get((s, m, "raw-terminator"), [])) or medians(groups.get((s, m, "raw"), []))


def ratios(med, raw):
    """msgs/s relative to the raw reader, CPU as a multiple of its CPU."""
    if not raw:
        return "n/a", "n/a"
    cpu = f"{med['cpu'] / raw['cpu']:.2f}×" if raw["cpu"] > 0 else "n/a"
    return f"{raw['seconds'] / med['seconds'] * 100:.0f} %", cpu


def load(tsv):
    groups = {}
    for r in csv.DictReader(open(tsv), delimiter="\t"):
        groups.setdefault((r["set"], r["mode"], r["variant"]), []).append(r)
    return groups


def table(args):
    groups = load(args.tsv)

    sizes = {"small": args.small, "large": args.large}
    out = [
        f"Dovecot {args.dovecot} on 127.0.0.1, {args.machine}; .NET SDK {args.dotnet}, Python {args.python}, "
        f"mpop {args.mpop}, MailKit {args.mailkit}. Small: {human_size(args.small)}; large: "
        f"{human_size(args.large, args.large_line)}. Median of {args.runs} runs, in rounds with the order "
        f"rotated. msgs/s and MB/s (10^6 bytes of message content) use the client's own clock from connect to "
        f"QUIT (mpop: its whole process); CPU (user+sys, median) and peak RSS (the highest of the runs) are the "
        f"whole client process, start-up and JIT included. \"vs raw\" is msgs/s relative to the raw reader that "
        f"only searches for the terminator, \"CPU × raw\" the CPU seconds as a multiple of its.",
        "",
        "| mail | mode | client | msgs/s | MB/s | vs raw | CPU s | CPU × raw | peak RSS MB |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    order = list(LABELS)
    for s in ("small", "large"):
        for m in ("plain", "tls"):
            keys = sorted((k for k in groups if k[0] == s and k[1] == m), key=lambda k: order.index(k[2]) if k[2] in order else 99)
            if not keys:
                continue
            raw = reference(groups, s, m)
            for k in keys:
                runs = groups[k]
                med = medians(runs)
                name = LABELS.get(k[2], k[2])
                failed = [r for r in runs if r["status"] != "ok"]
                if med is None:
                    reason = failed[0]["status"] if failed else "no runs"
                    out.append(f"| {s} | {m} | {name} | n/a: {reason} | | | | | |")
                    continue
                count, size = (int(x) for x in sizes[s].split("x"))
                msgs = med["messages"] / med["seconds"]
                mbs = count * size / med["seconds"] / 1e6
                ratio, cpu = ratios(med, raw)
                note = f" ({len(failed)} of {len(runs)} runs failed)" if failed else ""
                out.append(
                    f"| {s} | {m} | {name}{note} | {msgs:,.0f} | {mbs:,.0f} | {ratio} | {med['cpu']:.2f} | {cpu} | {med['rss'] / 1024:,.0f} |"
                )
    open(args.out, "w").write("\n".join(out) + "\n")
    if args.speed:
        speed_table(groups, args)


# The README's speed table: Poplib's pipelined batch in its sync and async forms side by side, the
# other clients (one form each) for reference, every ratio against the terminator-only raw reader; its
# async twin's row shows the floor of the async columns.
SPEED_ROWS = [
    ("raw reader, terminator search only (`Read` / `ReadAsync`)", "raw-terminator", "raw-terminator-async"),
    ("Poplib `RetrMany` / `RetrManyAsync`", "poplib-batched-sync", "poplib-batched"),
    ("Poplib `RetrTo` / `RetrToAsync`, one by one", "poplib-sync", "poplib-async"),
    ("MailKit `GetStreams`", "mailkit-getstreams", None),
    ("mpop", "mpop", None),
    ("Python `poplib`", "python-poplib", None),
]


def speed_table(groups, args):
    def cells(variant, s, m, raw):
        med = medians(groups.get((s, m, variant), [])) if variant else None
        if med is None:
            return ["—"] * 4
        ratio, cpu = ratios(med, raw)
        rss = f"{med['rss'] / 1024:,.0f}" + (f" (+{(med['rss'] - raw['rss']) / 1024:,.0f})" if raw and med["rss"] >= raw["rss"] else "")
        rate = med["messages"] / med["seconds"]
        return [f"{rate:,.0f}" if rate >= 100 else f"{rate:.1f}", ratio, cpu, rss]

    sizes = {"small": human_size(args.small), "large": human_size(args.large)}
    out = [
        f"Dovecot on loopback, {args.machine}, median of {args.runs} runs, whole processes (start-up and JIT in "
        f"the CPU and RSS). \"vs raw\": msgs/s relative to a raw reader that only searches its reads for the "
        f"terminator; \"CPU ×\": CPU seconds as a multiple of that reader's; RSS in MB, (+ over the raw reader).",
        "",
        "| mail | mode | client | sync msgs/s | vs raw | CPU × | peak RSS | async msgs/s | vs raw | CPU × | peak RSS |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in ("small", "large"):
        for m in ("plain", "tls"):
            raw = reference(groups, s, m)
            if raw is None:
                continue
            for label, sync, asynchronous in SPEED_ROWS:
                if not groups.get((s, m, sync)) and not groups.get((s, m, asynchronous)):
                    continue
                row = [sizes[s], m, label] + cells(sync, s, m, raw) + cells(asynchronous, s, m, raw)
                out.append("| " + " | ".join(row) + " |")
    open(args.speed, "w").write("\n".join(out) + "\n")


def replace_between(path, begin, end, table_path):
    """Puts the table at table_path between the begin and end marker lines of the file at path."""
    text = open(path).read()
    body = open(table_path).read().rstrip("\n")
    if begin not in text or end not in text:
        sys.exit(f"{path}: the table markers are missing ({begin})")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    open(path, "w").write(head + begin + "\n" + body + "\n" + end + tail)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--readme":
        replace_between(sys.argv[2], BEGIN, END, sys.argv[3])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--speed-readme":
        replace_between(sys.argv[2], SPEED_BEGIN, SPEED_END, sys.argv[3])
        return
    p = argparse.ArgumentParser()
    p.add_argument("tsv")
    p.add_argument("out")
    p.add_argument("--small", required=True)
    p.add_argument("--large", required=True)
    p.add_argument("--large-line", type=int, required=True)
    p.add_argument("--runs", type=int, required=True)
    p.add_argument("--dovecot", default="?")
    p.add_argument("--mpop", default="?")
    p.add_argument("--python", default="?")
    p.add_argument("--dotnet", default="?")
    p.add_argument("--mailkit", default="?")
    p.add_argument("--machine", default="?")
    p.add_argument("--speed", help="also write the README's speed table here")
    table(p.parse_args())


if __name__ == "__main__":
    main()
