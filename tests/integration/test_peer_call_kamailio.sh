#!/usr/bin/env bash
# sipcx phones call each other through kamailio (registrar with digest, record-routing stateful
# proxy; RFC 3261 10, 12.2, 16.6, 22): `sipcx answer` registered as bob, `sipcx dial` as alice;
# the ACK and the BYE follow the route set (Route to kamailio on our side, kamailio's Via on
# bob's); with KAM_INVITE_AUTH=1 the 407 on the INVITE is answered, and a wrong password is
# refused (exit 4). Forking (KAM_MULTI_CONTACT=1): bob registered twice, one answering at
# once, one ringing: the ringing one gets CANCEL and answers 487. sipcx-client: registers
# (binding in ul.dump), answers two SIPp calls in a row through kamailio with RTP echoed, hangs
# up a call in progress (BYE) on SIGTERM, unregisters (binding gone) and exits 0; a missing
# SIP_SERVER, SIP_USERNAME or SIP_PASSWORD: exit 1 naming it; the same flow over TCP.
# KEEP=DIR keeps the outputs, SIP traces, SIPp and kamailio logs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need kamailio kamcmd sipp ss timeout
need_sipcx

CLIENT=$SIPCX_BIN/sipcx-client
[ -x "$CLIENT" ] || skip "no sipcx-client binary at $CLIENT"

