#!/usr/bin/env bash
# SIP over TLS with SRTP required, against another stack: baresip (headless, tests/peers/baresip)
# with a certificate for IP:127.0.0.1 from a CA made here by openssl(1), SIP over TLS on BP+1,
# its account ;transport=tls;mediaenc=srtp-mand (RTP/SAVP with SDES keys, RFC 4568), sending
# its 440 Hz and recording what it decodes (sndfile):
# - `sipcx dial sips:carol@127.0.0.1:BP+1 --tls-ca CA --srtp mandatory --tone 1000
#   --expect-tone 440`: baresip's certificate verified, its 440 Hz heard, our 1000 Hz in what
#   baresip decoded; a CA that did not sign baresip's certificate: exit 1, said so;
# - baresip dials `sipcx answer --listen tls:... --srtp mandatory --tone 1000 --expect-tone 440
#   --hangup 2s`: the same both ways; our BYE reaches baresip over TLS (a connection of our
#   own to its TLS port, its certificate verified: baresip's Via has no ;alias);
# - baresip hangs up a call from `sipcx dial --tls-cert`: its BYE comes on a connection it opens
#   to our Contact;
# - no sanitizer report (ASan builds);
# - tshark on loopback, over both calls: the SIP ports carry TLS records both ways and no SIP in
#   clear; every RTP packet of both calls is 12+160+10 bytes (RFC 3711 auth tag) and none
#   carries G.711 audio in clear.
# (baresip 1.0.0 does not verify a TLS server's certificate: it took any; not checked here.)
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need baresip timeout python3 openssl tshark
need_sipcx

tls_cert ca "IP:127.0.0.1" || skip "openssl cannot make certificates"
tls_cert bs "IP:127.0.0.1" ca    # baresip's
tls_cert ans "IP:127.0.0.1" ca   # sipcx answer's
tls_cert other "IP:127.0.0.1"    # a CA that signed neither
cat "$TMP/bs.pem" "$TMP/bs.key" >"$TMP/bs-both.pem" # sip_certificate: both in one file

# The account of tests/peers/baresip/conf/accounts.local over TLS, requiring SRTP.
sed -e 's/;ptime=20/;ptime=20;mediaenc=srtp-mand/' \
	-e 's/<sip:carol@127\.0\.0\.1:5070>/<sip:carol@127.0.0.1;transport=tls>/' \
	"$PEERS/baresip/conf/accounts.local" >"$TMP/accounts"
grep -q '^<sip:carol@127.0.0.1;transport=tls>;.*mediaenc=srtp-mand' "$TMP/accounts" || {
	echo "FAIL - no account line to put on TLS with SRTP in"
	exit 1
}
baresip_up tone --accounts "$TMP/accounts" --tls-cert "$TMP/bs-both.pem" \
	--tls-ca "$TMP/ca.pem" --record "$TMP/rec" || exit 1
BT=$((BP + 1)) # baresip's SIP over TLS
BLOG=$TMP/tone/baresip.log
grep -q "SIP Certificate: $TMP/bs-both.pem" "$BLOG"
ok_if "baresip took its certificate" $? "$BLOG"
ports A 2
M=$((A + 1)) # a port tshark watches: datagrams to it mark the capture's start and end

# --- tshark on loopback: both SIP over TLS ports, all of baresip's RTP ports. ---
# mark: one datagram to port M, until tshark prints one more of them (at most 20 tries of 1 s):
# tshark prints in order, so every packet before it has been printed too.
mark() {
	local seen i j
	seen=$(grep -c "|$M|" "$TMP/ts.out")
	for ((i = 0; i < 20; i++)); do
		python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
			b'x', ('127.0.0.1', $M))"
		for ((j = 0; j < 20; j++)); do
			[ "$(grep -c "|$M|" "$TMP/ts.out")" -gt "$seen" ] && return 0
			sleep 0.05
		done
	done
	return 1
}
timeout 120 tshark -i lo -n -l \
	-f "(tcp and (port $BT or port $A)) or
	    (udp and (portrange $((BP + 10))-$((BP + 1209)) or port $M))" \
	-d "udp.port==$((BP + 10))-$((BP + 1209)),rtp" -T fields -E separator='|' \
	-e tcp.srcport -e tcp.dstport -e tcp.payload \
	-e udp.srcport -e udp.dstport -e udp.length -e rtp.p_type -e rtp.payload \
	>"$TMP/ts.out" 2>"$TMP/ts.err" &
TS=$!
PIDS+=("$TS")
wait_for "$TMP/ts.err" 'Capturing on' 20 ||
	skip "tshark cannot capture on lo: $(head -1 "$TMP/ts.err")"
# "Capturing on" comes before the capture: warm up until a packet shows.
mark || skip "tshark on lo shows no packet"

