#!/usr/bin/env bash
# Reliable provisional responses (RFC 3262) and session timers (RFC 4028) against SIPp, on
# loopback:
# - a SIPp UAS sends a reliable 183 with SDP: `sipcx dial` PRACKs it (RAck: RSeq CSeq INVITE),
#   drops a retransmission and an out-of-order RSeq, PRACKs the next ones in order; with
#   --late-offer the offer in a reliable 183 is answered in the PRACK (RFC 3262 5);
# - SIPp UACs Require or Support 100rel toward `sipcx answer --100rel required`: our 183/180
#   carries Require: 100rel and RSeq, a PRACK without RAck gets 400, one for an unknown RSeq
#   481, SIPp's real PRACK 200, then the 200 to the INVITE;
#   one that never PRACKs: the 180 is re-sent (T1 doubling) and after 64*T1 (32 s: this case
#   runs in the background while the others run) the INVITE gets 500;
# - `--100rel off` answers Require: 100rel with 420, `--100rel required` a caller without
#   100rel with 421;
# - a SIPp UAS answers 422 (Min-SE: 4) to `sipcx dial --session-expires 2 --min-se 1`: the
#   INVITE goes again with Session-Expires 4, the 200 makes us the refresher, and the refresh
#   (UPDATE, then re-INVITE with --refresh-method invite) comes about 2 s after the ACK;
# - a SIPp UAC with Session-Expires 3 that never refreshes: `sipcx answer --min-se 1` sends BYE
#   2 s after the ACK (SE - SE/3); Session-Expires 30 against the default Min-SE 90: 422;
# - sipcx dial against sipcx answer, both with 100rel required and a session timer.
# --min-se below 90 (the RFC 4028 floor) is what makes these intervals short enough to test.
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need sipp timeout
need_sipcx

# Ports: each SIPp takes six (-p X, and -mp X+2 with the three ports after it).
SIPP=(-i 127.0.0.1 -mi 127.0.0.1 -s bob -key caller alice -m 1 -timeout_error)

# answer_bg NAME ARGS...: sipcx answer --listen udp:127.0.0.1:$P --trace ARGS in the
# background (PID in ANS), its lines in NAME.out, its SIP trace in NAME.err; returns once it
# listens.
answer_bg() {
	local name=$1
	shift
	"$SIPCX" answer --listen "udp:127.0.0.1:$P" --trace "$@" >"$TMP/$name.out" \
		2>"$TMP/$name.err" &
	ANS=$!
	PIDS+=("$ANS")
	wait_for "$TMP/$name.out" '^listening on ' 10
}
# elapsed FILE WORD: seconds between the two gettimeofday pairs of the SIPp log line
# "times: ACK S.000000.U.000000 WORD S.000000.U.000000".
elapsed() {
	sed -n "s/.*times: ACK \([0-9]*\)\.[0-9]*\.\([0-9]*\)\.[0-9]* $2 \([0-9]*\)\.[0-9]*\.\([0-9]*\)\..*/\1 \2 \3 \4/p" \
		"$1" | awk '{printf "%.2f\n", ($3 - $1) + ($4 - $2) / 1e6}'
}
# between X LO HI: LO <= X <= HI (decimals).
between() {
	awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN {exit !(x != "" && x >= lo && x <= hi)}'
}

# --- Never PRACKed: started first, in the background (the 500 comes after 32 s). ------------
ports P 1
ports C 6
answer_bg noprack --ringtime 60s --100rel required --count 1 || exit 1
sipp_bg noprack-sipp -sf uac_100rel_noprack.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" \
	-mp $((C + 2)) -timeout 50s -trace_logs -log_file "$TMP/noprack-sipp.logs"
NOPRACK_SIPP=$SIPP_PID
NOPRACK_ANS=$ANS

# --- SIPp UAS: reliable 18x PRACKed in order. --------------------------------------------------
ports S 6
sipp_bg rel -sf uas_100rel.xml -i 127.0.0.1 -mi 127.0.0.1 -p "$S" -mp $((S + 2)) -m 1 \
	-timeout 20s -timeout_error -trace_logs -log_file "$TMP/rel_sipp.log"
UAS=$SIPP_PID
wait_listen udp "$S" || exit 1
check "dial against a UAS with reliable 18x: exit 0" 0 "$SIPCX" dial "sip:x@127.0.0.1:$S" \
	--duration 1 --json
expect "three reliable 18x PRACKed (json)" '"pracks":3'
wait "$UAS"
ok_if "sipp: INVITE offered 100rel; PRACKs for RSeq 1000, 1001, 1002 only, each once" $? \
	"$TMP/rel.log" "$TMP/rel_sipp.log"
