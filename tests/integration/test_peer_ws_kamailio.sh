#!/usr/bin/env bash
# SIP over WebSocket (RFC 7118) against kamailio with its websocket, xhttp and nathelper
# modules (package kamailio-websocket-modules): start.sh KAM_WS_PORT takes WS on a TCP port,
# and WSS on the TLS port (KAM_TLS_PORT, a certificate made here).
# - `sipcx register "sip:...;transport=ws"` with digest: 401, then 200; kamailio holds the
#   ;transport=ws Contact with where it came from (Received: fix_nated_register); a wrong
#   password: exit 4; unregistered at the end;
# - a call between two sipcx phones registered over WS: `sipcx answer` as bob (a ws:
#   listener nobody can connect to), `sipcx dial` as alice over ws with the echo checked;
#   kamailio record-routes ;transport=ws and reaches bob over the connection he registered
#   on; bob gets the INVITE and the BYE;
# - alice over WSS (verified against the test CA) calls bob over WS, and bob hangs up: his
#   BYE reaches alice through kamailio over her wss connection (add_contact_alias), and the
#   ACK follows kamailio's Record-Route, which says ;transport=ws for the wss side too;
# - no sanitizer report from any of them.
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need kamailio kamcmd ss timeout openssl
need_sipcx
compgen -G "/usr/lib/*/kamailio/modules/websocket.so" >/dev/null ||
	skip "kamailio's websocket module is not installed (kamailio-websocket-modules)"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/kam.key" -out "$TMP/kam.pem" -days 2 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null ||
	skip "openssl cannot make certificates"

ports P 3 # UDP/TCP on P, WS on P+1, TLS and WSS on P+2
W=$((P + 1))
T=$((P + 2))
kamailio_start "$P" KAM_WS_PORT="$W" KAM_TLS_PORT="$T" KAM_TLS_CERT="$TMP/kam.pem" \
	KAM_TLS_KEY="$TMP/kam.key" || exit 1
wait_listen tcp "$W" && wait_listen tcp "$T" || exit 1

# --- Registration over WS with digest. ---------------------------------------------------------
"$SIPCX" register "sip:127.0.0.1:$W;transport=ws" --username alice --password alicepw \
	--expiry 120 --trace >"$TMP/reg.out" 2>"$TMP/reg.err" &
REG=$!
PIDS+=("$REG")
wait_for "$TMP/reg.out" 'registered|failed' 10
has "$TMP/reg.out" 'registered sip:alice@127\.0\.0\.1 at sip:alice@127\.0\.0\.1:[0-9]+;transport=ws, expires 120 s'
ok_if "register over WS: 200 for a ;transport=ws Contact" $? "$TMP/reg.out" "$TMP/reg.err"
has "$TMP/reg.err" '^SIP/2.0 401 ' && has "$TMP/reg.err" '^Authorization: Digest username="alice"'
ok_if "the 401 was answered with digest credentials" $? "$TMP/reg.err"
has "$TMP/reg.err" '^Via: SIP/2.0/WS 127\.0\.0\.1:[0-9]+;rport;alias;branch='
ok_if "Via SIP/2.0/WS" $? "$TMP/reg.err"
contact=$(sed -n 's/.* at \(sip:[^,]*\), expires.*/\1/p' "$TMP/reg.out")
kam_ul >"$TMP/ul.txt"
grep -qF "Address: $contact" "$TMP/ul.txt" &&
	grep -qE "Received: sip:127\.0\.0\.1:[0-9]+;transport=ws" "$TMP/ul.txt"
ok_if "kamailio holds the Contact ($contact) and where it came from" $? "$TMP/ul.txt"
interrupt "$REG"
ok_if "register: exit 0 after SIGINT" $? "$TMP/reg.out"
has "$TMP/reg.out" 'unregistered sip:alice@'
ok_if "unregistered over WS" $? "$TMP/reg.out"
sanitizer_clean "register" "$TMP/reg.err"

check "wrong password over WS: exit 4" 4 "$SIPCX" register "sip:127.0.0.1:$W;transport=ws" \
	--username alice --password wrong

