#!/usr/bin/env bash
# Calls per second a UAS completes under SIPp load, side by side: SIPp's built-in UAS, baresip, and ours (loopback only).
# usage: bench/bench_calls.sh ["RATES"] [DURATION_S] ["HOLDS_MS"]
#   RATES      calls/s tried in order (default "100 200 500 1000 2000 5000"); a series stops at its
#              first rate with a failed call, or whose achieved rate is under 90% of the rate asked
#   DURATION_S seconds of new calls per rate (default 5); each SIPp run is bounded by its call
#              count (-m RATE*DURATION_S) and by timeout(1)
#   HOLDS_MS   holds measured (default "0 1000"): 0 = INVITE, 200, ACK, BYE at once (signalling,
#              bench/uac_call_nortp.xml); otherwise the call lasts that long and carries RTP both
#              ways (tests/peers/sipp/uac_call.xml plays PCMU from a WAV; the target echoes it,
#              or sends its own)
# Env:
#   TARGETS    targets, in this order (default "sipp-uas baresip ext"; ext is skipped without EXT_CMD):
#              sipp-uas  sipp -sn uas -rtp_echo (SIPp's own UAS)
#              baresip   tests/peers/baresip/start.sh: auto-answer, sends a 440 Hz sine
#              ext       a UAS of ours: EXT_CMD, with {PORT} replaced by its SIP port and {MPORT}
#                        by a free RTP port, run under timeout(1), e.g.
#                        EXT_CMD='build/bench/sipcx answer --listen udp:127.0.0.1:{PORT} --echo --max-calls 100000'
#   EXT_NAME   the name printed for ext (default ext)
#   EXT2_CMD, EXT2_NAME  a second UAS of ours, target ext2 (e.g. another mode of the same one)
#   ROUNDS     rounds of the whole measure, the targets alternated in each (default 1); the
#              median round's best clean rate (and its CPU per call) is reported
# Each series (target, hold) starts its target afresh. Per rate it prints the calls completed and
# failed, the rate achieved (completed calls over the time of the run less the hold), the target's
# CPU per call (user+system from /proc, the target and its children) and its peak RSS (VmHWM);
# then the best clean rate of each target and the ratios ext/sipp-uas and ext/baresip.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
RATES=${1:-"100 200 500 1000 2000 5000"}
DUR=${2:-5}
HOLDS=${3:-"0 1000"}
TARGETS=${TARGETS:-"sipp-uas baresip ext"}
EXT_CMD=${EXT_CMD:-}
EXT_NAME=${EXT_NAME:-ext}
EXT2_CMD=${EXT2_CMD:-}
EXT2_NAME=${EXT2_NAME:-ext2}
ROUNDS=${ROUNDS:-1}
SIPP_DIR=$SRC/tests/peers/sipp
. "$SRC/bench/lib.sh"
for c in sipp ss timeout awk; do
	command -v $c >/dev/null || { echo "bench_calls: $c is not installed (scripts/deps.sh bench)" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/sipcx-bench-calls.XXXXXX)
ln -s "$SIPP_DIR/media" "$TMP/media"
TPID=""
BSRUN=""
stop_target() {
	if [ -n "$TPID" ]; then
		kill "$TPID" 2>/dev/null
		wait "$TPID" 2>/dev/null
	fi
	TPID=""
	[ -n "$BSRUN" ] && "$SRC/tests/peers/baresip/stop.sh" --run "$BSRUN" >/dev/null 2>&1
	BSRUN=""
}
trap 'stop_target; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# Ports below the kernel's ephemeral range: the target's SIP on T (baresip: TLS T+1, console
# T+2, ctrl T+3, RTP T+10..T+1209), its RTP echo on T+1300 (and +2), the generator's SIP on
# G, its RTP on G+2 (and +4).
T=$((21000 + ($$ % 200) * 10))
G=$((T + 1400))
TM=$((T + 1300))
ports_free $T $((G + 4)) || exit 1

