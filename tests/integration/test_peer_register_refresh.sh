#!/usr/bin/env bash
# sipcx register against a kamailio that grants less than asked (max_expires 10) and challenges with SHA-256: refresh at half of the grant.
. "$(dirname "$0")/lib/peers.sh"
need kamailio ss timeout
need_sipcx
P=$(free_port 1) || skip "no free port"
export KAM_MAX_EXPIRES=10 KAM_AUTH_ALG=SHA-256
kamailio_start "$P" || exit 1
URI="sip:127.0.0.1:$P"

ok_if() {
	CHECKS=$((CHECKS + 1))
	if [ "$2" = 0 ]; then
		echo "ok - $1"
	else
		echo "FAIL - $1"
		sed 's/^/    /' "$out" | grep -v '^    [A-Z][A-Za-z-]*: ' | head -20
		FAILS=$((FAILS + 1))
	fi
}

for tp in udp tcp; do
	# One file per run: a check must never read the previous run's lines.
	out=$TMP/reg-$tp.out
	# Ask 3600 s; kamailio grants 10: the refresh must come at 5 s, not at 1800 s.
	"$SIPCX" register --trace --transport "$tp" --username alice --password alicepw --expiry 3600 \
		"$URI" >"$out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_for "$out" 'refreshed|failed' 15
	ok_if "$tp: refreshed within 15 s" "$(grep -q refreshed "$out"; echo $?)"
	interrupt "$pid"
	ok_if "$tp: exit 0 after SIGINT" "$?"
	grep -qE 'registered sip:alice@127.0.0.1 at .*, expires 10 s \(asked 3600\), refresh in 5.0 s' "$out"
	ok_if "$tp: granted 10 of 3600, refresh in 5 s" "$?"
	# The refresh line carries its time since start: about 5 s, far from 1800 s.
	t=$(sed -n 's/^+\([0-9.]*\)s refreshed .*expires 10 s.*/\1/p' "$out" | head -1)
	ok_if "$tp: refreshed at ${t:-?} s (half of 10)" "$(awk -v t="${t:-0}" 'BEGIN { exit !(t >= 4.9 && t < 9) }'; echo $?)"
	# SHA-256 digest (RFC 8760), answered once, then sent up front on the refresh.
	ok_if "$tp: SHA-256 challenge" "$(grep -q '^WWW-Authenticate: Digest .*algorithm=SHA-256' "$out"; echo $?)"
	ok_if "$tp: SHA-256 credentials" "$(grep -q '^Authorization: Digest .*algorithm=SHA-256' "$out"; echo $?)"
	ok_if "$tp: one 401 only (the refresh was not challenged)" "$([ "$(grep -c '^SIP/2.0 401' "$out")" = 1 ]; echo $?)"
	# RFC 3261 10.2.4: one Call-ID, CSeq up by one; then Expires: 0.
	ok_if "$tp: one Call-ID" "$([ "$(grep '^Call-ID:' "$out" | sort -u | wc -l)" = 1 ]; echo $?)"
	cseqs=$(grep -E '^CSeq: [0-9]+ REGISTER' "$out" | awk '{print $2}' | uniq | tr '\n' ' ')
	ok_if "$tp: CSeq 1 2 3 4 ($cseqs)" "$([ "$cseqs" = "1 2 3 4 " ]; echo $?)"
	ok_if "$tp: Expires: 0 at the end" "$(grep -q '^Expires: 0$' "$out"; echo $?)"
	ok_if "$tp: unregistered" "$(grep -q 'unregistered sip:alice@127.0.0.1$' "$out"; echo $?)"
done
finish
