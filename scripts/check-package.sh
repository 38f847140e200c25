#!/usr/bin/env bash
# Packs the poplib dotnet tool as a release would and checks what a user gets. The tool is .NET 10's
# RID-specific kind (src/Poplib.Cli/Poplib.Cli.csproj): a pointer package Poplib.Cli naming its platform
# packages, Poplib.Cli.linux-x64 (the Native AOT executable; AOT compiles only for the OS it runs on, so
# it is packed here only on linux-x64) and Poplib.Cli.any, the framework-dependent fallback every other
# platform installs. Each carries what runs (no .pdb, .dbg, .xml, no translations; the fallback SQLite
# only for Linux/macOS/Windows on x64/arm64) and records its sources' commit. Installed from a local
# feed, linux-x64 must get the native executable: the running `poplib` maps no CoreCLR. `poplib --help`
# and `poplib stat` against `poplib serve` are run and timed (reported, not asserted: a timing is no
# test). Then the library packages Poplib and Poplib.MimeKit: the core depends on no MIME library,
# Poplib.MimeKit on exactly its Poplib and the pinned MimeKit, each with its README, XML docs and commit.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=serve-maildir.sh
. scripts/serve-maildir.sh
work=$(mktemp -d)
server_pid=""
cleanup() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "package check: $*" >&2; exit 1; }
pack() { # ARGS... — dotnet pack of the tool into $work/pkg, its log shown only on failure
    dotnet pack src/Poplib.Cli -c Release -o "$work/pkg" --nologo -v quiet "$@" >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; exit 1; }
}

rid=$(dotnet --info | awk '$1 == "RID:" { print $2; exit }')
pack                                   # the pointer package
pack -r any -p:PublishAot=false        # the portable fallback
native_rids=$(grep -oE '<ToolPackageRuntimeIdentifiers>[^<]*' src/Poplib.Cli/Poplib.Cli.csproj | sed 's/.*>//; s/;any//; s/any;//')
if [[ ";$native_rids;" == *";$rid;"* ]]; then
    pack -r "$rid"                     # the Native AOT package for this machine
else
    echo "package check: this machine ($rid) packs no native package; only the fallback is installed" >&2
fi
pointer=$(ls "$work"/pkg/Poplib.Cli.[0-9]*.nupkg)
version=$(basename "$pointer" .nupkg | sed 's/^Poplib.Cli.//')
fallback=$work/pkg/Poplib.Cli.any.$version.nupkg

