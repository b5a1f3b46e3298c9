#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser tests (test/dashboard/browser.test.ts)
# when /usr/bin/chromium is missing. Idempotent and quiet: prints nothing when it is already there.
# playwright-core drives this browser; `npx playwright install` cannot download on our machines.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then exit 0; fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: /usr/bin/chromium is missing and apt-get is not available; install chromium by hand" >&2
  exit 1
fi

SUDO=''
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO='sudo'; else
    echo "ensure-chromium: installing chromium needs root (or sudo)" >&2
    exit 1
  fi
fi

echo "ensure-chromium: installing chromium (apt-get) for the dashboard browser tests" >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# Output is kept and shown only when apt-get fails.
if ! { $SUDO apt-get update -qq &&
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "ensure-chromium: apt-get install chromium failed" >&2
  exit 1
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "ensure-chromium: apt-get finished but /usr/bin/chromium is still missing" >&2
  exit 1
fi
