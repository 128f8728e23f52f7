#!/usr/bin/env bash
# Opus and G.722 beside G.711, sipcx against itself on loopback: `sipcx answer --echo` started
# without --codec accepts an opus or a G.722 offer (its default answers every codec it runs);
# `sipcx dial --codec X --echo-check` gets each packet back unchanged; a --tone sent through
# `sipcx echo` is heard (--expect-tone) and recorded (--rec-file) in each codec, another tone is
# not taken for it; the SDP says opus/48000/2 with its fmtp on a dynamic payload type and
# G722/8000 on 9 (RFC 7587, RFC 3551 4.5.2), and the RTP timestamps step by 960 (opus) and
# 160 (G.722) a 20 ms packet; a codec list gives the offer's order; a bad --codec is a usage
# error (exit 2). KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need ss timeout
need_sipcx

# --- the acceptance lines: answer --echo without --codec, dial --codec opus|g722 --echo-check ---
answer_in_bg ans --listen "udp:127.0.0.1:0" --echo --duration 120 || {
	cat "$TMP/ans.out"
	exit 1
}
A=$(sed -n 's/^listening on udp:127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/ans.out" | head -1)
for c in opus g722 pcma; do
	check "dial --codec $c --echo-check: exit 0" 0 "$SIPCX" dial "sip:echo@127.0.0.1:$A" \
		--codec "$c" --duration 2 --echo-check --trace
	printf '%s\n' "$OUT" >"$TMP/echo-$c.dial"
	expect "$c: every packet came back unchanged" \
		'echo ok: (9[0-9]|1[0-9][0-9]) sent, [0-9]+ back \(0.00% lost\), 0 changed'
done
# the SDP of each call, as sent and answered (the trace holds both)
OUT=$(cat "$TMP/echo-opus.dial")
expect "opus: answered opus at 48000" 'answered 200 OK, opus/48000 pt 111'
expect "opus: our offer has opus/48000/2 on 111" '^m=audio [0-9]+ RTP/AVP 111 110'
expect "opus: its rtpmap" '^a=rtpmap:111 opus/48000/2'
expect "opus: its fmtp (RFC 7587 7)" '^a=fmtp:111 minptime=10;useinbandfec=1'
expect "opus: telephone-event at 48000 (RFC 4733 2.1)" '^a=rtpmap:110 telephone-event/48000'
OUT=$(cat "$TMP/echo-g722.dial")
expect "g722: answered G722/8000 on 9" 'answered 200 OK, G722/8000 pt 9'
expect "g722: our offer" '^m=audio [0-9]+ RTP/AVP 9 101'
expect "g722: rtpmap G722/8000 (RFC 3551 4.5.2: the clock is 8000)" '^a=rtpmap:9 G722/8000'
expect "g722: telephone-event at 8000" '^a=rtpmap:101 telephone-event/8000'

# a list: the offer's order is the preference, and the answer keeps it
check "dial --codec g722,pcmu: G.722 chosen" 0 "$SIPCX" dial "sip:echo@127.0.0.1:$A" \
	--codec g722,pcmu --duration 1 --echo-check --trace
expect "g722,pcmu: offered in that order" '^m=audio [0-9]+ RTP/AVP 9 0 101'
expect "g722,pcmu: G.722 answered" 'answered 200 OK, G722/8000 pt 9'
check "dial --codec pcmu,opus: PCMU chosen" 0 "$SIPCX" dial "sip:echo@127.0.0.1:$A" \
	--codec pcmu,opus --duration 1 --echo-check
expect "pcmu,opus: PCMU answered" 'answered 200 OK, PCMU/8000 pt 0'
# an answer that takes only G.711 refuses an opus offer
answer_in_bg g711 --listen "udp:127.0.0.1:0" --echo --codec pcmu,pcma --duration 60 || exit 1
G=$(sed -n 's/^listening on udp:127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/g711.out" | head -1)
check "answer --codec pcmu,pcma refuses an opus offer: exit 1" 1 "$SIPCX" dial \
	"sip:echo@127.0.0.1:$G" --codec opus --duration 1 --echo-check
expect "says 488" '488'

# --- a tone through sipcx echo, heard and recorded, per codec; RTP timestamps per codec ---
for c in opus g722 pcmu; do
	check "$c: 1000 Hz through the echo heard" 0 "$SIPCX" dial "sip:echo@127.0.0.1:$A" \
		--codec "$c" --duration 2 --tone 1000 --expect-tone 1000 --rec-file "$TMP/rec-$c.wav" \
		--pcap "$TMP/$c.pcap"
	expect "$c: says so" 'tone 1000 Hz heard: longest (1\.[5-9]|2\.)'
	# 2 s at 8 kHz, 16-bit: about 32000 bytes of samples after the 44-byte header
	size=$(stat -c %s "$TMP/rec-$c.wav" 2>/dev/null || echo 0)
	ok_if "$c: the recording holds about 2 s at 8 kHz ($size bytes)" \
		"$([ "$size" -gt 28000 ] && [ "$size" -lt 36000 ] && echo 0 || echo 1)"
	check "$c: 700 Hz is not 1000 Hz: exit 1" 1 "$SIPCX" dial "sip:echo@127.0.0.1:$A" \
		--codec "$c" --duration 2 --tone 700 --expect-tone 1000
	expect "$c: says it was not heard" 'tone 1000 Hz NOT heard'
done
if command -v tshark >/dev/null; then
	for c in opus:960:111 g722:160:9 pcmu:160:0; do
		IFS=: read -r name step pt <<<"$c"
		# each packet is in the capture twice (sent, and echoed back): one of each timestamp
		steps=$(tshark -r "$TMP/$name.pcap" -d udp.port==1-65535,rtp \
			-Y "rtp.version == 2 && rtp.p_type == $pt" -T fields \
			-e rtp.timestamp 2>/dev/null | sort -n -u |
			awk 'NR > 1 { print $1 - last } { last = $1 }' | sort | uniq -c | sort -rn |
			head -1 | awk '{print $2}')
		ok_if "$name: RTP timestamps step by $step a packet (saw ${steps:-none})" \
			"$([ "$steps" = "$step" ] && echo 0 || echo 1)"
	done
fi

# --- usage errors ---
check "--codec g729: usage error" 2 "$SIPCX" dial "sip:echo@127.0.0.1:$A" --codec g729
expect "says which codecs there are" 'bad --codec .*pcmu, pcma, g722, opus'
check "--codec opus,opus: usage error" 2 "$SIPCX" dial "sip:echo@127.0.0.1:$A" --codec opus,opus
check "answer --codec empty: usage error" 2 "$SIPCX" answer --codec ""

# a sanitizer build (make clang) reports into the outputs
! grep -qE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$TMP"/*.trace "$TMP"/*.dial
ok_if "no sanitizer report from answer or dial" $? "$TMP"/*.trace

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
finish
