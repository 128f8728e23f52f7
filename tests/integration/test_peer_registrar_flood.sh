#!/usr/bin/env bash
# sipcx registrar under floods (SIPp, bounded in time): good REGISTERs at 2,000/s keep its memory flat (no state per REGISTER); a password guesser is locked out, memory stays bounded, other sources still register.
. "$(dirname "$0")/lib/peers.sh"
need sipp ss timeout
need_sipcx
P=$(free_port 4) || skip "no free port"
R=$P C=$((P + 1)) G=$((P + 2)) V=$((P + 3))
SIPP=$PEERS/sipp

# Under ASan, freed memory waits in a quarantine (256 MiB): keep it small so RSS means heap.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1" \
	"$SIPCX" registrar --listen "udp:127.0.0.1:$R" --user alice:alicepw --user bob:bobpw \
	--min-expires 1 >"$TMP/registrar.out" 2>&1 &
REG=$!
PIDS+=("$REG")
wait_for "$TMP/registrar.out" '^listening on' 5 || { cat "$TMP/registrar.out"; exit 1; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$REG/status"; }
# ok_if NAME CONDITION-EXIT-CODE DETAIL
ok_if() {
	CHECKS=$((CHECKS + 1))
	if [ "$2" = 0 ]; then echo "ok - $1"; else
		echo "FAIL - $1: $3"
		FAILS=$((FAILS + 1))
	fi
}
succ() { grep "Successful call" "$1" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}'; }

# A warm-up, then 10,000 registrations at 2,000/s: memory must not follow the count.
(cd "$TMP" && timeout 30 sipp -sf "$SIPP/uac_register.xml" "127.0.0.1:$R" -i 127.0.0.1 -p "$C" -s alice \
	-au alice -ap alicepw -key expires 60 -key contact_port 5099 -r 1000 -m 1000 -timeout 20s \
	-nostdin >warm.log 2>&1)
r0=$(rss)
(cd "$TMP" && timeout 60 sipp -sf "$SIPP/uac_register.xml" "127.0.0.1:$R" -i 127.0.0.1 -p "$C" -s alice \
	-au alice -ap alicepw -key expires 60 -key contact_port 5099 -r 2000 -m 10000 -l 4000 \
	-timeout 40s -nostdin >flood.log 2>&1)
r1=$(rss)
n=$(succ "$TMP/flood.log")
ok_if "10,000 REGISTERs at 2,000/s all answered 200" "$([ "${n:-0}" -ge 9990 ]; echo $?)" "${n:-0} successful"
ok_if "memory flat under the flood (RSS $r0 -> $r1 KiB)" "$([ $((r1 - r0)) -le 4096 ] && [ "$r1" -le 65536 ]; echo $?)" \
	"grew by $((r1 - r0)) KiB"

# A password guesser at 2,000/s from 127.0.0.3: locked out after 10, memory bounded.
(cd "$TMP" && timeout 40 sipp -sf "$SIPP/uac_register_badpw.xml" "127.0.0.1:$R" -i 127.0.0.3 -p "$G" \
	-s bob -au bob -ap wrong -r 2000 -m 6000 -l 4000 -timeout 20s -nostdin >guess.log 2>&1)
r2=$(rss)
ok_if "the guesser is locked out" "$(grep -q 'limited lockout of 127.0.0.3' "$TMP/registrar.out"; echo $?)" \
	"$(tail -3 "$TMP/registrar.out")"
ok_if "only 10 guesses were checked" "$([ "$(grep -c 'auth failed bob' "$TMP/registrar.out")" = 10 ]; echo $?)" \
	"$(grep -c 'auth failed bob' "$TMP/registrar.out") checked"
ok_if "memory bounded under the guessing flood (RSS $r2 KiB)" "$([ "$r2" -le 65536 ] && [ $((r2 - r1)) -le 4096 ]; echo $?)" \
	"grew by $((r2 - r1)) KiB"
(cd "$TMP" && timeout 20 sipp -sf "$SIPP/uac_register.xml" "127.0.0.1:$R" -i 127.0.0.1 -p "$V" -s bob \
	-au bob -ap bobpw -key expires 60 -key contact_port "$V" -m 1 -timeout 10s -timeout_error \
	-nostdin >after.log 2>&1)
ok_if "another source still registers bob" "$?" "$(tail -5 "$TMP/after.log")"
kill -0 "$REG" 2>/dev/null
ok_if "the registrar is alive" "$?" ""
interrupt "$REG" >/dev/null
finish
