#!/usr/bin/env bash
# SIP over TLS (RFC 3261 26.2, RFC 5922), sipcx against itself on loopback, with certificates
# made here by openssl(1):
# - `sipcx answer --listen "tls:... udp:..." --tls-cert --tls-key --echo` takes a sips: call
#   from `sipcx dial --tls-ca CA --echo-check`: exit 0, Via SIP/2.0/TLS, sips Contacts both
#   ways, the RTP echoed; the same with sip:...;transport=tls (Contact ;transport=tls) and with
#   `--transport tls`; `sipcx options` and `sipcx register` (to `sipcx registrar` on tls:)
#   over TLS, and a call through `sipcx registrar` on tls: (both phones over TLS); the
#   callee's BYE reaches a caller without a certificate (Via ;alias, RFC 5923);
# - verification: a CA that did not sign the server's certificate, and a certificate for
#   another name (a trusted CA): exit 1 (not 0, not 2) and the line names the certificate
#   problem; with --tls-insecure the call goes through and stderr says so;
# - usage: a tls: listener without --tls-cert, an unreadable --tls-ca, --tls-key alone: exit 2;
# - no sanitizer report from any of them (ASan builds: leaks of connections and SSL objects).
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need ss timeout openssl
need_sipcx

has() { # has FILE REGEX: the exit status of grep -E
	grep -qE -- "$2" "$1"
}
clean() { # clean NAME FILE: no sanitizer report in FILE
	! has "$2" 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer'
	ok_if "$1: no sanitizer report" $? "$2"
}
tls_cert ca "IP:127.0.0.1" || skip "openssl cannot make certificates"
tls_cert other "IP:127.0.0.1"
tls_cert wrongname "DNS:other.test" ca

ports A 1
"$SIPCX" answer --listen "tls:127.0.0.1:$A udp:127.0.0.1:$A" --tls-cert "$TMP/ca.pem" \
	--tls-key "$TMP/ca.key" --echo --duration 120 --trace >"$TMP/ans.out" 2>"$TMP/ans.err" &
ANS=$!
PIDS+=("$ANS")
wait_for "$TMP/ans.out" '^listening on ' 10
has "$TMP/ans.out" "^listening on tls:127.0.0.1:$A\$" && has "$TMP/ans.out" "^listening on udp:127.0.0.1:$A\$"
ok_if "answer listens on tls: and udp: of one --listen" $? "$TMP/ans.out" "$TMP/ans.err"

check "sips: call with the echo checked (exit 0)" 0 "$SIPCX" dial "sips:echo@127.0.0.1:$A" \
	--tls-ca "$TMP/ca.pem" --duration 2 --echo-check --trace
printf '%s\n' "$OUT" >"$TMP/sips.out"
expect "echo ok" 'echo ok: [0-9]+ sent, [0-9]+ back \(0.00% lost\)'
expect "INVITE over TLS: Via SIP/2.0/TLS" '^Via: SIP/2.0/TLS 127\.0\.0\.1:[0-9]+;rport;alias;branch='
expect "our Contact is sips:" '^Contact: <sips:sipcx@127\.0\.0\.1:[0-9]+>$'
expect "their Contact in the 200 is sips:" "^Contact: <sips:sipcx@127\.0\.0\.1:$A>\$"
expect "the trace says TLS" "SEND [0-9]+ bytes TLS 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$A"
clean "sips call" "$TMP/sips.out"

check "sip:...;transport=tls (exit 0)" 0 "$SIPCX" dial "sip:echo@127.0.0.1:$A;transport=tls" \
	--tls-ca "$TMP/ca.pem" --duration 1 --echo-check --trace
expect "Contact ;transport=tls" '^Contact: <sip:sipcx@127\.0\.0\.1:[0-9]+;transport=tls>$'
check "--transport tls (exit 0)" 0 "$SIPCX" dial "sip:echo@127.0.0.1:$A" --transport tls \
	--tls-ca "$TMP/ca.pem" --duration 1
check "sipcx options over TLS (exit 0)" 0 "$SIPCX" options "sips:127.0.0.1:$A" --tls-ca "$TMP/ca.pem"

# Verification failures: exit 1 (a failure, not a usage error) naming the problem.
check "a CA that did not sign the server's certificate: exit 1" 1 "$SIPCX" dial \
	"sips:echo@127.0.0.1:$A" --tls-ca "$TMP/other.pem" --duration 1
expect "the line names the certificate problem" 'not answered: TLS: certificate verify failed: (self-signed certificate|unable to get local issuer certificate)$'
printf '%s\n' "$OUT" >"$TMP/badca.out"
clean "verify failure" "$TMP/badca.out"
check "no CA given: the system store does not know it either (exit 1)" 1 "$SIPCX" dial \
	"sips:echo@127.0.0.1:$A" --duration 1
