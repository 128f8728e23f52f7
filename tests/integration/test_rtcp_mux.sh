#!/usr/bin/env bash
# RTP and RTCP on one port (RFC 5761 rtcp-mux; RFC 8858 mux-only): sipcx dial against sipcx
# answer --echo with both multiplexing (the 2xx answers a=rtcp-mux, the answerer binds one UDP
# socket for the call, the dialer closes the RTCP port it offered as the fallback, RTCP arrives on
# the RTP port: rtcp_rx_mux in the JSON), with --no-rtcp-mux on either side (two ports each, RTCP
# on its own), and with SRTP mandatory (SRTCP on the RTP port, no authentication failure). Against
# real peers: baresip with rtcp_mux yes both ways, SIPp's UAC offering and not offering
# a=rtcp-mux, SIPp's UAS answering with and without it (-rtp_echo reflects our RTCP on the RTP
# port). KEEP=DIR keeps the outputs and SIP traces in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need ss timeout python3
need_sipcx

# pid_on PORT: the process with a UDP socket on PORT.
pid_on() {
	ss -Huapn "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2
}
# media_socks PID SIP_PORT: its UDP sockets not on SIP_PORT (a call's RTP and RTCP).
media_socks() {
	ss -Huapn 2>/dev/null | grep "pid=$1," | awk '{print $4}' | grep -vc ":$2\$"
}
# dial_socks PID: the media sockets of a sipcx dial (its UDP sockets but the SIP one).
dial_socks() {
	echo $(($(media_socks "$1" 0) - 1))
}
# msg_has START LINE FILE: a message of a --trace FILE whose first line matches START (grep -E)
# has a line matching LINE.
msg_has() {
	awk -v s="$1" -v l="$2" '/^--- / {on = 0; next} $0 ~ s {on = 1} on && $0 ~ l {f = 1}
		END {exit !f}' "$3"
}
# call_json FILE EXPR: EXPR (Python) over the "call" line of a --json output, as c.
call_json() {
	js "$1" "$(sed 's/\bc\[/s[/g' <<<"$2")" call
}
# ans_bg NAME ARGS...: answer_in_bg for `sipcx answer --json` (its listening line is JSON).
ans_bg() {
	local name=$1
	shift
	(timeout 60 "$SIPCX" answer --json --trace "$@" >"$TMP/$name.out" 2>"$TMP/$name.trace"
	echo $? >"$TMP/$name.rc") &
	PIDS+=($!)
	wait_for "$TMP/$name.out" '"event":"listening"' 10 || {
		cat "$TMP/$name.out" "$TMP/$name.trace"
		return 1
	}
}
# is NAME GOT WANT: a check that GOT equals WANT.
is() {
	[ "$2" = "$3" ]
	ok_if "$1 (got $2, want $3)" $?
}

# dial_bg NAME URI APORT ARGS...: sipcx dial URI --duration 5 --json ARGS in the background,
# stdout in $TMP/NAME.dial (stderr: NAME.dtrace); once answered, its media sockets in DSOCKS and
# those of the sipcx answer on APORT (- for none) in ASOCKS; its exit in DRC.
dial_bg() {
	local name=$1 uri=$2 aport=$3 dp
	shift 3
	timeout 30 "$SIPCX" dial "$uri" --duration 5 --json "$@" >"$TMP/$name.dial" \
		2>"$TMP/$name.dtrace" &
	dp=$!
	PIDS+=($dp)
	# the answer's SDP is applied (an unused RTCP socket closed) before "answered" is printed
	wait_for "$TMP/$name.dial" '"event":"answered"' 10
	DSOCKS=$(dial_socks "$(pgrep -P "$dp" sipcx | head -1)")
	[ "$aport" = - ] || ASOCKS=$(media_socks "$(pid_on "$aport")" "$aport")
	wait "$dp"
	DRC=$?
}

# pair NAME "ANSWER ARGS" "DIAL ARGS": sipcx answer --echo takes one call of sipcx dial
# --echo-check; once it is up, the media sockets of each are counted (ASOCKS, DSOCKS). The
# outputs: $TMP/NAME.out (answer --json), .trace (its SIP), .dial (dial --json), DRC dial's exit.
pair() {
	local name=$1 aargs=$2 dargs=$3
	ports P 1
	# shellcheck disable=SC2086
	ans_bg "$name" --listen "udp:127.0.0.1:$P" --echo --count 1 $aargs || return 1
	# shellcheck disable=SC2086
	dial_bg "$name" "sip:echo@127.0.0.1:$P" "$P" --echo-check $dargs
	rc_of "$name" >/dev/null
}

