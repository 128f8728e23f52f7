#!/usr/bin/env bash
# sipcx rtp probe against SIPp's RTP echo (-rtp_echo on the media port -mp), a peer we did not write.
set -u
bin="${SIPCX_BIN:?}/sipcx"
src="${SIPCX_SOURCE:?}"
[ -x "$bin" ] || { echo "no $bin"; exit 77; }
command -v sipp >/dev/null || { echo "sipp not installed"; exit 77; }
command -v ss >/dev/null || { echo "ss not installed"; exit 77; }
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}
tmp=$(mktemp -d)
sipp_pid=
cleanup() {
	[ -n "$sipp_pid" ] && kill "$sipp_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# Ports of our own per run, below the kernel's ephemeral range: SIP on sport, the RTP echo
# on mport = sport + 2 (SIPp also binds mport + 2 for video).
sport=$((30000 + ($$ % 400) * 6))
mport=$((sport + 2))

# SIPp answers calls from the scenario and echoes RTP on mport from start-up; no call is needed.
(cd "$src/tests/peers/sipp" && exec sipp -sf uas_answer.xml -i 127.0.0.1 -mi 127.0.0.1 \
	-p "$sport" -mp "$mport" -rtp_echo -m 1 -timeout 60s -nostdin >"$tmp/sipp.out" 2>&1) &
sipp_pid=$!
if ! timeout 10 bash -c "until ss -Hun state all \"( sport = :$mport )\" | grep -q .; do sleep 0.05; done"; then
	echo "sipp did not bind $mport: $(cat "$tmp/sipp.out")"
	exit 77
fi

timeout 60 "$bin" rtp probe "127.0.0.1:$mport" --count 200 --ptime 10 >"$tmp/p1" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || bad "probe vs sipp: exit $rc: $(cat "$tmp/p1")"
grep -q '^received: 200 packets$' "$tmp/p1" && ok || bad "received: $(cat "$tmp/p1")"
grep -q '^lost: 0 (0.00%)$' "$tmp/p1" && ok || bad "lost"
grep -q '^rtt: min .* (RTP, 200 echoes)$' "$tmp/p1" && ok || bad "rtt"
# SIPp echoes RTP only: the probe says the peer sent no RTCP, and still passes.
grep -q '^rtcp: the peer sent no RTCP$' "$tmp/p1" && ok || bad "rtcp line: $(cat "$tmp/p1")"

timeout 60 "$bin" rtp probe "127.0.0.1:$mport" --count 100 --ptime 20 --codec pcma >"$tmp/p2" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || bad "pcma probe vs sipp: exit $rc: $(cat "$tmp/p2")"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