expect "certificate verify failed" 'TLS: certificate verify failed'
check "--tls-insecure: the call goes through (exit 0)" 0 "$SIPCX" dial "sips:echo@127.0.0.1:$A" \
	--tls-ca "$TMP/other.pem" --tls-insecure --duration 1
expect "--tls-insecure says so" 'WARNING: --tls-insecure: TLS servers are NOT verified'

# A certificate from the trusted CA, but for another name.
ports W 1
"$SIPCX" answer --listen "tls:127.0.0.1:$W" --tls-cert "$TMP/wrongname.pem" \
	--tls-key "$TMP/wrongname.key" --duration 60 >"$TMP/wrong.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/wrong.out" '^listening on ' 10
check "a certificate for another name: exit 1" 1 "$SIPCX" dial "sips:x@127.0.0.1:$W" \
	--tls-ca "$TMP/ca.pem" --duration 1
expect "IP address mismatch" 'TLS: certificate verify failed: IP address mismatch'

# The callee hangs up: its BYE reaches a caller that has no certificate over the connection
# the caller opened (RFC 5923: our Via over TLS carries ;alias).
ports H 1
"$SIPCX" answer --listen "tls:127.0.0.1:$H" --tls-cert "$TMP/ca.pem" --tls-key "$TMP/ca.key" \
	--hangup 1s --count 1 >"$TMP/hang.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/hang.out" '^listening on ' 10
check "the callee hangs up: the caller without a certificate gets the BYE (exit 0)" 0 \
	"$SIPCX" dial "sips:x@127.0.0.1:$H" --tls-ca "$TMP/ca.pem" --duration 10 --trace
expect "ended by remote" 'call 1: ended by remote after'
expect "our Via asks for the alias" '^Via: SIP/2.0/TLS 127\.0\.0\.1:[0-9]+;rport;alias;branch='

# Registration over TLS to sipcx registrar (digest).
ports R 1
"$SIPCX" registrar --listen "tls:127.0.0.1:$R" --tls-cert "$TMP/ca.pem" --tls-key "$TMP/ca.key" \
	--user alice:alicepw --user bob:bobpw --duration 60 >"$TMP/reg.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/reg.out" '^listening on' 10
check "sipcx register over TLS with digest (exit 0)" 0 "$SIPCX" register "sips:127.0.0.1:$R" \
	--tls-ca "$TMP/ca.pem" --username alice --password alicepw --duration 0.2
expect "registered with a sips Contact" 'registered sip:alice@127\.0\.0\.1 at sips:alice@127\.0\.0\.1:[0-9]+'

# A call through the registrar's proxy, both phones over TLS: bob registered by sips:.
ports B 1
"$SIPCX" answer --listen "tls:127.0.0.1:$B" --tls-cert "$TMP/ca.pem" --tls-key "$TMP/ca.key" \
	--tls-ca "$TMP/ca.pem" --register "sips:127.0.0.1:$R" --username bob --password bobpw \
	--echo --duration 60 >"$TMP/bob.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/bob.out" '^listening on |failed' 10
has "$TMP/bob.out" "registered sips:bob@127\.0\.0\.1:$B"
ok_if "bob registered to sipcx registrar over TLS" $? "$TMP/bob.out"
check "alice calls sips:bob through the registrar, echo checked (exit 0)" 0 "$SIPCX" dial \
	"sips:bob@127.0.0.1:$R" --tls-ca "$TMP/ca.pem" --username alice --password alicepw \
	--duration 1 --echo-check
expect "echo ok through the proxy" 'echo ok: [0-9]+ sent, [0-9]+ back \(0.00% lost\)'
wait_for "$TMP/reg.out" 'routed BYE from tls:' 10
has "$TMP/reg.out" "routed INVITE from tls:127\.0\.0\.1:[0-9]+ -> sips:bob@127\.0\.0\.1:$B"
ok_if "the registrar routed the INVITE and the BYE over TLS" $? "$TMP/reg.out"

# Usage errors: exit 2 and one line.
check "a tls: listener without --tls-cert: exit 2" 2 "$SIPCX" answer --listen "tls:127.0.0.1:0"
expect "says what is missing" 'a tls: listener needs --tls-cert'
check "an unreadable --tls-ca: exit 2" 2 "$SIPCX" dial "sips:x@127.0.0.1:$A" --tls-ca "$TMP/none.pem"
expect "names the file" "cannot read --tls-ca '.*none.pem'"
check "--tls-key without --tls-cert: exit 2" 2 "$SIPCX" dial "sips:x@127.0.0.1:$A" \
	--tls-key "$TMP/ca.key"

interrupt "$ANS"
ok_if "answer: exit 0 after SIGINT" $? "$TMP/ans.out" "$TMP/ans.err"
clean "answer" "$TMP/ans.err"
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$TMP"/*.out "$TMP"/*.err "$KEEP"/ 2>/dev/null
finish
