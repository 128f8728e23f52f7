#!/usr/bin/env bash
# sipcx registrar with thousands of accounts (--users FILE, SIPp -inf style) taking a
# registration storm from sipcx load (digest, Expires: 0), wrong passwords refused, and an
# open registrar that keeps taking new names once the old ones are gone (its cap on open
# users counts live names only).
. "$(dirname "$0")/lib/peers.sh"
need timeout python3
need_sipcx

# accounts FILE PREFIX N [PASSWORD_PREFIX]: N accounts PREFIXi;PASSWORD_PREFIXi.
accounts() {
	{
		echo SEQUENTIAL
		for ((i = 1; i <= $3; i++)); do echo "$2$i;${4-pw}$i"; done
	} >"$1"
}
registrar_bg() {
	local name=$1
	shift
	"$SIPCX" registrar "$@" >"$TMP/$name.out" 2>&1 &
	PIDS+=($!)
	wait_for "$TMP/$name.out" '^listening on' 10 || ok_if "$name up" 1 "$TMP/$name.out"
}

# 1. 2,000 accounts from a file: all register with digest and unregister.
N=2000
accounts "$TMP/acc.csv" u $N
ports P 1
# (--max-auth-failures: the wrong passwords below all come from one address)
registrar_bg reg --listen "udp:127.0.0.1:$P" --users "$TMP/acc.csv" --user extra:xpw -q --max-auth-failures 1000
ok_if "the registrar counts the file's users and --user" \
	"$(grep -q "listening on udp:127.0.0.1:$P, $((N + 1)) users" "$TMP/reg.out"; echo $?)" "$TMP/reg.out"
load storm "sip:127.0.0.1:$P" --register-only --accounts "$TMP/acc.csv" --rate 1000 --duration 0.5
ok_if "storm: $N registered with digest, 0 failed, each unregistered" \
	"$([ "$RC" = 0 ] && [ "$(js "$TMP/storm.json" '(s["attempted"], s["answered"], s["failed"], s["unregistered"])')" = "($N, $N, 0, $N)" ]; echo $?)" \
	"$TMP/storm.json" "$TMP/storm.err"

# 2. Wrong passwords: refused (401 again), counted as auth failures.
accounts "$TMP/bad.csv" u 20 wrong
load bad "sip:127.0.0.1:$P" --register-only --accounts "$TMP/bad.csv" --rate 100 --duration 0.1
ok_if "wrong passwords: 20 failed by auth" \
	"$([ "$RC" = 1 ] && [ "$(js "$TMP/bad.json" '(s["answered"], s["failed_by_cause"].get("auth"))')" = "(0, 20)" ]; echo $?)" \
	"$TMP/bad.json" "$TMP/bad.err"
# A name the registrar does not know gets the same challenge as a known one.
accounts "$TMP/nobody.csv" nobody 20 wrong
load nobody "sip:127.0.0.1:$P" --register-only --accounts "$TMP/nobody.csv" --rate 100 --duration 0.1
ok_if "unknown users: the same 401 as wrong passwords" \
	"$([ "$(js "$TMP/nobody.json" 's["failed_by_status"]')" = "$(js "$TMP/bad.json" 's["failed_by_status"]')" ]; echo $?)" \
	"$TMP/nobody.json" "$TMP/bad.json"

# 3. Open registrar: 10,000 names (its cap) register and leave; 100 new names still get in.
ports Q 1
registrar_bg open --listen "udp:127.0.0.1:$Q" -q
accounts "$TMP/open1.csv" a 10000 ""
load open1 "sip:127.0.0.1:$Q" --register-only --accounts "$TMP/open1.csv" --rate 2000 --duration 0.2
ok_if "open registrar: 10,000 names registered and unregistered" \
	"$([ "$RC" = 0 ] && [ "$(js "$TMP/open1.json" '(s["answered"], s["unregistered"])')" = "(10000, 10000)" ]; echo $?)" \
	"$TMP/open1.json" "$TMP/open1.err"
accounts "$TMP/open2.csv" b 100 ""
load open2 "sip:127.0.0.1:$Q" --register-only --accounts "$TMP/open2.csv" --rate 500 --duration 0.2
ok_if "open registrar: 100 new names after the first 10,000 left (no 503)" \
	"$([ "$RC" = 0 ] && [ "$(js "$TMP/open2.json" '(s["answered"], s["failed"])')" = "(100, 0)" ]; echo $?)" \
	"$TMP/open2.json" "$TMP/open2.err"

# 4. Usage errors: one line, exit 2.
check "--users missing" 2 "$SIPCX" registrar --users "$TMP/none.csv"
expect "names the option and the file" 'sipcx registrar: cannot read --users .*none.csv'
printf 'SEQUENTIAL\nok;pw\nbad user;pw\n' >"$TMP/badline.csv"
check "--users with a bad line" 2 "$SIPCX" registrar --users "$TMP/badline.csv"
expect "names the line" 'badline.csv line 3: not user;password'
finish
