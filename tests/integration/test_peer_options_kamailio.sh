#!/usr/bin/env bash
# sipcx options against kamailio (stateless 200 to OPTIONS for itself): UDP, TCP, IPv4, IPv6, failure status.
. "$(dirname "$0")/lib/peers.sh"
need kamailio ss timeout
need_sipcx
P=$(free_port 1) || skip "no free port"
kamailio_start "$P" || exit 1

hosts=(127.0.0.1)
have_ipv6 && hosts+=('[::1]')
for host in "${hosts[@]}"; do
	for tp in udp tcp; do
		check "options $tp $host -> kamailio" 0 "$SIPCX" options --transport "$tp" "sip:$host:$P"
		expect "$tp $host: 200 and rtt" '^SIP/2.0 200 OK  rtt [0-9.]+ ms$'
	done
done
# ;transport=tcp in the URI chooses TCP as --transport does.
check "options sip:...;transport=tcp -> kamailio" 0 "$SIPCX" options --trace "sip:127.0.0.1:$P;transport=tcp"
expect "trace shows TCP both ways" 'RECV [0-9]+ bytes TCP 127.0.0.1:'"$P"
expect "kamailio filled rport (RFC 3581)" 'rport=[0-9]+'

# A keep-alive probe: --count/--interval, with a summary.
check "options --count 3 --interval 100ms" 0 "$SIPCX" options --count 3 --interval 100ms "sip:127.0.0.1:$P"
expect "three answers and a summary" '3 sent, 3 2xx, 0 failed, 0 timed out; rtt min/avg/max'

# OPTIONS to an unknown user is proxied to a lookup that fails: a failure status, exit 1.
check "options to an unregistered user" 1 "$SIPCX" options "sip:nobody@127.0.0.1:$P"
expect "failure status printed" '^SIP/2.0 [4-6][0-9][0-9] '

# Usage errors: one line on stderr, exit 2.
check "bad --transport" 2 "$SIPCX" options --transport sctp "sip:127.0.0.1:$P"
expect "one line" '^sipcx options: --transport must be udp, tcp or tls, not .sctp.'
finish
