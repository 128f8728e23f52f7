#!/usr/bin/env bash
# SRTP with SDES keys (RFC 3711, RFC 4568), sipcx against itself and a raw SRTP peer on
# loopback: --srtp mandatory both ways with the echo check, DTMF and a tone through the echo;
# mandatory against a plain `sipcx answer --echo` (whose default takes SRTP offers); 488 and
# exit 1 when one side refuses what the other requires; tshark on the wire: every RTP packet 10
# bytes longer and no plain G.711 silence in it (a plain call beside it shows both); a peer
# whose packets are protected with another key than the one it declared (an RFC 3711 sender
# written in Python): every packet counted as an authentication failure, nothing echoed,
# nothing recorded; the same peer with its declared key is echoed and recorded.
set -u
. "$(dirname "$0")/lib/peers.sh"
need ss timeout python3
need_sipcx

# uas NAME ARGS...: `sipcx answer ARGS` in the background (lib: answer_in_bg), output in
# $TMP/NAME.out; the test stops when it does not listen.
uas() {
	answer_in_bg "$@" || {
		cat "$TMP/$1.out"
		exit 1
	}
}
# has_line NAME FILE REGEX: one check that FILE has a line matching REGEX.
has_line() {
	grep -qE -- "$3" "$2"
	ok_if "$1" $? "$2"
}
peer() { # peer ARGS...: the raw SRTP caller; its output in OUT, on one line
	OUT=$(timeout 60 python3 "$SIPCX_SOURCE/tests/integration/lib/srtp_peer.py" "$@" 2>&1)
	OUT=${OUT//$'\n'/; }
}
poke() { # poke PORT: one datagram to 127.0.0.1:PORT
	python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', $1))"
}

ports P 6
OFF=$P MAND=$((P + 1)) PLAIN=$((P + 2)) WIRE=$((P + 3))

# --- bad input: one line, exit 2. ---
for cmd in dial answer echo load; do
	arg=""
	[ "$cmd" = dial ] || [ "$cmd" = load ] && arg=sip:x@127.0.0.1:9
	check "$cmd --srtp bogus: exit 2" 2 "$SIPCX" "$cmd" ${arg:+"$arg"} --srtp bogus
	expect "$cmd --srtp bogus: says what is wanted" \
		"^sipcx $cmd: bad --srtp \\(off, optional or mandatory\\) 'bogus'"
done

# --- 488 both ways: mandatory against off, off against mandatory. ---
uas off --listen "udp:127.0.0.1:$OFF" --srtp off --echo
uas mand --listen "udp:127.0.0.1:$MAND" --srtp mandatory --echo
check "mandatory against --srtp off: exit 1" 1 "$SIPCX" dial "sip:echo@127.0.0.1:$OFF" \
	--srtp mandatory --duration 1
expect "mandatory against --srtp off: 488 reported" 'not answered: 488 Not Acceptable Here'
check "--srtp off against mandatory: exit 1" 1 "$SIPCX" dial "sip:echo@127.0.0.1:$MAND" \
	--srtp off --duration 1
expect "--srtp off against mandatory: 488 reported" 'not answered: 488 Not Acceptable Here'
has_line "the answering side refused with 488" "$TMP/mand.out" 'rejected .*: 488 Not Acceptable Here'

# --- mandatory both ways: the echo check, DTMF, a tone heard back through the echo. ---
check "mandatory both ways: --echo-check exits 0" 0 "$SIPCX" dial "sip:echo@127.0.0.1:$MAND" \
	--srtp mandatory --duration 2 --echo-check
expect "mandatory both ways: SRTP in use, no auth failure" \
	'call 1: srtp: AES_CM_128_HMAC_SHA1_80, 0 auth failures, 0 replays dropped'
expect "mandatory both ways: every packet came back unchanged" \
	'call 1: echo ok: [1-9][0-9]* sent, [1-9][0-9]* back \(0.00% lost\), 0 changed'
check "DTMF over SRTP: the echo's digits arrive" 0 "$SIPCX" dial "sip:echo@127.0.0.1:$MAND" \
	--srtp mandatory --duration 2 --dtmf 159 --expect-dtmf 159 --json
expect "DTMF over SRTP: digits in the JSON" '"event":"call".*"srtp":\{"suite":"AES_CM_128_HMAC_SHA1_80","auth_fail":0,"replay":0\}.*"dtmf":"159"'
check "a tone over SRTP: heard back" 0 "$SIPCX" dial "sip:echo@127.0.0.1:$MAND" \
	--srtp mandatory --duration 2 --tone 1000 --expect-tone 1000 --rec-file "$TMP/tone.wav"
expect "a tone over SRTP: heard" 'tone 1000 Hz heard'
rec=$(stat -c %s "$TMP/tone.wav" 2>/dev/null || echo 0)
test "$rec" -gt 16044
ok_if "a tone over SRTP: recorded decrypted ($rec bytes)" $?

# --- mandatory against a plain `sipcx answer --echo`: its default takes the SRTP offer. ---
uas plain --listen "udp:127.0.0.1:$PLAIN" --echo
check "mandatory against the default answer: --echo-check exits 0" 0 "$SIPCX" dial \
	"sip:echo@127.0.0.1:$PLAIN" --srtp mandatory --duration 2 --echo-check
expect "mandatory against the default answer: SRTP" 'srtp: AES_CM_128_HMAC_SHA1_80, 0 auth'
check "default against --srtp off: plain RTP" 0 "$SIPCX" dial "sip:echo@127.0.0.1:$OFF" \
	--duration 1 --echo-check
CHECKS=$((CHECKS + 1))
if grep -q 'srtp:' <<<"$OUT"; then
	echo "FAIL - default against --srtp off: no srtp line expected"
	FAILS=$((FAILS + 1))
else echo "ok - default against --srtp off: no SRTP"; fi

# --- the wire: tshark decodes the RTP of an SRTP call and of a plain one beside it. ---
if command -v tshark >/dev/null; then
	ports R 8
	R=$(((R + 1) / 2 * 2)) # an even port: RTP, RTCP of two calls; +4 and +5 for tshark
	uas wire_s --listen "udp:127.0.0.1:$((WIRE + 1))" --srtp mandatory --echo \
		--rtp-ports "$R-$((R + 1))"
	uas wire_p --listen "udp:127.0.0.1:$((WIRE + 2))" --srtp off --echo \
		--rtp-ports "$((R + 2))-$((R + 3))"
	timeout 60 tshark -i lo -n -l -f "udp and portrange $R-$((R + 5))" \
		-d "udp.port==$R,rtp" -d "udp.port==$((R + 2)),rtp" \
		-T fields -E separator=' ' -e udp.srcport -e udp.dstport -e udp.length \
		-e rtp.p_type -e rtp.payload -e udp.payload >"$TMP/ts.out" 2>"$TMP/ts.err" &
	TS=$!
	PIDS+=("$TS")
	if wait_for "$TMP/ts.err" 'Capturing on' 20; then
		# "Capturing on" comes before the capture: warm up until a packet shows.
		for ((i = 0; i < 20; i++)); do
			poke $((R + 4))
			wait_for "$TMP/ts.out" . 1 && break
		done
		# RTCP on its own port here (SRTCP on the RTP one: test_rtcp_mux.sh)
		check "wire: an SRTP call (silence)" 0 "$SIPCX" dial \
			"sip:echo@127.0.0.1:$((WIRE + 1))" --srtp mandatory --duration 2 --no-rtcp-mux
		check "wire: a plain call (silence)" 0 "$SIPCX" dial \
			"sip:echo@127.0.0.1:$((WIRE + 2))" --srtp off --duration 2 --no-rtcp-mux
		# tshark prints in order: once a last datagram shows, every call packet has
		poke $((R + 5))
		wait_for "$TMP/ts.out" "^[0-9]+ $((R + 5)) " 10
		kill -INT "$TS"
		wait "$TS" 2>/dev/null
		silence=ffffffffffffffffffffffffffffffff # 16 bytes of PCMU silence
		s_all=$(awk -v r=$R '($1==r || $2==r) && $4=="0"' "$TMP/ts.out" | wc -l)
		s_long=$(awk -v r=$R '($1==r || $2==r) && $4=="0" && $3==190' "$TMP/ts.out" | wc -l)
		s_plain=$(awk -v r=$R '($1==r || $2==r) && $4=="0"' "$TMP/ts.out" | grep -c "$silence")
		p_all=$(awk -v r=$((R + 2)) '($1==r || $2==r) && $4=="0"' "$TMP/ts.out" | wc -l)
		p_len=$(awk -v r=$((R + 2)) '($1==r || $2==r) && $4=="0" && $3==180' "$TMP/ts.out" | wc -l)
		p_plain=$(awk -v r=$((R + 2)) '($1==r || $2==r) && $4=="0"' "$TMP/ts.out" | grep -c "$silence")
		test "$s_all" -ge 100
		ok_if "wire: SRTP packets seen both ways ($s_all)" $?
		test "$s_long" = "$s_all"
		ok_if "wire: each SRTP packet 12+160+10 bytes ($s_long of $s_all)" $?
		test "$s_plain" = 0
		ok_if "wire: no plain silence in the SRTP payloads ($s_plain)" $?
		test "$p_all" -ge 100 -a "$p_len" = "$p_all"
		ok_if "wire: the plain call's packets 12+160 bytes ($p_len of $p_all)" $?
		test "$p_plain" = "$p_all"
		ok_if "wire: the plain call's payloads are silence ($p_plain of $p_all)" $?
		# RTCP (SRTCP: RFC 3711 3.4, all but the first 8 bytes encrypted): the SDES CNAME
		# "sipcx-..." shows in the plain call's reports and BYEs, never in the SRTP call's
		cname=73697063782d
		rtcp_s=$(grep -cE "^$((R + 1)) |^[0-9]+ $((R + 1)) " "$TMP/ts.out")
		rtcp_s_clear=$(grep -E "^$((R + 1)) |^[0-9]+ $((R + 1)) " "$TMP/ts.out" | grep -c "$cname")
		rtcp_p=$(grep -cE "^$((R + 3)) [0-9]|^[0-9]+ $((R + 3)) [0-9]" "$TMP/ts.out")
		rtcp_p_clear=$(grep -E "^$((R + 3)) [0-9]|^[0-9]+ $((R + 3)) [0-9]" "$TMP/ts.out" | grep -c "$cname")
		rtcp_s_from=$(grep -cE "^$((R + 1)) " "$TMP/ts.out")
		[ "$rtcp_s_from" -ge 1 ] && [ "$rtcp_s" -gt "$rtcp_s_from" ] && [ "$rtcp_s_clear" = 0 ]
		ok_if "wire: SRTCP both ways, no CNAME in clear ($rtcp_s_clear of $rtcp_s)" $?
		[ "$rtcp_p" -ge 2 ] && [ "$rtcp_p_clear" = "$rtcp_p" ]
		ok_if "wire: the plain call's RTCP shows its CNAME ($rtcp_p_clear of $rtcp_p)" $?
	else
		echo "# tshark cannot capture on lo: the wire checks are not run ($(head -1 "$TMP/ts.err"))"
	fi
else
	echo "# no tshark: the wire checks are not run"
fi

# --- a peer keyed wrong: counted, dropped, never echoed nor recorded. ---
# (answers of their own: answer_in_bg bounds each to 60 s)
ports K 2
MAND=$K REC=$((K + 1))
uas mand2 --listen "udp:127.0.0.1:$MAND" --srtp mandatory --echo
peer "$MAND" --packets 50
grep -q 'sent 50 back 50 intact 50' <<<"$OUT"
ok_if "raw SRTP peer, its own key: echoed and decrypted ($OUT)" $?
peer "$MAND" --packets 50 --wrong-key
grep -q 'sent 50 back 0 intact 0' <<<"$OUT"
ok_if "raw SRTP peer, another key: nothing echoed ($OUT)" $?
wait_for "$TMP/mand2.out" 'srtp: AES_CM_128_HMAC_SHA1_80, 50 auth failures' 5
has_line "another key: 50 auth failures counted" "$TMP/mand2.out" \
	'srtp: AES_CM_128_HMAC_SHA1_80, 50 auth failures, 0 replays dropped'
has_line "another key: nothing received, nothing echoed" "$TMP/mand2.out" 'rtp rx 0 tx 0 lost'
uas rec --listen "udp:127.0.0.1:$REC" --srtp mandatory --rec-file "$TMP/rec.wav"
peer "$REC" --packets 50
wait_for "$TMP/rec.out" 'ended .* rtp rx 50' 5
rec=$(stat -c %s "$TMP/rec.wav" 2>/dev/null || echo 0)
test "$rec" -ge 16044
ok_if "its own key: 50 packets recorded ($rec bytes)" $?
peer "$REC" --packets 50 --wrong-key
wait_for "$TMP/rec.out" '50 auth failures' 5
rec=$(stat -c %s "$TMP/rec.wav" 2>/dev/null || echo 0)
test "$rec" = 44
ok_if "another key: nothing recorded ($rec bytes: the header)" $?

for name in off mand plain mand2 rec; do
	test "$(grep -cE 'AddressSanitizer|runtime error:|LeakSanitizer' "$TMP/$name.out")" = 0
	ok_if "$name: no sanitizer report" $?
done
finish
