#!/usr/bin/env bash
# Concurrent calls held by one `sipcx answer --echo` process (loopback only): SIPp places N calls
# and holds them (INVITE, 200, ACK, a long pause; bench/uac_call_nortp.xml, or with RTP=1
# tests/peers/sipp/uac_call.xml, which sends PCMU for the whole call and the answerer echoes it);
# once all N are up the script prints the answerer's RSS, descriptors and CPU, in all and per call.
# usage: bench/bench_answer_concurrent.sh [BUILD_DIR] ["COUNTS"] [RATE]
#   BUILD_DIR  a build with the sipcx binary (default build); use a RelWithDebInfo build
#   COUNTS     concurrent calls (default "1000 10000"); 10,000 calls need 20,000+ descriptors:
#              sipcx answer raises its hard RLIMIT_NOFILE when it may (root), else the hard
#              limit must allow it (ulimit -Hn)
#   RATE       calls per second SIPp places (default 500)
# Env: RTP=1 the calls carry RTP (SIPp sends 50 packets/s a call, the answerer echoes them);
#      HOLD_S  seconds the calls are measured once all are up (default 10): CPU over that time;
#      THREADS sipcx answer --threads (default 1);
#      MUX=1   SIPp's SDP offers a=rtcp-mux (RFC 5761): one socket a call instead of two;
#      HEAP=1  also run bench/bench_call_mem.sh (the heap per call from a counting allocator).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$SRC/build}
COUNTS=${2:-"1000 10000"}
RATE=${3:-500}
RTP=${RTP:-0}
HOLD_S=${HOLD_S:-10}
THREADS=${THREADS:-1}
MUX=${MUX:-0}
PER=2 # descriptors a call: RTP and RTCP, or one socket for both with a=rtcp-mux
SIPCX=$BIN/sipcx
for c in sipp timeout ss awk; do
	command -v $c >/dev/null || { echo "bench_answer_concurrent: $c is not installed" >&2; exit 1; }
done
[ -x "$SIPCX" ] || { echo "bench_answer_concurrent: no $SIPCX" >&2; exit 1; }
TMP=$(mktemp -d /tmp/sipcx-bench-conc.XXXXXX)
ln -s "$SRC/tests/peers/sipp/media" "$TMP/media"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
scen=$SRC/bench/uac_call_nortp.xml
[ "$RTP" = 1 ] && scen=$SRC/tests/peers/sipp/uac_call.xml
if [ "$MUX" = 1 ]; then
	sed 's/^      a=ptime:20$/&\n      a=rtcp-mux/' "$scen" >"$TMP/scenario.xml"
	grep -q 'a=rtcp-mux' "$TMP/scenario.xml" || { echo "no a=ptime:20 line in $scen" >&2; exit 1; }
	scen=$TMP/scenario.xml PER=1
fi
P=$((24000 + ($$ % 400) * 4))
HZ=$(getconf CLK_TCK)
ulimit -Sn "$(ulimit -Hn)" # SIPp's soft limit up to the hard one (it is not lowered)

status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
fds_of() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, in ticks
sipcx_pid() { # the sipcx child of the timeout(1) started last
	local p
	for p in $(pgrep -P "$1"); do [ "$(cat /proc/$p/comm)" = sipcx ] && echo "$p"; done
}

echo "# sipcx answer --echo -q --threads $THREADS, SIPp places calls at $RATE/s and holds them" \
	"($([ "$RTP" = 1 ] && echo "RTP both ways: SIPp sends PCMU, echoed" || echo "no RTP")); $(nproc) cores"
printf "%-7s %7s %9s %9s %8s %11s %11s %11s\n" calls up "rss MB" "KiB/call" fds \
	"setup us/c" "hold us/c/s" "sipp ok/fail"
