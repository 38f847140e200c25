#!/usr/bin/env bash
# Packs the poplib dotnet tool as a release would and checks what a user gets: the package carries
# what runs (no .pdb, no .xml, no translations, SQLite only for Linux/macOS/Windows on x64/arm64),
# records its sources' commit, installs as a tool and calls itself poplib. Then the library packages
# Poplib and Poplib.MimeKit: the core depends on no MIME library, Poplib.MimeKit on exactly its Poplib
# and the pinned MimeKit, each with its README, XML docs and commit.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dotnet pack src/Poplib.Cli -c Release -o "$work/pkg" --nologo -v quiet >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; exit 1; }
nupkg=$(ls "$work"/pkg/Poplib.Cli.*.nupkg)
fail() { echo "package check: $*" >&2; exit 1; }

size=$(stat -c %s "$nupkg")
((size < 10 * 1024 * 1024)) || fail "$(basename "$nupkg") is $size bytes (over 10 MiB)"
files=$(unzip -Z1 "$nupkg")
tooling=$(grep '^tools/' <<<"$files" | grep -v '/DotnetToolSettings.xml$' || true)
! grep -qE '\.(pdb|xml)$' <<<"$tooling" || fail "debug or documentation files packed: $(grep -E '\.(pdb|xml)$' <<<"$tooling" | head -3)"
! grep -qE '/any/[a-z]{2}(-[A-Za-z]+)?/' <<<"$files" || fail "translations packed"
runtimes=$(grep -oE 'runtimes/[^/]+/' <<<"$files" | sort -u | sed 's|runtimes/||; s|/||' | tr '\n' ' ')
[[ "$runtimes" == "linux-arm64 linux-musl-arm64 linux-musl-x64 linux-x64 osx-arm64 osx-x64 win-arm64 win-x64 " ]] || fail "native builds for: $runtimes"
tool_spec=$(unzip -p "$nupkg" Poplib.Cli.nuspec)
grep -qE '<repository [^>]*commit="[0-9a-f]{40}"' <<<"$tool_spec" || fail "the nuspec records no commit (SourceLink off?)"
grep -q 'fetch' <<<"$tool_spec" || fail "the description does not mention fetch"
grep -q 'dotnet tool install' <<<"$(unzip -p "$nupkg" README.md)" || fail "the package README is not the tool's own"

dotnet tool install --tool-path "$work/tool" --add-source "$work/pkg" Poplib.Cli --version "$(basename "$nupkg" .nupkg | sed 's/^Poplib.Cli.//')" >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }
help=$("$work/tool/poplib" --help)
grep -q '^  poplib \[command\] \[options\]' <<<"$help" || fail "the installed tool's usage line: $(grep -A1 Usage <<<"$help" | tail -1)"
echo "package check: $(basename "$nupkg") $((size / 1024)) KiB, native builds for ${runtimes% }, installs and runs as poplib"

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
echo "package check: Poplib $version depends on no MIME library; Poplib.MimeKit $version depends on Poplib $version and MimeKit $mimekit"