# The pointer: metadata only, naming every platform package, the fallback among them.
settings=$(unzip -p "$pointer" tools/any/any/DotnetToolSettings.xml)
for r in ${native_rids//;/ } any; do
    grep -q "RuntimeIdentifier=\"$r\" Id=\"Poplib.Cli.$r\"" <<<"$settings" || fail "the pointer package names no Poplib.Cli.$r"
done
tool_spec=$(unzip -p "$pointer" Poplib.Cli.nuspec)
grep -q '<packageType name="DotnetTool"' <<<"$tool_spec" || fail "the pointer package is not a DotnetTool"
grep -qE '<repository [^>]*commit="[0-9a-f]{40}"' <<<"$tool_spec" || fail "the nuspec records no commit (SourceLink off?)"
grep -q 'fetch' <<<"$tool_spec" || fail "the description does not mention fetch"
readme=$(unzip -p "$pointer" README.md)
grep -q 'dotnet tool install' <<<"$readme" || fail "the package README is not the tool's own"
grep -q 'Native AOT' <<<"$readme" || fail "the package README does not say what each platform gets"

# Every platform package: what runs, no more.
for package in "$work"/pkg/Poplib.Cli.*.*.nupkg; do
    [[ $package == "$pointer" ]] && continue
    name=$(basename "$package" ".$version.nupkg")
    files=$(unzip -Z1 "$package")
    tooling=$(grep '^tools/' <<<"$files" | grep -v '/DotnetToolSettings.xml$' || true)
    ! grep -qE '\.(pdb|dbg|xml)$' <<<"$tooling" || fail "$name: debug or documentation files packed: $(grep -E '\.(pdb|dbg|xml)$' <<<"$tooling" | head -3)"
    ! grep -qE '/[a-z]{2}(-[A-Za-z]+)?/[^/]+\.resources\.dll$' <<<"$files" || fail "$name: translations packed"
    grep -qE '<repository [^>]*commit="[0-9a-f]{40}"' <<<"$(unzip -p "$package" "$name.nuspec")" || fail "the $name nuspec records no commit"
done
size=$(stat -c %s "$fallback")
((size < 10 * 1024 * 1024)) || fail "$(basename "$fallback") is $size bytes (over 10 MiB)"
files=$(unzip -Z1 "$fallback")
grep -qx 'tools/net10.0/any/Poplib.Cli.dll' <<<"$files" || fail "the fallback carries no Poplib.Cli.dll"
runtimes=$(grep -oE 'runtimes/[^/]+/' <<<"$files" | sort -u | sed 's|runtimes/||; s|/||' | tr '\n' ' ')
[[ "$runtimes" == "linux-arm64 linux-musl-arm64 linux-musl-x64 linux-x64 osx-arm64 osx-x64 win-arm64 win-x64 " ]] || fail "the fallback's native builds are for: $runtimes"
# The fallback runs wherever .NET does: here, as the runtime host would start it.
unzip -q "$fallback" 'tools/*' -d "$work/any"
grep -q '^  poplib \[command\] \[options\]' <<<"$(dotnet "$work/any/tools/net10.0/any/Poplib.Cli.dll" --help)" || fail "the fallback does not run"
summary="fallback Poplib.Cli.any $((size / 1024)) KiB (framework-dependent, SQLite for ${runtimes% })"

dotnet tool install --tool-path "$work/tool" --add-source "$work/pkg" Poplib.Cli --version "$version" >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
poplib=$work/tool/poplib
help=$("$poplib" --help)
grep -q '^  poplib \[command\] \[options\]' <<<"$help" || fail "the installed tool's usage line: $(grep -A1 Usage <<<"$help" | tail -1)"

# What was installed, judged by the running process: a native AOT executable maps no CoreCLR (libcoreclr.so)
# and no host (libhostfxr.so); a framework-dependent tool maps both.
mkdir -p "$work/mail/new" "$work/mail/cur" "$work/mail/tmp"
for i in 1 2 3; do printf 'From: a@example.org\nSubject: %s\n\nbody %s\n' "$i" "$i" >"$work/mail/new/$i.check:2,"; done
export CHECK_PW=check-$$
serve_maildir "$poplib" "$work/mail" implicit check CHECK_PW "$work/server.pem" "$work/serve" || fail "the installed poplib serve did not start"
server_pid=$SERVE_PID port=$SERVE_PORT
maps=$(cat "/proc/$server_pid/maps")
if [[ ";$native_rids;" == *";$rid;"* ]]; then
    ! grep -qE 'lib(coreclr|hostfxr)\.so' <<<"$maps" || fail "the installed poplib runs on CoreCLR (expected the Native AOT package on $rid)"
    kind="Native AOT ($rid)"
else
    grep -q 'libcoreclr\.so' <<<"$maps" || fail "the installed poplib is neither Native AOT nor the framework-dependent fallback"
    kind="framework-dependent fallback"
fi
stat_args=(stat --host localhost --port "$port" --ssl --user check --password-env CHECK_PW --ca-file "$work/server.pem")
[[ $("$poplib" "${stat_args[@]}") == "3 messages"* ]] || fail "the installed poplib stat: $("$poplib" "${stat_args[@]}" 2>&1)"

# Process time, median of 5 (user+sys from the kernel's rusage, and wall), reported for the record.
read -r help_cpu help_wall < <(python3 scripts/proctime.py -n 5 -- "$poplib" --help)
read -r stat_cpu stat_wall < <(python3 scripts/proctime.py -n 5 -- "$poplib" "${stat_args[@]}")
echo "package check: Poplib.Cli $version installs as $kind; $summary"
echo "package check: installed poplib --help ${help_cpu} ms CPU (${help_wall} ms wall), stat over TLS ${stat_cpu} ms CPU (${stat_wall} ms wall), median of 5"

for project in Poplib Poplib.MimeKit; do
    dotnet pack "src/$project" -c Release -o "$work/lib" --nologo -v quiet >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; exit 1; }
