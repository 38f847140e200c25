#!/usr/bin/env bash
# Runs every test: installs what the integration tests need (Dovecot, PostgreSQL, MIT Kerberos' KDC and
# gss-ntlmssp, Dante and tinyproxy for the proxy tests, clang and zlib1g-dev for Native AOT; as root, from
# Debian's packages)
# if it is missing, starts the shared lab's six real POP3 servers (as root; each stopped again at the
# end if this run started it), builds, runs the test projects, then the interop suite against each
# real server in turn (one line per server), and ends with one line
#   tests: N passed, N failed[, N skipped]
# Exit status: 0 only if everything built and no test failed.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! bash scripts/install-deps.sh; then
  if [ "${CI:-}" = "true" ]; then
    echo "install-deps failed; under CI the Dovecot, PostgreSQL, NTLM, Kerberos and proxy integration tests are required." >&2
    echo "tests: 0 passed, 1 failed"
    exit 1
  fi
  echo "warning: Dovecot, PostgreSQL, Kerberos, gss-ntlmssp, Dante or tinyproxy could not be installed; the integration tests that need them will be skipped." >&2
fi

# The shared lab's real servers (scripts/lab.sh, which runs ../shared/pop3-servers/NAME/start.sh) for
# the interop suite (tests/Poplib.Tests/Interop/). Its tests skip when their server is not running;
# under CI they are required: a server that cannot be started counts as a failed suite.
interop_servers=()
mapfile -t interop_servers < <(bash scripts/lab.sh names)
started_servers=()
unavailable_servers=()
for name in "${interop_servers[@]}"; do
  bash scripts/lab.sh status "$name" && continue
  started_ms=$(date +%s%3N)
  if [ "$(id -u)" -eq 0 ] && bash scripts/lab.sh start "$name"; then
    started_servers+=("$name")
    echo "$name: started in $(( $(date +%s%3N) - started_ms )) ms" >&2
  elif [ "${CI:-}" = "true" ]; then
    echo "$name could not be started (as root: scripts/lab.sh start $name); under CI its interop suite is required." >&2
    unavailable_servers+=("$name")
  else
    echo "warning: $name is not running (as root: scripts/lab.sh start $name); its interop tests will be skipped." >&2
  fi
done

log=$(mktemp)
cleanup() {
  rm -f "$log"
  # Only what this run started: a server someone else runs stays up.
  for name in "${started_servers[@]}"; do bash scripts/lab.sh stop "$name" >/dev/null 2>&1; done
}
trap cleanup EXIT

# Sum the summary line of every test assembly in a log ("Passed!  - Failed: 0, Passed: 12, Skipped: 0, ...").
summarize() { # LOG -> "PASSED FAILED SKIPPED"
  awk '
    /(Passed|Failed)! +- +Failed:/ {
      for (i = 1; i <= NF; i++) {
        if ($i == "Failed:")  { f += $(i+1) + 0 }
        if ($i == "Passed:")  { p += $(i+1) + 0 }
        if ($i == "Skipped:") { s += $(i+1) + 0 }
      }
    }
    END { printf "%d %d %d\n", p, f, s }' "$1"
}

# Everything but the interop suite, which runs below, one server at a time.
dotnet test Poplib.sln --nologo -c Debug --filter "Category!=Interop" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
read -r passed failed skipped < <(summarize "$log")

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the build or the test host failed before reporting
fi

