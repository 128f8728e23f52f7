#!/usr/bin/env bash
# RFC 3263 SRV failover between two kamailio registrars located through dnsmasq: the priority-10 one takes the registration while up; stopped, the next REGISTER (and a TCP one, refused) goes to the priority-20 one.
. "$(dirname "$0")/lib/peers.sh"
need dnsmasq kamailio kamcmd ss timeout
need_sipcx
ports D 1
ports K1 1
ports K2 1
DNS="--dns-server 127.0.0.1:$D"

# _sip._udp and _sip._tcp of kam.test: K1 (priority 10), then K2 (20).
dnsmasq --no-daemon --no-resolv --no-hosts --port="$D" --listen-address=127.0.0.1 --bind-interfaces \
	--local=/test/ --host-record=k1.kam.test,127.0.0.1 --host-record=k2.kam.test,127.0.0.1 \
	--srv-host=_sip._udp.kam.test,k1.kam.test,"$K1",10,10 \
	--srv-host=_sip._udp.kam.test,k2.kam.test,"$K2",20,10 \
	--srv-host=_sip._tcp.kam.test,k1.kam.test,"$K1",10,10 \
	--srv-host=_sip._tcp.kam.test,k2.kam.test,"$K2",20,10 >"$TMP/dnsmasq.log" 2>&1 &
PIDS+=($!)
wait_listen udp "$D" || exit 1
kamailio_start "$K1" || exit 1
kamailio_start "$K2" || exit 1

# bound_at PORT: alice has a binding in that kamailio's usrloc.
bound_at() {
	CHECKS=$((CHECKS + 1))
	if kam_ul "$2" | grep -q 'AoR: alice'; then
		echo "ok - $1"
	else
		echo "FAIL - $1: no alice in ul.dump of $2"
		kam_ul "$2" | head -20 | sed 's/^/    /'
		FAILS=$((FAILS + 1))
	fi
}
not_bound_at() {
	CHECKS=$((CHECKS + 1))
	if kam_ul "$2" | grep -q 'AoR: alice'; then
		echo "FAIL - $1: alice bound at $2"; FAILS=$((FAILS + 1))
	else echo "ok - $1"; fi
}

# reg NAME ARGS...: sipcx register in the background (stays until SIGINT, then unregisters);
# returns once it says registered (at most 10 s). OUT is its output so far.
reg() {
	local name=$1
	shift
	timeout 60 "$SIPCX" register -v --trace --t1 10ms --expiry 60 $DNS "$@" >"$TMP/$name.out" 2>&1 &
	REG=$!
	PIDS+=("$REG")
	CHECKS=$((CHECKS + 1))
	if wait_for "$TMP/$name.out" '^\+[0-9.]+s registered' 10; then echo "ok - $name: registered"
	else echo "FAIL - $name: not registered"; tail -20 "$TMP/$name.out" | sed 's/^/    /'
		FAILS=$((FAILS + 1)); fi
	OUT=$(cat "$TMP/$name.out")
}
unreg() {
	interrupt "$REG"
	local rc=$?
	CHECKS=$((CHECKS + 1))
	if [ "$rc" = 0 ]; then echo "ok - unregistered, exit 0"; else
		echo "FAIL - register exit $rc"; FAILS=$((FAILS + 1)); fi
}

# Both up: the priority-10 registrar takes it.
reg both --username alice --password alicepw --listen "udp:127.0.0.1:0" sip:kam.test
expect "at K1" "RECV [0-9]+ bytes UDP 127.0.0.1:$K1 "
bound_at "K1 holds the binding" "$K1"
not_bound_at "K2 does not" "$K2"
unreg

# K1 down: Timer F (64 x 10 ms) on it, then K2.
"$TMP/kamailio-$K1/stop.sh" >/dev/null 2>&1
reg k1down --username alice --password alicepw --listen "udp:127.0.0.1:0" sip:kam.test
expect "K1 timed out" 'target 1 of 2 failed \(Connection timed out\), trying the next'
expect "registered at K2" "RECV [0-9]+ bytes UDP 127.0.0.1:$K2 "
bound_at "K2 holds the binding" "$K2"
unreg
not_bound_at "K2 let it go at the unregistration" "$K2"

# Over TCP the dead K1 refuses the connection at once.
reg tcp --username bob --password bobpw --listen "tcp:127.0.0.1:0" "sip:kam.test;transport=tcp"
expect "K1 refused" 'target 1 of 2 failed \(Connection refused\), trying the next'
expect "registered over TCP at K2" "RECV [0-9]+ bytes TCP 127.0.0.1:$K2 "
unreg
finish
