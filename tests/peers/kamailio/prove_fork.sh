#!/usr/bin/env bash
# Proves kamailio's parallel forking with SIPp alone: two SIPp UASes register as bob
# (KAM_MULTI_CONTACT=1), one answering, one ringing; a SIPp UAC calls bob through kamailio.
# The call must ring both, complete with the answering one (ACK and BYE through kamailio:
# record-routed), and the ringing one must get a CANCEL (200, 487, ACK).
# usage: tests/peers/kamailio/prove_fork.sh [auth]
#   auth  start kamailio with KAM_INVITE_AUTH=1 too: the INVITE gets 407 and is sent again
#         with alice's credentials (uac_call.xml -au alice -ap alicepw)
# Prints ok/FAIL per check and the bindings; exit 0 when all passed. About 10 s.
# KEEP=DIR keeps the logs and SIPp message traces in DIR.
set -u
. "$(cd "$(dirname "$0")" && pwd)/../../integration/lib/peers.sh"
need kamailio kamcmd sipp ss timeout

knobs=(KAM_MULTI_CONTACT=1)
auth=()
if [ "${1:-}" = auth ]; then
	knobs+=(KAM_INVITE_AUTH=1)
	auth=(-au alice -ap alicepw)
fi


# msg_hdr_of METHOD HEADER MSGFILE: that header of the first METHOD request in a SIPp -trace_msg file
# that has it (a message there starts after a "UDP message sent/received" line).
msg_hdr_of() {
	awk -v m="$1" -v h="^$2:" '/^(UDP|TCP) message/ {on = 0} $1 == m && $2 ~ /^sip:/ {on = 1}
		on && $0 ~ h {print; exit}' "$3"
}

# Ports: kamailio K; answering UAS A (RTP A+2); ringing UAS R; registering SIPp G, G+1;
# caller C (RTP C+2).
K=$(free_port 1) && A=$(free_port 6) && R=$(free_port 2) && G=$(free_port 2) && C=$(free_port 6) ||
	skip "no free ports"
kamailio_start "$K" "${knobs[@]}" KAM_IPV6=0 || exit 1

sipp_bg answer -sf uas_answer.xml -i 127.0.0.1 -mi 127.0.0.1 -p "$A" -mp $((A + 2)) -rtp_echo \
	-m 1 -timeout 30s -timeout_error -trace_msg -message_file "$TMP/answer.msg"
ANSWER=$SIPP_PID
sipp_bg ring -sf uas_ring_noanswer.xml -i 127.0.0.1 -mi 127.0.0.1 -p "$R" \
	-m 1 -timeout 30s -timeout_error -trace_msg -message_file "$TMP/ring.msg"
RING=$SIPP_PID
wait_listen udp "$A" && wait_listen udp "$R" || exit 1

# bob registers twice: one contact per UAS (uac_register.xml's -key contact_port).
sipp_fg reg-answer -sf uac_register.xml "127.0.0.1:$K" -i 127.0.0.1 -p "$G" -s bob -au bob \
	-ap bobpw -key expires 60 -key contact_port "$A" -m 1 -timeout 10s -timeout_error
ok_if "bob registers the answering UAS (port $A)" $? "$TMP/reg-answer.log"
sipp_fg reg-ring -sf uac_register.xml "127.0.0.1:$K" -i 127.0.0.1 -p $((G + 1)) -s bob -au bob \
	-ap bobpw -key expires 60 -key contact_port "$R" -m 1 -timeout 10s -timeout_error
ok_if "bob registers the ringing UAS (port $R)" $? "$TMP/reg-ring.log"
kam_ul >"$TMP/ul.txt"
n=$(grep -cE "Address: sip:bob@127.0.0.1:($A|$R);" "$TMP/ul.txt")
ok_if "kamailio holds both contacts of bob ($n)" "$([ "$n" = 2 ]; echo $?)" "$TMP/ul.txt"
grep -E 'AoR:|Address:' "$TMP/ul.txt" | sed 's/^ */    # /'

# alice calls bob through kamailio.
sipp_fg call -sf uac_call.xml "127.0.0.1:$K" -i 127.0.0.1 -mi 127.0.0.1 -p "$C" -mp $((C + 2)) \
	-s bob -key caller alice "${auth[@]}" -d 1000 -m 1 -timeout 30s -timeout_error \
	-trace_msg -message_file "$TMP/call.msg"
ok_if "the call completes (UAC: INVITE, 200, ACK, BYE, 200)" $? "$TMP/call.log"
wait "$ANSWER"
ok_if "the answering UAS got INVITE, ACK and BYE" $? "$TMP/answer.log"
wait "$RING"
ok_if "the ringing UAS got the CANCEL, sent 487 and got its ACK" $? "$TMP/ring.log"

# Both branches rang: each UAS received the INVITE from kamailio.
for f in answer ring; do
	grep -qE '^INVITE sip:bob@127.0.0.1:' "$TMP/$f.msg"
	ok_if "$f UAS received the forked INVITE" $? "$TMP/$f.msg"
done
grep -q '^CANCEL sip:bob@127.0.0.1:'"$R" "$TMP/ring.msg"
ok_if "the loser got a CANCEL from kamailio" $? "$TMP/ring.msg"
! grep -q '^CANCEL ' "$TMP/answer.msg"
ok_if "the winner got no CANCEL" $? "$TMP/answer.msg"
# Record-routing: the caller's ACK and BYE carry a Route to kamailio, and reach the UAS
# with kamailio's Via on top.
for m in ACK BYE; do
	msg_hdr_of "$m" Route "$TMP/call.msg" | grep -q "127.0.0.1:$K"
	ok_if "the caller's $m is routed through kamailio" $? "$TMP/call.msg"
	msg_hdr_of "$m" Via "$TMP/answer.msg" | grep -q "127.0.0.1:$K"
	ok_if "the UAS got the $m from kamailio" $? "$TMP/answer.msg"
done
if [ ${#auth[@]} -gt 0 ]; then
	grep -q '^SIP/2.0 407 ' "$TMP/call.msg"
	ok_if "the INVITE was challenged with 407 (KAM_INVITE_AUTH=1)" $? "$TMP/call.msg"
fi
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP/." "$KEEP/"
finish
