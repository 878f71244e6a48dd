#!/usr/bin/env bash
# Install the Debian packages policyprint needs, only those that are missing.
#   libpango / libharfbuzz-subset0  WeasyPrint's text layout and fast font subsetting
#   openjdk-17-jdk-headless, libjaxb-java  run (and compile the small runner for) veraPDF
#   poppler-utils, qpdf               page previews and structural checks in tests
#   ghostscript, icc-profiles-free    CMYK ICC data for the print variant
#   argyll                            builds the FOGRA39 profile from that data (colprof)
#   chromium, chromium-driver         the real browser the catalogue's tests drive (selenium uses
#                                     Debian's /usr/bin/chromedriver; nothing downloads a browser)
#   npm                               installs the pinned axe-core (package-lock.json), unless an
#                                     npm is already on the PATH (e.g. from nodejs itself)
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig
          openjdk-17-jdk-headless libjaxb-java poppler-utils qpdf
          ghostscript icc-profiles-free argyll python3-venv chromium chromium-driver)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
