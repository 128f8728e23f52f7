#!/usr/bin/env bash
# sipcx rtp: probe against echo on loopback (IPv4, IPv6), exit codes 0/1/2/3, RTP_DEBUG output.
set -u
bin="${SIPCX_BIN:?}/sipcx"
[ -x "$bin" ] || { echo "no $bin"; exit 77; }
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# Twelve ports of our own per run (outside the media range 10000-20000 and the kernel's
# ephemeral one): echoes on base, +2, +4, +6, +8 (RTCP one above), nobody on base+10.
base=$((22000 + ($$ % 660) * 12))

# Start an echo; wait (bounded) for its "listening on" line.
start_echo() { # name listen [args...]
	local name=$1 listen=$2
	shift 2
	"$bin" rtp echo --listen "$listen" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids+=($!)
	timeout 10 bash -c "until grep -q '^listening on' '$tmp/$name.out'; do sleep 0.02; done" ||
		{ bad "echo $name did not start: $(cat "$tmp/$name.err")"; return 1; }
}

# 1. A complete echo: exit 0, nothing lost, an RTP round trip, our SRs reflected.
start_echo e1 "127.0.0.1:$base" --duration 60
timeout 60 "$bin" rtp probe "127.0.0.1:$base" --count 100 --ptime 10 >"$tmp/p1" 2>"$tmp/p1.err"
rc=$?
[ $rc -eq 0 ] && ok || bad "complete echo: exit $rc: $(cat "$tmp/p1" "$tmp/p1.err")"
grep -q '^sent: 100 packets, 8000 bytes$' "$tmp/p1" && ok || bad "sent line: $(cat "$tmp/p1")"
grep -q '^received: 100 packets$' "$tmp/p1" && ok || bad "received line"
grep -q '^lost: 0 (0.00%)$' "$tmp/p1" && ok || bad "lost line"
grep -q '^rtt: min [0-9.]* / avg [0-9.]* / max [0-9.]* ms (RTP, 100 echoes)$' "$tmp/p1" && ok || bad "rtt line"
grep -q '^jitter: [0-9.]* ms$' "$tmp/p1" && ok || bad "jitter line"
grep -q '^rtcp_echo_rtt: [0-9.]* ms' "$tmp/p1" && ok || bad "no reflected RTCP: $(cat "$tmp/p1")"
grep -q '^result: OK$' "$tmp/p1" && ok || bad "result line"

# 2. PCMA, and the echo's own receiver reports give an RTCP round trip (LSR/DLSR).
start_echo e2 "127.0.0.1:$((base + 2))" --duration 60 --rtcp-interval 0.1
timeout 60 "$bin" rtp probe "127.0.0.1:$((base + 2))" --count 100 --ptime 10 --codec pcma \
	--rtcp-interval 0.1 >"$tmp/p2" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || bad "pcma: exit $rc: $(cat "$tmp/p2")"
grep -q 'PCMA/8000' "$tmp/p2" && ok || bad "pcma not announced"
grep -q '^rtcp_rtt: [0-9.]* ms (min .* peer reports)$' "$tmp/p2" && ok || bad "no RTCP RTT from the echo's reports: $(cat "$tmp/p2")"
grep -q '^rtcp_peer_view: 0.00% lost, 0 cumulative' "$tmp/p2" && ok || bad "peer view: $(cat "$tmp/p2")"

# 3. Nothing answers: exit 3 within the timeout.
timeout 20 "$bin" rtp probe "127.0.0.1:$((base + 10))" --count 1000 --timeout 0.5 >"$tmp/p3" 2>&1
rc=$?
[ $rc -eq 3 ] && ok || bad "no echo: exit $rc: $(cat "$tmp/p3")"
grep -q '^result: TIMEOUT' "$tmp/p3" && ok || bad "timeout result line"

