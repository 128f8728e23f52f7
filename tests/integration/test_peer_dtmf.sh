#!/usr/bin/env bash
# DTMF both ways and both kinds (RFC 4733 events in the RTP, SIP INFO with
# application/dtmf-relay), against SIPp and sipcx itself, on loopback:
# - SIPp calls `sipcx answer`: the RFC 4733 digit of SIPp's own capture (dtmf_2833_1.pcap)
#   and a digit by INFO arrive in order (--expect-dtmf 15 exits 0; --expect-dtmf 19 exits 1);
# - `sipcx dial --dtmf-mode info` calls a SIPp UAS that checks each INFO (content type,
#   Signal, Duration) and logs the digits: they come in order;
# - sipcx to sipcx, RFC 4733 and INFO, from the caller and from the answerer; tshark decodes
#   the events sipcx sent (its --pcap): marker on the first packet, the end three times, the
#   event code, volume 10 and a final duration of 800 (100 ms);
# - no telephone-event in the peer's SDP: the RFC 4733 send is refused with a clear line,
#   exit 1; a bad --dtmf is a usage error (2).
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need sipp timeout tshark python3
need_sipcx
[ -r /usr/share/sip-tester/dtmf_2833_1.pcap ] || skip "SIPp's dtmf_2833_1.pcap is missing"
SIPP_DIR=$SIPCX_SOURCE/tests/peers/sipp

# answer_bg NAME PORT ARGS...: sipcx answer on udp:127.0.0.1:PORT in the background, output in
# $TMP/NAME.out, its exit status in $TMP/NAME.rc once it ends; returns once it listens.
answer_bg() {
	local name=$1 port=$2
	shift 2
	("$SIPCX" answer --listen "udp:127.0.0.1:$port" --count 1 "$@" >"$TMP/$name.out" 2>&1
	echo $? >"$TMP/$name.rc") &
	PIDS+=($!)
	wait_for "$TMP/$name.out" '^listening on ' 10
}
# answer_rc NAME: its exit status, waiting for it at most 15 s.
answer_rc() {
	wait_for "$TMP/$1.rc" '^[0-9]+$' 15 && cat "$TMP/$1.rc" || echo timeout
}

# --- SIPp calls: RFC 4733 from SIPp's capture, then INFO. --------------------------------------
ports A 1
ports S 4
answer_bg in15 "$A" --expect-dtmf 15 || exit 1
(cd "$SIPP_DIR" && timeout 30 sipp -sf uac_dtmf.xml "127.0.0.1:$A" -i 127.0.0.1 -mi 127.0.0.1 \
	-p "$S" -mp $((S + 2)) -s bob -m 1 -timeout 20s -timeout_error -nostdin \
	>"$TMP/sipp_uac.out" 2>&1)
ok_if "sipp uac: the call with DTMF completes" $? "$TMP/sipp_uac.out"
[ "$(answer_rc in15)" = 0 ]
ok_if "answer --expect-dtmf 15: exit 0" $? "$TMP/in15.out"
grep -qE 'dtmf 1 from .* \(280 ms, rfc4733\)' "$TMP/in15.out"
ok_if "the RFC 4733 digit 1 of SIPp's capture, 280 ms (2240 units, its end packets)" $? \
	"$TMP/in15.out"
grep -qE 'dtmf 5 from .* \(160 ms, info\)' "$TMP/in15.out"
ok_if "the INFO digit 5, Duration=160" $? "$TMP/in15.out"

ports A 1
ports S 4
answer_bg in19 "$A" --expect-dtmf 19 || exit 1
(cd "$SIPP_DIR" && timeout 30 sipp -sf uac_dtmf.xml "127.0.0.1:$A" -i 127.0.0.1 -mi 127.0.0.1 \
	-p "$S" -mp $((S + 2)) -s bob -m 1 -timeout 20s -timeout_error -nostdin \
	>"$TMP/sipp_uac2.out" 2>&1)
[ "$(answer_rc in19)" = 1 ] && grep -q 'dtmf FAILED: expected 19, received "15"' "$TMP/in19.out"
ok_if "answer --expect-dtmf 19 when 15 came: says so, exit 1" $? "$TMP/in19.out"

# --- sipcx dial sends INFO to a SIPp UAS that checks each one. ---------------------------------
ports S 4
(cd "$SIPP_DIR" && timeout 30 sipp -sf uas_dtmf_info.xml -i 127.0.0.1 -p "$S" -mp $((S + 2)) \
	-m 1 -key digits 3 -timeout 20s -timeout_error -nostdin -trace_logs \
	-log_file "$TMP/uas_info.log" >"$TMP/sipp_uas.out" 2>&1
echo $? >"$TMP/sipp_uas.rc") &
PIDS+=($!)
wait_listen udp "$S" || exit 1
timeout 30 "$SIPCX" dial "sip:bob@127.0.0.1:$S" --dtmf '7#B' --dtmf-mode info --dtmf-delay 0.2 \
	--duration 1.5 >"$TMP/dial_info.out" 2>&1
ok_if "dial --dtmf-mode info: exit 0" $? "$TMP/dial_info.out"
wait_for "$TMP/sipp_uas.rc" '^[0-9]+$' 15
[ "$(cat "$TMP/sipp_uas.rc")" = 0 ]
ok_if "sipp uas: three INFOs checked (application/dtmf-relay, Signal, Duration)" $? \
	"$TMP/sipp_uas.out" "$TMP/uas_info.log"