# --- A call between two phones registered over WS. ---------------------------------------------
ports L 1
"$SIPCX" answer --listen "ws:127.0.0.1:$L" --register "sip:127.0.0.1:$W;transport=ws" \
	--username bob --password bobpw --expiry 60 --echo --trace >"$TMP/bob.out" 2>"$TMP/bob.err" &
BOB=$!
PIDS+=("$BOB")
wait_for "$TMP/bob.out" '^listening on |failed' 10
has "$TMP/bob.out" "registered sip:bob@127\.0\.0\.1:$L;transport=ws"
ok_if "bob registered over WS with his ws: listener as Contact" $? "$TMP/bob.out" "$TMP/bob.err"

check "alice dials bob through kamailio over WS, echo checked (exit 0)" 0 "$SIPCX" dial \
	"sip:bob@127.0.0.1:$W;transport=ws" --duration 2 --echo-check --trace
printf '%s\n' "$OUT" >"$TMP/alice.out"
expect "echo ok" 'echo ok: [0-9]+ sent, [0-9]+ back \(0.00% lost\)'
expect "kamailio record-routes over WS" "^Record-Route: <sip:127\.0\.0\.1:$W;transport=ws;lr"
expect "the BYE follows the route" "^Route: <sip:127\.0\.0\.1:$W;transport=ws;lr"
sanitizer_clean "alice" "$TMP/alice.out"
wait_for "$TMP/bob.out" 'ended by remote' 10
has "$TMP/bob.err" '^INVITE sip:bob@127\.0\.0\.1:' && has "$TMP/bob.err" '^BYE sip:bob@'
ok_if "bob got the INVITE and the BYE from kamailio over his own connection" $? "$TMP/bob.err"
# Nobody can connect to bob's ws: listener from outside this test but kamailio: it must not
# have been asked to (one accepted connection would mean kamailio opened a new one).
! has "$TMP/bob.err" "RECV [0-9]+ bytes WS 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$L"
ok_if "kamailio reached bob over the connection bob opened, not a new one" $? "$TMP/bob.err"

# --- Alice over WSS, bob over WS; bob hangs up. ---------------------------------------------
interrupt "$BOB"
ok_if "bob: exit 0 after SIGINT (unregistered)" $? "$TMP/bob.out"
sanitizer_clean "bob" "$TMP/bob.err"
"$SIPCX" answer --listen "ws:127.0.0.1:$L" --register "sip:127.0.0.1:$W;transport=ws" \
	--username bob --password bobpw --expiry 60 --echo --hangup 1s --count 1 \
	>"$TMP/bob2.out" 2>"$TMP/bob2.err" &
BOB2=$!
PIDS+=("$BOB2")
wait_for "$TMP/bob2.out" '^listening on |failed' 10
check "alice over WSS calls bob over WS; bob hangs up (exit 0)" 0 "$SIPCX" dial \
	"sip:bob@127.0.0.1:$T;transport=wss" --tls-ca "$TMP/kam.pem" --duration 10 --trace
printf '%s\n' "$OUT" >"$TMP/alice2.out"
expect "ended by remote: the BYE came over wss" 'call 1: ended by remote after'
expect "Via SIP/2.0/WSS" '^Via: SIP/2.0/WSS 127\.0\.0\.1:[0-9]+;rport;alias;branch='
expect "the trace says WSS" "SEND [0-9]+ bytes WSS 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$T"
expect "kamailio's Record-Route for the wss side says ;transport=ws (RFC 7118 5.2)" \
	"^Record-Route: <sip:127\.0\.0\.1:$T;transport=ws;"
sanitizer_clean "alice over wss" "$TMP/alice2.out"
wait_for "$TMP/bob2.out" 'ended .* by local' 10
ok_if "bob hung up" $? "$TMP/bob2.out"
check "wss with a CA that did not sign kamailio's certificate: exit 1" 1 "$SIPCX" register \
	"sip:127.0.0.1:$T;transport=wss" --username carol --password carolpw
expect "certificate verify failed" 'TLS: certificate verify failed'
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$TMP"/*.out "$TMP"/*.err "$KEEP"/ 2>/dev/null
finish