# rec_of NAME PEER: once baresip says its call with PEER ended (its WAV files are complete),
# what it decoded in it, moved to $TMP/NAME-dec.wav (the next call's files are then the only ones).
rec_of() {
	wait_for "$BLOG" "Call with $2.*terminated" 10
	local f
	f=$(ls "$TMP/rec/"*-dec.wav 2>/dev/null | head -1)
	[ -n "$f" ] && mv "$f" "$TMP/$1-dec.wav"
	rm -f "$TMP/rec/"*.wav
}

# --- sipcx dials baresip over TLS. ---
check "sips: to baresip with SRTP required: exit 0" 0 "$SIPCX" dial "sips:carol@127.0.0.1:$BT" \
	--tls-ca "$TMP/ca.pem" --srtp mandatory --duration 2 --tone 1000 --expect-tone 440 --trace
printf '%s\n' "$OUT" >"$TMP/dial.out"
expect "the INVITE went over TLS" "SEND [0-9]+ bytes TLS 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$BT"
expect "SRTP with baresip, no auth failure" \
	'srtp: AES_CM_128_HMAC_SHA1_80, 0 auth failures, 0 replays dropped'
expect "baresip's 440 Hz decoded by sipcx" 'tone 440 Hz heard: longest (1\.[5-9]|2\.)'
DIAL_RTP=$(sed -nE 's/.*answered 200 .*media to 127\.0\.0\.1:([0-9]+).*/\1/p' "$TMP/dial.out")
rec_of dial ""
wav_check "$TMP/dial-dec.wav" 1000 1.5 >"$TMP/dial-dec.check" 2>&1
ok_if "our 1000 Hz decoded by baresip ($(cat "$TMP/dial-dec.check"))" $? "$TMP/dial-dec.check"

check "a CA that did not sign baresip's certificate: exit 1" 1 "$SIPCX" dial \
	"sips:carol@127.0.0.1:$BT" --tls-ca "$TMP/other.pem" --srtp mandatory --duration 1
expect "says the certificate was not verified" 'TLS: certificate verify failed'

# --- baresip dials sipcx answer over TLS. ---
answer_in_bg ans --listen "tls:127.0.0.1:$A" --tls-cert "$TMP/ans.pem" --tls-key "$TMP/ans.key" \
	--tls-ca "$TMP/ca.pem" --srtp mandatory --tone 1000 --expect-tone 440 --hangup 2s \
	--count 1 || {
	cat "$TMP/ans.out"
	exit 1
}
# baresip puts its account's ;transport=tls on the URI it is given
python3 "$PEERS/baresip/ctl.py" --port $((BP + 3)) dial "sip:echo@127.0.0.1:$A" >"$TMP/ctl.out" 2>&1
rc=$(rc_of ans)
[ "$rc" = 0 ]
ok_if "sipcx answer took baresip's call over TLS (exit $rc)" $? "$TMP/ans.out" "$TMP/ctl.out"
grep -qE "RECV [0-9]+ bytes TLS 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$A" "$TMP/ans.trace" &&
	grep -qE '^Via: SIP/2.0/TLS ' "$TMP/ans.trace"
ok_if "baresip's INVITE came over TLS" $? "$TMP/ans.trace"
grep -qE '^m=audio [0-9]+ RTP/SAVP ' "$TMP/ans.trace" && grep -q '^a=crypto:' "$TMP/ans.trace"
ok_if "baresip offered RTP/SAVP with a=crypto" $? "$TMP/ans.trace"
grep -qE 'srtp: AES_CM_128_HMAC_SHA1_80, 0 auth failures' "$TMP/ans.out" &&
	grep -qE 'rtp rx [1-9][0-9]+ tx [1-9][0-9]+ ' "$TMP/ans.out"
ok_if "SRTP both ways, no auth failure" $? "$TMP/ans.out"
grep -qE 'tone 440 Hz heard: longest (1\.[5-9]|2\.)' "$TMP/ans.out"
ok_if "baresip's 440 Hz decoded by sipcx answer" $? "$TMP/ans.out"
# our BYE: a TLS connection of our own to baresip's TLS port; its 200 back on it
awk -v bt="$BT" '/^--- / {send = ($0 ~ ("SEND .* TLS .* -> 127\\.0\\.0\\.1:" bt "$"));
		recv = ($0 ~ ("RECV .* TLS 127\\.0\\.0\\.1:" bt " -> ")); next}
	send && /^BYE sips?:/ {bye = 1} recv && /^CSeq: [0-9]+ BYE/ {ok = bye}
	END {exit !ok}' "$TMP/ans.trace"
ok_if "our BYE went to baresip's TLS port and its 200 came back" $? "$TMP/ans.trace"
ANS_RTP=$(sed -nE 's/.*answered .*: 200 OK, .*media to 127\.0\.0\.1:([0-9]+).*/\1/p' "$TMP/ans.out")
rec_of ans "sip:echo@127\.0\.0\.1:$A"
wav_check "$TMP/ans-dec.wav" 1000 1.5 >"$TMP/ans-dec.check" 2>&1
ok_if "sipcx answer's 1000 Hz decoded by baresip ($(cat "$TMP/ans-dec.check"))" $? \
	"$TMP/ans-dec.check"