# The interop suite against each real server in turn (filter Category=Interop&Server=NAME), one
# summary line each; a failure shows that server's failed tests.
for name in "${interop_servers[@]}"; do
  if [[ " ${unavailable_servers[*]-} " == *" $name "* ]]; then
    echo "interop $name: 0 passed, 1 failed (the server could not be started)"
    failed=$((failed + 1))
    status=1
    continue
  fi
  started_ms=$(date +%s%3N)
  dotnet test tests/Poplib.Tests --no-build --nologo -c Debug --filter "Category=Interop&Server=$name" >"$log" 2>&1
  suite_status=$?
  read -r p f s < <(summarize "$log")
  if [ "$suite_status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  line="interop $name: $p passed, $f failed"
  [ "$s" -gt 0 ] && line="$line, $s skipped"
  echo "$line ($(( ($(date +%s%3N) - started_ms) / 1000 )) s)"
  if [ "$f" -gt 0 ]; then
    grep -E -A 15 '^ +Failed ' "$log" | head -n 200
    grep -qE '^ +Failed ' "$log" || tail -n 30 "$log" # the build or the test host failed
    status=1
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  # Leave the lab's mailbox full again (the suite's last test may have emptied it).
  if bash scripts/lab.sh status "$name" && [ "$(id -u)" -eq 0 ]; then bash scripts/lab.sh reset "$name" || true; fi
done

# A check outside Poplib.sln, counted as one test: on success it shows the lines of its output that
# match PATTERN (its summary), on failure all of its output.
counted() { # NAME PATTERN COMMAND...
  local name=$1 pattern=$2
  shift 2
  if "$@" >"$log" 2>&1; then
    grep -E "$pattern" "$log" || true
    passed=$((passed + 1))
  else
    cat "$log"
    echo "$name failed" >&2
    failed=$((failed + 1))
    status=1
  fi
}

# The micro-benchmarks in smoke mode (benchmarks/Poplib.Benchmarks, not in Poplib.sln): every
# benchmark once, its result checked, nothing timed. A few seconds.
counted "benchmark smoke run" '^benchmark smoke' dotnet run --project benchmarks/Poplib.Benchmarks -c Debug -- --smoke

# The dotnet tool as a user installs it: packed as a release is, its contents checked, installed,
# run. Half a minute.
counted "package check" '^package check' bash scripts/check-package.sh

# The Native AOT poplib against real peers (scripts/aot-smoke.sh): trimming and AOT failures only show at
# run time, so the published executable runs demo, serve, stat/uidl/list/retr over TLS (compared with the
# JIT build's output), fetch with SQLite state, --json, --status --json, --daemon and --state postgres://.
# One test; a minute or two (the AOT publish is incremental after check-package's).
counted "AOT smoke test" '^(ok: |aot smoke: )' bash scripts/aot-smoke.sh

# The crash test of `poplib fetch` (tests/Poplib.CrashTest, not in Poplib.sln): SIGKILLs the CLI at
# random moments, 50 times in each mode, and checks that no message is lost, duplicated or corrupted.
# A fresh random seed each time (printed, to replay); each mode counts as one test.
if dotnet build tests/Poplib.CrashTest -c Debug --nologo >"$log" 2>&1; then
  for mode in "maildir delete" "mbox keep" "lmtp delete"; do
    read -r destination policy <<<"$mode"
    # lmtp: --lmtp into a private Dovecot LMTP server (scripts/dovecot.sh); duplicates inside the
    # documented LMTP window are counted and printed, any other duplicate, loss or corruption fails.
    counted "crash test ($destination, $policy)" '^(time: |duplicated in the LMTP window|crash test \()' \
      dotnet run --project tests/Poplib.CrashTest -c Debug --no-build -- --mode "$destination" --policy "$policy" --kills 50 \
        $([ "$destination" = lmtp ] && echo --messages 200)
  done
  # The daemon: `poplib fetch --daemon --interval 1s` SIGKILLed mid-cycle 20 times, restarted, then
  # stopped with SIGTERM (exit 0). Half a minute.
  counted "crash test (maildir, delete, daemon)" '^(time: |crash test \()' \
    dotnet run --project tests/Poplib.CrashTest -c Debug --no-build -- --mode maildir --policy delete --kills 20 --daemon
  # The fleet (--fleet): 4 workers share 100 accounts through a private PostgreSQL (scripts/postgres.sh, started and
  # stopped by the test). `cli`: `poplib fetch --daemon --state postgres://…` workers SIGKILLed 30 times, the database
  # restarted twice, a worker frozen mid-run past its lease 5 times, plus the operator's bad inputs; `library`: workers
  # embedding PostgreSqlFetchWorker with a unique-key table sink, SIGKILLed 20 times, the database restarted once.
  # About 3½ minutes together on 2 cores.
  counted "fleet crash test (cli)" '^(time: |bad input|database restart|freeze |fleet crash test \()' \
    dotnet run --project tests/Poplib.CrashTest -c Debug --no-build -- --fleet cli --kills 30 --freezes 5 --db-restarts 2
  counted "fleet crash test (library)" '^(time: |sink: |database restart|fleet crash test \()' \
    dotnet run --project tests/Poplib.CrashTest -c Debug --no-build -- --fleet library --kills 20 --freezes 0 --db-restarts 1
else
  cat "$log"
  echo "crash test build failed" >&2
  failed=$((failed + 6)) # the three modes, the daemon and the two fleets
  status=1
fi

# The fuzzing harness (tests/Poplib.Fuzz, not in Poplib.sln; docs/fuzzing.md). The seed corpus and
# every crash input kept, replayed through the uninstrumented harness: one test, a few seconds. Then
# AFL++ for a minute on one core, instrumented, from the same inputs: one test that fails only on a
# crash or a hang. AFL++ (Debian's afl++) is installed as root when missing; without it that run is
# skipped, and under CI that is a failure.
if dotnet build tests/Poplib.Fuzz -c Debug --nologo >"$log" 2>&1; then
  counted "fuzz corpus replay" '^replay: ' \
    dotnet tests/Poplib.Fuzz/bin/Debug/net10.0/Poplib.Fuzz.dll --replay tests/Poplib.Fuzz/corpus tests/Poplib.Fuzz/crashes
else
  cat "$log"
  echo "fuzz harness build failed" >&2
  failed=$((failed + 1))
  status=1
fi
if ! command -v afl-fuzz >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends afl++ >"$log" 2>&1 \
    || { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends afl++ >"$log" 2>&1; } \
    || tail -5 "$log" >&2
fi
if command -v afl-fuzz >/dev/null 2>&1; then
  # Its findings stay in artifacts/fuzz-ci (ignored by git) for a look after a failure.
  counted "fuzz run (AFL++, 60 s)" '^fuzz: ' env FUZZ_OUT=artifacts/fuzz-ci bash scripts/fuzz.sh 60
elif [ "${CI:-}" = "true" ]; then
  echo "afl-fuzz is not installed (apt-get install afl++); under CI the fuzz run is required." >&2
  failed=$((failed + 1))
  status=1
else
  echo "warning: afl-fuzz is not installed (apt-get install afl++); the fuzz run is skipped." >&2
fi

line="tests: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
exit "$status"
