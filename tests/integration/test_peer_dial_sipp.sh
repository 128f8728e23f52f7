#!/usr/bin/env bash
# `sipcx dial` calls SIPp UASes (RFC 3261 13.2, 22; RFC 3264): a call whose RTP SIPp echoes
# (--echo-check) over UDP, TCP and IPv6; the callee hangs up (BYE); 401 and 407 on the INVITE
# answered with digest, and a wrong password refused (exit 4); no answer: CANCEL after the ring
# timeout (exit 3); 486 (exit 1); a late offer (INVITE without SDP, answer in the ACK); a 2xx
# without SDP to our offer (ACK, BYE, exit 1); 183 with early media then 200; the callee's
# re-INVITE putting us on hold (our 200 says recvonly); --json (valid JSON, the summary's
# counts); --count 3 --rate 10; a BYE never answered (SIPp): SIGTERM during the hangup, or a
# second SIGTERM, ends the wait for its answer at once (exit 130).
# KEEP=DIR keeps the outputs, SIP traces and SIPp logs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need sipp ss timeout python3
need_sipcx


# no_sanitizer NAME: no ASan/UBSan report in the last check's output (sipcx's stderr is in it).
no_sanitizer() {
	CHECKS=$((CHECKS + 1))
	if grep -qE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' <<<"$OUT"; then
		echo "FAIL - $1: sanitizer report"
		grep -A20 -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' <<<"$OUT" | sed 's/^/    /'
		FAILS=$((FAILS + 1))
	else
		echo "ok - $1: no sanitizer report"
	fi
}
# uas NAME SCENARIO [SIPP-ARGS...]: a SIPp UAS on 127.0.0.1 on a port of its own (in S; -mp
# S+2, S+4 for video: six ports) in the background; PID in UAS. Returns once it listens (on
# TCP when the arguments say -t t1).
uas() {
	local name=$1 sf=$2 proto=udp
	shift 2
	[[ " $* " == *" -t t1 "* ]] && proto=tcp
	ports S 6
	sipp_bg "$name" -sf "$sf" -i 127.0.0.1 -mi 127.0.0.1 -p "$S" -mp $((S + 2)) -m 1 \
		-timeout 30s -timeout_error "$@"
	UAS=$SIPP_PID
	wait_listen "$proto" "$S"
}
# uas_done NAME WHAT: SIPp's exit code is 0 (WHAT: what that proves).
uas_done() {
	wait "$UAS"
	ok_if "$1: SIPp passes ($2)" $? "$TMP/$1.log"
}
save() { # save NAME: the last check's output in $TMP/NAME.out (for KEEP)
	printf '%s\n' "$OUT" >"$TMP/$1.out"
}

# --- Basic call, RTP echoed by SIPp: UDP, TCP, IPv6. ------------------------------------------
uas basic uas_answer.xml -rtp_echo || exit 1
check "basic: dial --echo-check exits 0" 0 "$SIPCX" dial --duration 2 --echo-check \
	"sip:bob@127.0.0.1:$S"
save basic
expect "basic: answered 200 OK, PCMU" 'call 1: answered 200 OK, PCMU/8000 pt 0'
expect "basic: the echo came back" 'call 1: echo ok: [0-9]+ sent, [0-9]+ back \(0.00% lost\), 0 changed'
expect "basic: we hung up (BYE)" 'call 1: ended by local after'
no_sanitizer basic
uas_done basic "INVITE, ACK, BYE"

# -reconnect_close false: SIPp (3.6.1) otherwise fails every call on a TCP connection the peer
# closes (FailedTcpClosed), even one that only waits out its final timewait; sipcx closes its
# connections when it exits.
uas tcp uas_answer.xml -rtp_echo -t t1 -reconnect_close false || exit 1
check "tcp: dial --transport tcp --echo-check exits 0" 0 "$SIPCX" dial --trace --transport tcp \
	--duration 1 --echo-check "sip:bob@127.0.0.1:$S"
