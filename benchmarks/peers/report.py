"""Turns benchmarks/run's runs.tsv into the Markdown table (and copies it into docs/performance.md).

usage: report.py RUNS_TSV OUT_MD --small CxS --large CxS --large-line N --runs N [--dovecot V ...]
       report.py --readme docs/performance.md TABLE_MD
"""
import argparse
import csv
import statistics
import sys

BEGIN = "<!-- benchmark table: begin (written by benchmarks/run --update-docs) -->"
END = "<!-- benchmark table: end -->"

LABELS = {
    "raw": "raw pipelined reader (the limit)",
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


def table(args):
    rows = list(csv.DictReader(open(args.tsv), delimiter="\t"))
    groups = {}
    for r in rows:
        groups.setdefault((r["set"], r["mode"], r["variant"]), []).append(r)

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

    sizes = {"small": args.small, "large": args.large}
    out = [
        f"Dovecot {args.dovecot} on 127.0.0.1, {args.machine}; .NET SDK {args.dotnet}, Python {args.python}, "
        f"mpop {args.mpop}, MailKit {args.mailkit}. Small: {human_size(args.small)}; large: "
        f"{human_size(args.large, args.large_line)}. Median of {args.runs} runs, in rounds with the order "
        f"rotated. msgs/s and MB/s (10^6 bytes of message content) use the client's own clock from connect to "
        f"QUIT (mpop: its whole process); CPU (user+sys, median) and peak RSS (the highest of the runs) are the "
        f"whole client process, start-up and JIT included. \"vs raw\" is msgs/s relative to the raw reader.",
        "",
        "| mail | mode | client | msgs/s | MB/s | vs raw | CPU s | peak RSS MB |",
        "|---|---|---|--:|--:|--:|--:|--:|",
    ]
    order = list(LABELS)
    for s in ("small", "large"):
        for m in ("plain", "tls"):
            keys = sorted((k for k in groups if k[0] == s and k[1] == m), key=lambda k: order.index(k[2]) if k[2] in order else 99)
            if not keys:
                continue
            raw = medians(groups.get((s, m, "raw"), []))
            for k in keys:
                runs = groups[k]
                med = medians(runs)
                name = LABELS.get(k[2], k[2])
                failed = [r for r in runs if r["status"] != "ok"]
                if med is None:
                    reason = failed[0]["status"] if failed else "no runs"
                    out.append(f"| {s} | {m} | {name} | n/a: {reason} | | | | |")
                    continue
                count, size = (int(x) for x in sizes[s].split("x"))
                msgs = med["messages"] / med["seconds"]
                mbs = count * size / med["seconds"] / 1e6
                ratio = f"{raw['seconds'] / med['seconds'] * 100:.0f} %" if raw else "n/a"
                note = f" ({len(failed)} of {len(runs)} runs failed)" if failed else ""
                out.append(
                    f"| {s} | {m} | {name}{note} | {msgs:,.0f} | {mbs:,.0f} | {ratio} | {med['cpu']:.2f} | {med['rss'] / 1024:,.0f} |"
                )
    open(args.out, "w").write("\n".join(out) + "\n")


def replace_between(path, begin, end, table_path):
    """Puts the table at table_path between the begin and end marker lines of the file at path."""
    text = open(path).read()
    body = open(table_path).read().rstrip("\n")
    if begin not in text or end not in text:
        sys.exit(f"{path}: the table markers are missing ({begin})")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    open(path, "w").write(head + begin + "\n" + body + "\n" + end + tail)


def readme(path, table_path):
    replace_between(path, BEGIN, END, table_path)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--readme":
        readme(sys.argv[2], sys.argv[3])
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
    table(p.parse_args())


if __name__ == "__main__":
    main()