# --- sipcx against sipcx -------------------------------------------------------------------------
pair mux "" "" || exit 1
is "mux: dial --echo-check exits 0" "$DRC" 0
msg_has '^INVITE ' '^a=rtcp-mux' "$TMP/mux.trace"
ok_if "mux: the INVITE offers a=rtcp-mux" $? "$TMP/mux.trace"
msg_has '^SIP/2.0 200 ' '^a=rtcp-mux' "$TMP/mux.trace"
ok_if "mux: the 200 answers a=rtcp-mux" $? "$TMP/mux.trace"
is "mux: the answerer holds one media socket" "$ASOCKS" 1
is "mux: the dialer closed its RTCP port, one media socket left" "$DSOCKS" 1
is "mux: answer side says rtcp_mux" "$(call_json "$TMP/mux.out" 'c["rtp"]["rtcp_mux"]')" True
is "mux: dial side says rtcp_mux" "$(call_json "$TMP/mux.dial" 'c["rtp"]["rtcp_mux"]')" True
is "mux: the answerer got RTCP on the RTP port" \
	"$(call_json "$TMP/mux.out" 'c["rtp"]["rtcp_rx_mux"] >= 1 and c["rtp"]["rtcp_rx_mux"] == c["rtp"]["rtcp_rx"]')" True
is "mux: the dialer got RTCP on the RTP port" \
	"$(call_json "$TMP/mux.dial" 'c["rtp"]["rtcp_rx_mux"] >= 1')" True

pair ans_off "--no-rtcp-mux" "" || exit 1
is "answer --no-rtcp-mux: dial --echo-check exits 0" "$DRC" 0
msg_has '^SIP/2.0 200 ' '^a=rtcp-mux' "$TMP/ans_off.trace"
[ $? = 1 ]
ok_if "answer --no-rtcp-mux: no a=rtcp-mux in the 200" $? "$TMP/ans_off.trace"
is "answer --no-rtcp-mux: two sockets on the answer side" "$ASOCKS" 2
is "answer --no-rtcp-mux: the dialer keeps its RTCP port" "$DSOCKS" 2
is "answer --no-rtcp-mux: RTCP received on the RTCP port" \
	"$(call_json "$TMP/ans_off.out" 'c["rtp"]["rtcp_rx"] >= 1 and c["rtp"]["rtcp_rx_mux"] == 0 and not c["rtp"]["rtcp_mux"]')" True

pair dial_off "" "--no-rtcp-mux" || exit 1
is "dial --no-rtcp-mux: dial --echo-check exits 0" "$DRC" 0
msg_has '^INVITE ' '^a=rtcp-mux' "$TMP/dial_off.trace"
[ $? = 1 ]
ok_if "dial --no-rtcp-mux: no a=rtcp-mux offered" $? "$TMP/dial_off.trace"
is "dial --no-rtcp-mux: the answerer binds RTP and RTCP" "$ASOCKS" 2
is "dial --no-rtcp-mux: RTCP received on the RTCP port" \
	"$(call_json "$TMP/dial_off.dial" 'c["rtp"]["rtcp_rx"] >= 1 and c["rtp"]["rtcp_rx_mux"] == 0')" True

pair srtp "--srtp mandatory" "--srtp mandatory" || exit 1
is "srtp mandatory + mux: dial --echo-check exits 0" "$DRC" 0
is "srtp + mux: one socket on the answer side" "$ASOCKS" 1
is "srtp + mux: SRTCP on the RTP port, none failed (answer)" \
	"$(call_json "$TMP/srtp.out" 'c["srtp"]["auth_fail"] == 0 and c["rtp"]["rtcp_rx_mux"] >= 1 and c["srtp"]["suite"] != ""')" True
is "srtp + mux: SRTCP on the RTP port, none failed (dial)" \
	"$(call_json "$TMP/srtp.dial" 'c["srtp"]["auth_fail"] == 0 and c["rtp"]["rtcp_rx_mux"] >= 1 and c["rtp"]["rx"] >= 100')" True

