#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing: Chromium for browser tests
# (never a browser download: Playwright drives /usr/bin/chromium) and Noto CJK so Japanese pages
# render with real glyphs in screenshots and PDFs; Dovecot as the real IMAP server the report
# mailbox poller is tested against (the tests start their own instance; the system service is
# not used). Pango is what WeasyPrint lays the PDF digest out with; poppler-utils lets the tests
# read the PDF back (pdftotext) and render a page to PNG (pdftoppm).
#
# `ensure-system-packages.sh runtime` installs only what the application itself needs (Pango and
# Noto CJK for PDFs): `make demo` runs that; `make test` runs it with no argument, for everything.
set -euo pipefail

group="${1:-all}"
missing=()
fc-list 2>/dev/null | grep "Noto Sans CJK JP" >/dev/null || missing+=(fonts-noto-cjk)
ldconfig -p 2>/dev/null | grep "libpango-1.0.so.0" >/dev/null || missing+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep "libpangoft2-1.0.so.0" >/dev/null || missing+=(libpangoft2-1.0-0)
if [ "$group" != "runtime" ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  [ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
  command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" fontconfig >/dev/null
fc-cache -f >/dev/null 2>&1 || true
