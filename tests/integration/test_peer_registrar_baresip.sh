#!/usr/bin/env bash
# sipcx registrar and baresip 1.0 (MD5 only): --algorithm md5,sha-256 challenges MD5 first; with md5 baresip registers, answers MD5, unregisters at exit.
# (baresip 1.0's libre gives up on any challenge whose algorithm is not MD5, wherever it stands: ENOSYS.)
. "$(dirname "$0")/lib/peers.sh"
need baresip ss timeout
need_sipcx
P=$(free_port 2) || skip "no free port"
R=$P B=$((P + 1))

# registrar ALGORITHMS: one on port R, output in $TMP/registrar.out, trace in $TMP/trace.out.
registrar() {
	"$SIPCX" registrar --listen "udp:127.0.0.1:$R" --user carol:carolpw --algorithm "$1" \
		--trace >"$TMP/registrar.out" 2>"$TMP/trace.out" &
	REG=$!
	PIDS+=("$REG")
	wait_for "$TMP/registrar.out" '^listening on' 5 || { cat "$TMP/registrar.out"; exit 1; }
}

# A headless baresip: no audio, no console; one account registering to us.
BD=$TMP/baresip
mkdir -p "$BD"
cat >"$BD/config" <<EOF
poll_method		epoll
sip_listen		127.0.0.1:$B
net_interface		127.0.0.1
dns_server		127.0.0.1:53
module_path		/usr/lib/baresip/modules
module			g711.so
module_tmp		uuid.so
module_tmp		account.so
EOF
echo "<sip:carol@127.0.0.1:$R;transport=udp>;auth_pass=carolpw;regint=60" >"$BD/accounts"
: >"$BD/contacts"
start_baresip() {
	baresip -4 -f "$BD" </dev/null >"$TMP/baresip.log" 2>&1 &
	BARESIP=$!
	PIDS+=("$BARESIP")
}

# RFC 8760 order as the operator gave it: MD5 first, SHA-256 second.
registrar md5,sha-256
start_baresip
wait_for "$TMP/trace.out" 'algorithm=SHA-256' 10
CHECKS=$((CHECKS + 1))
first=$(grep -m1 '^WWW-Authenticate:' "$TMP/trace.out")
if grep -q 'algorithm=MD5' <<<"$first" && grep -q 'algorithm=SHA-256' "$TMP/trace.out"; then
	echo "ok - --algorithm md5,sha-256: MD5 offered first, SHA-256 second"
else
	echo "FAIL - first challenge: $first"
	FAILS=$((FAILS + 1))
fi
interrupt "$BARESIP" >/dev/null
interrupt "$REG" >/dev/null

# MD5 only: baresip registers, and unregisters when it stops.
registrar md5
start_baresip
CHECKS=$((CHECKS + 1))
if wait_for "$TMP/registrar.out" "bound carol sip:carol-[^ ]*@127.0.0.1:$B" 10; then
	echo "ok - baresip registered"
else
	echo "FAIL - baresip did not register"
	sed 's/^/    /' "$TMP/registrar.out" "$TMP/baresip.log" | tail -30
	FAILS=$((FAILS + 1))
fi
CHECKS=$((CHECKS + 1))
# (no algorithm parameter is MD5, RFC 7616 3.3)
if grep -qE '^Authorization: Digest ' "$TMP/trace.out" &&
	! grep -qE '^Authorization: Digest .*algorithm=SHA' "$TMP/trace.out"; then
	echo "ok - baresip answered with MD5"
else
	echo "FAIL - no MD5 Authorization in the trace"
	FAILS=$((FAILS + 1))
fi
CHECKS=$((CHECKS + 1))
if grep -qE 'bound carol .*\+sip.instance' "$TMP/registrar.out" || grep -qE '^Contact: .*\+sip.instance=.*;expires=' "$TMP/trace.out"; then
	echo "ok - baresip's +sip.instance echoed in the 200"
else
	echo "FAIL - +sip.instance not echoed"
	FAILS=$((FAILS + 1))
fi
interrupt "$BARESIP" >/dev/null
CHECKS=$((CHECKS + 1))
if wait_for "$TMP/registrar.out" 'removed carol' 5; then echo "ok - baresip unregistered at exit"; else
	echo "FAIL - no removal after baresip stopped"
	FAILS=$((FAILS + 1))
fi
interrupt "$REG" >/dev/null
finish
