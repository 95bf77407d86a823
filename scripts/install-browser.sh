#!/bin/sh
# Debian's Chromium for the report's browser test (tests/test_report_browser.py).
# Installs it with apt-get when /usr/bin/chromium is missing; does nothing otherwise.
set -eu
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
