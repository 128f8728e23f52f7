#!/usr/bin/env bash
# OPTIONS transactions per second through the sipcx engine vs kamailio, SIPp as the load (loopback only).
# usage: bench/bench_options.sh [BUILD_DIR] ["RATES"] [DURATION_S]
#   BUILD_DIR  a build with bench/bench_options (default build/bench; Release is what to measure)
#   RATES      requests/s tried in order per target; a target stops at its first rate with failures
#   DURATION_S seconds per rate (default 5); every sipp run is bounded by count and timeout(1)
# Targets, one after the other in the same run: the engine answering statelessly (its default
# OPTIONS reply), the engine answering through a server transaction (--stateful), and kamailio
# (tests/peers/kamailio: a stateless 200 to OPTIONS for itself).
# Prints one line per rate, then the best clean rate of each and the engine/kamailio ratios,
# then the heap the engine holds per live server transaction: a last run of the first rate
# against bench_options --stateful --mem (a counting allocator), stopped before Timer J
# (32 s) ends any of them.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$SRC/build/bench}
RATES=${2:-"5000 10000 15000 20000 25000 30000"}
DUR=${3:-5}
ENGINE=$BIN/bench/bench_options
SCEN=$SRC/tests/peers/sipp/uac_options.xml
for c in sipp kamailio ss timeout; do
	command -v $c >/dev/null || { echo "bench_options: $c is not installed" >&2; exit 1; }
done
[ -x "$ENGINE" ] || { echo "bench_options: no $ENGINE (build with SIPCX_BUILD_BENCH=ON)" >&2; exit 1; }

TMP=$(mktemp -d /tmp/sipcx-bench-options.XXXXXX)
TPID=""
KAMDIR=""
stop_target() {
	[ -n "$TPID" ] && kill "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null
	TPID=""
	[ -n "$KAMDIR" ] && "$KAMDIR/stop.sh" >/dev/null 2>&1
	KAMDIR=""
}
trap 'stop_target; rm -rf "$TMP"' EXIT

# CPU seconds (user+system) of a process and its children threads/processes.
cpu_of() {
	local t=0 hz p
	hz=$(getconf CLK_TCK)
	for p in $1 $(ps -o pid= --ppid "$1" 2>/dev/null); do
		[ -r /proc/$p/stat ] || continue
		t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat)))
	done
	awk -v t=$t -v hz=$hz 'BEGIN{printf "%.2f", t/hz}'
}

# last row of a sipp -trace_stat file: "ok failed elapsed_s"
stat_of() {
	# Elapsed from the epoch stamps of StartTime and CurrentTime ("date time epoch.us").
	awk -F';' 'NR==1{for(i=1;i<=NF;i++) c[$i]=i; next} {l=$0} END{
		split(l,v,";"); split(v[c["StartTime"]],s,/[ \t]+/); split(v[c["CurrentTime"]],t,/[ \t]+/);
		printf "%d %d %.3f", v[c["SuccessfulCall(C)"]], v[c["FailedCall(C)"]], t[3]-s[3]}' "$1"
}

PORT=$((30000 + ($$ % 5000) * 2))
declare -A BEST CPUK
run_target() { # name port pid
	local name=$1 port=$2 R N st ok failed el c0 c1 kcpu rate
	BEST[$name]=0
	CPUK[$name]=""
	for R in $RATES; do
		N=$((R * DUR))
		c0=$(cpu_of "$3")
		timeout $((DUR + 60)) sipp -sf "$SCEN" "127.0.0.1:$port" -i 127.0.0.1 -p $((PORT + 1)) -nostdin \
			-buff_size 4194304 -r "$R" -m "$N" -l $((R * 4 + 100)) -timeout $((DUR + 30))s \
			-recv_timeout 8000 -trace_stat -stf "$TMP/$name-$R.csv" -fd 1 >"$TMP/$name-$R.out" 2>&1
		c1=$(cpu_of "$3")
		read -r ok failed el <<<"$(stat_of "$TMP/$name-$R.csv")"
		rate=$(awk -v n="$ok" -v e="$el" 'BEGIN{printf "%.0f", (e > 0 ? n / e : 0)}')
		kcpu=$(awk -v a="$c0" -v b="$c1" -v n="$ok" 'BEGIN{printf "%.1f", n ? (b-a)*1e6/n : 0}')
		printf "%-16s target %6d/s  ok %7d  failed %5d  achieved %6d/s  target cpu %5.1f us/request\n" \
			"$name" "$R" "$ok" "$failed" "$rate" "$kcpu"
		if [ "$failed" != 0 ] || [ "$ok" -lt "$N" ]; then
			break
		fi
		if [ "$rate" -gt "${BEST[$name]}" ]; then
			BEST[$name]=$rate
			CPUK[$name]=$kcpu
		fi
		sleep 1
	done
}

