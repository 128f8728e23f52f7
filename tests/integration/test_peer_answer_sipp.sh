#!/usr/bin/env bash
# SIPp calls `sipcx answer` (RFC 3261 13.3, RFC 3264): a basic call with RTP echoed and the
# caller's BYE, over UDP, TCP and IPv6; CANCEL while ringing (200 to the CANCEL, 487 to the
# INVITE); rejection with --code 486 and 603; re-INVITE hold and resume answered with the
# mirrored direction; a 200 never ACKed ends with our BYE (after 64*T1 = 32 s: this case runs
# in the background while the others run); OPTIONS in the dialog (200) and a BYE with a wrong
# To tag (481); a late offer (offer in our 200, answer in the ACK); --max-calls 1 with two calls
# at once (the second gets 486); stopping (--duration, SIGTERM) with a call up: our BYE, its
# answer awaited; with a call ringing: 487.
# KEEP=DIR keeps the outputs, SIP traces and SIPp logs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need sipp ss timeout python3
need_sipcx


has() { # has FILE REGEX: the exit status of grep -E
	grep -qE -- "$2" "$1"
}

# answer_bg NAME LISTEN ARGS...: sipcx answer --listen LISTEN ARGS (SIP messages traced) in the
# background, stdout in $TMP/NAME.out, stderr in $TMP/NAME.err; PID in ANS. Returns once it has
# printed where it listens.
answer_bg() {
	local name=$1 listen=$2
	shift 2
	"$SIPCX" answer --listen "$listen" --trace "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	ANS=$!
	PIDS+=("$ANS")
	wait_for "$TMP/$name.out" '^listening on ' 10
}
# wait_exit PID [SECONDS]: its exit status once it ends; 124 (and killed) if it still runs after
# SECONDS (default 15).
wait_exit() {
	local i
	for ((i = 0; i < ${2:-15} * 20; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1"
		wait "$1"
		return 124
	fi
	wait "$1"
}
# sanitizer NAME: no ASan/UBSan report in $TMP/NAME.err.
sanitizer() {
	! has "$TMP/$1.err" 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer'
	ok_if "$1: no sanitizer report" $? "$TMP/$1.err"
}
# rtp_both NAME: the "ended" line counts RTP both ways.
rtp_both() {
	has "$TMP/$1.out" 'ended .* by remote after .*; rtp rx [1-9][0-9]* tx [1-9][0-9]* lost'
	ok_if "$1: RTP received and echoed (rx > 0, tx > 0)" $? "$TMP/$1.out"
}
SIPP=(-i 127.0.0.1 -mi 127.0.0.1 -s bob -key caller alice -m 1 -timeout 30s -timeout_error)
# Ports: sipcx answer P; each SIPp C (-p C, -mp C+2, and C+4 for video): six ports apiece.

# --- No ACK: started first, in the background; the BYE comes 32 s (64*T1) after the 200. -----
ports P 1; ports C 6
answer_bg noack "udp:127.0.0.1:$P" --count 1 || exit 1
sipp_bg noack-sipp -sf uac_no_ack.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" -mp $((C + 2)) \
	-key bye_wait_ms 40000 -timeout 60s -trace_msg -message_file "$TMP/noack.msg" \
	-trace_logs -log_file "$TMP/noack-sipp.logs"
NOACK_SIPP=$SIPP_PID
NOACK_ANS=$ANS

# --- Basic call with RTP echoed, the caller hangs up: UDP, TCP, IPv6. -------------------------
basic() { # basic NAME LISTEN SIPP-TARGET SIPP-ARGS...
	local name=$1 listen=$2 target=$3
	shift 3
	ports C 6
	answer_bg "$name" "$listen" --count 1 --echo
	ok_if "$name: sipcx answer listens on $listen" $? "$TMP/$name.out" "$TMP/$name.err"
	sipp_fg "$name-sipp" -sf uac_call.xml "$target" "$@" -s bob -key caller alice -d 1000 \
		-m 1 -timeout 30s -timeout_error -p "$C" -mp $((C + 2))
	ok_if "$name: SIPp's call completes (INVITE, 200, ACK, RTP, BYE, 200)" $? \
		"$TMP/$name-sipp.log" "$TMP/$name.err"
	wait_exit "$ANS"
	ok_if "$name: sipcx answer --count 1 exits 0 after the call" $? "$TMP/$name.out"
	has "$TMP/$name.out" '^\+[0-9.]+s incoming call 1 from <sip:alice@'
	ok_if "$name: incoming call printed" $? "$TMP/$name.out"
	has "$TMP/$name.out" 'answered <sip:alice@[^ ]*>: 200 OK, PCMU/8000 pt 0'
	ok_if "$name: answered with PCMU" $? "$TMP/$name.out"
	has "$TMP/$name.out" 'established \(ACK\)'
	ok_if "$name: established on the ACK" $? "$TMP/$name.out"
	rtp_both "$name"
	sanitizer "$name"
}
ports P 1
basic udp "udp:127.0.0.1:$P" "127.0.0.1:$P" -i 127.0.0.1 -mi 127.0.0.1
ports P 1
# -reconnect_close false: SIPp (3.6.1) otherwise fails every call on a TCP connection the peer
# closes (FailedTcpClosed), even one that only waits out its final timewait; sipcx closes its
# connections when it exits.
basic tcp "tcp:127.0.0.1:$P" "127.0.0.1:$P" -i 127.0.0.1 -mi 127.0.0.1 -t t1 -reconnect_close false
grep -q '^INVITE sip:' "$TMP/tcp.err" && has "$TMP/tcp.err" '^Via: SIP/2.0/TCP '
ok_if "tcp: the INVITE came over TCP" $? "$TMP/tcp.err"
if have_ipv6; then
	ports P 1
	basic ipv6 "udp:[::1]:$P" "[::1]:$P" -i ::1 -mi ::1
	has "$TMP/ipv6.out" 'media to \[?::1\]?:'
	ok_if "ipv6: RTP to ::1" $? "$TMP/ipv6.out"
else
	echo "# no ::1 on this host: the IPv6 call is not run"
fi

# --- CANCEL while ringing: 200 to the CANCEL, 487 to the INVITE. -----------------------------
ports P 1; ports C 6
answer_bg cancel "udp:127.0.0.1:$P" --ringtime 5 --duration 30
sipp_fg cancel-sipp -sf uac_cancel.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" -mp $((C + 2)) \
	-d 500 -trace_msg -message_file "$TMP/cancel.msg"
ok_if "cancel: SIPp's CANCEL got 200 and the INVITE 487" $? "$TMP/cancel-sipp.log" "$TMP/cancel.err"
wait_for "$TMP/cancel.out" 'cancelled' 5
ok_if "cancel: sipcx answer prints cancelled" $? "$TMP/cancel.out"
has "$TMP/cancel.out" 'ringing <sip:alice@'
ok_if "cancel: it rang first (180)" $? "$TMP/cancel.out"
has "$TMP/cancel.out" 'cancelled <sip:alice@[^ ]*>: 487 '
ok_if "cancel: the call ended with 487" $? "$TMP/cancel.out"
# RFC 3261 9.2: the 487 is the INVITE's final response, with the To tag of its 180.
tags=$(awk '/^--- .* SEND/ {s = 1} /^--- end/ {s = 0; st = ""} s && /^SIP\/2.0 (180|487) / {st = $2}
	s && st && /^To:/ {sub(/.*;tag=/, ""); print st, $0; st = ""}' "$TMP/cancel.err" | sort -u)
t180=$(awk '$1 == 180 {print $2}' <<<"$tags" | head -1)
t487=$(awk '$1 == 487 {print $2}' <<<"$tags" | head -1)
ok_if "cancel: the 487 has the 180's To tag ($t180, $t487)" \
	"$([ -n "$t180" ] && [ "$t180" = "$t487" ]; echo $?)" "$TMP/cancel.err"
! has "$TMP/cancel.out" 'answered'
ok_if "cancel: never answered" $? "$TMP/cancel.out"
interrupt "$ANS"
ok_if "cancel: exit 0 on SIGINT" $? "$TMP/cancel.out"
sanitizer cancel

# --- Rejection with a status. ----------------------------------------------------------------
for code in 486 603; do
	ports P 1; ports C 6
	answer_bg "reject$code" "udp:127.0.0.1:$P" --code "$code" --duration 30
	sipp_fg "reject$code-sipp" -sf uac_reject.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" \
		-mp $((C + 2)) -key code "$code"
	ok_if "reject $code: SIPp got $code and ACKed it" $? "$TMP/reject$code-sipp.log" \
		"$TMP/reject$code.err"
	wait_for "$TMP/reject$code.out" "rejected <sip:alice@[^ ]*>: $code " 5
	ok_if "reject $code: sipcx answer prints rejected $code" $? "$TMP/reject$code.out"
	grep -q '^ACK sip:' "$TMP/reject$code.err"
	ok_if "reject $code: the ACK reached sipcx" $? "$TMP/reject$code.err"
	interrupt "$ANS"
	ok_if "reject $code: exit 0 on SIGINT" $? "$TMP/reject$code.out"
	sanitizer "reject$code"
done

# --- re-INVITE: hold (sendonly -> recvonly) and resume (sendrecv -> sendrecv). ----------------
ports P 1; ports C 6
answer_bg hold "udp:127.0.0.1:$P" --count 1 --echo
sipp_fg hold-sipp -sf uac_reinvite_hold.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" -mp $((C + 2)) \
	-d 500 -trace_msg -message_file "$TMP/hold.msg"
ok_if "hold: the 200s mirror the directions (recvonly, then sendrecv)" $? "$TMP/hold-sipp.log" \
	"$TMP/hold.err"
wait_exit "$ANS"
ok_if "hold: sipcx answer exits 0 after the call" $? "$TMP/hold.out"
has "$TMP/hold.out" 'media changed by .*: on hold'
ok_if "hold: media changed: on hold" $? "$TMP/hold.out"
has "$TMP/hold.out" 'media changed by .*: active'
ok_if "hold: media changed: active again" $? "$TMP/hold.out"
has "$TMP/hold.out" 'ended .* by remote'
ok_if "hold: ended by remote" $? "$TMP/hold.out"
# RFC 3264 8: each new answer's o= version is the previous one's plus one.
vers=$(awk '/^--- .* SEND/ {s = 1} /^--- end/ {s = 0} s && /^o=/ {print $3}' "$TMP/hold.err" | tr '\n' ' ')
python3 -c 'import sys; v = [int(x) for x in sys.argv[1:]]; sys.exit(not (len(v) == 3 and v[1] == v[0] + 1 and v[2] == v[1] + 1))' $vers
ok_if "hold: our o= version goes up by one per answer ($vers)" $? "$TMP/hold.err"
sanitizer hold

# --- In the dialog: OPTIONS gets 200; a BYE with a wrong To tag gets 481. ---------------------
ports P 1
answer_bg dialog "udp:127.0.0.1:$P" --count 2 --echo
ports C 6
sipp_fg options-sipp -sf uac_options_in_dialog.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" \
	-mp $((C + 2)) -d 300
ok_if "OPTIONS in the dialog: 200" $? "$TMP/options-sipp.log" "$TMP/dialog.err"
ports C 6
sipp_fg baddialog-sipp -sf uac_bad_dialog.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" \
	-mp $((C + 2)) -d 300
ok_if "BYE with a wrong To tag: 481, and the real BYE: 200" $? "$TMP/baddialog-sipp.log" \
	"$TMP/dialog.err"
has "$TMP/dialog.err" '^SIP/2.0 481 '
ok_if "sipcx sent the 481" $? "$TMP/dialog.err"
wait_exit "$ANS"
ok_if "dialog: sipcx answer --count 2 exits 0" $? "$TMP/dialog.out"
[ "$(grep -c 'ended .* by remote' "$TMP/dialog.out")" = 2 ]
ok_if "dialog: both calls ended by remote" $? "$TMP/dialog.out"
sanitizer dialog

# --- Late offer: an INVITE without SDP; our 200 offers, the ACK answers. ----------------------
ports P 1; ports C 6
answer_bg late "udp:127.0.0.1:$P" --count 1 --echo
sipp_fg late-sipp -sf uac_late_offer.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" -mp $((C + 2)) \
	-d 500
ok_if "late offer: the 200 offers PCMU, the ACK answers" $? "$TMP/late-sipp.log" "$TMP/late.err"
wait_exit "$ANS"
ok_if "late offer: sipcx answer exits 0 after the call" $? "$TMP/late.out"
has "$TMP/late.out" 'established \(ACK\)'
ok_if "late offer: established on the ACK" $? "$TMP/late.out"
has "$TMP/late.out" 'ended .* by remote'
ok_if "late offer: ended by remote" $? "$TMP/late.out"
sanitizer late

# --- --max-calls 1: a second call while the first is up gets 486 Busy Here. ------------------
ports P 1; ports C 6; ports D 6
answer_bg busy "udp:127.0.0.1:$P" --max-calls 1 --count 1 --echo
sipp_bg busy-first -sf uac_call.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" -mp $((C + 2)) -d 3000
FIRST=$SIPP_PID
wait_for "$TMP/busy.out" 'established \(ACK\)' 10
ok_if "max-calls: the first call is up" $? "$TMP/busy.out"
sipp_fg busy-second -sf uac_reject.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$D" -mp $((D + 2)) \
	-key code 486
ok_if "max-calls: the second call gets 486" $? "$TMP/busy-second.log" "$TMP/busy.err"
has "$TMP/busy.err" '^SIP/2.0 486 Busy Here'
ok_if "max-calls: sipcx sent 486 Busy Here" $? "$TMP/busy.err"
wait "$FIRST"
ok_if "max-calls: the first call completes" $? "$TMP/busy-first.log"
wait_exit "$ANS"
ok_if "max-calls: sipcx answer exits 0 after the first call" $? "$TMP/busy.out"
[ "$(grep -c ' answered ' "$TMP/busy.out")" = 1 ]
ok_if "max-calls: one call answered" $? "$TMP/busy.out"
sanitizer busy

# --- No ACK: collected last. ----------------------------------------------------------------
wait "$NOACK_SIPP"
ok_if "no ACK: sipcx sent BYE within 40 s of the 200 and SIPp's 200 closed it" $? \
	"$TMP/noack-sipp.log" "$TMP/noack.err"
grep -ho 'BYE [0-9.]* ms after the 200' "$TMP/noack-sipp.logs" | head -1 | sed 's/^/# /'
c200=$(grep -c '^SIP/2.0 200 OK' "$TMP/noack.msg")
[ "$c200" -ge 3 ]
ok_if "no ACK: the 200 was retransmitted ($c200 received by SIPp)" $? "$TMP/noack.msg"
wait_exit "$NOACK_ANS" 10
ok_if "no ACK: sipcx answer --count 1 exits 0 after the BYE" $? "$TMP/noack.out"
has "$TMP/noack.out" 'ended .* by (local|error)'
ok_if "no ACK: the call ended on our side" $? "$TMP/noack.out"
has "$TMP/noack.err" '^BYE sip:alice@127.0.0.1:'
ok_if "no ACK: the BYE went to the caller's Contact" $? "$TMP/noack.err"
sanitizer noack

# --- Stopping with calls up: each is hung up (BYE; 487 while ringing) and its answer awaited. --
# The call up when --duration ends: SIPp (a caller that waits for the callee's BYE) gets it.
ports P 1; ports C 6
answer_bg stopdur "udp:127.0.0.1:$P" --duration 1.5
sipp_fg stopdur-sipp -sf helper_uac_remote_bye.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" \
	-mp $((C + 2))
ok_if "stop (--duration): SIPp's call got our BYE and answered it" $? "$TMP/stopdur-sipp.log" \
	"$TMP/stopdur.err"
wait_exit "$ANS"
ok_if "stop (--duration): exit 0" $? "$TMP/stopdur.out"
has "$TMP/stopdur.out" 'ended <sip:alice@[^>]*> by local after 1\.[0-9]+ s' &&
	awk '/^BYE sip:alice@/ {b = 1} b && /^SIP\/2.0 200 OK/ {ok = 1} END {exit !ok}' \
		"$TMP/stopdur.err"
ok_if "stop (--duration): our BYE, its 200 received before the exit" $? "$TMP/stopdur.out" \
	"$TMP/stopdur.err"
sanitizer stopdur
# The same on SIGTERM.
ports P 1; ports C 6
answer_bg stopsig "udp:127.0.0.1:$P"
sipp_bg stopsig-sipp -sf helper_uac_remote_bye.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" \
	-mp $((C + 2))
XSIPP=$SIPP_PID
wait_for "$TMP/stopsig.out" 'established \(ACK\)' 10
kill -TERM "$ANS"
wait_exit "$ANS"
ok_if "stop (SIGTERM): exit 0" $? "$TMP/stopsig.out"
wait "$XSIPP"
ok_if "stop (SIGTERM): SIPp's call got our BYE and answered it" $? "$TMP/stopsig-sipp.log" \
	"$TMP/stopsig.err"
sanitizer stopsig
# A call still ringing when --duration ends: 487, ACKed.
ports P 1; ports C 6
answer_bg stopring "udp:127.0.0.1:$P" --ringtime 10 --duration 1
sipp_fg stopring-sipp -sf uac_reject.xml "127.0.0.1:$P" "${SIPP[@]}" -p "$C" -mp $((C + 2)) \
	-key code 487
ok_if "stop while ringing: SIPp got 487 and ACKed it" $? "$TMP/stopring-sipp.log" \
	"$TMP/stopring.err"
wait_exit "$ANS"
ok_if "stop while ringing: exit 0" $? "$TMP/stopring.out"
grep -q '^ACK sip:' "$TMP/stopring.err"
ok_if "stop while ringing: the ACK of the 487 reached sipcx before it exited" $? "$TMP/stopring.err"
sanitizer stopring

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP/." "$KEEP/"
finish
