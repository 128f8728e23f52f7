#!/usr/bin/env bash
# In-dialog requests to a remote target by host name (RFC 3263 4, RFC 3261 12.2.1.1), located on
# the UA's loop through dnsmasq on loopback. A SIPp UAS whose Contact is sip:uas@uas.test:PORT
# gets our ACK, two re-INVITEs (hold, resume) with their ACKs and the BYE there; a Contact whose
# name does not exist ends the call with "cannot resolve host" (no hang); a DNS server that never
# answers holds only that dialog's ACK, while the same loop keeps sending the call's RTP until
# the c-ares timeout ends the call. sipcx answer's BYE to a SIPp caller whose Contact is
# sip:alice@uac.test:PORT. sipcx registrar's proxy: the callee's BYE toward a SIPp
# caller whose Contact is sip:alice@uac.test:PORT is located and forwarded; to one whose name
# does not exist it gets 503 Cannot Resolve.
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need dnsmasq sipp ss timeout python3
need_sipcx

ports D 1 # dnsmasq
ports H 1 # a UDP port that swallows DNS queries
DNS="--dns-server 127.0.0.1:$D"
dnsmasq --no-daemon --no-resolv --no-hosts --port="$D" --listen-address=127.0.0.1 \
	--bind-interfaces --local=/test/ --local-ttl=60 --log-queries --log-facility=- \
	--host-record=uas.test,127.0.0.1 --host-record=uac.test,127.0.0.1 >"$TMP/dnsmasq.log" 2>&1 &
PIDS+=($!)
wait_listen udp "$D" || exit 1
python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    s.recv(4096)
' "$H" &
PIDS+=($!)
wait_listen udp "$H" || exit 1

# uas_hold.xml with its Contact by name: [contact_host] (a -key), the port SIPp's.
sed 's|Contact: <sip:\[local_ip\]:\[local_port\]|Contact: <sip:uas@[contact_host]:[local_port]|' \
	"$PEERS/sipp/uas_hold.xml" >"$TMP/uas_named.xml"
grep -q 'sip:uas@\[contact_host\]' "$TMP/uas_named.xml" ||
	{ echo "FAIL - uas_hold.xml has no Contact to rename"; exit 1; }

# helper_uac_remote_bye.xml with its Contact by name, the same way.
sed 's|Contact: <sip:\[caller\]@\[local_ip\]:|Contact: <sip:[caller]@[contact_host]:|' \
	"$PEERS/sipp/helper_uac_remote_bye.xml" >"$TMP/uac_named.xml"
grep -q '@\[contact_host\]:' "$TMP/uac_named.xml" ||
	{ echo "FAIL - helper_uac_remote_bye.xml has no Contact to rename"; exit 1; }

# rtp_tx FILE: the RTP packets a sipcx dial run sent (its end line).
rtp_tx() {
	sed -n 's/.*rtp tx \([0-9]*\) rx.*/\1/p' "$1" | tail -1
}
# uas RUN HOST [SIPP-ARGS...]: the SIPp callee (uas_named.xml) on port S, its Contact at HOST.
uas() {
	local run=$1 host=$2
	shift 2
	ports S 4
	sipp_bg "$run" -sf "$TMP/uas_named.xml" -i 127.0.0.1 -mi 127.0.0.1 -p "$S" -mp $((S + 2)) \
		-m 1 -key refuse 0 -key contact_host "$host" "$@"
	wait_listen udp "$S"
}
# uac RUN TARGET HOST [SIPP-ARGS...]: the SIPp caller (uac_named.xml) of bob at TARGET, its Contact
# at HOST, in the background (SIPP_PID).
uac() {
	local run=$1 target=$2 host=$3
	shift 3
	ports C 4
	sipp_bg "$run" -sf "$TMP/uac_named.xml" "$target" -i 127.0.0.1 -mi 127.0.0.1 -p "$C" \
		-mp $((C + 2)) -s bob -key caller alice -key contact_host "$host" -m 1 "$@"
}
# ended_ok NAME TEXT: answer_in_bg NAME exited 0.
ended_ok() {
	ok_if "$2" "$([ "$(rc_of "$1")" = 0 ]; echo $?)" "$TMP/$1.out"
}

# --- The Contact resolves: ACK, re-INVITEs and BYE reach it. ---------------------------------
uas named uas.test -timeout 20s -timeout_error || exit 1
UAS=$SIPP_PID
check "dial, the answerer's Contact a name: hold, resume, hang up (exit 0)" 0 "$SIPCX" dial \
	--trace $DNS "sip:x@127.0.0.1:$S" --duration 1.5 --hold-after 0.3 --hold-for 0.4