# --- SIPp: a UAC offering (or not) a=rtcp-mux, a UAS answering (or not) with it ------------------
if command -v sipp >/dev/null; then
	sed 's/^      a=ptime:20$/&\n      a=rtcp-mux/' "$PEERS/sipp/uac_call.xml" >"$TMP/uac_mux.xml"
	sed 's/^      a=ptime:20$/&\n      a=rtcp-mux/' "$PEERS/sipp/uas_answer.xml" >"$TMP/uas_mux.xml"
	grep -q 'a=rtcp-mux' "$TMP/uac_mux.xml" && grep -q 'a=rtcp-mux' "$TMP/uas_mux.xml"
	ok_if "SIPp scenarios with a=rtcp-mux made" $?
	for v in mux plain; do
		sf=$TMP/uac_mux.xml want=1 has=0
		[ $v = plain ] && sf=uac_call.xml want=2 has=1
		ports P 1
		ports S 4
		ans_bg "sipp_$v" --listen "udp:127.0.0.1:$P" --echo --count 1 || exit 1
		sipp_bg "uac_$v" -sf "$sf" "127.0.0.1:$P" -i 127.0.0.1 -mi 127.0.0.1 -p "$S" \
			-mp $((S + 2)) -s echo -key caller alice -d 3000 -m 1 -timeout 20s -timeout_error
		wait_for "$TMP/sipp_$v.out" '"event":"established"' 10
		n=$(media_socks "$(pid_on "$P")" "$P")
		wait "$SIPP_PID"
		ok_if "SIPp UAC ($v SDP): its call passes" $? "$TMP/uac_$v.log"
		is "SIPp UAC ($v SDP): media sockets of the answerer" "$n" "$want"
		msg_has '^SIP/2.0 200 ' '^a=rtcp-mux' "$TMP/sipp_$v.trace"
		is "SIPp UAC ($v SDP): a=rtcp-mux in our 200 only when offered (grep status)" $? "$has"
		rc_of "sipp_$v" >/dev/null
	done
	for v in mux plain; do
		sf=$TMP/uas_mux.xml want=1
		[ $v = plain ] && sf=uas_answer.xml want=2
		ports S 6
		sipp_bg "uas_$v" -sf "$sf" -i 127.0.0.1 -mi 127.0.0.1 -p "$S" -mp $((S + 2)) -m 1 \
			-rtp_echo -timeout 30s -timeout_error
		wait_listen udp "$S" || exit 1
		dial_bg "dial_$v" "sip:bob@127.0.0.1:$S" - --echo-check
		ok_if "dial to a SIPp UAS ($v answer): echo check passes" "$DRC" "$TMP/dial_$v.dial"
		wait "$SIPP_PID"
		ok_if "SIPp UAS ($v answer) passes" $? "$TMP/uas_$v.log"
		is "dial to SIPp UAS ($v answer): our media sockets once answered" "$DSOCKS" "$want"
	done
	is "SIPp UAS with a=rtcp-mux: our RTCP reflected on the RTP port" \
		"$(call_json "$TMP/dial_mux.dial" 'c["rtp"]["rtcp_mux"] and c["rtp"]["rtcp_rx_mux"] >= 1')" True
	is "SIPp UAS without: RTCP on its own port, none on the RTP one" \
		"$(call_json "$TMP/dial_plain.dial" 'not c["rtp"]["rtcp_mux"] and c["rtp"]["rtcp_rx_mux"] == 0')" True
else
	echo "# sipp is not installed: its cases are not run"
fi

# --- baresip with rtcp_mux yes -------------------------------------------------------------------
if command -v baresip >/dev/null; then
	baresip_up bs_echo --echo --rtcp-mux || exit 1
	dial_bg bs_dial "sip:carol@127.0.0.1:$BP" - --tone 1000 --expect-tone 1000 --trace
	ok_if "dial to baresip (rtcp_mux yes): its echo of our 1000 Hz heard" "$DRC" "$TMP/bs_dial.dial"
	msg_has '^SIP/2.0 200 ' '^a=rtcp-mux' "$TMP/bs_dial.dtrace"
	ok_if "baresip answers a=rtcp-mux" $? "$TMP/bs_dial.dtrace"
	is "dial to baresip: one media socket once answered" "$DSOCKS" 1
	is "dial to baresip: multiplexed" "$(call_json "$TMP/bs_dial.dial" 'c["rtp"]["rtcp_mux"]')" True

	baresip_up bs_tone --rtcp-mux || exit 1
	ports P 1
	ans_bg bs_ans --listen "udp:127.0.0.1:$P" --echo --expect-tone 440 --hangup 3s \
		--count 1 || exit 1
	python3 "$PEERS/baresip/ctl.py" --port $((BP + 3)) dial "sip:echo@127.0.0.1:$P" \
		>"$TMP/ctl.out" 2>&1
	wait_for "$TMP/bs_ans.out" '"event":"established"' 10
	n=$(media_socks "$(pid_on "$P")" "$P")
	rc=$(rc_of bs_ans)
	is "sipcx answer takes baresip's call and hears its 440 Hz (exit)" "$rc" 0
	msg_has '^INVITE ' '^a=rtcp-mux' "$TMP/bs_ans.trace"
	ok_if "baresip offers a=rtcp-mux" $? "$TMP/bs_ans.trace"
	is "answering baresip: one media socket" "$n" 1
	is "answering baresip: multiplexed" "$(call_json "$TMP/bs_ans.out" 'c["rtp"]["rtcp_mux"]')" True
else
	echo "# baresip is not installed: its cases are not run"
fi

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
finish
