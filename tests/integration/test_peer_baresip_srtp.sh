#!/usr/bin/env bash
# SRTP against another stack: baresip (headless, tests/peers/baresip, its srtp module) with an
# account that requires SRTP (;mediaenc=srtp-mand: RTP/SAVP with SDES keys, RFC 4568).
# `sipcx dial --srtp mandatory` through baresip's echo: a 1000 Hz tone goes out encrypted, is
# decrypted, decoded, re-encoded and encrypted by baresip and heard back; baresip's own 440 Hz
# is heard; `--srtp off` gets 488. baresip calling `sipcx answer --srtp mandatory --echo`: its
# RTP/SAVP offer is taken, its 440 Hz is heard, no packet fails authentication.
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need baresip timeout python3
need_sipcx
# The account of tests/peers/baresip/conf/accounts.local, requiring SRTP.
sed 's/;ptime=20/;ptime=20;mediaenc=srtp-mand/' "$PEERS/baresip/conf/accounts.local" \
	>"$TMP/accounts"
grep -q 'mediaenc=srtp-mand' "$TMP/accounts" || {
	echo "FAIL - no account line to require SRTP in"
	exit 1
}

baresip_up echo --echo --accounts "$TMP/accounts" || exit 1
check "1000 Hz over SRTP through baresip's echo: heard" 0 "$SIPCX" dial \
	"sip:carol@127.0.0.1:$BP" --srtp mandatory --duration 2 --tone 1000 --expect-tone 1000
expect "SRTP with baresip, no auth failure" \
	'srtp: AES_CM_128_HMAC_SHA1_80, 0 auth failures, 0 replays dropped'
expect "says the tone was heard" 'tone 1000 Hz heard'
check "--srtp off against baresip's srtp-mand: exit 1" 1 "$SIPCX" dial \
	"sip:carol@127.0.0.1:$BP" --srtp off --duration 1
expect "488 reported" 'not answered: 488 Not Acceptable Here'
grep -q "srtp: audio: SRTP is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)" \
	"$TMP/echo/baresip.log"
ok_if "baresip says SRTP was on" $? "$TMP/echo/baresip.log"

baresip_up tone --accounts "$TMP/accounts" || exit 1
check "baresip's 440 Hz over SRTP: heard" 0 "$SIPCX" dial "sip:carol@127.0.0.1:$BP" \
	--srtp mandatory --duration 2 --expect-tone 440
expect "says so" 'tone 440 Hz heard'

# baresip calls: sipcx answers with SRTP required, echoes, listens for baresip's 440 Hz.
ports P 1
answer_in_bg ans --listen "udp:127.0.0.1:$P" --srtp mandatory --echo --expect-tone 440 \
	--hangup 2s --count 1 || {
	cat "$TMP/ans.out"
	exit 1
}
python3 "$PEERS/baresip/ctl.py" --port $((BP + 3)) dial "sip:echo@127.0.0.1:$P" >"$TMP/ctl.out" 2>&1
rc=$(rc_of ans)
[ "$rc" = 0 ]
ok_if "sipcx answer --srtp mandatory took baresip's call and heard it (exit $rc)" $? "$TMP/ans.out"
grep -qE '^m=audio [0-9]+ RTP/SAVP ' "$TMP/ans.trace" && grep -q '^a=crypto:' "$TMP/ans.trace"
ok_if "baresip offered RTP/SAVP with a=crypto" $? "$TMP/ans.trace"
grep -q 'tone 440 Hz heard' "$TMP/ans.out"
ok_if "baresip's 440 Hz heard by the answering side" $? "$TMP/ans.out"
grep -qE 'srtp: AES_CM_128_HMAC_SHA1_80, 0 auth failures' "$TMP/ans.out" &&
	grep -qE 'rtp rx [1-9][0-9]+ tx [1-9][0-9]+ ' "$TMP/ans.out"
ok_if "SRTP both ways, no auth failure" $? "$TMP/ans.out"

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
finish
