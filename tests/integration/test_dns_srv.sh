#!/usr/bin/env bash
# RFC 3263 server location against dnsmasq on loopback: SRV (priority order; failover to the next target on a refused connection, a Timer F timeout, a 503 from SIPp or sipcx answer), NAPTR, A for an explicit port, AAAA, _sips._tcp with the certificate checked for the domain, the TTL cache, a name that does not exist; options, register and dial by name.
. "$(dirname "$0")/lib/peers.sh"
need dnsmasq ss timeout
need_sipcx
# same NAME A B: one check that A equals B.
same() {
	CHECKS=$((CHECKS + 1))
	if [ "$2" = "$3" ]; then echo "ok - $1"; else
		echo "FAIL - $1: '$2' != '$3'"
		FAILS=$((FAILS + 1))
	fi
}
ports D 1   # dnsmasq
ports P1 1  # the first SRV target: nothing listens there
ports P2 1  # the second: sipcx answer / registrar
ports P3 1  # sipcx answer --code 503: every call refused
ports P4 1  # sipcx answer: calls answered
ports P5 1  # sipcx answer on TLS, its certificate for secure.test
ports P6 1  # SIPp answering one OPTIONS with 503
DNS="--dns-server 127.0.0.1:$D"

# The zone: example.test has _sip._udp and _sip._tcp with P1 first (priority 10), P2 next (20);
# up.example.test only P2; naptr.test a NAPTR to _sip._tcp.naptr.test (P2 over TCP); busy.test
# P3 first (503), P4 next; call.test (TCP) P1 first, P4 next; sip1/sip2 are 127.0.0.1; anything
# else under .test does not exist.
dnsmasq --no-daemon --no-resolv --no-hosts --port="$D" --listen-address=127.0.0.1 --bind-interfaces \
	--local=/test/ --local-ttl=60 --log-queries --log-facility=- \
	--host-record=sip1.example.test,127.0.0.1 --host-record=sip2.example.test,127.0.0.1 \
	--srv-host=_sip._udp.example.test,sip1.example.test,"$P1",10,10 \
	--srv-host=_sip._udp.example.test,sip2.example.test,"$P2",20,10 \
	--srv-host=_sip._tcp.example.test,sip1.example.test,"$P1",10,10 \
	--srv-host=_sip._tcp.example.test,sip2.example.test,"$P2",20,10 \
	--srv-host=_sip._udp.up.example.test,sip2.example.test,"$P2",10,10 \
	--srv-host=_sip._udp.twice.test,sip2.example.test,"$P2",10,10 \
	--srv-host=_sips._tcp.secure.test,sip1.example.test,"$P5",10,10 \
	--srv-host=_sip._udp.busy.example.test,sip1.example.test,"$P6",10,10 \
	--srv-host=_sip._udp.busy.example.test,sip2.example.test,"$P2",20,10 \
	--srv-host=_sips._tcp.wrong.test,sip1.example.test,"$P5",10,10 \
	--naptr-record=naptr.test,10,10,s,SIP+D2T,,_sip._tcp.naptr.test \
	--naptr-record=naptr.test,20,10,s,SIP+D2U,,_sip._udp.naptr.test \
	--srv-host=_sip._tcp.naptr.test,sip2.example.test,"$P2",10,10 \
	--srv-host=_sip._udp.naptr.test,sip1.example.test,"$P1",10,10 \
	--srv-host=_sip._udp.busy.test,sip1.example.test,"$P3",10,10 \
	--srv-host=_sip._udp.busy.test,sip2.example.test,"$P4",20,10 \
	--srv-host=_sip._tcp.call.test,sip1.example.test,"$P1",10,10 \
	--srv-host=_sip._tcp.call.test,sip2.example.test,"$P4",20,10 \
	--host-record=direct.example.test,127.0.0.1 --host-record=v6.example.test,::1 \
	>"$TMP/dnsmasq.log" 2>&1 &
PIDS+=($!)
wait_listen udp "$D" || exit 1

# The second target: a registrar for example.test (it answers OPTIONS too) on UDP and TCP.
V6=""
have_ipv6 && V6="udp:[::1]:$P2"
"$SIPCX" registrar --listen "udp:127.0.0.1:$P2 tcp:127.0.0.1:$P2 $V6" --domain example.test \
	--domain v6.example.test --domain up.example.test --domain twice.test --domain busy.example.test --domain naptr.test --domain direct.example.test --user alice:secret \
	>"$TMP/registrar.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/registrar.out" '^listening on' 5 || { cat "$TMP/registrar.out"; exit 1; }

