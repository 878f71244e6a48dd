#!/usr/bin/env bash
# Build the default CMYK output-intent profile for press files: FOGRA39
# (ISO Coated v2), from the characterisation data in Debian's icc-profiles-free,
# with ArgyllCMS's colprof. Debian ships the data (FOGRA39L.ti3) but no profile.
set -euo pipefail
out=${1:-.cache/icc/FOGRA39.icc}
[ -s "$out" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp /usr/share/color/icc/FOGRA39L.ti3 "$work/"
( cd "$work" && colprof -qm -D "FOGRA39 (ISO Coated v2 characterisation), built with ArgyllCMS" \
    -C "Characterisation data: FOGRA39L from icc-profiles-free" -O FOGRA39.icc FOGRA39L >/dev/null )
mkdir -p "$(dirname "$out")"
mv "$work/FOGRA39.icc" "$out"
echo "Built $out"