for n in $COUNTS; do
	hold=$(((n * 1000 / RATE) + (HOLD_S + 30) * 1000)) # every call up when the last one comes
	(cd "$TMP" && exec timeout $((n / RATE + HOLD_S + 200)) "$SIPCX" answer \
		--listen "udp:127.0.0.1:$P" --echo -q --max-calls $((n + 100)) --rtp-ports 10000-40000 \
		--threads "$THREADS" >"$TMP/answer.out" 2>"$TMP/answer.err") &
	tp=$!
	PIDS+=($tp)
	for _ in $(seq 100); do grep -q listening "$TMP/answer.out" && break; sleep 0.05; done
	ap=$(sipcx_pid "$tp")
	[ -n "$ap" ] || { echo "sipcx answer did not start"; cat "$TMP/answer.err"; exit 1; }
	rss0=$(status_kb "$ap" VmRSS) fd0=$(fds_of "$ap") c0=$(cpu_of "$ap")
	rm -f "$TMP/s.csv"
	(cd "$TMP" && exec timeout $((n / RATE + HOLD_S + 150)) sipp -sf "$scen" "127.0.0.1:$P" \
		-i 127.0.0.1 -mi 127.0.0.1 -p $((P + 2)) -mp $((P + 4)) -s bob -key caller alice \
		-r "$RATE" -m "$n" -l $((n + 10)) -d "$hold" -timeout $((n / RATE + HOLD_S + 120))s \
		-nostdin -buff_size 4194304 -max_socket 1024 -trace_stat -stf "$TMP/s.csv" -fd 1 \
		>"$TMP/sipp.out" 2>&1) &
	sp=$!
	PIDS+=($sp)
	# All up: PER descriptors a call more than at the start, or no more for 3 s (the descriptor
	# limit: the rest got 503); bounded by the time to place them.
	want=$((fd0 + PER * n)) last=0 same=0
	for ((i = 0; i < (n / RATE + 60) * 10; i++)); do
		f=$(fds_of "$ap")
		[ "$f" -ge "$want" ] && break
		[ "$f" = "$last" ] && [ "$f" -gt "$fd0" ] && same=$((same + 1)) || same=0
		[ "$same" -ge 30 ] && break
		last=$f
		kill -0 "$sp" 2>/dev/null || break
		sleep 0.1
	done
	sleep 1 # the last ACKs
	c1=$(cpu_of "$ap") rss1=$(status_kb "$ap" VmRSS) fd1=$(fds_of "$ap")
	sleep "$HOLD_S"
	c2=$(cpu_of "$ap") rss2=$(status_kb "$ap" VmRSS)
	kill "$sp" 2>/dev/null
	wait "$sp" 2>/dev/null
	ok=$(awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i; next} {l = $0} END {
		split(l, v, ";"); printf "%d/%d", v[c["CurrentCall"]] + v[c["SuccessfulCall(C)"]], v[c["FailedCall(C)"]]}' "$TMP/s.csv" 2>/dev/null)
	awk -v n="$n" -v r0="$rss0" -v r1="$rss1" -v r2="$rss2" -v f0="$fd0" -v f1="$fd1" \
		-v c0="$c0" -v c1="$c1" -v c2="$c2" -v hz="$HZ" -v hs="$HOLD_S" -v ok="${ok:-?}" -v per="$PER" 'BEGIN {
		r = (r2 > r1 ? r2 : r1); up = int((f1 - f0) / per); u = up > 0 ? up : 1
		printf "%-7d %7d %9.1f %9.2f %8d %11.1f %11.2f %11s\n", n, up, r / 1024, (r - r0) / u, f1,
			(c1 - c0) / hz * 1e6 / u, (c2 - c1) / hz * 1e6 / u / hs, ok}'
	kill "$tp" 2>/dev/null
	wait "$tp" 2>/dev/null
	grep -h "sipcx answer:" "$TMP/answer.err" | head -3
	P=$((P + 8))
done
echo "# up: calls up in the answerer ($PER descriptor(s) each: RTP and RTCP, one socket with MUX=1); rss: VmRSS once they are" \
	"(KiB/call: its growth from the idle answerer over the calls up); fds: descriptors then; setup: answerer CPU from the first INVITE until all are up," \
	"per call; hold: its CPU per call per second while they are held (ok/fail: SIPp's calls" \
	"up or done / failed)"
if [ "${HEAP:-0}" = 1 ]; then
	echo "# the heap per call (bench_call_mem, a counting allocator):"
	"$SRC/bench/bench_call_mem.sh" "$BIN" "$COUNTS" "$RATE"
fi
