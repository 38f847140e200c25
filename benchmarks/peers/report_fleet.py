"""The Markdown table of benchmarks/fleet (and the figures docs/fleet.md's cost model uses).

    report_fleet.py TSV STATEMENTS_TSV OUT --accounts N --mail COUNTxSIZE --parallel N --runs N --postgres V
                    --sizes "table=bytes … message_rows=N account_rows=N" --fsync-rate N --machine M
    report_fleet.py readme README.md OUT-summary.md     (the short form between the README's "fleet summary" markers)
"""
import argparse
import csv
import statistics
import sys

from report import replace_between  # same folder: the script's own directory is on sys.path


def rows(tsv):
    with open(tsv) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def name(variant, parallel):
    if variant == "sqlite":
        return f"SQLite, one process (`poplib fetch --config`, `--parallel {parallel}`)"
    workers = int(variant.split("-")[1])
    return f"PostgreSQL, {workers} worker{'s' if workers > 1 else ''} (`--daemon`, `--parallel {parallel}` each)"


def median(rs, key):
    values = [float(r[key]) for r in rs if r[key] != ""]
    return statistics.median(values) if values else None


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "readme":
        replace_between(sys.argv[2], "<!-- fleet summary: begin -->", "<!-- fleet summary: end -->", sys.argv[3])
        return
    p = argparse.ArgumentParser()
    p.add_argument("tsv")
    p.add_argument("statements")
    p.add_argument("out")
    for a in ("--accounts", "--parallel", "--runs", "--fsync-rate"):
        p.add_argument(a, type=int, required=True)
    for a in ("--mail", "--postgres", "--sizes", "--machine"):
        p.add_argument(a, required=True)
    args = p.parse_args()
    count, size = (int(x) for x in args.mail.split("x"))
    total = args.accounts * count

    by, failed, order = {}, {}, []
    for r in rows(args.tsv):
        if r["variant"] not in order:
            order.append(r["variant"])
        if r["status"] == "ok":
            by.setdefault(r["variant"], []).append(r)
        else:
            failed[r["variant"]] = failed.get(r["variant"], 0) + 1
    rate = {v: statistics.median(total / float(r["seconds"]) for r in rs) for v, rs in by.items()}
    # Round trips: the transactions less Npgsql's DISCARD ALL, which rides with the next command (no round trip of its own).
    discards = {}
    for r in rows(args.statements):
        if r["query"].strip().upper() == "DISCARD ALL":
            discards[(r["variant"], r["run"])] = int(r["calls"])
    for rs in by.values():
        for r in rs:
            r["round_trips"] = str(int(r["xacts"]) - discards.get((r["variant"], r["run"]), 0)) if r["xacts"] else ""
    base = rate.get("sqlite")

    out = [
        f"{args.accounts:,} accounts × {count} messages of {size // 1024} KiB ({total:,} messages) on Poplib.Testing's in-memory "
        f"server (one process, loopback, plain USER/PASS), fetched into a Maildir per account with empty state, keeping the mail "
        f"on the server; every run checked ({total:,} files). Timed from the launch of the process(es), start-up included, until "
        f"the last account's run ended. PostgreSQL {args.postgres} on the same machine (scripts/postgres.sh: fsync and "
        f"synchronous_commit on). {args.machine} — shared with other work, so wall-clock figures move from round to round; "
        f"median of {args.runs} runs per configuration, interleaved in rounds with the order rotated. *Transactions* and "
        f"*WAL fsyncs* are counted by PostgreSQL itself (pg_stat_database, pg_stat_wal); CPU is the workers' (user + system) "
        f"and, for PostgreSQL, every server process's; RSS is the largest worker's.",
        "",
        "| configuration | msgs/s | vs SQLite | seconds | CPU s (workers) | CPU s (PostgreSQL) | peak RSS MB | round trips / account | / message | transactions / account | / message | WAL fsyncs / account | / message |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for v in order:
        if v not in by:
            out.append(f"| {name(v, args.parallel)} | failed ({failed[v]} runs) |" + " |" * 11)
            continue
        rs = by[v]
        note = f" ({failed[v]} runs failed)" if v in failed else ""
        cells = [f"{rate[v]:,.0f}", f"{rate[v] / base:.2f}×" if base else "—", f"{median(rs, 'seconds'):.1f}",
                 f"{median(rs, 'worker_cpu_s'):.1f}"]
        pg_cpu = median(rs, "pg_cpu_s")
        cells.append(f"{pg_cpu:.1f}" if pg_cpu is not None else "—")
        cells.append(f"{max(int(r['rss_kb']) for r in rs) / 1024:,.0f}")
        for key in ("round_trips", "xacts", "wal_syncs"):
            m = median(rs, key)
            cells += [f"{m / args.accounts:.2f}", f"{m / total:.3f}"] if m is not None else ["—", "—"]
        out.append(f"| {name(v, args.parallel)}{note} | " + " | ".join(cells) + " |")

    # Where the transactions go: statements per account by kind, from pg_stat_statements (the 1-worker runs).
    statements = [r for r in rows(args.statements) if r["variant"] == next((v for v in order if v.startswith("pg-")), "")]
    if statements:
        runs = len({r["run"] for r in statements})
        calls, ms = {}, {}
        for r in statements:
            calls[r["query"]] = calls.get(r["query"], 0) + int(r["calls"])
            ms[r["query"]] = ms.get(r["query"], 0) + int(r["calls"]) * float(r["mean_ms"])
        out += ["", "Statements per account, by kind (pg_stat_statements, the first fleet configuration; statements sent "
                "together as one batch are one transaction and one round trip; the fence's own SELECT inside `fence()` "
                "is counted too):", "",
                "| statement | per account | mean ms |", "|---|--:|--:|"]
        for query, n in sorted(calls.items(), key=lambda kv: -kv[1]):
            per = n / runs / args.accounts
            if per >= 0.01:
                text = query if len(query) <= 90 else query[:87] + "…"
                out.append(f"| `{text.replace('|', '¦')}` | {per:.2f} | {ms[query] / n:.3f} |")

    sizes = dict(p.split("=", 1) for p in args.sizes.split() if "=" in p)
    if "message_rows" in sizes and int(sizes["message_rows"]) > 0:
        n_msg, n_acc = int(sizes["message_rows"]), int(sizes["account_rows"])
        msg_bytes = int(sizes.get("messages", 0))
        per_account = sum(int(sizes.get(t, 0)) for t in ("accounts", "account_status", "leases"))
        out += ["", f"On disk after a run (pg_total_relation_size: table, indexes, TOAST): `messages` {msg_bytes / n_msg:,.0f} "
                f"bytes per message row ({msg_bytes / n_msg * 1e6 / 2**30:.2f} GiB per million messages); `accounts` + "
                f"`account_status` + `leases` {per_account / n_acc:,.0f} bytes per account. "
                f"The disk syncs {args.fsync_rate:,} fdatasync/s for one writer (pg_test_fsync)."]
    open(args.out, "w").write("\n".join(out) + "\n")

    # The README's short form: msgs/s and the ratio to SQLite (benchmarks/fleet --update-docs puts it there).
    short = ["| configuration | msgs/s | vs SQLite | round trips / account | WAL fsyncs / account |", "|---|--:|--:|--:|--:|"]
    for v in order:
        if v in by:
            xacts, syncs = median(by[v], "round_trips"), median(by[v], "wal_syncs")
            label = "SQLite, one process" if v == "sqlite" else name(v, args.parallel).split(" (")[0]
            short.append(f"| {label} | {rate[v]:,.0f} | {rate[v] / base:.2f}× | "
                         f"{f'{xacts / args.accounts:.1f}' if xacts is not None else '—'} | "
                         f"{f'{syncs / args.accounts:.1f}' if syncs is not None else '—'} |" if base else f"| {label} | {rate[v]:,.0f} | — | | |")
    short.append("")
    short.append(f"Median of {args.runs} interleaved runs, `--parallel {args.parallel}` per process, a shared and loaded machine: "
                 "the ratios move from run to run (every run: `benchmarks/results/fleet.tsv`).")
    open(args.out.removesuffix(".md") + "-summary.md", "w").write("\n".join(short) + "\n")


if __name__ == "__main__":
    main()
