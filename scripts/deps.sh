#!/usr/bin/env bash
# Install the Debian 12 packages sipcx needs for one purpose, only those missing.
#   scripts/deps.sh build   compile the library, the CLI and the examples
#   scripts/deps.sh test    build + unit tests, sanitizers, real peers (kamailio, SIPp)
#   scripts/deps.sh bench   test + peer SIP parsers and profilers for bench/, baresip for bench_calls
# Idempotent: says what it installs, installs nothing when all is there.
# Exit codes: 0 ok, 1 install failed, 2 usage.
set -euo pipefail

purpose="${1:-build}"
build_pkgs=(build-essential cmake pkg-config libuv1-dev libssl-dev libopus-dev libspandsp-dev libsrtp2-dev
	libc-ares-dev libwslay-dev)
test_pkgs=(clang libclang-rt-14-dev clang-format libcmocka-dev kamailio kamailio-tls-modules kamailio-websocket-modules sip-tester baresip-core
	dnsmasq-base tshark tcpdump ngrep jq iproute2 procps python3 valgrind)
bench_pkgs=(libosip2-dev libsofia-sip-ua-dev libre-dev baresip-core)

case "$purpose" in
build) want=("${build_pkgs[@]}") ;;
test) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
bench) want=("${build_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
-h | --help)
	sed -n '2,7p' "$0"
	exit 0
	;;
*)
	echo "deps.sh: unknown purpose '$purpose' (build|test|bench)" >&2
	exit 2
	;;
esac

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps.sh: all $purpose packages present"
	exit 0
fi

echo "deps.sh: installing for $purpose: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || {
		echo "deps.sh: need root (or sudo) to install: ${missing[*]}" >&2
		exit 1
	}
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# An old or absent package list is the usual reason an install fails: refresh once.
$SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/sipcx-deps.log 2>&1 || {
	$SUDO apt-get update >>/tmp/sipcx-deps.log 2>&1 || true
	$SUDO apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/sipcx-deps.log 2>&1 || {
		tail -20 /tmp/sipcx-deps.log >&2
		echo "deps.sh: apt-get install failed (log: /tmp/sipcx-deps.log)" >&2
		exit 1
	}
}
# kamailio's package enables a system service; tests start their own instance.
if [ "$purpose" != build ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
	$SUDO systemctl disable --now kamailio >/dev/null 2>&1 || true
fi
echo "deps.sh: installed ${missing[*]}"
