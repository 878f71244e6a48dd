#!/usr/bin/env bash
# Build the default CMYK output-intent profile for press files: FOGRA39
# (ISO Coated v2), from the characterisation data in Debian's icc-profiles-free,
# with ArgyllCMS's colprof. Debian ships the data (FOGRA39L.ti3) but no profile.
#
# colprof stamps the build time into the profile header (bytes 24-35), so two
# machines would embed different bytes in every press file. The header date is
# pinned to PROFILE_DATE (ICC.1:2010 7.2.8); the profile ID (bytes 84-99), where
# set, is computed again (ICC.1:2010 7.2.18). Everything else colprof writes is
# the same on every run.
set -euo pipefail
out=${1:-.cache/icc/FOGRA39.icc}
PROFILE_DATE=${PROFILE_DATE:-2009-01-01T00:00:00}
[ -s "$out" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp /usr/share/color/icc/FOGRA39L.ti3 "$work/"
( cd "$work" && colprof -qm -D "FOGRA39 (ISO Coated v2 characterisation), built with ArgyllCMS" \
    -C "Characterisation data: FOGRA39L from icc-profiles-free" -O FOGRA39.icc FOGRA39L >/dev/null )
python3 - "$work/FOGRA39.icc" "$PROFILE_DATE" <<'PY'
import datetime, hashlib, struct, sys
path, when = sys.argv[1], datetime.datetime.fromisoformat(sys.argv[2])
data = bytearray(open(path, "rb").read())
data[24:36] = struct.pack(">6H", when.year, when.month, when.day, when.hour, when.minute, when.second)
if any(data[84:100]):
    masked = bytearray(data)
    masked[44:48] = masked[64:68] = b"\0" * 4
    masked[84:100] = b"\0" * 16
    data[84:100] = hashlib.md5(masked).digest()
open(path, "wb").write(bytes(data))
PY
mkdir -p "$(dirname "$out")"
mv "$work/FOGRA39.icc" "$out"
echo "Built $out"