has() { # has FILE REGEX: the exit status of grep -E
	grep -qE -- "$2" "$1"
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
sanitizer() { # sanitizer NAME FILE: no ASan/UBSan report in FILE
	! has "$2" 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer'
	ok_if "$1: no sanitizer report" $? "$2"
}
# unbound KPORT USER: the kamailio on KPORT answers ul.dump and holds no binding of USER.
unbound() {
	local ul
	ul=$(kam_ul "$1")
	grep -q 'AoRs:' <<<"$ul" && ! grep -q "AoR: $2\$" <<<"$ul"
}
# bob NAME KPORT ARGS...: sipcx answer registered as bob to the kamailio on KPORT, on a port of
# its own (in L), SIP traced; stdout $TMP/NAME.out, stderr $TMP/NAME.err, PID in BOB. Returns
# once registered.
bob() {
	local name=$1 k=$2
	shift 2
	ports L 1
	"$SIPCX" answer --listen "udp:127.0.0.1:$L" --register "sip:127.0.0.1:$k" --username bob \
		--password bobpw --expiry 60 --trace "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	BOB=$!
	PIDS+=("$BOB")
	wait_for "$TMP/$name.out" 'registered|failed' 10 && has "$TMP/$name.out" '\+[0-9.]+s registered '
}
# alice NAME KPORT ARGS...: sipcx dial sip:bob@127.0.0.1:KPORT as alice (SIP traced); stdout
# and stderr in $TMP/NAME.out; its exit status.
alice() {
	local name=$1 k=$2
	shift 2
	timeout 60 "$SIPCX" dial --trace --username alice --password alicepw "$@" \
		"sip:bob@127.0.0.1:$k" >"$TMP/$name.out" 2>&1
}

# --- alice calls bob through kamailio: the dialog is record-routed. ---------------------------
ports K 1
kamailio_start "$K" || exit 1
bob rr-bob "$K" --count 1 --echo
ok_if "rr: bob registers to kamailio" $? "$TMP/rr-bob.out" "$TMP/rr-bob.err"
BOB_PORT=$L
kam_ul "$K" | grep -q "Address: sip:bob@127.0.0.1:$BOB_PORT"
ok_if "rr: kamailio holds bob's contact (port $BOB_PORT)" $?
alice rr-alice "$K" --duration 1 --echo-check
ok_if "rr: alice's call through kamailio: dial --echo-check exits 0" $? "$TMP/rr-alice.out"
has "$TMP/rr-alice.out" 'call 1: echo ok: '
ok_if "rr: the RTP came back from bob's echo" $? "$TMP/rr-alice.out"
hdr_of INVITE Record-Route "$TMP/rr-bob.err" | grep -q "127.0.0.1:$K;lr"
ok_if "rr: kamailio record-routed the INVITE" $? "$TMP/rr-bob.err"
for m in ACK BYE; do
	hdr_of "$m" Route "$TMP/rr-alice.out" | grep -q "^Route: <sip:127.0.0.1:$K;lr"
	ok_if "rr: alice's $m carries a Route to kamailio" $? "$TMP/rr-alice.out"
	grep -qE "^$m sip:bob@127.0.0.1:${BOB_PORT}[; ]" "$TMP/rr-alice.out"
	ok_if "rr: alice's $m is for bob's Contact (remote target)" $? "$TMP/rr-alice.out"
	grep -A2 -E "^--- [0-9:.]+ SEND .* -> 127.0.0.1:$K\$" "$TMP/rr-alice.out" | grep -q "^$m sip:"
	ok_if "rr: alice sent the $m to kamailio" $? "$TMP/rr-alice.out"
	hdr_of "$m" Via "$TMP/rr-bob.err" | grep -q "127.0.0.1:$K;"
	ok_if "rr: bob got the $m from kamailio (its Via on top)" $? "$TMP/rr-bob.err"
done
wait_exit "$BOB"
ok_if "rr: bob's sipcx answer --count 1 exits 0" $? "$TMP/rr-bob.out"
has "$TMP/rr-bob.out" 'established \(ACK\)'
ok_if "rr: bob saw the ACK" $? "$TMP/rr-bob.out"
has "$TMP/rr-bob.out" 'ended <sip:alice@[^ ]*> by remote after .*; rtp rx [1-9][0-9]* tx [1-9]'
ok_if "rr: bob's call ended by remote (alice's BYE), RTP echoed" $? "$TMP/rr-bob.out"
has "$TMP/rr-bob.out" 'unregistered'
ok_if "rr: bob unregistered on exit" $? "$TMP/rr-bob.out"
unbound "$K" bob
ok_if "rr: bob's binding is gone" $?
sanitizer "rr: alice" "$TMP/rr-alice.out"
sanitizer "rr: bob" "$TMP/rr-bob.err"

# --- The same with KAM_INVITE_AUTH=1: the INVITE is challenged with 407. ----------------------
ports KA 1
kamailio_start "$KA" KAM_INVITE_AUTH=1 || exit 1
bob auth-bob "$KA" --count 1
ok_if "auth: bob registers" $? "$TMP/auth-bob.out" "$TMP/auth-bob.err"
alice auth-alice "$KA" --duration 0.5
ok_if "auth: alice's call answers the 407: dial exits 0" $? "$TMP/auth-alice.out"
has "$TMP/auth-alice.out" '^SIP/2.0 407 '
ok_if "auth: the first INVITE got 407" $? "$TMP/auth-alice.out"
grep -qE '^Proxy-Authorization: Digest .*username="alice"' "$TMP/auth-alice.out"
ok_if "auth: the INVITE was sent again with alice's Proxy-Authorization" $? "$TMP/auth-alice.out"
has "$TMP/auth-alice.out" 'call 1: answered 200 OK'
ok_if "auth: answered" $? "$TMP/auth-alice.out"
wait_exit "$BOB"
ok_if "auth: bob's sipcx answer --count 1 exits 0" $? "$TMP/auth-bob.out"
has "$TMP/auth-bob.out" 'ended <sip:alice@[^ ]*> by remote'
ok_if "auth: bob's call ended by remote" $? "$TMP/auth-bob.out"
sanitizer "auth: alice" "$TMP/auth-alice.out"
timeout 60 "$SIPCX" dial --trace --username alice --password wrong "sip:bob@127.0.0.1:$KA" \
	>"$TMP/auth-wrong.out" 2>&1
rc=$?
ok_if "auth: a wrong password: dial exits 4 ($rc)" "$([ $rc = 4 ]; echo $?)" "$TMP/auth-wrong.out"
n=$(grep -c '^INVITE sip:' "$TMP/auth-wrong.out")
ok_if "auth: a wrong password: two INVITEs, no more ($n)" "$([ "$n" = 2 ]; echo $?)" \
	"$TMP/auth-wrong.out"
sanitizer "auth: wrong password" "$TMP/auth-wrong.out"

# --- Forking: bob registered twice, one answers at once, the other rings until CANCEL. ---------
ports KF 1
kamailio_start "$KF" KAM_MULTI_CONTACT=1 || exit 1
bob fork-answer "$KF" --ringtime 0 --count 1 --echo
ok_if "fork: the answering bob registers" $? "$TMP/fork-answer.out" "$TMP/fork-answer.err"
ANSWER=$BOB ANSWER_PORT=$L
bob fork-ring "$KF" --ringtime 30 --duration 60
ok_if "fork: the ringing bob registers" $? "$TMP/fork-ring.out" "$TMP/fork-ring.err"
RING=$BOB RING_PORT=$L
n=$(kam_ul "$KF" | grep -cE "Address: sip:bob@127.0.0.1:($ANSWER_PORT|$RING_PORT)")
ok_if "fork: kamailio holds both contacts of bob ($n)" "$([ "$n" = 2 ]; echo $?)"
alice fork-alice "$KF" --duration 1 --echo-check
ok_if "fork: alice's call completes with the answering bob" $? "$TMP/fork-alice.out"
wait_for "$TMP/fork-ring.out" 'cancelled' 10
ok_if "fork: the ringing bob prints cancelled" $? "$TMP/fork-ring.out" "$TMP/fork-ring.err"
has "$TMP/fork-ring.out" 'ringing <sip:alice@'
ok_if "fork: the ringing bob rang" $? "$TMP/fork-ring.out"
has "$TMP/fork-ring.out" 'cancelled <sip:alice@[^ ]*>: 487 '
ok_if "fork: its INVITE ended with 487" $? "$TMP/fork-ring.out"
grep -q "^CANCEL sip:bob@127.0.0.1:$RING_PORT" "$TMP/fork-ring.err"
ok_if "fork: the ringing bob got kamailio's CANCEL" $? "$TMP/fork-ring.err"
grep -A3 '^--- [0-9:.]* SEND' "$TMP/fork-ring.err" | grep -q '^SIP/2.0 487 '
ok_if "fork: the ringing bob sent 487" $? "$TMP/fork-ring.err"
! has "$TMP/fork-ring.out" ' answered '
ok_if "fork: the ringing bob never answered" $? "$TMP/fork-ring.out"
! grep -q '^CANCEL ' "$TMP/fork-answer.err"
ok_if "fork: the answering bob got no CANCEL" $? "$TMP/fork-answer.err"
wait_exit "$ANSWER"
ok_if "fork: the answering bob exits 0 after the call" $? "$TMP/fork-answer.out"
has "$TMP/fork-answer.out" 'ended <sip:alice@[^ ]*> by remote'
ok_if "fork: the answering bob's call ended by remote" $? "$TMP/fork-answer.out"
interrupt "$RING"
ok_if "fork: the ringing bob exits 0 on SIGINT" $? "$TMP/fork-ring.out"
sanitizer "fork: alice" "$TMP/fork-alice.out"
sanitizer "fork: answering bob" "$TMP/fork-answer.err"
sanitizer "fork: ringing bob" "$TMP/fork-ring.err"

# --- sipcx-client: a missing variable. --------------------------------------------------------
ports LC 1
for v in SIP_SERVER SIP_USERNAME SIP_PASSWORD; do
	set_vars=()
	for w in SIP_SERVER=127.0.0.1:$K SIP_USERNAME=bob SIP_PASSWORD=bobpw; do
		[ "${w%%=*}" = "$v" ] || set_vars+=("$w")
	done
	check "client without $v: exit 1" 1 env -u SIP_SERVER -u SIP_USERNAME -u SIP_PASSWORD \
		"${set_vars[@]}" SIP_LISTEN="127.0.0.1:$LC" "$CLIENT"
	expect "client without $v: names it" "^sipcx-client: $v "
done

# --- sipcx-client: registers, answers two calls in a row, SIGTERM in a third call. ------------
ports L 1
SIP_SERVER="127.0.0.1:$K" SIP_USERNAME=bob SIP_PASSWORD=bobpw SIP_LISTEN="127.0.0.1:$L" \
	SIP_EXPIRY=60 SIP_RINGTIME=0 SIP_DEBUG=1 "$CLIENT" >"$TMP/client.out" 2>"$TMP/client.err" &
CLIENT_PID=$!
PIDS+=("$CLIENT_PID")
wait_for "$TMP/client.out" 'registered sip:' 10
ok_if "client: registered" $? "$TMP/client.out" "$TMP/client.err"
kam_ul "$K" | grep -q "Address: sip:bob@127.0.0.1:$L"
ok_if "client: kamailio holds its contact (port $L)" $?
for i in 1 2; do
	ports C 6
	sipp_fg "client-call$i" -sf uac_call.xml "127.0.0.1:$K" -i 127.0.0.1 -mi 127.0.0.1 -p "$C" \
		-mp $((C + 2)) -s bob -key caller alice -d 1000 -m 1 -timeout 30s -timeout_error
	ok_if "client: SIPp's call $i through kamailio completes" $? "$TMP/client-call$i.log" \
		"$TMP/client.out"
	wait_for "$TMP/client.out" "call $i ended by remote" 5
	ok_if "client: call $i ended by remote" $? "$TMP/client.out"
	has "$TMP/client.out" "call $i ended by remote.*RTP received [1-9][0-9]*, echoed [1-9]"
	ok_if "client: call $i's RTP echoed" $? "$TMP/client.out"
done
n=$(grep -c 'back to listening' "$TMP/client.out")
ok_if "client: back to listening after each call ($n)" "$([ "$n" = 2 ]; echo $?)" "$TMP/client.out"
# A third call, from sipcx dial; SIGTERM while it is up: the client hangs up.
timeout 60 "$SIPCX" dial --duration 30 "sip:bob@127.0.0.1:$K" >"$TMP/client-call3.out" 2>&1 &
DIAL=$!
PIDS+=("$DIAL")
wait_for "$TMP/client.out" 'call 3 up' 10
ok_if "client: call 3 is up" $? "$TMP/client.out"
kill -TERM "$CLIENT_PID"
wait_exit "$CLIENT_PID"
ok_if "client: exit 0 after SIGTERM" $? "$TMP/client.out" "$TMP/client.err"
has "$TMP/client.out" 'closing the dialog \(BYE\)'
ok_if "client: closed the call in progress" $? "$TMP/client.out"
wait_exit "$DIAL"
ok_if "client: the caller's dial exits 0" $? "$TMP/client-call3.out"
has "$TMP/client-call3.out" 'call 1: ended by remote'
ok_if "client: the caller got the client's BYE" $? "$TMP/client-call3.out"
has "$TMP/client.out" 'REGISTER Expires: 0'
ok_if "client: REGISTER Expires: 0 sent" $? "$TMP/client.out"
has "$TMP/client.out" 'unregistered$'
ok_if "client: unregistered (200)" $? "$TMP/client.out"
unbound "$K" bob
ok_if "client: the binding is gone from kamailio" $?
sanitizer client "$TMP/client.err"

# --- sipcx-client over TCP (SIP_TRANSPORT=tcp): registers, answers a call, unregisters. -------
ports L 1
ports C 6
SIP_SERVER="127.0.0.1:$K" SIP_USERNAME=bob SIP_PASSWORD=bobpw SIP_LISTEN="127.0.0.1:$L" \
	SIP_TRANSPORT=tcp SIP_EXPIRY=60 SIP_RINGTIME=0 SIP_DEBUG=1 "$CLIENT" >"$TMP/client-tcp.out" \
	2>"$TMP/client-tcp.err" &
CLIENT_PID=$!
PIDS+=("$CLIENT_PID")
wait_for "$TMP/client-tcp.out" 'registered sip:' 10
ok_if "client tcp: registered" $? "$TMP/client-tcp.out" "$TMP/client-tcp.err"
kam_ul "$K" | grep -q "Address: sip:bob@127.0.0.1:$L;transport=tcp"
ok_if "client tcp: kamailio holds its TCP contact (port $L)" $?
sipp_fg client-tcp-call -sf uac_call.xml "127.0.0.1:$K" -i 127.0.0.1 -mi 127.0.0.1 -p "$C" \
	-mp $((C + 2)) -s bob -key caller alice -d 1000 -m 1 -timeout 30s -timeout_error
ok_if "client tcp: SIPp's call through kamailio completes" $? "$TMP/client-tcp-call.log" \
	"$TMP/client-tcp.out"
grep -qE "^--- [0-9:.]+ RECV .* TCP .* -> 127.0.0.1:$L\$" "$TMP/client-tcp.err" &&
	grep -A1 -E "^--- [0-9:.]+ RECV .* TCP " "$TMP/client-tcp.err" | grep -q '^INVITE sip:'
ok_if "client tcp: kamailio delivered the INVITE over TCP" $? "$TMP/client-tcp.err"
wait_for "$TMP/client-tcp.out" 'call 1 ended by remote.*RTP received [1-9][0-9]*, echoed [1-9]' 5
ok_if "client tcp: the call ended by remote, RTP echoed" $? "$TMP/client-tcp.out"
kill -TERM "$CLIENT_PID"
wait_exit "$CLIENT_PID"
ok_if "client tcp: exit 0 after SIGTERM" $? "$TMP/client-tcp.out" "$TMP/client-tcp.err"
unbound "$K" bob
ok_if "client tcp: the binding is gone from kamailio" $?
sanitizer "client tcp" "$TMP/client-tcp.err"

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP/." "$KEEP/"
finish
