#!/usr/bin/env bash
# sipcx register while kamailio is stopped and started again: the failed refreshes are reported and retried, and the registration recovers.
. "$(dirname "$0")/lib/peers.sh"
need kamailio kamcmd ss timeout
need_sipcx
P=$(free_port 1) || skip "no free port"
kamailio_start "$P" || exit 1
KAM=$TMP/kamailio-$P
URI="sip:127.0.0.1:$P"

ok_if() {
	CHECKS=$((CHECKS + 1))
	if [ "$2" = 0 ]; then
		echo "ok - $1"
	else
		echo "FAIL - $1"
		sed 's/^/    /' "$out" | head -20
		FAILS=$((FAILS + 1))
	fi
}
kam_restart() {
	KAM_PORT=$P KAM_IPV6=0 KAM_CHILDREN=2 timeout 30 "$KAM/start.sh" >"$TMP/kam-restart.log" 2>&1 &&
		wait_listen udp "$P"
}

for tp in udp tcp; do
	# One file per run: a check must never read the previous run's lines.
	out=$TMP/reg-$tp.out
	# A short expiry (6 s: refresh every 3 s) and a short T1 (Timer F 3.2 s) keep the test short.
	"$SIPCX" register --transport "$tp" --username alice --password alicepw --expiry 6 \
		--t1 50ms --retry 300ms "$URI" >"$out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_for "$out" 'registered|failed' 10
	ok_if "$tp: registered" "$(grep -q 'registered sip:alice' "$out"; echo $?)"
	"$KAM/stop.sh" >/dev/null
	# kamailio is gone: the next refresh fails (Timer F over UDP, refused over TCP).
	wait_for "$out" 'failing' 15
	ok_if "$tp: refresh failure reported" "$(grep -q 'failing: .*retry in' "$out"; echo $?)"
	ok_if "$tp: still running" "$(kill -0 "$pid" 2>/dev/null; echo $?)"
	kam_restart
	ok_if "$tp: kamailio started again" "$?"
	wait_for "$out" 'recovered' 20
	ok_if "$tp: recovered" "$(grep -qE 'recovered sip:alice@127.0.0.1 at .*, expires 6 s' "$out"; echo $?)"
	contact=$(sed -n 's/.*recovered .* at \(sip:[^,]*\), expires.*/\1/p' "$out" | head -1)
	kamcmd -s "unix:$KAM/run/kamailio_ctl" ul.dump | grep -qF "Address: $contact"
	ok_if "$tp: the new kamailio holds our Contact again" "$?"
	interrupt "$pid"
	ok_if "$tp: exit 0 (registered at the end)" "$?"
	ok_if "$tp: unregistered" "$(grep -q 'unregistered sip:alice' "$out"; echo $?)"
done
finish
