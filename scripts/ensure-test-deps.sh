#!/usr/bin/env bash
# Installs the system packages the test suite and benchmarks drive from outside Node:
#   redis-tools (redis-cli, redis-benchmark) and redis-server, for the RESP door tests and the side-by-side bench;
#   chromium, for the test that opens the harness report headless (playwright-core drives it);
#   iproute2 (ip, tc), for harness hosts in network namespaces.
# Runs before `npm test` (pretest). Installs with apt-get when run as root on Debian/Ubuntu;
# otherwise it says what to install. Set CORRAL_SKIP_SYSTEM_DEPS=1 to skip the check.
set -euo pipefail
[ "${CORRAL_SKIP_SYSTEM_DEPS:-0}" = "1" ] && exit 0
need=()
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v redis-benchmark >/dev/null 2>&1 || need+=(redis-tools)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v tc >/dev/null 2>&1 || need+=(iproute2)
[ ${#need[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${need[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-deps: installing ${pkgs}(apt-get)…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # --no-install-recommends: no service gets enabled beyond the package itself.
  apt-get install -y -qq --no-install-recommends ${pkgs} >/dev/null
  # Debian starts redis-server on 6379 when it installs it; the tests and benches start their own.
  if command -v systemctl >/dev/null 2>&1; then systemctl stop redis-server >/dev/null 2>&1 || true; fi
  pkill -x redis-server >/dev/null 2>&1 || true
  exit 0
fi
echo "ensure-test-deps: the tests need ${pkgs}. Install them (Debian/Ubuntu: sudo apt-get install ${pkgs}) or run this script as root." >&2
exit 1