done
core=$(ls "$work"/lib/Poplib.[0-9]*.nupkg)
mime=$(ls "$work"/lib/Poplib.MimeKit.[0-9]*.nupkg)
version=$(basename "$core" .nupkg | sed 's/^Poplib\.//')
core_spec=$(unzip -p "$core" Poplib.nuspec)
mime_spec=$(unzip -p "$mime" Poplib.MimeKit.nuspec)
! grep -qiE '<dependency id="(MimeKit|MailKit)' <<<"$core_spec" || fail "the Poplib package depends on a MIME library"
grep -qE "<dependency id=\"Poplib\" version=\"\[?$version" <<<"$mime_spec" || fail "Poplib.MimeKit does not depend on Poplib $version"
mimekit=$(grep -o 'Include="MimeKit" Version="[^"]*"' Directory.Packages.props | cut -d'"' -f4)
grep -qE "<dependency id=\"MimeKit\" version=\"\[?$mimekit" <<<"$mime_spec" || fail "Poplib.MimeKit does not depend on MimeKit $mimekit"
for package in "$core" "$mime"; do
    name=$(basename "$package" ".$version.nupkg")
    # Listed into variables first: under pipefail, grep -q closing the pipe early would fail the check by SIGPIPE.
    listing=$(unzip -Z1 "$package")
    spec=$(unzip -p "$package" "$name.nuspec")
    grep -qx "lib/net10.0/$name.xml" <<<"$listing" || fail "$name carries no XML documentation"
    grep -qE '<repository [^>]*commit="[0-9a-f]{40}"' <<<"$spec" || fail "the $name nuspec records no commit"
done
grep -q 'RetrMimeMessage' <<<"$(unzip -p "$mime" README.md)" || fail "the Poplib.MimeKit package README is not its own"

# Poplib carries ReadyToRun copies beside its IL (build/ReadyToRun.targets): one per listed platform.
core_listing=$(unzip -Z1 "$core")
r2r_rids=$(grep -oE '<ReadyToRunPackageRuntimeIdentifiers[^>]*>[^<]*' build/ReadyToRun.targets | sed 's/.*>//')
for r in ${r2r_rids//;/ }; do
    grep -qx "runtimes/$r/lib/net10.0/Poplib.dll" <<<"$core_listing" || fail "Poplib carries no ReadyToRun copy for $r"
done
# An application built against the package from a local feed: portable, and published for this
# platform, must load Poplib precompiled where the package has a copy for this machine.
mkdir -p "$work/consumer"
cat >"$work/consumer/consumer.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
  <ItemGroup><PackageReference Include="Poplib" Version="$version" /></ItemGroup>
</Project>
XML
cat >"$work/consumer/Program.cs" <<'CS'
using System.Reflection.PortableExecutable;
string path = typeof(Poplib.Pop3Client).Assembly.Location;
using var pe = new PEReader(File.OpenRead(path));
bool precompiled = pe.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory.Size > 0;
Console.WriteLine($"{(precompiled ? "readytorun" : "il")} {path}");
CS
consumer() { # ARGS... of dotnet build/publish -> what the consumer prints
    dotnet "$@" "$work/consumer" -c Release --source "$work/lib" --source https://api.nuget.org/v3/index.json -p:RestorePackagesPath="$work/packages" --nologo -v quiet >"$work/consumer.log" 2>&1 \
        || { cat "$work/consumer.log"; fail "the consumer of the Poplib package did not build"; }
}
consumer build -o "$work/consumer/portable"
portable=$(dotnet "$work/consumer/portable/consumer.dll")
consumer publish -r "$rid" --self-contained false -o "$work/consumer/$rid"
published=$("$work/consumer/$rid/consumer")
if [[ ";$r2r_rids;" == *";$rid;"* ]]; then
    [[ $portable == "readytorun "*"/runtimes/$rid/lib/net10.0/Poplib.dll" ]] || fail "a portable application on $rid does not load the ReadyToRun copy: $portable"
    [[ $published == "readytorun "* ]] || fail "an application published for $rid does not get the ReadyToRun copy: $published"
    echo "package check: Poplib carries ReadyToRun copies for ${r2r_rids//;/, }; a portable application and one published for $rid load the $rid copy"
else
    [[ $portable == "il "* && $published == "il "* ]] || fail "on $rid, which has no copy, the IL must be loaded: $portable / $published"
    echo "package check: Poplib carries ReadyToRun copies for ${r2r_rids//;/, }; this machine ($rid) has none and loads the IL"
fi
echo "package check: Poplib $version depends on no MIME library; Poplib.MimeKit $version depends on Poplib $version and MimeKit $mimekit"