# SRV: the only target.
check "options sip:up.example.test: the SRV target answers" 0 "$SIPCX" options --trace $DNS \
	sip:up.example.test
expect "200 from the SRV target" '^SIP/2.0 200 OK  rtt'
expect "sent to the SRV target's port" "SEND [0-9]+ bytes UDP [0-9.:]+ -> 127.0.0.1:$P2"

# The cache: three pings in one run ask the SRV once (TTL 60 s).
check "options --count 3 sip:twice.test: answered" 0 "$SIPCX" options --count 3 --interval 10ms \
	$DNS sip:twice.test
same "one SRV query for three requests" "$(grep -c 'query\[SRV\] _sip._udp.twice.test' "$TMP/dnsmasq.log")" 1

# SRV over TCP: the first target refuses the connection, the second answers (RFC 3263 4.3).
check "options sip:example.test;transport=tcp: failover from a refused connection" 0 \
	"$SIPCX" options --trace -v $DNS "sip:example.test;transport=tcp"
expect "the priority-10 target refused" 'target 1 of 2 failed \(Connection refused\), trying the next'
expect "then the priority-20 one" "SEND [0-9]+ bytes TCP [0-9.:]+ -> 127.0.0.1:$P2"
expect "200 in the end" '^SIP/2.0 200 OK'

# SRV over UDP: nothing answers at the first target, Timer F (64 x T1) moves on.
check "options sip:example.test: failover after Timer F" 0 "$SIPCX" options --trace -v --t1 10ms \
	$DNS sip:example.test
expect "the first target tried" "SEND [0-9]+ bytes UDP [0-9.:]+ -> 127.0.0.1:$P1"
expect "the first target timed out" 'target 1 of 2 failed \(Connection timed out\)'
expect "the second answered" "RECV [0-9]+ bytes UDP 127.0.0.1:$P2"
branches=$(grep -E '^Via: SIP/2.0/UDP' <<<"$OUT" | grep -oE 'branch=[^;]+' | sort -u | wc -l)
CHECKS=$((CHECKS + 1))
if [ "$branches" = 2 ]; then echo "ok - a new transaction (branch) for the second target"; else
	echo "FAIL - $branches branches, want 2"; FAILS=$((FAILS + 1)); fi

