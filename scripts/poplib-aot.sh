#!/usr/bin/env bash
# Publishes `poplib` as users on this platform get it (Native AOT, Release, this machine's RID) into
# artifacts/aot/RID and prints the executable's path on stdout; the build's output goes to stderr only on
# failure. Trimming and AOT warnings fail the publish (TreatWarningsAsErrors reaches the ILCompiler).
# Incremental: a second call with unchanged sources takes seconds. For scripts that run the command
# (scripts/aot-smoke.sh, benchmarks/durable, lmtp, fleet, run --startup):
#
#   cli=$(bash scripts/poplib-aot.sh)            # …/artifacts/aot/linux-x64/poplib
#   cli=$(bash scripts/poplib-aot.sh --jit)      # the framework-dependent build instead: "dotnet …/Poplib.Cli.dll"
#
# With --jit it prints the command that runs the JIT build (Release), for measuring the old way.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

if [[ ${1:-} == --jit ]]; then
    log=$(mktemp)
    trap 'rm -f "$log"' EXIT
    dotnet build "$ROOT/src/Poplib.Cli" -c Release --nologo -v q -clp:ErrorsOnly >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
    echo "dotnet $ROOT/src/Poplib.Cli/bin/Release/net10.0/Poplib.Cli.dll"
    exit 0
fi
(($# == 0)) || { echo "usage: ${0##*/} [--jit]" >&2; exit 2; }

# The SDK's own RID for this machine (linux-x64, linux-arm64, linux-musl-x64 …): AOT compiles for the OS it runs on.
rid=$(dotnet --info | awk '$1 == "RID:" { print $2; exit }')
[[ -n $rid ]] || { echo "${0##*/}: cannot tell this machine's RID from dotnet --info" >&2; exit 1; }
out=$ROOT/artifacts/aot/$rid
log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet publish "$ROOT/src/Poplib.Cli" -c Release -r "$rid" -p:PublishAot=true -o "$out" --nologo -v q -clp:ErrorsOnly >"$log" 2>&1 \
    || { cat "$log" >&2; echo "${0##*/}: the AOT publish failed (clang and zlib1g-dev: scripts/install-deps.sh aot)" >&2; exit 1; }
# The tool's command name, as `dotnet tool install` names it; the assembly is Poplib.Cli (see the csproj).
ln -sf Poplib.Cli "$out/poplib"
echo "$out/poplib"
