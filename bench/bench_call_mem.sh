#!/usr/bin/env bash
# Memory and descriptors per concurrent call of the answering engine, at 1,000 and 10,000 calls
# up at once (loopback only): bench_call_mem answers with RTP echo, SIPp places the calls and
# holds them (INVITE, 200, ACK, a long pause; bench/uac_call_nortp.xml), bench_call_mem prints
# the heap (a counting allocator), RSS and descriptors per call once they are all up.
# usage: bench/bench_call_mem.sh [BUILD_DIR] ["COUNTS"] [RATE]
#   BUILD_DIR  a build with bench/bench_call_mem (default build/bench)
#   COUNTS     concurrent calls measured (default "1000 10000"); 10,000 calls need 20,000 RTP
#              sockets: run as root (the descriptor limit is raised past the hard one)
#   RATE       calls per second SIPp places (default 500)
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$SRC/build/bench}
COUNTS=${2:-"1000 10000"}
RATE=${3:-500}
MEM=$BIN/bench/bench_call_mem
for c in sipp timeout; do
	command -v $c >/dev/null || { echo "bench_call_mem: $c is not installed" >&2; exit 1; }
done
[ -x "$MEM" ] || { echo "bench_call_mem: no $MEM (build with SIPCX_BUILD_BENCH=ON)" >&2; exit 1; }
TMP=$(mktemp -d /tmp/sipcx-bench-mem.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"' EXIT
P=$((23000 + ($$ % 500) * 4))
for n in $COUNTS; do
	hold=$((n * 1000 / RATE + 30000)) # every call still up when the last one comes
	"$MEM" "$P" "$n" 10000 60000 >"$TMP/mem.out" 2>&1 &
	mp=$!
	PIDS+=($mp)
	for _ in $(seq 100); do grep -q listening "$TMP/mem.out" && break; sleep 0.05; done
	ulimit -n $((n + 1024)) 2>/dev/null
	(cd "$TMP" && timeout $((n / RATE + 120)) sipp -sf "$SRC/bench/uac_call_nortp.xml" \
		"127.0.0.1:$P" -i 127.0.0.1 -p $((P + 2)) -s bob -key caller alice -r "$RATE" \
		-m "$n" -l $((n + 10)) -d "$hold" -timeout $((n / RATE + 100))s -nostdin \
		>"$TMP/sipp.out" 2>&1) &
	sp=$!
	PIDS+=($sp)
	timeout $((n / RATE + 120)) tail --pid="$mp" -f /dev/null
	echo "== $n concurrent calls"
	cat "$TMP/mem.out"
	kill "$sp" 2>/dev/null
	wait "$sp" 2>/dev/null
	P=$((P + 4))
done
