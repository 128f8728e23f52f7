#!/usr/bin/env bash
# sipcx register against kamailio (digest auth, usrloc in memory): UDP, TCP, IPv6, granted expiry, bindings in ul.dump, wrong password, unregister, Contact: *.
. "$(dirname "$0")/lib/peers.sh"
need kamailio kamcmd ss timeout
need_sipcx
P=$(free_port 1) || skip "no free port"
kamailio_start "$P" || exit 1
KAM=$TMP/kamailio-$P
URI="sip:127.0.0.1:$P"

ul() { kamcmd -s "unix:$KAM/run/kamailio_ctl" ul.dump 2>&1; }
# bg NAME ARGS...: sipcx register in the background; output in $TMP/NAME.out, PID in BG.
bg() {
	local name=$1
	shift
	"$SIPCX" register "$@" >"$TMP/$name.out" 2>&1 &
	BG=$!
	PIDS+=("$BG")
}
# stop_bg NAME: SIGINT, exit 0 expected, and "unregistered" printed.
stop_bg() {
	interrupt "$BG"
	ok_if "$1: exit 0 after SIGINT" "$?"
	grep -qE 'unregistered sip:' "$TMP/$1.out"
	ok_if "$1: unregistered" "$?"
}

hosts=(127.0.0.1)
have_ipv6 && hosts+=('[::1]')
for host in "${hosts[@]}"; do
	for tp in udp tcp; do
		name="reg-$tp-${host//[^0-9]/}"
		bg "$name" --username alice --password alicepw --expiry 120 --transport "$tp" "sip:$host:$P"
		wait_for "$TMP/$name.out" 'registered|failed' 10
		grep -qE "registered sip:alice@$(sed 's/[][]/\\&/g' <<<"$host") at sip:alice@.*, expires 120 s \(asked 120\), refresh in 60.0 s" "$TMP/$name.out"
		ok_if "$tp $host: 200 with the granted expiry" "$?"
		contact=$(sed -n 's/.* at \(sip:[^,]*\), expires.*/\1/p' "$TMP/$name.out")
		ul | grep -qF "Address: $contact"
		ok_if "$tp $host: kamailio holds our Contact ($contact)" "$?"
		stop_bg "$name"
		! ul | grep -q 'AoR: alice'
		ok_if "$tp $host: the binding is gone from kamailio" "$?"
	done
done

# Wrong password: the auth-failed exit code after exactly one retry.
check "wrong password" 4 "$SIPCX" register --trace --username alice --password wrong "$URI"
expect "auth failed line" 'failed: authentication failed \(401 Unauthorized(: credentials for realm "[^"]*" refused)\)'
ok_if "exactly two REGISTERs" "$([ "$(grep -c '^REGISTER sip:' <<<"$OUT")" = 2 ]; echo $?)"
check "TCP, wrong password" 4 "$SIPCX" register --transport tcp --username bob --password wrong "$URI"

# kamailio raises a too short expiry to its minimum (5 s): refresh at half of that.
check "expiry raised by the registrar" 0 "$SIPCX" register --username carol --password carolpw \
	--expiry 2 --duration 0.2 "$URI"
expect "granted 5 of 2" 'expires 5 s \(asked 2\), refresh in 2.5 s'

# Settings from the environment, as the seed's client takes them.
check "SIP_SERVER / SIP_USERNAME / SIP_PASSWORD" 0 env SIP_SERVER="127.0.0.1:$P" \
	SIP_USERNAME=carol SIP_PASSWORD=carolpw "$SIPCX" register --duration 0.1
expect "registered carol" 'registered sip:carol@127.0.0.1 at '

# --unregister: Contact: * with Expires: 0 removes what another process registered.
bg bob --username bob --password bobpw --expiry 300 "$URI"
wait_for "$TMP/bob.out" 'registered' 10
ul | grep -q 'AoR: bob'
ok_if "bob is bound" "$?"
check "--unregister" 0 "$SIPCX" register --trace --unregister --username bob --password bobpw "$URI"
expect "Contact: * sent" '^Contact: \*$'
expect "unregistered bob" 'unregistered sip:bob@127.0.0.1$'
! ul | grep -q 'AoR: bob'
ok_if "no binding of bob left" "$?"
stop_bg bob
finish