save tcp
expect "tcp: the INVITE went over TCP" '^Via: SIP/2.0/TCP '
expect "tcp: the echo came back" 'call 1: echo ok: '
no_sanitizer tcp
uas_done tcp "INVITE, ACK, BYE over TCP"

if have_ipv6; then
	ports S 6
	sipp_bg ipv6 -sf uas_answer.xml -i ::1 -mi ::1 -p "$S" -mp $((S + 2)) -rtp_echo -m 1 \
		-timeout 30s -timeout_error
	UAS=$SIPP_PID
	wait_listen udp "$S" || exit 1
	check "ipv6: dial sip:bob@[::1] --echo-check exits 0" 0 "$SIPCX" dial --duration 1 \
		--echo-check "sip:bob@[::1]:$S"
	save ipv6
	expect "ipv6: media to ::1" 'media to \[?::1\]?:'
	expect "ipv6: the echo came back" 'call 1: echo ok: '
	no_sanitizer ipv6
	uas_done ipv6 "INVITE, ACK, BYE over IPv6"
else
	echo "# no ::1 on this host: the IPv6 call is not run"
fi

# --- The callee hangs up. --------------------------------------------------------------------
uas calleebye uas_answer_bye.xml -d 1000 || exit 1
check "callee BYE: dial exits 0" 0 "$SIPCX" dial "sip:bob@127.0.0.1:$S"
save calleebye
expect "callee BYE: ended by remote" 'call 1: ended by remote after'
no_sanitizer calleebye
uas_done calleebye "its BYE got 200"

# --- Digest on the INVITE: 401, 407, a wrong password. ---------------------------------------
uas auth401 uas_auth_401.xml -key authuser alice -key authpass alicepw || exit 1
check "401: dial with alice's credentials exits 0" 0 "$SIPCX" dial --trace --username alice \
	--password alicepw --duration 0.5 "sip:bob@127.0.0.1:$S"
save auth401
expect "401: the INVITE is sent again with Authorization" '^Authorization: Digest .*username="alice"'
expect "401: answered" 'call 1: answered 200 OK'
no_sanitizer auth401
uas_done auth401 "SIPp verified the digest"

uas auth401bad uas_auth_401.xml -key authuser alice -key authpass alicepw || exit 1
check "401, wrong password: dial exits 4" 4 "$SIPCX" dial --trace --username alice \
	--password wrong --duration 0.5 "sip:bob@127.0.0.1:$S"
save auth401bad
expect "401, wrong password: not answered" 'call 1: not answered'
n=$(grep -c '^INVITE sip:' <<<"$OUT")
ok_if "401, wrong password: two INVITEs, no more ($n)" "$([ "$n" = 2 ]; echo $?)"
no_sanitizer auth401bad
wait "$UAS" # SIPp counts the refused call as failed

uas auth407 uas_auth_407.xml -key authuser alice -key authpass alicepw || exit 1
check "407: dial with alice's credentials exits 0" 0 "$SIPCX" dial --trace --username alice \
	--password alicepw --duration 0.5 "sip:bob@127.0.0.1:$S"
save auth407
expect "407: the INVITE is sent again with Proxy-Authorization" \
	'^Proxy-Authorization: Digest .*username="alice"'
no_sanitizer auth407
uas_done auth407 "Proxy-Authorization present"

# --- No answer: CANCEL once it has rung --ring-timeout long. ---------------------------------
uas ring uas_ring_noanswer.xml || exit 1
check "ring timeout: dial exits 3" 3 "$SIPCX" dial --trace --ring-timeout 1 "sip:bob@127.0.0.1:$S"
save ring
expect "ring timeout: CANCEL sent" '^CANCEL sip:bob@127.0.0.1:'
expect "ring timeout: not answered, 487" 'call 1: not answered.*487'
no_sanitizer ring
uas_done ring "it got CANCEL, sent 200 and 487, got the ACK"

# --- Busy. -------------------------------------------------------------------------------------
uas busy uas_busy.xml || exit 1
check "486: dial exits 1" 1 "$SIPCX" dial "sip:bob@127.0.0.1:$S"
save busy
expect "486: the status is printed" 'call 1: not answered.*486 Busy Here'
no_sanitizer busy
uas_done busy "the 486 was ACKed"

