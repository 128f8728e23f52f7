#!/usr/bin/env bash
# The demo: the seed's whole flow on an embedded default (no outside server), on loopback:
# sipcx registrar (registrar + digest + a record-routing proxy), sipcx-client registered to it
# (REGISTER -> 401 -> REGISTER with digest -> 200, refresh at half the granted expiry), a
# sipcx dial --echo-check that calls the client through the registrar (INVITE, 100, 180,
# 200, ACK, RTP echoed both ways, BYE, 200), then SIGINT to the client (REGISTER Expires: 0).
# It prints the flow as it happened and exits 0 only if every step did.
# The registrar draws what it saw as a ladder when it stops (--ladder); DEMO_MERMAID=FILE keeps
# the same as a Mermaid diagram (docs/flow.md shows one).
# Usage: scripts/demo.sh BUILD_DIR
set -euo pipefail
build="${1:-build/release}"
sipcx="$build/sipcx"
client="$build/sipcx-client"
for b in "$sipcx" "$client"; do
	[ -x "$b" ] || {
		echo "demo: $b not built (run make demo)" >&2
		exit 1
	}
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sipcx-demo.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
# wait_for FILE REGEX SECONDS: until FILE has a matching line (bounded).
wait_for() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

echo "== sipcx parse: a broken message is judged, with the byte offset"
printf 'INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 4294967328\r\n\r\n' |
	"$sipcx" parse - || echo "(exit $? as documented: 1 = malformed)"
echo

# 1. The registrar takes a free port (port 0) and says which on its first line.
"$sipcx" registrar --listen udp:127.0.0.1:0 --user alice:secret --user bob:bobpw \
	--duration 60 --ladder --mermaid "$tmp/flow.mmd" >"$tmp/registrar.out" 2>&1 &
pids+=($!)
wait_for "$tmp/registrar.out" '^listening on' 5 || {
	cat "$tmp/registrar.out" >&2
	exit 1
}
port=$(sed -n 's/^listening on udp:127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/registrar.out")
echo "== sipcx registrar --listen udp:127.0.0.1:0 --user alice:secret --user bob:bobpw"
head -1 "$tmp/registrar.out"
echo

# 2. The client of the seed: configured from the environment, SIP_DEBUG=1 traces the wire.
echo "== SIP_SERVER=127.0.0.1:$port SIP_USERNAME=alice SIP_PASSWORD=secret SIP_LISTEN=127.0.0.1:0 SIP_RINGTIME=1 SIP_DEBUG=1 sipcx-client"
SIP_SERVER="127.0.0.1:$port" SIP_USERNAME=alice SIP_PASSWORD=secret SIP_LISTEN=127.0.0.1:0 \
	SIP_RINGTIME=1 SIP_DEBUG=1 "$client" >"$tmp/client.out" 2>"$tmp/client.trace" &
client_pid=$!
pids+=($client_pid)
wait_for "$tmp/client.out" 'registered' 10 || {
	cat "$tmp/client.out" "$tmp/client.trace" >&2
	exit 1
}

# 3. A call to alice through the registrar, with the echo checked, then hung up.
echo "== sipcx dial sip:alice@127.0.0.1:$port --echo-check --duration 2 (through the registrar)"
dial_rc=0
"$sipcx" dial "sip:alice@127.0.0.1:$port" --username bob --password bobpw --echo-check \
	--duration 2 --timeout 10 >"$tmp/dial.out" 2>&1 || dial_rc=$?
cat "$tmp/dial.out"
echo
wait_for "$tmp/client.out" 'back to listening' 10 || true

# 4. Ctrl-C: the client closes the dialog if any, unregisters, exits.
kill -INT "$client_pid"
client_rc=0
wait "$client_pid" || client_rc=$?
echo "-- sipcx-client, step by step (exit $client_rc)"
cat "$tmp/client.out"
echo
echo "-- on the wire, as the client saw it (SIP_DEBUG=1 prints each message in full; here the"
echo "   start lines and the headers that matter)"
awk '
	/^--- [0-9:.]+ (SEND|RECV) / { split($0, f, " "); head = sprintf("%s %s %-4s", f[2], f[3], f[7]); first = 1; next }
	/^--- end/ { next }
	first { printf "%s  %s\n", head, $0; first = 0; next }
	/^(CSeq|Expires|WWW-Authenticate|Authorization): / {
		line = $0
		if (length(line) > 100) line = substr(line, 1, 97) "..."
		printf "                         %s\n", line
	}' "$tmp/client.trace"
echo
kill -INT "${pids[0]}" 2>/dev/null || true
wait "${pids[0]}" 2>/dev/null || true
echo "-- the registrar saw (its events, then the whole flow as a ladder: sipcx registrar --ladder)"
tail -n +2 "$tmp/registrar.out"
echo
[ -n "${DEMO_MERMAID:-}" ] && cp "$tmp/flow.mmd" "$DEMO_MERMAID"

# 5. Every step of the seed's flow, or the demo fails.
missing=0
step() {
	if grep -qE -- "$2" "$3"; then
		printf '  ok  %s\n' "$1"
	else
		printf '  MISSING  %s\n' "$1"
		missing=$((missing + 1))
	fi
}
echo "== the seed's flow"
trace="$tmp/client.trace"
step "REGISTER sent" '^REGISTER sip:' "$trace"
step "401 Unauthorized (digest challenge)" '^SIP/2.0 401' "$trace"
step "REGISTER with Authorization" '^Authorization: Digest' "$trace"
step "200 OK: registered, refresh at half the granted expiry" 'refresh every 900 s' "$tmp/client.out"
step "INVITE received" '^INVITE sip:alice@' "$trace"
step "100 Trying" '^SIP/2.0 100 Trying' "$trace"
step "180 Ringing" '^SIP/2.0 180 Ringing' "$trace"
step "200 OK with SDP" '^Content-Type: application/sdp' "$trace"
step "ACK" '^ACK sip:' "$trace"
step "RTP echoed both ways" 'echo ok: [0-9]+ sent, [0-9]+ back' "$tmp/dial.out"
step "BYE and its 200 OK" '^BYE sip:' "$trace"
step "the call ended, back to listening" 'back to listening' "$tmp/client.out"
step "REGISTER Expires: 0 on Ctrl-C" '^Expires: 0' "$trace"
step "unregistered" 'unregistered' "$tmp/client.out"
step "the ladder of the whole flow" '\|[-<]+INVITE \(SDP\)[->]+\|' "$tmp/registrar.out"
[ "$dial_rc" -eq 0 ] || {
	echo "  sipcx dial exited $dial_rc"
	missing=$((missing + 1))
}
[ "$client_rc" -eq 0 ] || {
	echo "  sipcx-client exited $client_rc"
	missing=$((missing + 1))
}
if [ "$missing" -ne 0 ]; then
	echo "demo: $missing step(s) missing"
	exit 1
fi
echo "demo: every step of the flow happened"