got=$(sed -n 's/^dtmf by INFO: \(.\) .*/\1/p' "$TMP/uas_info.log" | tr -d '\n')
[ "$got" = '7#B' ]
ok_if "sipp uas: the digits came in order (got: $got)" $? "$TMP/uas_info.log"

# --- sipcx to sipcx: RFC 4733 both ways, checked by tshark too. --------------------------------
ports A 1
answer_bg rfc "$A" --expect-dtmf 2468 --dtmf 9 --dtmf-delay 0.1 || exit 1
# (--srtp off: plain RTP, so that tshark reads the events in the capture)
timeout 30 "$SIPCX" dial "sip:x@127.0.0.1:$A" --dtmf 2468 --dtmf-delay 0.2 --duration 1.6 \
	--expect-dtmf 9 --srtp off --pcap "$TMP/rfc.pcap" >"$TMP/dial_rfc.out" 2>&1
ok_if "dial --dtmf 2468 --expect-dtmf 9: exit 0" $? "$TMP/dial_rfc.out"
[ "$(answer_rc rfc)" = 0 ]
ok_if "answer --expect-dtmf 2468 --dtmf 9: exit 0" $? "$TMP/rfc.out"
tshark -r "$TMP/rfc.pcap" -d "udp.port==1-65535,rtp" -Y "rtpevent && ip.src == 127.0.0.1" \
	-T fields -e udp.srcport -e rtp.marker -e rtp.timestamp -e rtpevent.event_id \
	-e rtpevent.end_of_event -e rtpevent.volume -e rtpevent.duration \
	>"$TMP/events.tsv" 2>/dev/null
python3 - "$TMP/events.tsv" >"$TMP/events.check" 2>&1 <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
# the caller's events: its RTP port is the one that sent event 2
port = [r[0] for r in rows if r[3] == "2"][0]
ours = [r for r in rows if r[0] == port]
events = {}
for srcport, marker, ts, ev, end, vol, dur in ours:
    events.setdefault((ts, ev), []).append((marker, end, vol, int(dur)))
order = [ev for (ts, ev) in sorted(events, key=lambda k: int(k[0]))]
assert order == ["2", "4", "6", "8"], order
for key, pkts in events.items():
    assert pkts[0][0] in ("1", "True"), (key, pkts[0])             # marker on the first
    assert all(p[0] in ("0", "False") for p in pkts[1:]), key
    ends = [p for p in pkts if p[1] in ("1", "True")]
    assert len(ends) == 3 and all(p[3] == 800 for p in ends), (key, ends)  # 100 ms, 3 ends
    assert all(p[2] == "10" for p in pkts), key                         # volume 10
    durs = [p[3] for p in pkts]
    assert durs == sorted(durs), durs                                   # growing duration
print("ok")
EOF
ok_if "tshark: events 2 4 6 8, marker first, three ends of 800 units, volume 10" $? \
	"$TMP/events.check" "$TMP/events.tsv"
grep -q 'dtmf 9 (100 ms, rfc4733)' "$TMP/dial_rfc.out"
ok_if "the answerer's digit 9 reached the caller" $? "$TMP/dial_rfc.out"

# --- sipcx to sipcx by INFO. -----------------------------------------------------------------
ports A 1
answer_bg info "$A" --expect-dtmf '*0' || exit 1
timeout 30 "$SIPCX" dial "sip:x@127.0.0.1:$A" --dtmf '*0' --dtmf-mode info --dtmf-delay 0.1 \
	--duration 1 --json >"$TMP/dial_info2.out" 2>&1
ok_if "dial --dtmf '*0' --dtmf-mode info: exit 0" $? "$TMP/dial_info2.out"
[ "$(answer_rc info)" = 0 ] && grep -q "dtmf ok: expected \*0, received \"\*0\"" "$TMP/info.out"
ok_if "answer --expect-dtmf '*0' by INFO: exit 0" $? "$TMP/info.out"

# --- No telephone-event in the answer: refused, clearly. --------------------------------------
ports S 4
sipp_bg nodtmf -sf uas_answer.xml -i 127.0.0.1 -mi 127.0.0.1 -p "$S" -mp $((S + 2)) -m 1 \
	-timeout 20s -timeout_error
wait_listen udp "$S" || exit 1
check "no telephone-event: dial --dtmf exits 1" 1 "$SIPCX" dial "sip:bob@127.0.0.1:$S" --dtmf 1 \
	--dtmf-delay 0 --duration 0.5
expect "no telephone-event: says why and what to do" 'cannot send the DTMF: .*--dtmf-mode info'
check "bad --dtmf: exit 2" 2 "$SIPCX" dial "sip:bob@127.0.0.1:$S" --dtmf 12x
expect "bad --dtmf: one line" "bad --dtmf"
check "bad --dtmf-mode: exit 2" 2 "$SIPCX" answer --dtmf-mode sip
check "--echo-check with RFC 4733 DTMF: exit 2" 2 "$SIPCX" dial sip:x@127.0.0.1:9 --echo-check \
	--dtmf 1

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
finish
