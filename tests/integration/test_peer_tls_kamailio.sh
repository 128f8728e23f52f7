#!/usr/bin/env bash
# SIP over TLS against kamailio with its tls module (package kamailio-tls-modules): a test CA
# made here signs kamailio's certificate (subjectAltName IP:127.0.0.1), start.sh writes its
# tls.cfg (KAM_TLS_PORT, KAM_TLS_CERT, KAM_TLS_KEY).
# - `sipcx register sips:...` with digest: 401, then 200 for a sips Contact, which kamailio
#   holds (ul.dump); a wrong password: exit 4; unregistered at the end;
# - a call between two sipcx phones registered over TLS: `sipcx answer` as bob (tls: listener,
#   registered by sips:), `sipcx dial sips:bob@kamailio` as alice with the echo checked; the
#   INVITE, ACK and BYE go over TLS both sides of kamailio (Record-Route ;transport=tls);
# - verification: the right CA but a name the certificate does not carry (sips:localhost:...,
#   the certificate names only 127.0.0.1), and another CA: exit 1 naming the certificate
#   problem, nothing registered.
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need kamailio kamcmd ss timeout openssl
need_sipcx
[ -e /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so ] || ls /usr/lib/*/kamailio/modules/tls.so \
	>/dev/null 2>&1 || skip "kamailio's tls module is not installed (kamailio-tls-modules)"

has() { # has FILE REGEX: the exit status of grep -E
	grep -qE -- "$2" "$1"
}
clean() { # clean NAME FILE: no sanitizer report in FILE
	! has "$2" 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer'
	ok_if "$1: no sanitizer report" $? "$2"
}

# A CA, kamailio's certificate signed by it, bob's (self-signed: kamailio does not verify).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/ca.key" -out "$TMP/ca.pem" -days 2 \
	-subj "/CN=sipcx test CA" 2>/dev/null || skip "openssl cannot make certificates"
openssl req -newkey rsa:2048 -nodes -keyout "$TMP/kam.key" -out "$TMP/kam.csr" \
	-subj "/CN=127.0.0.1" 2>/dev/null
openssl x509 -req -in "$TMP/kam.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" -CAcreateserial \
	-days 2 -out "$TMP/kam.pem" -extfile <(echo "subjectAltName=IP:127.0.0.1") 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/bob.key" -out "$TMP/bob.pem" -days 2 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/other.key" -out "$TMP/other.pem" \
	-days 2 -subj "/CN=other CA" 2>/dev/null

ports P 2 # UDP/TCP on P, TLS on P+1
T=$((P + 1))
kamailio_start "$P" KAM_TLS_PORT="$T" KAM_TLS_CERT="$TMP/kam.pem" KAM_TLS_KEY="$TMP/kam.key" ||
	exit 1
wait_listen tcp "$T" || exit 1

# --- Registration over TLS with digest. --------------------------------------------------------
"$SIPCX" register "sips:127.0.0.1:$T" --tls-ca "$TMP/ca.pem" --username alice \
	--password alicepw --expiry 120 --trace >"$TMP/reg.out" 2>"$TMP/reg.err" &
REG=$!
PIDS+=("$REG")
wait_for "$TMP/reg.out" 'registered|failed' 10
has "$TMP/reg.out" 'registered sip:alice@127\.0\.0\.1 at sips:alice@127\.0\.0\.1:[0-9]+, expires 120 s'
ok_if "register over TLS: 200 for a sips Contact" $? "$TMP/reg.out" "$TMP/reg.err"
has "$TMP/reg.err" '^SIP/2.0 401 ' && has "$TMP/reg.err" '^Authorization: Digest username="alice"'
ok_if "the 401 was answered with digest credentials" $? "$TMP/reg.err"
has "$TMP/reg.err" '^Via: SIP/2.0/TLS '
ok_if "Via SIP/2.0/TLS" $? "$TMP/reg.err"
contact=$(sed -n 's/.* at \(sips:[^,]*\), expires.*/\1/p' "$TMP/reg.out")
kam_ul | grep -qF "Address: $contact"
ok_if "kamailio holds the sips Contact ($contact)" $?
interrupt "$REG"
ok_if "register: exit 0 after SIGINT" $? "$TMP/reg.out"
has "$TMP/reg.out" 'unregistered sip:alice@'
ok_if "unregistered over TLS" $? "$TMP/reg.out"
clean "register" "$TMP/reg.err"

check "wrong password over TLS: exit 4" 4 "$SIPCX" register "sips:127.0.0.1:$T" \
	--tls-ca "$TMP/ca.pem" --username alice --password wrong

# --- A call between two phones registered over TLS. ---------------------------------------------
ports L 1
"$SIPCX" answer --listen "tls:127.0.0.1:$L" --tls-cert "$TMP/bob.pem" --tls-key "$TMP/bob.key" \
	--tls-ca "$TMP/ca.pem" --register "sips:127.0.0.1:$T" --username bob --password bobpw \
	--expiry 60 --echo --trace >"$TMP/bob.out" 2>"$TMP/bob.err" &
BOB=$!
PIDS+=("$BOB")
wait_for "$TMP/bob.out" '^listening on |failed' 10
has "$TMP/bob.out" "registered sips:bob@127\.0\.0\.1:$L"
ok_if "bob registered over TLS with his tls: listener as Contact" $? "$TMP/bob.out" "$TMP/bob.err"

check "alice dials sips:bob through kamailio, echo checked (exit 0)" 0 "$SIPCX" dial \
	"sips:bob@127.0.0.1:$T" --tls-ca "$TMP/ca.pem" --duration 2 --echo-check --trace
printf '%s\n' "$OUT" >"$TMP/alice.out"
expect "echo ok" 'echo ok: [0-9]+ sent, [0-9]+ back \(0.00% lost\)'
expect "kamailio record-routes over TLS" "^Record-Route: <sips:127\.0\.0\.1:$T;transport=tls;lr"
expect "the BYE follows the route over TLS" "^Route: <sips:127\.0\.0\.1:$T;transport=tls;lr"
clean "alice" "$TMP/alice.out"
wait_for "$TMP/bob.out" 'ended by remote' 10
has "$TMP/bob.err" '^INVITE sips:bob@127\.0\.0\.1:' && has "$TMP/bob.err" '^BYE sips:bob@'
ok_if "bob got the INVITE and the BYE from kamailio over TLS" $? "$TMP/bob.err"

# --- Verification failures. ------------------------------------------------------------------
check "a name the certificate does not carry (sips:localhost): exit 1" 1 "$SIPCX" register \
	"sips:localhost:$T" --tls-ca "$TMP/ca.pem" --username carol --password carolpw
expect "hostname mismatch named" 'TLS: certificate verify failed: [Hh]ostname mismatch'
check "another CA: exit 1" 1 "$SIPCX" register "sips:127.0.0.1:$T" --tls-ca "$TMP/other.pem" \
	--username carol --password carolpw
expect "unknown issuer named" 'TLS: certificate verify failed: unable to get local issuer certificate'
check "another CA, sipcx dial: exit 1" 1 "$SIPCX" dial "sips:bob@127.0.0.1:$T" \
	--tls-ca "$TMP/other.pem" --duration 1
expect "dial names it" 'not answered: TLS: certificate verify failed: unable to get local issuer certificate'
! kam_ul | grep -q 'AoR: carol'
ok_if "nothing registered for carol" $?

interrupt "$BOB"
ok_if "bob: exit 0 after SIGINT (unregistered)" $? "$TMP/bob.out"
clean "bob" "$TMP/bob.err"
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$TMP"/*.out "$TMP"/*.err "$KEEP"/ 2>/dev/null
finish