echo "# OPTIONS load, $DUR s per rate, SIPp on the same 2-core machine ($(nproc) cores)"
: >"$TMP/engine.out"
"$ENGINE" --listen "udp:127.0.0.1:$PORT" >"$TMP/engine.out" 2>&1 &
TPID=$!
for _ in $(seq 50); do grep -q listening "$TMP/engine.out" && break; sleep 0.1; done
run_target engine "$PORT" "$TPID"
stop_target

: >"$TMP/engine2.out"
"$ENGINE" --stateful --listen "udp:127.0.0.1:$PORT" >"$TMP/engine2.out" 2>&1 &
TPID=$!
for _ in $(seq 50); do grep -q listening "$TMP/engine2.out" && break; sleep 0.1; done
run_target engine-stateful "$PORT" "$TPID"
stop_target

# Memory: every request of this run is still a live transaction (Completed, Timer J) at the end.
R1=${RATES%% *}
MEMDUR=$((DUR < 20 ? DUR : 20))
: >"$TMP/engine3.out"
"$ENGINE" --stateful --mem --listen "udp:127.0.0.1:$PORT" >"$TMP/engine3.out" 2>&1 &
TPID=$!
for _ in $(seq 50); do grep -q listening "$TMP/engine3.out" && break; sleep 0.1; done
timeout $((MEMDUR + 60)) sipp -sf "$SCEN" "127.0.0.1:$PORT" -i 127.0.0.1 -p $((PORT + 1)) -nostdin \
	-buff_size 4194304 -r "$R1" -m $((R1 * MEMDUR)) -l $((R1 * 4 + 100)) -timeout $((MEMDUR + 30))s \
	-recv_timeout 8000 >"$TMP/mem.out" 2>&1
stop_target
MEMLINE=$(grep '^memory ' "$TMP/engine3.out")

KAMDIR=$TMP/kamailio
cp -r "$SRC/tests/peers/kamailio" "$KAMDIR"
rm -rf "$KAMDIR/run"
KPID=$(KAM_PORT=$PORT KAM_DEBUG=1 "$KAMDIR/start.sh") || { echo "kamailio did not start" >&2; exit 1; }
run_target kamailio "$PORT" "$KPID"
stop_target

echo "# best clean rate (no failed request) and target CPU per request at that rate"
for t in engine engine-stateful kamailio; do
	printf "%-16s %6s/s  %s us/request\n" "$t" "${BEST[$t]}" "${CPUK[$t]:-?}"
done
awk -v e="${BEST[engine]}" -v s="${BEST[engine-stateful]}" -v k="${BEST[kamailio]}" \
	-v ec="${CPUK[engine]:-0}" -v kc="${CPUK[kamailio]:-0}" 'BEGIN{
	if (k > 0) printf "ratio engine/kamailio: rate %.2f, stateful %.2f", e/k, s/k;
	if (ec > 0 && kc > 0) printf ", cpu per request %.2f", ec/kc;
	printf "\n"}'
echo "engine-stateful after $((R1 * MEMDUR)) requests at $R1/s: ${MEMLINE:-no memory line}"
