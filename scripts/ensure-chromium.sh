#!/usr/bin/env bash
# The audit report test renders the HTML page in Debian's Chromium (driven by playwright-core). Test tools'
# own browser downloads cannot work on these machines, so the project installs Debian's package itself.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "ossguard: installing Debian's chromium for the audit report test" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