# --- Late offer: no SDP in our INVITE; the offer in the 200, our answer in the ACK. ----------
uas late uas_late_offer.xml -rtp_echo || exit 1
check "late offer: dial --late-offer exits 0" 0 "$SIPCX" dial --late-offer --duration 1 \
	--echo-check "sip:bob@127.0.0.1:$S"
save late
expect "late offer: answered" 'call 1: answered 200 OK, (PCMU|PCMA)/8000'
expect "late offer: the echo came back" 'call 1: echo ok: '
no_sanitizer late
uas_done late "no SDP in the INVITE, the answer in the ACK"

# --- A 2xx without SDP to our offer (RFC 3264 violation): ACK it, then BYE, and fail. --------
uas nosdp uas_answer_nosdp.xml || exit 1
check "2xx without SDP: dial exits 1" 1 "$SIPCX" dial --trace --duration 1 "sip:bob@127.0.0.1:$S"
save nosdp
expect "2xx without SDP: ACK sent" '^ACK sip:'
expect "2xx without SDP: BYE sent" '^BYE sip:'
expect "2xx without SDP: the call ended by error" 'call 1: ended by error'
expect "2xx without SDP: the BYE says why (RFC 3326)" '^Reason: SIP;cause=488;text="no SDP answer in the 2xx"'
expect "2xx without SDP: dial says why, and no codec" 'call 1: ended by error after [0-9.]+ s, reason SIP;cause=488;text="no SDP answer in the 2xx"; setup [0-9.]+ ms, no codec,'
no_sanitizer nosdp
uas_done nosdp "ACK, then BYE"

# --- 183 with SDP (early media), then 200. ---------------------------------------------------
uas early uas_183_early.xml -rtp_echo -d 1000 || exit 1
check "183 early media: dial exits 0" 0 "$SIPCX" dial --duration 1 --echo-check \
	"sip:bob@127.0.0.1:$S"
save early
expect "183 early media: the 183 is shown" 'call 1: SIP/2.0 183 Session Progress'
expect "183 early media: answered" 'call 1: answered 200 OK'
expect "183 early media: the echo came back" 'call 1: echo ok: '
no_sanitizer early
uas_done early "183, 200, ACK, BYE"

# --- The callee puts us on hold: our 200 to its re-INVITE says recvonly. ---------------------
uas hold uas_reinvite.xml -rtp_echo -d 500 || exit 1
check "re-INVITE hold: dial exits 0" 0 "$SIPCX" dial --trace --duration 2 "sip:bob@127.0.0.1:$S"
save hold
expect "re-INVITE hold: our 200 answers a=recvonly" '^a=recvonly'
no_sanitizer hold
uas_done hold "the 200 to its re-INVITE had a=recvonly"

# --- --json: one object per line for every event, the call's, then the summary. ------------------
json_ok() { # json_ok NAME: every line of the last check's stdout is a JSON object
	python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin if l.strip()]' <"$TMP/$1.json"
	ok_if "$1: every line is JSON" $? "$TMP/$1.json"
}
uas json uas_answer.xml -rtp_echo || exit 1
"$SIPCX" dial --json --duration 0.5 "sip:bob@127.0.0.1:$S" >"$TMP/json.json" 2>"$TMP/json.err"
ok_if "json: dial --json exits 0" $? "$TMP/json.json" "$TMP/json.err"
json_ok json
grep -q '^{"event":"call",.*"call":1,.*"status":200,.*"answered":true' "$TMP/json.json"
ok_if "json: the call's object: status 200, answered" $? "$TMP/json.json"
python3 -c 'import json,sys
ev=[json.loads(l)["event"] for l in open(sys.argv[1]) if l.strip()]
ev=[e for e in ev if e not in ("ringing", "rtcp")]  # a 180 and RTCP reports are the peer'"'"'s
sys.exit(0 if ev==["calling","answered","established","hangup","call","summary"] else 1)' \
	"$TMP/json.json"
ok_if "json: events calling, (ringing,) answered, established, hangup, call, summary" $? \
	"$TMP/json.json"
