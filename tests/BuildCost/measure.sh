#!/usr/bin/env bash
# A consumer's build with the PamtGen package against the same project without its generator and analyzers: median of
# N clean builds (dotnet build --no-incremental) and N incremental ones (one source file edited), the two projects
# built in turn so that drift on the machine falls on both. Everything below one temporary folder (removed at the end),
# NuGet's packages folder included; restore from this repository's pack and the machine's package sources.
#
#   tests/BuildCost/measure.sh [N]       (default 10; run after `dotnet build PamtGen.sln -c Release`)
#   COMPILER_SERVER=0 tests/BuildCost/measure.sh [N]
#
# By default the builds use the compiler server and MSBuild's node reuse, as the SDK does on a developer's machine
# (whatever the environment says; the servers are shut down at the end); COMPILER_SERVER=0 builds with a fresh
# compiler process each time (UseSharedCompilation=false), as CI machines such as this repository's often do: there
# the generator and analyzers are loaded and JIT-compiled in every build.
#
# "with": the README's first example as its Program.cs, the package referenced as a user does: the generator makes
# the geometry's code and the analyzers run. "without": the same Program.cs and the files the generator made for it
# (written out by the first project's EmitCompilerGeneratedFiles), and the package's runtime assembly referenced as a
# file: no package, so no generator and no analyzers. The difference is what the generator and analyzers cost in a
# build. (ExcludeAssets="analyzers" on the package reference would be the obvious way, but the SDK 10.0.401 still hands
# the package's analyzers to the compiler with it.)
set -euo pipefail
runs=${1:-10}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d -t pamtgen-build-cost.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
export NUGET_PACKAGES="$work/packages" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [ "${COMPILER_SERVER:-1}" = 0 ]; then
    export UseSharedCompilation=false MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
else
    unset UseSharedCompilation MSBUILDDISABLENODEREUSE DOTNET_CLI_USE_MSBUILD_SERVER
    trap '[ -n "${KEEP:-}" ] || rm -rf "$work"; dotnet build-server shutdown > /dev/null 2>&1 || true' EXIT
fi

dotnet pack "$repo/runtime/PamtGen.Runtime/PamtGen.Runtime.csproj" -c Release --no-build -o "$work/feed" > /dev/null
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/Directory.Build.props" | head -1)

# The README's first example, as the README tests run it.
program=$(awk '/^```csharp$/ { inside = 1; next } inside && /^```$/ { exit } inside { print }' "$repo/README.md")

# A build whose output is shown only when it fails.
build() { local log; if ! log=$(dotnet build "$@" 2>&1); then printf '%s\n' "$log" >&2; return 1; fi; }

consumer() { # name, the reference to PamtGen
    mkdir -p "$work/$1"
    cat > "$work/$1/$1.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <NuGetAudit>false</NuGetAudit>
  </PropertyGroup>
  <ItemGroup>
    $2
  </ItemGroup>
</Project>
PROJECT
    cat > "$work/$1/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="pamtgen-local" value="$work/feed" />
  </packageSources>
</configuration>
CONFIG
    printf '%s\n' "$program" > "$work/$1/Program.cs"
}

consumer With "<PackageReference Include=\"PamtGen\" Version=\"$version\" />"
build "$work/With" -c Release -p:EmitCompilerGeneratedFiles=true "-p:CompilerGeneratedFilesOutputPath=$work/generated"
consumer Without "<Reference Include=\"PamtGen.Runtime\" HintPath=\"$NUGET_PACKAGES/pamtgen/$version/lib/net10.0/PamtGen.Runtime.dll\" />"
find "$work/generated" -name '*.cs' -exec cp {} "$work/Without/" \;
build "$work/Without" -c Release # restore, and the build server warmed for both

seconds() { local start end; start=$(date +%s.%N); build "$1" -c Release --no-restore "${@:2}"; end=$(date +%s.%N); echo "$end - $start" | bc; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for kind in With Without; do : > "$work/$kind.clean"; : > "$work/$kind.incremental"; done
for ((i = 1; i <= runs; i++)); do
    for kind in With Without; do
        seconds "$work/$kind" --no-incremental >> "$work/$kind.clean"
        echo "// edit $i" >> "$work/$kind/Program.cs"
        seconds "$work/$kind" >> "$work/$kind.incremental"
    done
done

printf '%-12s %14s %14s %8s\n' build "with (s)" "without (s)" ratio
for build in clean incremental; do
    with=$(median < "$work/With.$build"); without=$(median < "$work/Without.$build")
    printf '%-12s %14.2f %14.2f %8.3f\n' "$build" "$with" "$without" "$(echo "$with / $without" | bc -l)"
done
echo "each the median of $runs builds; every run (s):"
for kind in With Without; do for build in clean incremental; do echo "  $kind $build: $(tr '\n' ' ' < "$work/$kind.$build")"; done; done
