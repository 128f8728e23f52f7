#!/usr/bin/env bash
# sipcx register against sipcx registrar: 401 -> 200, refresh, Expires: 0, wrong password, 423, Contact: *, SHA-256, TCP.
. "$(dirname "$0")/lib/peers.sh"
need ss timeout
need_sipcx
P=$(free_port 1) || skip "no free port"
URI="sip:127.0.0.1:$P"

# wait_for FILE PATTERN [SECONDS]: until a line of FILE matches PATTERN (grep -E), bounded.
# has NAME PATTERN FILE: one check that FILE has PATTERN.
has() {
	CHECKS=$((CHECKS + 1))
	if grep -qE -- "$2" "$3"; then
		echo "ok - $1"
	else
		echo "FAIL - $1: no /$2/ in $3:"
		sed 's/^/    /' "$3" | head -30
		FAILS=$((FAILS + 1))
	fi
}
# same NAME A B: one check that A equals B.
same() {
	CHECKS=$((CHECKS + 1))
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "FAIL - $1: '$2' != '$3'"
		FAILS=$((FAILS + 1))
	fi
}

# registrar NAME ARGS...: a registrar in the background on port P (UDP and TCP).
registrar() {
	local name=$1
	shift
	"$SIPCX" registrar --listen "udp:127.0.0.1:$P tcp:127.0.0.1:$P" --user alice:secret \
		--user bob:bobpw "$@" >"$TMP/$name.out" 2>&1 &
	REGISTRAR=$!
	PIDS+=("$REGISTRAR")
	wait_for "$TMP/$name.out" '^listening on' 5 || { cat "$TMP/$name.out"; exit 1; }
}
stop_registrar() {
	interrupt "$REGISTRAR"
	same "registrar exits 0 at SIGINT" "$?" 0
}

# The seed's flow: REGISTER -> 401 -> REGISTER with digest -> 200, a refresh at half the expiry, Expires: 0.
registrar r1 --min-expires 1
check "register, refresh, unregister" 0 "$SIPCX" register --trace --username alice --password secret \
	--expiry 2 --duration 1.8 "$URI"
expect "registered with the granted expiry" 'registered sip:alice@127.0.0.1 at sip:alice@127.0.0.1:[0-9]+, expires 2 s \(asked 2\), refresh in 1.0 s'
expect "refreshed" '^\+1\.[0-9]+s refreshed sip:alice@127.0.0.1, expires 2 s'
expect "unregistered" 'unregistered sip:alice@127.0.0.1$'
expect "401 in the trace" '^SIP/2.0 401 Unauthorized'
expect "digest credentials in the trace" '^Authorization: Digest username="alice", realm="127.0.0.1"'
expect "Expires: 0 at the end" '^Expires: 0$'
same "REGISTERs: challenged, authorised, refresh, unregister" "$(grep -c '^REGISTER sip:' <<<"$OUT")" 4
same "CSeq 1..4" "$(grep -E '^CSeq: [0-9]+ REGISTER' <<<"$OUT" | sort -u | tr -d '\n')" \
	"CSeq: 1 REGISTERCSeq: 2 REGISTERCSeq: 3 REGISTERCSeq: 4 REGISTER"
same "one Call-ID" "$(grep '^Call-ID:' <<<"$OUT" | sort -u | wc -l)" 1
stop_registrar
has "registrar: bound at CSeq 2" 'bound alice sip:alice@127.0.0.1:[0-9]+ expires 2 s from udp:127.0.0.1:[0-9]+ \(CSeq 2\)' "$TMP/r1.out"
has "registrar: refreshed at CSeq 3" 'refreshed alice .* \(CSeq 3\)' "$TMP/r1.out"
has "registrar: removed at CSeq 4" 'removed alice .* \(CSeq 4\)' "$TMP/r1.out"

# Wrong password: exit 4 after exactly one retry; 423 -> retry with Min-Expires; TCP; --unregister.
registrar r2 --min-expires 30 --max-expires 600
check "wrong password" 4 "$SIPCX" register --trace --username alice --password nope "$URI"
expect "auth failed line" 'failed: authentication failed \(401 Unauthorized(: credentials for realm "[^"]*" refused)\)'
same "two REGISTERs, no more" "$(grep -c '^REGISTER sip:' <<<"$OUT")" 2
check "no credentials" 4 "$SIPCX" register --username alice "$URI"
check "423 then Min-Expires" 0 "$SIPCX" register --trace --username alice --password secret \
	--expiry 10 --duration 0.2 "$URI"
expect "423 seen" '^SIP/2.0 423 '
expect "Min-Expires: 30" '^Min-Expires: 30$'
expect "granted 30 after asking 30" 'expires 30 s \(asked 30\)'
check "a registrar that caps the expiry" 0 "$SIPCX" register --username alice --password secret \
	--expiry 7200 --duration 0.2 "$URI"
expect "capped: refresh at half of 600" 'expires 600 s \(asked 7200\), refresh in 300.0 s'
check "TCP" 0 "$SIPCX" register --trace --transport tcp --username bob --password bobpw \
	--duration 0.2 "$URI"
expect "TCP contact" 'at sip:bob@127.0.0.1:[0-9]+;transport=tcp'
expect "over TCP" 'SEND [0-9]+ bytes TCP '

"$SIPCX" register --username bob --password bobpw --expiry 300 "$URI" >"$TMP/bob.out" 2>&1 &
BOB=$!
PIDS+=("$BOB")
wait_for "$TMP/bob.out" 'registered' 10
check "--unregister (Contact: *)" 0 "$SIPCX" register --trace --unregister --username bob \
	--password bobpw "$URI"
expect "Contact: *" '^Contact: \*$'
expect "unregistered line" 'unregistered sip:bob@127.0.0.1$'
wait_for "$TMP/r2.out" 'removed bob' 5
has "registrar removed bob's binding" 'removed bob sip:bob@127.0.0.1:' "$TMP/r2.out"
interrupt "$BOB"
same "the background register exits 0" "$?" 0
stop_registrar

# SHA-256 (RFC 8760) offered first, MD5 second: the client picks SHA-256.
registrar r3 --algorithm sha-256,md5
check "SHA-256" 0 "$SIPCX" register --trace --username alice --password secret --duration 0.1 "$URI"
expect "two challenges" 'WWW-Authenticate: Digest .*algorithm=SHA-256'
expect "answered with SHA-256" '^Authorization: Digest .*algorithm=SHA-256'
stop_registrar

# SIP_SERVER, SIP_USERNAME, SIP_PASSWORD; usage errors.
registrar r4
check "settings from the environment" 0 env SIP_SERVER="127.0.0.1:$P" SIP_USERNAME=alice \
	SIP_PASSWORD=secret "$SIPCX" register --duration 0.1
expect "registered from env" 'registered sip:alice@127.0.0.1'
stop_registrar
check "no URI" 2 env -u SIP_SERVER "$SIPCX" register --username alice
expect "usage line" '^sipcx register: missing URI'
check "bad --expiry" 2 "$SIPCX" register --expiry 0 "$URI"
check "bad --user" 2 "$SIPCX" registrar --user alice
expect "registrar usage line" '^sipcx registrar: --user must be NAME:PASSWORD'
check "bad --algorithm" 2 "$SIPCX" registrar --algorithm sha-1
check "nothing listens: timeout" 3 "$SIPCX" register --t1 10ms --username alice --password x "$URI"
expect "timeout line" 'failed: timeout'
finish
