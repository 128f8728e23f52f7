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
# ephemeral one): echoes on base, +2, +4, +6, +8 (RTCP one above), nobody on base+10
# (then the malformed-packet echo).
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

# 8. Malformed RTP and RTCP (RFC 3550 A.1, A.2) are dropped and counted, never reflected:
# each bad datagram is followed by a good one, and the first answer must be the good one.
start_echo e8 "127.0.0.1:$((base + 10))" --duration 60 --no-rtcp
python3 - "$((base + 10))" >"$tmp/p8" 2>&1 <<'EOF' && ok || bad "malformed packets echoed: $(cat "$tmp/p8")"
import socket, struct, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(5)
rtp = struct.pack("!BBHII", 0x80, 0, 1, 160, 1234) + b"\xff" * 160
rr = struct.pack("!BBHI", 0x80, 201, 1, 1234)
sdes = struct.pack("!BBHI", 0x81, 202, 2, 1234) + b"\x01\x02ab"
bad_rtp = {
    "version 1": bytes([0x40]) + rtp[1:],
    "padding longer than the packet": bytes([0xA0]) + rtp[1:-1] + bytes([200]),
    "CSRC list past the end": bytes([0x8F]) + rtp[1:20],
    "extension past the end": bytes([0x90]) + rtp[1:12] + struct.pack("!HH", 0xBEDE, 100),
    "short header": rtp[:11],
}
bad_rtcp = {
    "inner length past the end": rr + struct.pack("!BBHI", 0x81, 202, 5, 1234) + b"\x01\x02ab",
    "trailing bytes after the last packet": rr + b"\0\0\0\0",
    "length word past the datagram": struct.pack("!BBHI", 0x80, 201, 3, 1234),
    "second packet version 1": rr + bytes([0x41]) + sdes[1:],
    "zero padding count": struct.pack("!BBHI", 0xA0, 201, 2, 1234) + b"\0\0\0\0",
}
failed = 0
for kind, port_, bad, good in [("RTP", port, bad_rtp, rtp), ("RTCP", port + 1, bad_rtcp, rr + sdes)]:
    for name, pkt in bad.items():
        s.sendto(pkt, ("127.0.0.1", port_))
        s.sendto(good, ("127.0.0.1", port_))
        got = s.recv(2048)
        if got != good:
            print(f"{kind} {name}: reflected")
            failed += 1
sys.exit(1 if failed else 0)
EOF
kill -TERM "${pids[-1]}"
timeout 10 bash -c "until grep -q '^echoed: ' '$tmp/e8.out'; do sleep 0.02; done"
grep -q '^echoed: 5 RTP packets (800 bytes), 5 RTCP packets; dropped: 10 malformed, 0 from another source$' \
	"$tmp/e8.out" && ok || bad "echo drop count: $(cat "$tmp/e8.out")"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
