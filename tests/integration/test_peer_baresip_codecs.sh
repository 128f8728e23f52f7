#!/usr/bin/env bash
# Opus and G.722 against another stack, both ways: baresip (tests/peers/baresip, its opus and
# g722 modules, the account limited to one codec with --codecs) and sipcx.
# - sipcx dial --codec X to baresip (auto-answer, its 440 Hz sine): the tone is heard; our offer
#   and its answer carry the codec's rtpmap (opus/48000/2 with our fmtp; G722/8000 on 9).
# - baresip dials sipcx answer (no --codec: it accepts every codec): the answer takes baresip's
#   offer of that codec alone, and hears its 440 Hz; the trace shows the offer and our answer.
# - baresip's echo mode decodes and re-encodes: --tone 1000 comes back as 1000 Hz, 700 Hz is
#   not taken for it (exit 1).
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need baresip timeout
need_sipcx
[ -e /usr/lib/baresip/modules/opus.so ] && [ -e /usr/lib/baresip/modules/g722.so ] ||
	skip "baresip has no opus or g722 module (baresip-core)"

# codec NAME SPEC RTPMAP PT: one codec, as sipcx names it, as baresip does, as SDP says it
codec() {
	local c=$1 spec=$2 rtpmap=$3 pt=$4
	baresip_up "tone-$c" --codecs "$spec" || return 1
	check "$c: dial to baresip, its 440 Hz heard" 0 "$SIPCX" dial "sip:carol@127.0.0.1:$BP" \
		--codec "$c" --duration 2 --expect-tone 440 --trace
	expect "$c: says so" 'tone 440 Hz heard: longest (1\.[5-9]|2\.)'
	expect "$c: answered in $rtpmap" "answered 200 [A-Za-z]+, ${rtpmap%%/[0-9]}"
	expect "$c: our offer: a=rtpmap:$pt $rtpmap" "^a=rtpmap:$pt $rtpmap\$"
	[ "$c" = opus ] && expect "$c: our fmtp (RFC 7587)" "^a=fmtp:$pt minptime=10;useinbandfec=1"
	# the trace holds our offer and baresip's answer: the rtpmap in both
	[ "$(grep -cE "^a=rtpmap:$pt $rtpmap\r?\$" <<<"$OUT")" -ge 2 ]
	ok_if "$c: baresip's answer has a=rtpmap:$pt $rtpmap too" $?

	# baresip calls us: its offer holds this codec only (+ telephone-event)
	ports A 1
	answer_in_bg "ans-$c" --listen "udp:127.0.0.1:$A" --count 1 --hangup 2 --expect-tone 440 ||
		return 1
	printf '/dial sip:x@127.0.0.1:%s\n' "$A" >"/dev/udp/127.0.0.1/$((BP + 2))"
	local rc
	rc=$(rc_of "ans-$c")
	ok_if "$c: baresip dials sipcx answer: exit 0 (got $rc)" "$([ "$rc" = 0 ] && echo 0 || echo 1)" \
		"$TMP/ans-$c.out" "$TMP/tone-$c/baresip.log"
	grep -qE "answered .*: 200 OK, ${rtpmap%%/[0-9]} pt [0-9]+" "$TMP/ans-$c.out"
	ok_if "$c: answered in $rtpmap" $? "$TMP/ans-$c.out"
	grep -q "tone 440 Hz heard" "$TMP/ans-$c.out"
	ok_if "$c: baresip's 440 Hz heard by sipcx answer" $? "$TMP/ans-$c.out"
	local offer_pt
	offer_pt=$(sed -n "s|^a=rtpmap:\([0-9]*\) $rtpmap\r*\$|\1|p" "$TMP/ans-$c.trace" | head -1)
	[ -n "$offer_pt" ] && ! grep -qE '^a=rtpmap:[0-9]+ (PCMU|PCMA)/' "$TMP/ans-$c.trace"
	ok_if "$c: baresip offered $rtpmap (pt ${offer_pt:-none}) and no G.711" $? "$TMP/ans-$c.trace"
	[ "$c" != opus ] || grep -q "^a=fmtp:$offer_pt minptime=10;useinbandfec=1" "$TMP/ans-$c.trace"
	ok_if "$c: our answer's rtpmap/fmtp on baresip's number" $? "$TMP/ans-$c.trace"

	baresip_up "echo-$c" --echo --codecs "$spec" || return 1
	check "$c: 1000 Hz through baresip's echo heard" 0 "$SIPCX" dial \
		"sip:carol@127.0.0.1:$BP" --codec "$c" --duration 2 --tone 1000 --expect-tone 1000
	check "$c: 700 Hz through baresip's echo is not 1000 Hz: exit 1" 1 "$SIPCX" dial \
		"sip:carol@127.0.0.1:$BP" --codec "$c" --duration 2 --tone 700 --expect-tone 1000
	expect "$c: says it was not heard" 'tone 1000 Hz NOT heard'
}

codec opus opus/48000/2 opus/48000/2 111 || exit 1
codec g722 G722/16000/1 G722/8000 9 || exit 1

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
finish
