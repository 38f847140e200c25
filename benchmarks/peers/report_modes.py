"""Markdown tables for benchmarks/latency and benchmarks/scale, and copying them into docs/performance.md.

    report_modes.py latency TSV OUT --rtt MS --measured-rtt MS --mail COUNTxSIZE --runs N --dovecot V --machine M
    report_modes.py scale TSV OUT --sessions N --messages N --size BYTES --runs N --machine M
    report_modes.py durable TSV OUT --mail COUNTxSIZE --runs N --syncs "variant=N …" --mpop V --filesystem FS --tmpfs FS --readme-out OUT --machine M
    report_modes.py lmtp TSV OUT --mail COUNTxSIZE --runs N --fetchmail V --dovecot V --machine M
    report_modes.py mime TSV OUT --mail COUNTxSIZE --runs N --warm PASSES --mimekit V --mailkit V --dovecot V --machine M
    report_modes.py readme docs/performance.md|README.md latency|scale|durable|retriever|lmtp|mime|mime-warm TABLE_MD
"""
import argparse
import csv
import statistics
import sys

from report import replace_between  # same folder: the script's own directory is on sys.path

NAMES = {
    "raw": "raw pipelined reader (all RETRs at once)",
    "poplib-batched": "Poplib pipelined (`RetrManyAsync`, default window 1,024)",
    "poplib-batched-64": "Poplib pipelined (`RetrManyAsync`, window 64)",
    "poplib-async": "Poplib one by one (`RetrToAsync`)",
    "mailkit-getstreams": "MailKit `GetStreams`, one batch",
    "mailkit-getstream": "MailKit `GetStream`, one by one",
    "python-poplib": "Python `poplib`",
}


def rows(tsv):
    with open(tsv) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def by_variant(tsv):
    """Successful runs by variant, failed-run counts by variant, and the median msgs/s of each."""
    by, failed = {}, {}
    for r in rows(tsv):
        if r["status"] == "ok":
            by.setdefault(r["variant"], []).append(r)
        else:
            failed[r["variant"]] = failed.get(r["variant"], 0) + 1
    med = {v: statistics.median(int(r["messages"]) / float(r["seconds"]) for r in rs) for v, rs in by.items()}
    return by, failed, med


def ratio_rows(names, by, failed, med, base, extra=lambda v: [], extra_columns=0, same=None):
    """One table row per variant in `names`: msgs/s, the ratio to `base`, seconds, CPU, peak RSS, extras.

    With `same` (a function from a variant to the variant it is compared with), the ratios are to
    that variant's msgs/s and CPU seconds instead, and a "× CPU" column follows the CPU seconds."""
    out = []
    cpu = {v: statistics.median(float(r["cpu_s"]) for r in rs) for v, rs in by.items()}
    for v in names:
        if v not in by and v not in failed:
            continue
        if v not in by:
            out.append(f"| {names[v]} | failed ({failed[v]} runs) |" + " |" * (4 + extra_columns + (same is not None)))
            continue
        rs = by[v]
        secs = statistics.median(float(r["seconds"]) for r in rs)
        rss = max(int(r["rss_kb"]) for r in rs) / 1024
        note = f" ({failed[v]} runs failed)" if v in failed else ""
        if same is None:
            ratio = f"{med[v] / base:,.1f}×" if base else "—"
            cells = [f"{med[v]:,.0f}", ratio, f"{secs:.2f}", f"{cpu[v]:.2f}"]
        else:
            peer = same(v)
            ratio = f"{med[v] / med[peer]:,.2f}×" if peer in med else "—"
            cpu_ratio = f"{cpu[v] / cpu[peer]:,.1f}×" if cpu.get(peer) else "—"
            cells = [f"{med[v]:,.0f}", ratio, f"{secs:.2f}", f"{cpu[v]:.2f}", cpu_ratio]
        out.append(f"| {names[v]}{note} | " + " | ".join([*cells, f"{rss:,.0f}", *extra(v)]) + " |")
    return out