grep -q '^{"event":"summary",.*"attempted":1,"answered":1,"failed":0,"exit":0}$' "$TMP/json.json"
ok_if "json: summary attempted 1, answered 1, failed 0" $? "$TMP/json.json"
uas_done json "INVITE, ACK, BYE"

uas jsonbusy uas_busy.xml || exit 1
"$SIPCX" dial --json "sip:bob@127.0.0.1:$S" >"$TMP/jsonbusy.json" 2>"$TMP/jsonbusy.err"
ok_if "json, 486: dial --json exits 1" "$([ $? = 1 ]; echo $?)" "$TMP/jsonbusy.json" \
	"$TMP/jsonbusy.err"
json_ok jsonbusy
grep -q '"status":486,.*"answered":false' "$TMP/jsonbusy.json"
ok_if "json, 486: the call's object: status 486, not answered" $? "$TMP/jsonbusy.json"
grep -q '^{"event":"summary",.*"attempted":1,"answered":0,"failed":1,"exit":1}$' "$TMP/jsonbusy.json"
ok_if "json, 486: summary attempted 1, answered 0, failed 1" $? "$TMP/jsonbusy.json"
uas_done jsonbusy "the 486 was ACKed"

# --- Several calls: --count 3 --rate 10. ------------------------------------------------------
ports S 6
sipp_bg count -sf uas_answer.xml -i 127.0.0.1 -mi 127.0.0.1 -p "$S" -mp $((S + 2)) -rtp_echo \
	-m 3 -timeout 30s -timeout_error
UAS=$SIPP_PID
wait_listen udp "$S" || exit 1
check "count: dial --count 3 --rate 10 exits 0" 0 "$SIPCX" dial --count 3 --rate 10 \
	--duration 0.5 "sip:bob@127.0.0.1:$S"
save count
expect "count: 3 calls, 3 answered, 0 failed" '^--- sip:bob@127.0.0.1:[0-9]+: 3 calls, 3 answered, 0 failed$'
n=$(grep -c 'ended by local' <<<"$OUT")
ok_if "count: three calls hung up ($n)" "$([ "$n" = 3 ]; echo $?)"
no_sanitizer count
uas_done count "three calls"

# --- A BYE never answered: a signal cuts the wait for its answer short (exit 130). -----------
# hurried NAME WHAT SIGNALS DIAL-ARGS...: dial a SIPp UAS that never answers the BYE, once the
# BYE is out send SIGTERM SIGNALS times (one at a time, the first before the BYE when 2): the
# process must exit 130 within 2 s of the last one, and SIPp must have had the BYE.
hurried() {
	local name=$1 what=$2 n=$3 pid t0 rc i
	shift 3
	uas "$name" uas_answer_bye_silent.xml || return 1
	"$SIPCX" dial "$@" --trace "sip:bob@127.0.0.1:$S" >"$TMP/$name.out" 2>"$TMP/$name.trace" &
	pid=$!
	PIDS+=("$pid")
	wait_for "$TMP/$name.out" 'call 1: answered' 10
	if [ "$n" = 2 ]; then
		sleep 0.3
		kill -TERM "$pid"
	fi
	wait_for "$TMP/$name.trace" '^BYE sip:' 10
	sleep 0.5 # a retransmission or two: it waits
	kill -0 "$pid" 2>/dev/null
	ok_if "$name: still waiting for the BYE's answer" $? "$TMP/$name.out"
	t0=$(date +%s%N)
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
	wait "$pid"
	rc=$?
	t0=$((($(date +%s%N) - t0) / 1000000))
	[ "$rc" = 130 ] && [ "$t0" -lt 2000 ]
	ok_if "$name: $what: exit 130 ($rc) after $t0 ms" $? "$TMP/$name.out" "$TMP/$name.trace"
	uas_done "$name" "the BYE came, never answered"
}
hurried hurry-duration "SIGTERM during the hangup after --duration" 1 --duration 0.5
hurried hurry-second "a second SIGTERM (the first began the hangup)" 2

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP/." "$KEEP/"
finish
