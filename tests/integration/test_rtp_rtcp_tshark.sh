#!/usr/bin/env bash
# sipcx rtp on the wire: tshark decodes our RTP and RTCP (SR from the probe, RR from the echo, SDES, BYE).
set -u
bin="${SIPCX_BIN:?}/sipcx"
[ -x "$bin" ] || { echo "no $bin"; exit 77; }
command -v tshark >/dev/null || { echo "tshark not installed"; exit 77; }
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

# Our own ports, outside the media range, the ephemeral one and the other rtp tests' ports.
port=$((20100 + ($$ % 900) * 2))

"$bin" rtp echo --listen "127.0.0.1:$port" --duration 50 --rtcp-interval 0.2 >"$tmp/echo.out" 2>&1 &
echo_pid=$!
pids+=($echo_pid)
timeout 10 bash -c "until grep -q '^listening on' '$tmp/echo.out'; do sleep 0.02; done" ||
	{ echo "echo did not start: $(cat "$tmp/echo.out")"; exit 1; }

# Live, line-buffered decode: one line per packet, "srcport dstport rtp-pt rtcp-pts".
timeout 60 tshark -i lo -n -l -f "udp and (port $port or port $((port + 1)))" \
	-d "udp.port==$port,rtp" -d "udp.port==$((port + 1)),rtcp" \
	-T fields -E separator=' ' -e udp.srcport -e udp.dstport -e rtp.p_type -e rtcp.pt \
	-e _ws.malformed >"$tmp/ts.out" 2>"$tmp/ts.err" &
ts_pid=$!
pids+=($ts_pid)
if ! timeout 20 bash -c "until grep -q 'Capturing on' '$tmp/ts.err'; do sleep 0.05; done"; then
	echo "tshark cannot capture on lo: $(cat "$tmp/ts.err")"
	exit 77
fi
# "Capturing on" comes before the capture really starts: warm up until a packet shows.
timeout 20 bash -c "until grep -q . '$tmp/ts.out'; do
	'$bin' rtp probe 127.0.0.1:$port --count 1 --timeout 0.1 >/dev/null 2>&1; done" ||
	bad "tshark saw no warm-up packet: $(cat "$tmp/ts.err")"

timeout 30 "$bin" rtp probe "127.0.0.1:$port" --count 100 --ptime 10 --rtcp-interval 0.2 >"$tmp/p" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || bad "probe: exit $rc: $(cat "$tmp/p")"
pp=$(sed -n 's/^probe: .* from port \([0-9]*\),.*/\1/p' "$tmp/p")
# Stop the echo: it sends an RR with a BYE; wait until tshark has printed it.
kill -TERM "$echo_pid"
timeout 10 bash -c "until grep -q '^$((port + 1)) $((pp + 1))  .*203' '$tmp/ts.out'; do sleep 0.05; done" ||
	bad "no BYE from the echo on the wire: $(tail -3 "$tmp/ts.out")"
kill -INT "$ts_pid"

# 100 PCMU packets from the probe to the echo, and 100 back.
n=$(grep -c "^$pp $port 0 " "$tmp/ts.out")
[ "$n" -eq 100 ] && ok || bad "RTP PCMU packets to the echo: $n"
n=$(grep -c "^$port $pp 0 " "$tmp/ts.out")
[ "$n" -eq 100 ] && ok || bad "RTP PCMU packets echoed: $n"
# SR (200) + SDES (202) from the probe's RTCP port; RR (201) + SDES from the echo's.
grep -q "^$((pp + 1)) $((port + 1))  200,202" "$tmp/ts.out" && ok || bad "no SR+SDES from the probe: $(grep "^$((pp + 1))" "$tmp/ts.out" | head -3)"
grep -q "^$((port + 1)) $((pp + 1))  201,202" "$tmp/ts.out" && ok || bad "no RR+SDES from the echo: $(grep "^$((port + 1))" "$tmp/ts.out" | head -3)"
# The probe's closing BYE (it leaves when done).
grep -q "^$((pp + 1)) $((port + 1))  20[01],202,203" "$tmp/ts.out" && ok || bad "no BYE from the probe"
# Nothing malformed.
m=$(awk 'NF >= 5' "$tmp/ts.out" | wc -l)
[ "$m" -eq 0 ] && ok || bad "$m malformed packets: $(awk 'NF >= 5' "$tmp/ts.out" | head -3)"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