def latency(args):
    by, failed, med = by_variant(args.tsv)
    count, size = args.mail.split("x")
    out = [
        f"Dovecot {args.dovecot} in a network namespace behind a delayed link: {args.rtt} ms round trip "
        f"({float(args.rtt) / 2:g} ms each way; measured {args.measured_rtt} ms, median of 11 TCP connects). "
        f"{int(count):,} × {int(size) // 1024} KiB messages, plain. {args.machine}. Median of {args.runs} runs in rounds "
        "with the order rotated. msgs/s from the client's own clock, connect to QUIT (connect, greeting, "
        "login and LIST/STAT round trips included).",
        "",
        "| client | msgs/s | vs Python poplib | seconds | CPU s | peak RSS MB |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    out += ratio_rows(NAMES, by, failed, med, med.get("python-poplib"))
    open(args.out, "w").write("\n".join(out) + "\n")


def scale(args):
    rs = rows(args.tsv)
    ok = [r for r in rs if r["status"] == "ok"]
    out = [
        f"{args.sessions:,} concurrent sessions from one .NET process (`benchmarks/Peers.Scale`) against "
        f"`Poplib.Testing`'s in-memory server in a second process, on 127.0.0.1; each session logs in as its "
        f"own user, waits until all {args.sessions:,} are logged in, fetches {args.messages} × "
        f"{args.size // 1024} KiB messages (`RetrManyAsync`) and quits. {args.machine}. "
        f"{len(rs)} run(s), each with a fresh server. Peak RSS is the client process alone: GNU time's maximum "
        "resident set size, and the process's own `VmHWM` read after the last QUIT.",
        "",
        "| run | sessions ok | all logged in after s | wall s | msgs/s | client CPU s | client peak RSS MB | VmHWM MB |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rs:
        if r["status"] != "ok" and not r["sessions_ok"]:
            out.append(f"| {r['run']} | {r['status']} | | | | | | |")
            continue
        out.append(
            f"| {r['run']} | {int(r['sessions_ok']):,} of {int(r['sessions']):,} | {float(r['login_s']):.2f} | "
            f"{float(r['seconds']):.2f} | {int(r['messages']) / float(r['seconds']):,.0f} | {float(r['cpu_s']):.2f} | "
            f"{int(r['rss_kb']) / 1024:,.0f} | {int(r['vmhwm_kb']) / 1024:,.0f} |"
        )
    if len(ok) > 1:
        out.append(
            f"| median | | {statistics.median(float(r['login_s']) for r in ok):.2f} | "
            f"{statistics.median(float(r['seconds']) for r in ok):.2f} | "
            f"{statistics.median(int(r['messages']) / float(r['seconds']) for r in ok):,.0f} | "
            f"{statistics.median(float(r['cpu_s']) for r in ok):.2f} | {max(int(r['rss_kb']) for r in ok) / 1024:,.0f} (max) | {max(int(r['vmhwm_kb']) for r in ok) / 1024:,.0f} (max) |"
        )
    open(args.out, "w").write("\n".join(out) + "\n")


DURABLE_NAMES = {
    "poplib-fetch": "`poplib fetch --maildir` (group commit, 64 a group)",
    "poplib-fetch-batch1": "`poplib fetch --maildir --batch 1` (every message synced alone)",
    "mpop-maildir": "mpop, `delivery maildir` (fsync per message)",
    "poplib-fetch-tmpfs": "`poplib fetch --maildir`, Maildir and state on tmpfs",
    "mpop-maildir-tmpfs": "mpop, `delivery maildir`, Maildir and UIDLs on tmpfs",
}
# The shorter names of the README's table, and each variant's mpop on the same file system.
DURABLE_README_NAMES = {
    "poplib-fetch": "`poplib fetch --maildir`, on disk",
    "mpop-maildir": "mpop, on disk",
    "poplib-fetch-tmpfs": "`poplib fetch --maildir`, on tmpfs",
    "mpop-maildir-tmpfs": "mpop, on tmpfs",
}


def durable_mpop(variant):
    return "mpop-maildir-tmpfs" if variant.endswith("-tmpfs") else "mpop-maildir"


def durable(args):
    by, failed, med = by_variant(args.tsv)
    syncs = dict(p.split("=", 1) for p in args.syncs.split() if "=" in p)
    count, size = args.mail.split("x")
    out = [
        f"Fetching {int(count):,} × {int(size) // 1024} KiB messages from Dovecot on loopback (plain, USER/PASS) into an "
        f"empty Maildir on {args.filesystem} (and, in the tmpfs rows, with the Maildir and the state on a private "
        f"{args.tmpfs}), with empty UIDL state, keeping the mail on the server; every run checked "
        f"({int(count):,} files in `new/`). Whole process timed, start-up included; each ratio is to mpop on the same "
        f"file system. mpop {args.mpop}. {args.machine}. "
        f"Median of {args.runs} runs in rounds with the order rotated. fsync-family calls counted once per client with strace.",
        "",
        "| client | msgs/s | vs mpop | seconds | CPU s | × mpop CPU | peak RSS MB | fsync calls |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    out += ratio_rows(DURABLE_NAMES, by, failed, med, None, lambda v: [syncs.get(v) or "—"], 1, same=durable_mpop)
    open(args.out, "w").write("\n".join(out) + "\n")
    short = [
        "| retriever, " + f"{int(count):,} × {int(size) // 1024} KiB into a Maildir, fresh state"
        + " | msgs/s | vs mpop | seconds | CPU s | × mpop CPU | peak RSS MB |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    short += ratio_rows(DURABLE_README_NAMES, by, failed, med, None, same=durable_mpop)
    open(args.readme_out, "w").write("\n".join(short) + "\n")


LMTP_NAMES = {
    "poplib-lmtp-unix": "`poplib fetch --lmtp unix:…` (Unix socket)",
    "poplib-lmtp-tcp": "`poplib fetch --lmtp 127.0.0.1:PORT` (TCP)",
    "poplib-maildir": "`poplib fetch --maildir` (for comparison: group commit, no LMTP)",
    "fetchmail-lmtp": "fetchmail, `smtphost HOST/PORT` + `lmtp`",
}


def lmtp(args):
    by, failed, med = by_variant(args.tsv)
    count, size = args.mail.split("x")
    out = [
        f"Fetching {int(count):,} × {int(size) // 1024} KiB messages from Dovecot {args.dovecot} on loopback (POP3 plain, USER/PASS) "
        f"and handing each to Dovecot's LMTP server (delivering into another user's Maildir; `mail_fsync = never` in the test "
        f"instance), with empty UIDL state and an empty destination, keeping the mail on the server; every run checked "
        f"({int(count):,} messages arrived). Whole process timed, start-up included. fetchmail {args.fetchmail}. {args.machine} "
        f"(a shared machine: wall-clock figures can move severalfold from round to round when other work runs; the CPU seconds are steadier). Median of {args.runs} runs in rounds "
        f"with the order rotated. CPU is the retriever's own (user + system), not Dovecot's.",
        "",
        "| client | msgs/s | vs fetchmail | seconds | CPU s | peak RSS MB |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    out += ratio_rows(LMTP_NAMES, by, failed, med, med.get("fetchmail-lmtp"))
    open(args.out, "w").write("\n".join(out) + "\n")


MIME_NAMES = {
    "poplib-mime-batched": "Poplib.MimeKit pipelined (`RetrMimeMessagesAsync`)",
    "poplib-mime-batched-sync": "Poplib.MimeKit pipelined, sync (`RetrMimeMessages`)",
    "poplib-mime-async": "Poplib.MimeKit one by one (`RetrMimeMessageAsync`)",
    "poplib-mime-sync": "Poplib.MimeKit one by one, sync (`RetrMimeMessage`)",
    "mailkit-getmessages": "MailKit `GetMessages`, one batch",
    "mailkit-getmessage": "MailKit `GetMessage`, one by one",
}


def mime(args):
    by, failed, med = by_variant(args.tsv)
    count, size = args.mail.split("x")
    cpu = {v: statistics.median(float(r["cpu_s"]) for r in rs) for v, rs in by.items()}
    rss = {v: max(int(r["rss_kb"]) for r in rs) / 1024 for v, rs in by.items()}
    # Each Poplib form against MailKit's form of the same shape: one by one against GetMessage,
    # pipelined against GetMessages.
    peer = {v: "mailkit-getmessages" if "batched" in v else "mailkit-getmessage" for v in MIME_NAMES}
    out = [
        f"Parsing {int(count):,} × {int(size) // 1024} KiB messages into MimeKit `MimeMessage`s from Dovecot {args.dovecot} on "
        f"loopback (plain, USER/PASS), each client a whole process (Release build; MimeKit {args.mimekit} for both, "
        f"MailKit {args.mailkit}). Every run checked: all {int(count):,} messages parsed, the same total of text-body "
        f"characters for every client. "
        + (f"Warm: each process fetched and parsed the mailbox {args.warm} times and reports the last pass alone, connect "
           f"to QUIT: msgs/s and CPU (user + system) from its own clock, JIT done; peak RSS is the whole process's. "
           if int(args.warm) else
           f"msgs/s from the client's own clock (connect to QUIT); CPU (user + system) and peak RSS of the whole "
           f"process, start-up and JIT included. ")
        + f"{args.machine} (a shared machine: wall-clock "
        f"figures can move from round to round when other work runs; the CPU seconds are steadier). Median of "
        f"{args.runs} runs in rounds with the order rotated. The ratios compare each Poplib form with MailKit's form "
        f"of the same shape: one by one with `GetMessage`, pipelined with `GetMessages` (above 1× is better for "
        f"Poplib in every ratio column: faster, less CPU, less memory).",
        "",
        "| client | msgs/s | × MailKit msgs/s | seconds | CPU s | MailKit CPU ÷ ours | peak RSS MB | MailKit RSS ÷ ours |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for v, name in MIME_NAMES.items():
        if v not in by:
            if v in failed:
                out.append(f"| {name} | failed ({failed[v]} runs) | | | | | | |")
            continue
        p = peer[v]
        mine = not v.startswith("mailkit")
        ratio = lambda theirs, ours: f"{theirs / ours:,.2f}×" if mine and p in by and ours else "—"
        secs = statistics.median(float(r["seconds"]) for r in by[v])
        note = f" ({failed[v]} runs failed)" if v in failed else ""
        out.append(
            f"| {name}{note} | {med[v]:,.0f} | {ratio(med[v], med[p]) if mine and p in by else '—'} | {secs:.2f} | "
            f"{cpu[v]:.2f} | {ratio(cpu.get(p, 0), cpu[v])} | {rss[v]:,.0f} | {ratio(rss.get(p, 0), rss[v])} |"
        )
    open(args.out, "w").write("\n".join(out) + "\n")


def readme(path, which, table_path):
    # The one table a mode's option writes, and the README's table the durable mode writes.
    flag = {"mime-warm": "mime … --warm", "retriever": "durable"}.get(which, which)
    replace_between(
        path,
        f"<!-- {which} table: begin (written by benchmarks/run --{flag} … --update-docs) -->",
        f"<!-- {which} table: end -->",
        table_path,
    )


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "readme":
        readme(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    lat = sub.add_parser("latency")
    for a in ("tsv", "out"):
        lat.add_argument(a)
    for a in ("--rtt", "--measured-rtt", "--mail", "--runs", "--dovecot", "--machine"):
        lat.add_argument(a, required=True)
    sc = sub.add_parser("scale")
    for a in ("tsv", "out"):
        sc.add_argument(a)
    for a in ("--sessions", "--messages", "--size", "--runs"):
        sc.add_argument(a, type=int, required=True)
    sc.add_argument("--machine", required=True)
    du = sub.add_parser("durable")
    for a in ("tsv", "out"):
        du.add_argument(a)
    for a in ("--mail", "--runs", "--syncs", "--mpop", "--filesystem", "--tmpfs", "--readme-out", "--machine"):
        du.add_argument(a, required=True)
    lm = sub.add_parser("lmtp")
    for a in ("tsv", "out"):
        lm.add_argument(a)
    for a in ("--mail", "--runs", "--fetchmail", "--dovecot", "--machine"):
        lm.add_argument(a, required=True)
    mi = sub.add_parser("mime")
    for a in ("tsv", "out"):
        mi.add_argument(a)
    for a in ("--mail", "--runs", "--warm", "--mimekit", "--mailkit", "--dovecot", "--machine"):
        mi.add_argument(a, required=True)
    args = p.parse_args()
    {"latency": latency, "scale": scale, "durable": durable, "lmtp": lmtp, "mime": mime}[args.cmd](args)


if __name__ == "__main__":
    main()