grep -q 'INVITE offers 100rel' "$TMP/rel_sipp.log" &&
	grep -q 'PRACK a: RAck 1000 1 INVITE' "$TMP/rel_sipp.log" &&
	grep -q 'PRACK b: RAck 1001 1 INVITE' "$TMP/rel_sipp.log" &&
	grep -q 'PRACK c: RAck 1002 1 INVITE' "$TMP/rel_sipp.log"
ok_if "sipp logged Supported: 100rel and RAck 1000, 1001, 1002 (RSeq CSeq INVITE)" $? \
	"$TMP/rel_sipp.log"

# --- SIPp UAS offering in a reliable 183 (late offer): the PRACK answers. ---------------------
ports S 6
sipp_bg offer -sf uas_100rel_offer.xml -i 127.0.0.1 -mi 127.0.0.1 -p "$S" -mp $((S + 2)) -m 1 \
	-timeout 20s -timeout_error -trace_logs -log_file "$TMP/offer_sipp.log"
UAS=$SIPP_PID
wait_listen udp "$S" || exit 1
check "dial --late-offer against an offer in a reliable 183: exit 0" 0 "$SIPCX" dial \
	"sip:x@127.0.0.1:$S" --late-offer --duration 1
expect "the media follows that offer" 'answered 200 OK, PCMU/8000'
wait "$UAS"
ok_if "sipp: the PRACK carried the answer (m=audio, PCMU), the ACK no SDP" $? \
	"$TMP/offer.log" "$TMP/offer_sipp.log"

# --- SIPp UACs toward sipcx answer --100rel required. -----------------------------------------
for relhdr in Require Supported; do
	ports P 1
	ports C 6
	answer_bg "ans-$relhdr" --ringtime 300ms --early-media --100rel required --count 1
	ok_if "$relhdr: sipcx answer listens" $? "$TMP/ans-$relhdr.err"
	sipp_fg "uac-$relhdr" -sf uac_100rel.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" \
		-mp $((C + 2)) -key relhdr "$relhdr" -d 500 -timeout 20s -trace_logs \
		-log_file "$TMP/uac-$relhdr.logs"
	ok_if "$relhdr: 100rel: bad PRACKs get 400 and 481, SIPp's PRACK of our 183 200, then the 200" $? \
		"$TMP/uac-$relhdr.log" "$TMP/uac-$relhdr.logs"
	wait_for "$TMP/ans-$relhdr.out" '100rel: 1 reliable 18x PRACKed' 10
	ok_if "$relhdr: sipcx answer counted the PRACK" $? "$TMP/ans-$relhdr.out"
	awk '/^SIP\/2.0 183/ {on = 1} on && /^Require: 100rel/ {r = 1} on && /^RSeq: [0-9]+/ {s = 1}
		/^--- end/ {on = 0} END {exit !(r && s)}' "$TMP/ans-$relhdr.err"
	ok_if "$relhdr: our 183 had Require: 100rel and RSeq" $? "$TMP/ans-$relhdr.err"
done

# --- Extensions refused: 420 and 421. ---------------------------------------------------------
ports P 1
answer_bg off --100rel off --count 1 || exit 1
check "Require: 100rel to --100rel off: 420 (dial exits 1)" 1 "$SIPCX" dial \
	"sip:x@127.0.0.1:$P" --100rel required --duration 1
expect "420 Bad Extension" ' 420 '
grep -q '^Unsupported: 100rel' "$TMP/off.err"
ok_if "the 420 says Unsupported: 100rel" $? "$TMP/off.err"
kill "$ANS" 2>/dev/null
ports P 1
answer_bg req --100rel required --count 1 || exit 1
check "no 100rel to --100rel required: 421 (dial exits 1)" 1 "$SIPCX" dial \
	"sip:x@127.0.0.1:$P" --100rel off --duration 1
expect "421 Extension Required" ' 421 '
kill "$ANS" 2>/dev/null

