#!/usr/bin/env bash
# The demo: runs the most complete flow sipcx supports, on an embedded default
# (no outside server). Usage: scripts/demo.sh BUILD_DIR
set -euo pipefail
build="${1:-build/release}"
here="$(cd "$(dirname "$0")/.." && pwd)"
sipcx="$build/sipcx"
[ -x "$sipcx" ] || { echo "demo: $sipcx not built (run make demo)" >&2; exit 1; }

echo "== sipcx parse: a sample INVITE (tests/data/msg_invite_sdp.sip)"
"$sipcx" parse "$here/tests/data/msg_invite_sdp.sip"
echo
echo "== sipcx parse --json: the same message"
"$sipcx" parse --json "$here/tests/data/msg_invite_sdp.sip"
echo
echo "== sipcx parse: a broken message is judged, with the byte offset"
printf 'INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 4294967328\r\n\r\n' |
	"$sipcx" parse - || echo "(exit $? as documented: 1 = malformed)"