grep -c "srtp: audio: SRTP is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)" "$BLOG" |
	grep -qx 2
ok_if "baresip says SRTP was on in both calls" $? "$BLOG"

# --- baresip hangs up: its BYE opens a TLS connection to our Contact (it ignores ;alias). ---
# sip:...;transport=tls: baresip 1.0.0 sends nothing at all to a sips: Contact (RFC 3261
# 8.1.1.8 wants one for a sips: call), so a sips: call is hung up by us above.
"$SIPCX" dial "sip:carol@127.0.0.1:$BT;transport=tls" --tls-ca "$TMP/ca.pem" \
	--tls-cert "$TMP/ans.pem" --tls-key "$TMP/ans.key" --srtp mandatory --duration 20 \
	>"$TMP/bye.out" 2>&1 &
BYE=$!
PIDS+=("$BYE")
wait_for "$TMP/bye.out" 'answered 200' 10 &&
	python3 "$PEERS/baresip/ctl.py" --port $((BP + 3)) hangup >"$TMP/ctl-bye.out" 2>&1
wait_for "$TMP/bye.out" 'ended by remote' 10
ok_if "baresip hung up: its BYE reached sipcx dial --tls-cert over TLS" $? "$TMP/bye.out" \
	"$TMP/ctl-bye.out"
wait "$BYE"
ok_if "sipcx dial: exit 0 after the remote BYE" $? "$TMP/bye.out"

# --- the wire ---
mark
kill -INT "$TS"
wait "$TS" 2>/dev/null
python3 - "$TMP/ts.out" "$BT" "$A" "${DIAL_RTP:-0}" "${ANS_RTP:-0}" >"$TMP/wire.out" 2>&1 <<'EOF'
import sys
path, bt, a, rtp_ports = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
# TCP segments that open a TLS 1.2+ record of application data (RFC 8446 5.1: type 23,
# legacy version 3,3) to / from the port
tls = {bt: [0, 0], a: [0, 0]}
clear = 0  # TCP payloads with SIP in clear
rtp = {p: [0, 0, 0] for p in rtp_ports}  # packets, of 12+160+10 bytes, that look like audio
for line in open(path):
    f = line.rstrip("\n").split("|")
    if len(f) < 8:
        continue
    ts, td, payload, us, ud, ulen, pt, rpay = f[:8]
    if ts or td:
        raw = bytes.fromhex(payload.replace(":", ""))
        for port in tls:
            if raw[:3] == b"\x17\x03\x03":
                tls[port][0] += td == port
                tls[port][1] += ts == port
        clear += any(w in raw for w in (b"SIP/2.0", b"INVITE ", b"BYE ", b"a=crypto"))
    for port, v in rtp.items():
        if port in (us, ud) and pt == "0":
            v[0] += 1
            v[1] += ulen == "190"
            # G.711 audio in clear: a tone or silence changes sign (bit 7 of a PCMU byte)
            # a few dozen times in 160 samples at most (1000 Hz: 40); ciphertext about
            # 80 +- 6 times.
            b = bytes.fromhex(rpay.replace(":", ""))[:160]
            v[2] += sum((x ^ y) >> 7 for x, y in zip(b, b[1:])) < 50
for port, (to, frm) in tls.items():
    print("tls %s %d %d" % (port, to, frm))
print("clear %d" % clear)
for port, (n, long_, audio) in rtp.items():
    print("rtp %s %d %d %d" % (port, n, long_, audio))
EOF
cat "$TMP/wire.out"
wire() { # wire KIND PORT: that line's numbers
	awk -v k="$1" -v p="$2" '$1 == k && $2 == p {$1 = $2 = ""; print}' "$TMP/wire.out"
}
read -r to from <<<"$(wire tls "$BT")"
[ "${to:-0}" -ge 2 ] && [ "${from:-0}" -ge 2 ]
ok_if "wire: TLS application data to and from baresip's TLS port ($to, $from)" $? "$TMP/wire.out"
read -r to from <<<"$(wire tls "$A")"
[ "${to:-0}" -ge 2 ] && [ "${from:-0}" -ge 2 ]
ok_if "wire: TLS application data to and from sipcx answer's port ($to, $from)" $? "$TMP/wire.out"
grep -qx 'clear 0' "$TMP/wire.out"
ok_if "wire: no SIP nor SDP in clear in any TCP payload" $? "$TMP/wire.out"
for p in "${DIAL_RTP:-none}" "${ANS_RTP:-none}"; do
	read -r n long audio <<<"$(wire rtp "$p")"
	[ "${n:-0}" -ge 150 ] && [ "$long" = "$n" ] && [ "$audio" = 0 ]
	ok_if "wire: call to baresip's RTP port $p: $n packets, $long of 12+160+10 bytes, $audio \
with audio in clear" $? "$TMP/wire.out"
done

! grep -E 'AddressSanitizer|runtime error:|LeakSanitizer' "$TMP/dial.out" "$TMP/ans.trace" \
	"$TMP/bye.out"
ok_if "no sanitizer report from sipcx" $?

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
finish
