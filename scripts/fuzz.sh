#!/usr/bin/env bash
# Fuzzes the client with AFL++ (docs/fuzzing.md): builds tests/Poplib.Fuzz, instruments Poplib.dll
# with SharpFuzz.CommandLine (the local tool in .config/dotnet-tools.json), and runs afl-fuzz on one
# core for SECONDS (default 600) from the seed corpus and every kept crash input, with the POP3
# dictionary. Ends with one line:
#   fuzz: N execs, N paths, N crashes, N hangs in N s (N execs/s)
# Exit status: 0 when AFL++ found no crash and no hang; 1 otherwise (the inputs are under OUT/default/
# crashes and hangs: replay one with `dotnet OUT/bin/Poplib.Fuzz.dll --replay FILE`).
# Environment: FUZZ_OUT (default artifacts/fuzz) holds the build and AFL++'s findings; FUZZ_RESUME=1
# continues the findings there instead of starting afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
out=${FUZZ_OUT:-artifacts/fuzz}
command -v afl-fuzz >/dev/null || { echo "fuzz: afl-fuzz is not installed (apt-get install afl++)" >&2; exit 1; }

# Build and instrument a copy: the instrumented Poplib.dll never reaches another build's output.
rm -rf "$out/bin" "$out/seeds"
mkdir -p "$out"
dotnet tool restore >/dev/null
dotnet publish tests/Poplib.Fuzz -c Release -o "$out/bin" --nologo -v quiet >"$out/publish.log" 2>&1 || { cat "$out/publish.log"; exit 1; }
dotnet tool run sharpfuzz "$out/bin/Poplib.dll" >"$out/instrument.log" 2>&1 || { cat "$out/instrument.log"; exit 1; }

mkdir -p "$out/seeds"
cp tests/Poplib.Fuzz/corpus/* "$out/seeds/"
for file in tests/Poplib.Fuzz/crashes/*; do
  [[ "$file" == *.md ]] || cp "$file" "$out/seeds/crash-$(basename "$file")"
done

input=("-i" "$out/seeds")
if [[ "${FUZZ_RESUME:-}" == 1 && -d "$out/findings/default" ]]; then
  input=("-i" "-")
else
  rm -rf "$out/findings"
fi

# The target is `dotnet`, not an instrumented binary (SharpFuzz reports coverage itself); it runs in
# persistent mode, one session per input. -t: a session normally takes under a millisecond; SCRAM
# with a server's iteration count near the client's bound of 10,000,000 takes seconds.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_FORKSRV_INIT_TMOUT=60000 AFL_QUIET=1
# Login tries GSSAPI when a CAPA offers it, and the platform would first ask the machine's default
# realm's KDC for a ticket (DNS, the network): with an empty Kerberos configuration a name without a
# realm fails at once, offline, and Login moves on: an input that spells GSSAPI cannot stall a session.
export KRB5_CONFIG=/dev/null
set +e
afl-fuzz "${input[@]}" -o "$out/findings" -x tests/Poplib.Fuzz/pop3.dict -t 30000 -m none -V "$seconds" \
  -- dotnet "$out/bin/Poplib.Fuzz.dll" >"$out/afl.log" 2>&1
status=$?
set -e

stats="$out/findings/default/fuzzer_stats"
if [[ ! -f "$stats" ]]; then
  tail -40 "$out/afl.log"
  echo "fuzz: afl-fuzz exited with $status before writing its statistics" >&2
  exit 1
fi
stat() { awk -F' *: *' -v key="$1" '$1 == key { print $2 }' "$stats"; }
execs=$(stat execs_done)
paths=$(stat corpus_count)
crashes=$(stat saved_crashes)
hangs=$(stat saved_hangs)
runtime=$(stat run_time)
if [[ "$crashes" != 0 || "$hangs" != 0 ]]; then
  # What broke: each input replayed through the uninstrumented harness, which names the invariant.
  dotnet build tests/Poplib.Fuzz -c Debug --nologo -v quiet >/dev/null 2>&1 || true
  for file in "$out"/findings/default/crashes/id* "$out"/findings/default/hangs/id*; do
    [[ -f "$file" ]] || continue
    echo "== $file"
    timeout 60 dotnet tests/Poplib.Fuzz/bin/Debug/net10.0/Poplib.Fuzz.dll --replay "$file" 2>&1 | grep -E '^(FAILED|replay)' | cut -c1-600 || true
  done
fi
echo "fuzz: $execs execs, $paths paths, $crashes crashes, $hangs hangs in $runtime s ($(stat execs_per_sec) execs/s)"
[[ "$crashes" == 0 && "$hangs" == 0 ]]