# start_target NAME: starts it on port T; TPID is the process to measure.
BOUND=$((($(wc -w <<<"$RATES") * (DUR + 70)) + 60))
start_target() {
	case $1 in
	sipp-uas)
		(cd "$TMP" && exec timeout $BOUND sipp -sn uas -i 127.0.0.1 -mi 127.0.0.1 -p $T -mp $TM -rtp_echo \
			-nostdin -buff_size 4194304 -max_socket 1024 -timeout ${BOUND}s >"$TMP/uas.out" 2>&1) &
		TPID=$!
		;;
	baresip)
		BSRUN=$TMP/baresip
		rm -rf "$BSRUN"
		"$SRC/tests/peers/baresip/start.sh" --port $T --run "$BSRUN" >"$TMP/baresip.start" 2>&1 ||
			{ cat "$TMP/baresip.start" >&2; return 1; }
		TPID=$(cat "$BSRUN/baresip.pid")
		;;
	ext | ext2)
		local cmd=$EXT_CMD
		[ "$1" = ext2 ] && cmd=$EXT2_CMD
		cmd=${cmd//\{PORT\}/$T}
		cmd=${cmd//\{MPORT\}/$TM}
		(cd "$TMP" && exec timeout $BOUND bash -c "exec $cmd" >"$TMP/ext.out" 2>&1) &
		TPID=$!
		;;
	esac
	wait_port $T || { echo "bench_calls: $1 does not listen on $T" >&2; tail -5 "$TMP"/*.out >&2; return 1; }
}

declare -A BEST CPUC
run_series() { # target hold
	local name=$1 hold=$2 R N ok failed el c0 c1 cpu rate scen key=$1/$2 rss
	BEST[$key]=0
	CPUC[$key]=""
	scen=(-sf "$SRC/bench/uac_call_nortp.xml")
	[ "$hold" != 0 ] && scen=(-sf "$SIPP_DIR/uac_call.xml")
	for R in $RATES; do
		N=$((R * DUR))
		c0=$(cpu_of "$TPID")
		(cd "$TMP" && timeout $((DUR + 60)) sipp "${scen[@]}" "127.0.0.1:$T" -s carol -key caller alice \
			-d "$hold" -i 127.0.0.1 -mi 127.0.0.1 -p $G -mp $((G + 2)) -nostdin -buff_size 4194304 \
			-max_socket 1024 -r "$R" -m "$N" -l $((R * (hold / 1000 + 4) + 100)) \
			-timeout $((DUR + 40))s -recv_timeout 8000 -trace_stat -stf "$TMP/$name-$hold-$R.csv" -fd 1 \
			>"$TMP/$name-$hold-$R.out" 2>&1)
		c1=$(cpu_of "$TPID")
		rss=$(rss_of "$TPID")
		read -r ok failed el <<<"$(stat_of "$TMP/$name-$hold-$R.csv" 2>/dev/null)"
		ok=${ok:-0} failed=${failed:-0} el=${el:-0}
		rate=$(awk -v n="$ok" -v e="$el" -v h="$hold" 'BEGIN{e -= h/1000; printf "%.0f", (e > 0 ? n/e : 0)}')
		cpu=$(awk -v a="$c0" -v b="$c1" -v n="$ok" 'BEGIN{printf "%.1f", n ? (b-a)*1e6/n : 0}')
		printf "%-10s hold %4d ms  rate %6d/s  ok %7d  failed %5d  achieved %6d/s  target cpu %7.1f us/call  peak rss %6.1f MB\n" \
			"$name" "$hold" "$R" "$ok" "$failed" "$rate" "$cpu" "$rss"
		if [ "$failed" != 0 ] || [ "$ok" -lt "$N" ]; then
			break
		fi
		if [ "$rate" -gt "${BEST[$key]}" ]; then
			BEST[$key]=$rate
			CPUC[$key]=$cpu
		fi
		# No failure, but the calls took longer than asked: the target is saturated.
		if [ $((rate * 10)) -lt $((R * 9)) ]; then
			echo "$name: saturated at $R/s (achieved $rate/s): higher rates not tried"
			break
		fi
		kill -0 "$TPID" 2>/dev/null || { echo "$name exited"; break; }
	done
}

names=()
for t in $TARGETS; do
	case $t in
	sipp-uas | baresip) ;;
	ext) [ -n "$EXT_CMD" ] || { echo "# ext skipped: no EXT_CMD"; continue; } ;;
	ext2) [ -n "$EXT2_CMD" ] || { echo "# ext2 skipped: no EXT2_CMD"; continue; } ;;
	*) echo "bench_calls: unknown target $t" >&2; exit 2 ;;
	esac
	names+=("$t")
done
echo "# calls: $DUR s per rate, holds $HOLDS ms, SIPp on the same machine ($(nproc) cores)"
[ -n "$EXT_CMD" ] && echo "# $EXT_NAME: $EXT_CMD"
# ROUNDS rounds, the targets alternated in each: the machine's noise falls on all of them alike
declare -A RB
for ((round = 1; round <= ROUNDS; round++)); do
	[ "$ROUNDS" -gt 1 ] && echo "# round $round of $ROUNDS"
	for hold in $HOLDS; do
		for t in "${names[@]}"; do
			if start_target "$t"; then
				name=$t
				[ "$t" = ext ] && name=$EXT_NAME
				[ "$t" = ext2 ] && name=$EXT2_NAME
				run_series "$name" "$hold"
				RB[$t/$hold]+="${BEST[$name/$hold]}:${CPUC[$name/$hold]:-?} "
			fi
			stop_target
		done
	done
done
# the median round of each (by its best clean rate), and that round's CPU per call
for k in "${!RB[@]}"; do
	m=$(tr ' ' '\n' <<<"${RB[$k]}" | grep . | sort -t: -k1,1n | awk '{v[NR] = $0} END {print v[int((NR + 1) / 2)]}')
	BEST[$k]=${m%%:*} CPUC[$k]=${m#*:}
	[ "$ROUNDS" -gt 1 ] && echo "# $k: rounds (rate:us/call) ${RB[$k]}-> median ${BEST[$k]}/s"
done

echo "# best clean rate (no failed call) and target CPU per call at that rate$([ "$ROUNDS" -gt 1 ] && echo ", median of $ROUNDS rounds")"
for hold in $HOLDS; do
	for t in "${names[@]}"; do
		name=$t
		[ "$t" = ext ] && name=$EXT_NAME
		[ "$t" = ext2 ] && name=$EXT2_NAME
		printf "%-10s hold %4d ms  %6s/s  %s us/call\n" "$name" "$hold" "${BEST[$t/$hold]:-0}" "${CPUC[$t/$hold]:-?}"
	done
	for pair in ext/sipp-uas ext/baresip ext2/sipp-uas ext2/baresip; do
		x=${pair%/*} other=${pair#*/} xn=$EXT_NAME
		[ "$x" = ext2 ] && xn=$EXT2_NAME
		[ -n "${BEST[$x/$hold]:-}" ] && [ -n "${BEST[$other/$hold]:-}" ] || continue
		awk -v n="$xn/$other" -v h="$hold" -v e="${BEST[$x/$hold]}" -v o="${BEST[$other/$hold]}" \
			-v ec="${CPUC[$x/$hold]:-0}" -v oc="${CPUC[$other/$hold]:-0}" 'BEGIN{
			printf "ratio %s, hold %d ms: rate %s", n, h, (o > 0 ? sprintf("%.2f", e/o) : "n/a");
			if (ec > 0 && oc > 0) printf ", cpu per call %.2f", ec/oc;
			printf "\n"}'
	done
done