# A 503 to OPTIONS from the first target (SIPp): the next one, in a new transaction.
if command -v sipp >/dev/null; then
	cat >"$TMP/503.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="OPTIONS answered 503">
  <recv request="OPTIONS"/>
  <send><![CDATA[
SIP/2.0 503 Service Unavailable
[last_Via:]
[last_From:]
[last_To:];tag=[pid]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
XML
	sipp_bg sipp503 -sf "$TMP/503.xml" -i 127.0.0.1 -p "$P6" -m 1
	wait_listen udp "$P6" || exit 1
	check "options sip:busy.example.test: 503 from the first target, the second answers" 0 \
		"$SIPCX" options -v --trace $DNS sip:busy.example.test
	expect "the 503" '^SIP/2.0 503 Service Unavailable'
	expect "failover after it" 'target 1 of 2 failed \(503\), trying the next'
	expect "200 from the second" '^SIP/2.0 200 OK  rtt'
fi

# NAPTR: SIP+D2T first (order 10) -> _sip._tcp.naptr.test -> TCP to P2.
check "options sip:naptr.test: NAPTR picks TCP" 0 "$SIPCX" options --trace $DNS sip:naptr.test
expect "over TCP to the NAPTR's SRV target" "SEND [0-9]+ bytes TCP [0-9.:]+ -> 127.0.0.1:$P2"

# An explicit port: no NAPTR nor SRV, the A record only (RFC 3263 4.2).
check "options sip:direct.example.test:P2: A only" 0 "$SIPCX" options $DNS \
	"sip:direct.example.test:$P2"
CHECKS=$((CHECKS + 1))
if grep -q 'query\[SRV\] _sip._udp.direct.example.test' "$TMP/dnsmasq.log" ||
	grep -q 'query\[NAPTR\] direct.example.test' "$TMP/dnsmasq.log"; then
	echo "FAIL - SRV or NAPTR asked for a URI with a port"; FAILS=$((FAILS + 1))
else echo "ok - no SRV nor NAPTR query for a URI with a port"; fi

# AAAA: with an IPv6 listener the name's IPv6 address is asked for and used.
if [ -n "$V6" ]; then
	check "options sip:v6.example.test:P2 over IPv6: AAAA" 0 "$SIPCX" options --trace $DNS \
		--listen "udp:[::1]:0" "sip:v6.example.test:$P2"
	expect "answered from [::1]" "RECV [0-9]+ bytes UDP \\[::1\\]:$P2 "
fi

# sips: _sips._tcp, and the certificate must name the URI's domain, not the SRV target (RFC 5922
# 4.1): secure.test passes, wrong.test (same server) fails verification.
if command -v openssl >/dev/null && openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	-keyout "$TMP/s.key" -out "$TMP/s.pem" -subj "/CN=secure.test" \
	-addext "subjectAltName=DNS:secure.test" 2>/dev/null; then
	answer_in_bg tls --duration 20 --listen "tls:127.0.0.1:$P5" --tls-cert "$TMP/s.pem" --tls-key "$TMP/s.key" ||
		{ cat "$TMP/tls.out"; exit 1; }
	check "options sips:secure.test: _sips._tcp, the certificate names the domain" 0 "$SIPCX" \
		options --trace $DNS --tls-ca "$TMP/s.pem" sips:secure.test
	expect "over TLS to the SRV target" "SEND [0-9]+ bytes TLS [0-9.:]+ -> 127.0.0.1:$P5"
	check "options sips:wrong.test: the same server, a certificate for another name" 1 "$SIPCX" \
		options $DNS --tls-ca "$TMP/s.pem" sips:wrong.test
	expect "verification failed" 'certificate verify failed'
fi

# A name that does not exist: one clear line, exit 1.
check "options to a name that does not exist" 1 "$SIPCX" options $DNS sip:nosuch.example.test
expect "cannot resolve" '^sipcx options: cannot send to sip:nosuch.example.test: cannot resolve host'
check "register to a name that does not exist" 1 "$SIPCX" register $DNS sip:nosuch.example.test
expect "cannot resolve, named" '^sipcx register: cannot resolve nosuch.example.test'
check "bad --dns-server" 2 "$SIPCX" options --dns-server nameserver sip:example.test
expect "one line" '^sipcx options: bad --dns-server'

# Register by name: the first TCP target refuses, the registrar at the second takes it.
check "register sip:example.test;transport=tcp by SRV with failover" 0 "$SIPCX" register --trace \
	--listen "tcp:127.0.0.1:0" --username alice --password secret --duration 0.3 $DNS \
	"sip:example.test;transport=tcp"
expect "registered" "registered sip:alice@example.test"
expect "at the second target" "RECV [0-9]+ bytes TCP 127.0.0.1:$P2"

# Calls by name: two answering instances, the first refusing every call with 503.
answer_in_bg busy --listen "udp:127.0.0.1:$P3" --code 503 --duration 20 || { cat "$TMP/busy.out"; exit 1; }
answer_in_bg up --listen "udp:127.0.0.1:$P4 tcp:127.0.0.1:$P4" --count 2 ||
	{ cat "$TMP/up.out"; exit 1; }
check "dial sip:bob@busy.test: 503 from the first target, the second answers" 0 "$SIPCX" dial -v \
	--trace --duration 0.2 $DNS sip:bob@busy.test
expect "the 503" '^SIP/2.0 503 '
expect "failover said" 'target 1 of 2 failed \(503\), trying the next'
expect "answered by the second" "RECV [0-9]+ bytes UDP 127.0.0.1:$P4 .*"
expect "the 200" '^SIP/2.0 200 OK'
check "dial sip:bob@call.test (TCP SRV): the first refuses the connection, the second answers" 0 \
	"$SIPCX" dial -v --duration 0.2 $DNS "sip:bob@call.test;transport=tcp"
expect "failover from the refused connection" 'target 1 of 2 failed \(Connection refused\)'
CHECKS=$((CHECKS + 1))
if wait_for "$TMP/up.rc" '^0$' 10; then echo "ok - the second target took both calls (--count 2, exit 0)"
else echo "FAIL - the answering instance: rc $(cat "$TMP/up.rc" 2>/dev/null)"; tail "$TMP/up.out"
	FAILS=$((FAILS + 1)); fi
check "dial a name that does not exist" 1 "$SIPCX" dial $DNS sip:bob@nosuch.example.test
expect "cannot resolve" 'cannot resolve'
finish