expect "on hold" 'call 1: on hold, media to '
expect "then resumed" 'call 1: resumed, media to '
for m in ACK INVITE BYE; do
	n=$(grep -cE "^$m sip:uas@uas.test:$S;transport=UDP SIP/2.0" <<<"$OUT")
	want=1
	[ "$m" = ACK ] && want=3
	[ "$m" = INVITE ] && want=2
	CHECKS=$((CHECKS + 1))
	if [ "$n" = "$want" ]; then echo "ok - $want $m to the Contact by name"; else
		echo "FAIL - $n $m to sip:uas@uas.test, want $want"
		FAILS=$((FAILS + 1))
	fi
done
expect "sent to the name's address" "SEND [0-9]+ bytes UDP [0-9.:]+ -> 127.0.0.1:$S"
CHECKS=$((CHECKS + 1))
q=$(grep -c 'query\[A\] uas.test' "$TMP/dnsmasq.log")
if [ "$q" = 1 ]; then echo "ok - uas.test asked once for the whole dialog"; else
	echo "FAIL - uas.test asked $q times, want 1"
	FAILS=$((FAILS + 1))
fi
wait "$UAS"
ok_if "sipp: the ACKs, re-INVITEs and BYE came to its named Contact" $? "$TMP/named.log"

# --- The Contact's name does not exist: the call ends, clearly. -------------------------------
uas nosuch nosuch.test -timeout 10s || exit 1
check "dial, the answerer's Contact does not resolve: exit 1" 1 "$SIPCX" dial -v $DNS \
	"sip:x@127.0.0.1:$S" --duration 5
expect "the ACK could not go" 'ACK in the dialog cannot go: cannot resolve host'
expect "the call ended with the reason" 'ended by error.*cannot resolve host'

# --- A DNS server that never answers: the loop goes on (RTP) until c-ares gives up. -----------
uas silent slow.test -timeout 20s || exit 1
timeout 30 "$SIPCX" dial -v --dns-server "127.0.0.1:$H" "sip:x@127.0.0.1:$S" --duration 20 \
	>"$TMP/silent.out" 2>&1
ok_if "dial, the Contact's DNS server silent: exit 1 once c-ares gives up (not --duration)" \
	"$([ $? = 1 ] && ! grep -q 'ended by local' "$TMP/silent.out"; echo $?)" "$TMP/silent.out"
tx=$(rtp_tx "$TMP/silent.out")
# c-ares waits at least 1.5 s (its first timeout): about 75 packets of 20 ms; 40 leaves room.
[ -n "$tx" ] && [ "$tx" -ge 40 ]
ok_if "the loop sent the call's RTP while the ACK waited for DNS (tx ${tx:-none})" $? \
	"$TMP/silent.out"

# --- Answering: our BYE to a caller whose Contact is a name. ----------------------------------
ports A 1
answer_in_bg uas --listen "udp:127.0.0.1:$A" $DNS --hangup 0.5 --count 1 ||
	{ cat "$TMP/uas.out"; exit 1; }
uac direct-uac "127.0.0.1:$A" uac.test -timeout 20s -timeout_error
wait "$SIPP_PID"
ok_if "answer --hangup: its BYE reached the caller's Contact by name (sipp exit 0)" $? \
	"$TMP/direct-uac.log" "$TMP/uas.trace"
ended_ok uas "answer: the call ended normally (exit 0)"

# --- sipcx registrar's proxy: an in-dialog request toward a Contact by name. -----------------
ports R 1
"$SIPCX" registrar --listen "udp:127.0.0.1:$R" $DNS >"$TMP/registrar.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/registrar.out" '^listening on' 5 || { cat "$TMP/registrar.out"; exit 1; }
answer_in_bg bob --listen "udp:127.0.0.1:0" --register "sip:127.0.0.1:$R" --username bob \
	--hangup 0.5 --count 1 || { cat "$TMP/bob.out"; exit 1; }
uac named-uac "127.0.0.1:$R" uac.test -timeout 20s -timeout_error
wait "$SIPP_PID"
ok_if "proxy: the callee's BYE reached the caller's Contact by name (sipp exit 0)" $? \
	"$TMP/named-uac.log" "$TMP/registrar.out"
ended_ok bob "proxy: the callee's call ended normally (exit 0)"
CHECKS=$((CHECKS + 1))
if grep -q 'query\[A\] uac.test' "$TMP/dnsmasq.log"; then echo "ok - the registrar asked for uac.test"
else echo "FAIL - no query for uac.test"; FAILS=$((FAILS + 1)); fi

answer_in_bg bob2 --listen "udp:127.0.0.1:0" --register "sip:127.0.0.1:$R" --username bob \
	--hangup 0.5 --count 1 || { cat "$TMP/bob2.out"; exit 1; }
uac nosuch-uac "127.0.0.1:$R" nosuch.test -timeout 10s
wait_for "$TMP/bob2.trace" '^SIP/2.0 503 Cannot Resolve' 10
ok_if "proxy: a BYE toward a Contact that does not resolve gets 503 Cannot Resolve" $? \
	"$TMP/bob2.trace" "$TMP/registrar.out"
ended_ok bob2 "proxy: the callee's call still ended (exit 0)"
finish