# --- SIPp UAS: 422, then our refreshes at half the interval. ----------------------------------
for method in UPDATE INVITE; do
	low=$(tr 'A-Z' 'a-z' <<<"$method")
	ports S 6
	sipp_bg "timer-$low" -sf uas_timer.xml -i 127.0.0.1 -mi 127.0.0.1 -p "$S" -mp $((S + 2)) \
		-m 1 -key refresh "$method" -timeout 20s -timeout_error -trace_logs \
		-log_file "$TMP/timer-$low.logs"
	UAS=$SIPP_PID
	wait_listen udp "$S" || exit 1
	check "$method: dial --session-expires 2 --min-se 1 against 422 Min-SE 4: exit 0" 0 \
		"$SIPCX" dial "sip:x@127.0.0.1:$S" --session-expires 2 --min-se 1 \
		--refresh-method "$low" --duration 3
	expect "$method: the session timer is 4 s, ours to refresh, refreshed once" \
		'session timer: 4 s, refreshed by us, 1 refreshes'
	wait "$UAS"
	ok_if "$method: sipp: 422 retried with 4/4, the refresh came, BYE" $? \
		"$TMP/timer-$low.log" "$TMP/timer-$low.logs"
	grep -q 'retried: Session-Expires  *4, Min-SE  *4' "$TMP/timer-$low.logs" &&
		grep -q "refresh $method: Session-Expires 4;refresher=uac" "$TMP/timer-$low.logs"
	ok_if "$method: the retry asked 4 s (Min-SE 4); the refresh said refresher=uac" $? \
		"$TMP/timer-$low.logs"
	t=$(elapsed "$TMP/timer-$low.logs" refresh)
	# due at half of the 4 s (not before); late on a loaded machine, but before the expiry
	between "$t" 1.7 3.99
	ok_if "$method: the refresh came ${t:-?} s after the ACK (due at 2 s, before the 4 s expiry)" $? \
		"$TMP/timer-$low.logs"
done

# --- SIPp UAC that never refreshes: our BYE; a too small interval: 422. ------------------------
ports P 1
ports C 6
answer_bg expire --min-se 1 --count 1 || exit 1
sipp_fg uac-timer -sf uac_timer.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" -mp $((C + 2)) \
	-key se 3 -timeout 20s -trace_logs -log_file "$TMP/uac-timer.logs"
ok_if "SIPp (Session-Expires 3, refresher uac) gets 200 with it, then our BYE" $? \
	"$TMP/uac-timer.log" "$TMP/uac-timer.logs"
grep -q '200: Session-Expires 3;refresher=uac, Require timer' "$TMP/uac-timer.logs"
ok_if "our 200: Session-Expires: 3;refresher=uac and Require: timer" $? "$TMP/uac-timer.logs"
t=$(elapsed "$TMP/uac-timer.logs" BYE)
# due at 3 - 3/3 = 2 s (not before); late on a loaded machine, but before the 3 s expiry
between "$t" 1.7 2.99
ok_if "no refresh: our BYE ${t:-?} s after the ACK (due at 3 - 3/3, before the 3 s expiry)" $? \
	"$TMP/uac-timer.logs"
wait_for "$TMP/expire.out" 'Session timer expired' 10
ok_if "sipcx answer says the session timer expired" $? "$TMP/expire.out"

ports P 1
ports C 6
answer_bg small --count 1 || exit 1
sipp_fg uac-small -sf uac_timer.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" -mp $((C + 2)) \
	-key se 30 -timeout 20s -trace_logs -log_file "$TMP/uac-small.logs"
ok_if "SIPp with Session-Expires 30 runs its 422 branch" $? "$TMP/uac-small.log"
grep -q '422 Min-SE 90' "$TMP/uac-small.logs"
ok_if "Session-Expires 30 below our Min-SE: 422 with Min-SE 90" $? "$TMP/uac-small.logs"
kill "$ANS" 2>/dev/null

# --- sipcx against sipcx, both with 100rel required and a session timer. ----------------------
ports P 1
answer_bg both --ringtime 300ms --early-media --100rel required --min-se 1 --count 1 || exit 1
check "dial --100rel required --session-expires 2 to answer --100rel required: exit 0" 0 \
	"$SIPCX" dial "sip:x@127.0.0.1:$P" --listen udp:127.0.0.1:0 --100rel required \
	--session-expires 2 --min-se 1 --duration 2.5 --json
expect "one PRACK, a 2 s session timer we refreshed by re-INVITE twice (json)" \
	'"pracks":1.*"session_timer":\{"expires_s":2,"refresher":"us","refreshes":2\}'
wait_for "$TMP/both.out" 'session timer: 2 s, refreshed by the peer, 2 refreshes' 10
ok_if "the answerer saw the two refreshes" $? "$TMP/both.out"

# --- The never-PRACKed call, started first. ---------------------------------------------------
wait "$NOPRACK_SIPP"
ok_if "no PRACK: SIPp got the reliable 180, then 500 (and ACKed it)" $? \
	"$TMP/noprack-sipp.log" "$TMP/noprack-sipp.logs"
n=$(grep -c '^SIP/2.0 180 Ringing' "$TMP/noprack.err")
[ "$n" -ge 6 ] && [ "$n" -le 8 ]
ok_if "the 180 was sent $n times in 32 s (T1 doubling: 7)" $? "$TMP/noprack.err"
grep -q '500 No PRACK' "$TMP/noprack.out"
ok_if "then 500 No PRACK (RFC 3262 3: a 5xx after 64*T1)" $? "$TMP/noprack.out"
kill "$NOPRACK_ANS" 2>/dev/null

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
finish
