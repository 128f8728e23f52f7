#!/usr/bin/env bash
# Hold and resume from our side (RFC 3264 8.4, RFC 3261 14.1), on loopback:
# - a SIPp UAS checks that `sipcx dial --hold-after --hold-for` re-INVITEs with a=sendonly, then
#   a=sendrecv, each ACKed; the answer's recvonly is taken (exit 0);
# - the same UAS refusing the hold with 488: the call goes on, dial says so and exits 1;
# - against `sipcx answer --echo`: the held side stops sending (the echo pauses: about 50
#   packets fewer come back), the answerer reports "on hold" then "active"; --json has the two
#   media lines with local_hold true, then false;
# - --hold-inactive offers a=inactive: neither side sends while held.
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need sipp timeout python3
need_sipcx

# rtp_counts FILE: "TX RX" of the end line of a sipcx dial run.
rtp_counts() {
	sed -n 's/.*rtp tx \([0-9]*\) rx \([0-9]*\) .*/\1 \2/p' "$1" | tail -1
}

# --- SIPp checks the two re-INVITEs. ----------------------------------------------------------
ports S 4
sipp_bg hold -sf uas_hold.xml -i 127.0.0.1 -mi 127.0.0.1 -p "$S" -mp $((S + 2)) -m 1 \
	-key refuse 0 -timeout 20s -timeout_error -trace_logs -log_file "$TMP/hold_sipp.log"
UAS=$SIPP_PID
wait_listen udp "$S" || exit 1
check "dial --hold-after 0.5 --hold-for 1: exit 0" 0 "$SIPCX" dial "sip:x@127.0.0.1:$S" \
	--duration 2.5 --hold-after 0.5 --hold-for 1
expect "on hold" 'call 1: on hold, media to '
expect "then resumed" 'call 1: resumed, media to '
wait "$UAS"
ok_if "sipp: the re-INVITEs offered sendonly, then sendrecv, and were ACKed" $? "$TMP/hold.log" \
	"$TMP/hold_sipp.log"
grep -q 'hold offered: a=sendonly' "$TMP/hold_sipp.log" &&
	grep -q 'resume offered: a=sendrecv' "$TMP/hold_sipp.log"
ok_if "sipp saw a=sendonly, then a=sendrecv" $? "$TMP/hold_sipp.log"

ports S 4
sipp_bg refuse -sf uas_hold.xml -i 127.0.0.1 -mi 127.0.0.1 -p "$S" -mp $((S + 2)) -m 1 \
	-key refuse 1 -timeout 20s -timeout_error
UAS=$SIPP_PID
wait_listen udp "$S" || exit 1
check "hold refused with 488: exit 1" 1 "$SIPCX" dial "sip:x@127.0.0.1:$S" --duration 2.5 \
	--hold-after 0.5 --hold-for 1
expect "says so, and the call went on to its end" 're-INVITE refused: 488 Not Acceptable Here'
expect "ended by us at the end of --duration" 'ended by local after 2\.[45]'
wait "$UAS"
ok_if "sipp: the refusal was ACKed, the call ended with BYE" $? "$TMP/refuse.log"

# --- Against sipcx answer --echo: the held side stops sending. -------------------------------
ports A 1
"$SIPCX" answer --listen "udp:127.0.0.1:$A" --echo --count 2 >"$TMP/echo.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/echo.out" '^listening on ' 10 || exit 1
timeout 30 "$SIPCX" dial "sip:x@127.0.0.1:$A" --duration 3 --hold-after 1 --hold-for 1 \
	>"$TMP/dial.out" 2>&1
ok_if "dial --hold-after 1 --hold-for 1 against the echo: exit 0" $? "$TMP/dial.out"
read -r tx rx <<<"$(rtp_counts "$TMP/dial.out")"
[ -n "$tx" ] && [ "$rx" -lt $((tx - 30)) ] && [ "$rx" -gt $((tx - 80)) ]
ok_if "held for 1 s of 3: the echo paused (tx $tx, rx $rx: about 50 fewer)" $? "$TMP/dial.out"
wait_for "$TMP/echo.out" 'ended .* by remote' 10
grep -q 'media changed by .*: on hold' "$TMP/echo.out" &&
	grep -q 'media changed by .*: active' "$TMP/echo.out"
ok_if "the answerer saw: on hold, then active" $? "$TMP/echo.out"

timeout 30 "$SIPCX" dial "sip:x@127.0.0.1:$A" --duration 3 --hold-after 1 --hold-for 1 \
	--hold-inactive --json --trace >"$TMP/inactive.json" 2>"$TMP/inactive.trace"
ok_if "dial --hold-inactive: exit 0" $? "$TMP/inactive.json" "$TMP/inactive.trace"
grep -q '^a=inactive' "$TMP/inactive.trace"
ok_if "the hold re-INVITE offered a=inactive" $? "$TMP/inactive.trace"
python3 - "$TMP/inactive.json" >"$TMP/inactive.check" 2>&1 <<'EOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
media = [e for e in ev if e["event"] == "media"]
assert [m["local_hold"] for m in media] == [True, False], media
assert all(m["status"] == 200 for m in media), media
call = [e for e in ev if e["event"] == "call"][0]
tx, rx = call["rtp"]["tx"], call["rtp"]["rx"]
# neither side sent for about a second: both counts about 50 below a 3 s call's 150
assert 80 < tx < 125 and 80 < rx < 125, (tx, rx)
print("ok", tx, rx)
EOF
ok_if "json: media lines local_hold true then false; neither side sent while inactive" $? \
	"$TMP/inactive.check" "$TMP/inactive.json"

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
finish