# 4. The echo stops half way: loss, exit 1; --max-loss 100 accepts it.
start_echo e4 "127.0.0.1:$((base + 4))" --duration 1
timeout 60 "$bin" rtp probe "127.0.0.1:$((base + 4))" --count 300 --ptime 10 --timeout 0.5 >"$tmp/p4" 2>&1
rc=$?
[ $rc -eq 1 ] && ok || bad "half echo: exit $rc: $(cat "$tmp/p4")"
grep -q '^result: FAIL loss' "$tmp/p4" && ok || bad "fail result line"
lost=$(sed -n 's/^lost: \([0-9]*\) .*/\1/p' "$tmp/p4")
[ -n "$lost" ] && [ "$lost" -gt 0 ] && [ "$lost" -lt 300 ] && ok || bad "partial loss expected, lost=$lost"
start_echo e5 "127.0.0.1:$((base + 6))" --duration 1
timeout 60 "$bin" rtp probe "127.0.0.1:$((base + 6))" --count 300 --ptime 10 --timeout 0.5 \
	--max-loss 100 >"$tmp/p5" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || bad "--max-loss 100: exit $rc: $(cat "$tmp/p5")"
grep -q '^result: OK$' "$tmp/p5" && ok || bad "--max-loss 100 result line"

# 5. IPv6, when the host has ::1.
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0))' 2>/dev/null; then
	start_echo e6 "[::1]:$((base + 8))" --duration 60
	timeout 60 "$bin" rtp probe "[::1]:$((base + 8))" --count 50 --ptime 10 >"$tmp/p6" 2>&1
	rc=$?
	[ $rc -eq 0 ] && ok || bad "ipv6: exit $rc: $(cat "$tmp/p6")"
	grep -q '^received: 50 packets$' "$tmp/p6" && ok || bad "ipv6 received"
fi

# 6. RTP_DEBUG=1: every packet on stderr, through the media log callback.
RTP_DEBUG=1 timeout 60 "$bin" rtp probe "127.0.0.1:$base" --count 3 --ptime 10 >/dev/null 2>"$tmp/p7.err"
rc=$?
[ $rc -eq 0 ] && ok || bad "RTP_DEBUG probe: exit $rc"
[ "$(grep -c ': send 127.0.0.1:[0-9]* RTP .*seq=' "$tmp/p7.err")" -eq 3 ] && ok || bad "RTP_DEBUG send lines: $(head -5 "$tmp/p7.err")"
[ "$(grep -c ': recv 127.0.0.1:[0-9]* RTP .*seq=' "$tmp/p7.err")" -eq 3 ] && ok || bad "RTP_DEBUG recv lines"
grep -q ': send 127.0.0.1:[0-9]* RTCP SR' "$tmp/p7.err" && ok || bad "RTP_DEBUG RTCP line: $(grep RTCP "$tmp/p7.err" | head -3)"

# 7. Usage errors: exit 2 and one line on stderr.
for args in "" "bogus" "probe" "probe 127.0.0.1" "probe localhost:5000" "probe 127.0.0.1:5000 --count 0" \
	"probe 127.0.0.1:5000 --codec g729" "probe 127.0.0.1:5000 --max-loss 101" \
	"probe 127.0.0.1:5000 --ptime" "echo --listen 1.2.3.4" "echo --duration x" "echo --bogus"; do
	# shellcheck disable=SC2086
	timeout 10 "$bin" rtp $args >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && ok || bad "usage '$args': exit $rc, stderr: $(cat "$tmp/err")"
done
# A port in use: exit 1 with a clear line.
timeout 10 "$bin" rtp echo --listen "127.0.0.1:$base" --duration 1 >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q 'in use' "$tmp/err" && ok || bad "port in use: exit $rc: $(cat "$tmp/err")"

# The echo reports what it echoed when it stops.
kill -TERM "${pids[0]}"
timeout 10 bash -c "until grep -q '^echoed: ' '$tmp/e1.out'; do sleep 0.02; done"
grep -q '^echoed: 103 RTP packets' "$tmp/e1.out" && ok || bad "echo summary: $(cat "$tmp/e1.out")"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
