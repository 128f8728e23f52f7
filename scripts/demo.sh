#!/usr/bin/env bash
# The demo: runs the most complete flow sipcx supports, on an embedded default
# (no outside server): sipcx registrar, and sipcx register against it with the
# REGISTER -> 401 -> REGISTER with digest -> 200 flow, a refresh and Expires: 0.
# Usage: scripts/demo.sh BUILD_DIR
set -euo pipefail
build="${1:-build/release}"
here="$(cd "$(dirname "$0")/.." && pwd)"
sipcx="$build/sipcx"
[ -x "$sipcx" ] || { echo "demo: $sipcx not built (run make demo)" >&2; exit 1; }

echo "== sipcx parse: a broken message is judged, with the byte offset"
printf 'INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 4294967328\r\n\r\n' |
	"$sipcx" parse - || echo "(exit $? as documented: 1 = malformed)"
echo

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sipcx-demo.XXXXXX")
registrar_pid=
cleanup() {
	[ -n "$registrar_pid" ] && kill "$registrar_pid" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# The registrar takes a free port (port 0) and says which on its first line.
"$sipcx" registrar --listen udp:127.0.0.1:0 --user alice:secret --min-expires 2 \
	--duration 20 >"$tmp/registrar.out" 2>&1 &
registrar_pid=$!
for _ in $(seq 1 100); do
	grep -q '^listening on' "$tmp/registrar.out" && break
	sleep 0.05
done
port=$(sed -n 's/^listening on udp:127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/registrar.out")
[ -n "$port" ] || { echo "demo: the registrar did not start:" >&2; cat "$tmp/registrar.out" >&2; exit 1; }

echo "== sipcx registrar --listen udp:127.0.0.1:0 --user alice:secret --min-expires 2"
head -1 "$tmp/registrar.out"
echo
echo "== SIP_DEBUG=1 sipcx register --username alice --password secret --expiry 2 --duration 1.6 sip:127.0.0.1:$port"
SIP_DEBUG=1 "$sipcx" register --username alice --password secret --expiry 2 --duration 1.6 \
	"sip:127.0.0.1:$port" 2>"$tmp/trace"
echo
echo "-- on the wire (SIP_DEBUG=1 prints every message in full; here the start lines and the headers that matter)"
awk '
	/^--- [0-9:.]+ (SEND|RECV) / { split($0, f, " "); head = sprintf("%s %s %s %s %s", f[2], f[3], f[7], f[8], f[9]); first = 1; next }
	/^--- end/ { next }
	first { printf "%s  %s\n", head, $0; first = 0; next }
	/^(CSeq|Expires|Contact|WWW-Authenticate|Authorization): / {
		line = $0
		if (length(line) > 110) line = substr(line, 1, 107) "..."
		printf "        %s\n", line
	}' "$tmp/trace"
echo
kill -INT "$registrar_pid"
wait "$registrar_pid"
registrar_pid=
echo "-- the registrar saw"
tail -n +2 "$tmp/registrar.out"
