#!/usr/bin/env bash
# sipcx load and answer beside SIPp, baresip and kamailio, side by side in one run (loopback
# only); one table at the end, with ratios. bench/README.md says what each row measures.
# usage: bench/bench_load.sh [BUILD_DIR]     (default build/bench; its sipcx is measured)
# Env (defaults finish in about 6 minutes on 2 cores):
#   PARTS          parts run, in this order (default "answer dial register concurrent"; also threads)
#   DUR            seconds of new calls (registrations) per rate (default 3)
#   ANSWER_RATES   answer CPS: rates SIPp places calls at (default "100 300 1000 2000 4000")
#   ANSWER_ROUNDS  answer CPS: rounds, the targets alternated; the median round (default 1)
#   DIAL_RATES     dial CPS: rates asked of sipcx load and sipp -sn uac (default "500 1000 2000 4000 8000")
#   REG_RATES      registrations/s tried (default "500 1000 2000 4000 8000")
#   REG_ACCOUNTS   accounts registered by sipcx load and SIPp at kamailio (default 2000)
#   REG_USERS      accounts of the SIPp runs against sipcx registrar and kamailio (default 64, the
#                  most --user options sipcx registrar takes)
#   CONC_COUNTS    concurrent calls held, N or N@PTIME (sipcx load --ptime; default "1000 3000
#                  10000@100": 10,000 calls of 20 ms packets are 1,000,000 packets a second through
#                  loopback, more than 2 cores carry); a count the descriptor limit or the RTP port
#                  range cannot take is skipped or cut, saying why
#   CONC_PEERS     answerers measured under the same sipcx load --echo-check (default "sipcx
#                  sipcx-shared sipp-uas": sipcx answer --echo, --shared-echo, sipp -sn uas -rtp_echo)
#   CONC_RATE      calls/s while they are set up (default 500)
#   CONC_HOLD      seconds measured with all of them up (default 5)
#   CONC_MEDIA     "rtp" (default: PCMU both ways, echoed) or "none" (sipcx load --no-media: the
#                  calls and their sockets held, no packet)
#   CONC_NO_MUX=1  sipcx load --no-rtcp-mux: two sockets a call on each side (RFC 5761 rtcp-mux
#                  is offered and taken by default: one)
#   RTP_PORTS      RTP port range (default 10000-60000; concurrent: the answerer the lower half,
#                  the generator the upper)
#   THREADS_RATE   the threads part: the rate asked of sipcx load --threads 1, 2 and sipp -sn uac (default 8000)
#   THREADS_CALLS  ... and how many calls each (default 40000)
#   THREADS_CONC   ... at most this many at once (--concurrent, sipp -l; default 2000)
#   REPEAT         ... rounds, alternated (default 3); medians
#   SIPCX_BEFORE   ... another build's sipcx measured in the same rounds (a before and after)
#   UN_RATES       ... answer CPS tried of sipcx answer --threads 1, 2 (default "2000 4000 6000 8000 10000")
#   KEEP=1         keep the logs (the directory is printed)
# A rate series stops at its first rate with a failed call, or whose achieved rate is under 90%
# of the rate asked; its best clean rate is the highest achieved before that.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build/bench}
SIPCX=${SIPCX:-$BUILD/sipcx}
PARTS=${PARTS:-"answer dial register concurrent"}
DUR=${DUR:-3}
ANSWER_RATES=${ANSWER_RATES:-"100 300 1000 2000 4000"}
ANSWER_ROUNDS=${ANSWER_ROUNDS:-1}
DIAL_RATES=${DIAL_RATES:-"500 1000 2000 4000 8000"}
REG_RATES=${REG_RATES:-"500 1000 2000 4000 8000"}
REG_ACCOUNTS=${REG_ACCOUNTS:-2000}
REG_USERS=${REG_USERS:-64}
CONC_COUNTS=${CONC_COUNTS:-"1000 3000 10000@100"}
CONC_PEERS=${CONC_PEERS:-"sipcx sipcx-shared sipp-uas"}
CONC_RATE=${CONC_RATE:-500}
CONC_HOLD=${CONC_HOLD:-5}
CONC_MEDIA=${CONC_MEDIA:-rtp}
CONC_NO_MUX=${CONC_NO_MUX:-0}
RTP_PORTS=${RTP_PORTS:-10000-60000}
THREADS_RATE=${THREADS_RATE:-8000}
THREADS_CALLS=${THREADS_CALLS:-40000}
THREADS_CONC=${THREADS_CONC:-2000}
REPEAT=${REPEAT:-3}
UN_RATES=${UN_RATES:-"2000 4000 6000 8000 10000"}
KAM=$SRC/tests/peers/kamailio
. "$SRC/bench/lib.sh"
[ -x "$SIPCX" ] || { echo "bench_load: no $SIPCX (build it: cmake -DCMAKE_BUILD_TYPE=Release)" >&2; exit 1; }
for c in sipp ss timeout awk jq kamailio; do
	command -v $c >/dev/null || { echo "bench_load: $c is not installed (scripts/deps.sh bench)" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/sipcx-bench-load.XXXXXX)
PIDS=()
KPID=""
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	[ -n "$KPID" ] && "$KAM/stop.sh" >/dev/null 2>&1
	if [ "${KEEP:-0}" = 1 ]; then echo "# logs in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports below the kernel's ephemeral range: SIPp's UAS on B, the SIPp generator's SIP on B+2,
# kamailio on B+6, sipcx registrar on B+8, sipcx answer on B+10, the generator's RTP (audio and
# video, unused) on B+12..B+15.
B=$((25000 + ($$ % 200) * 20))
UAS=$B GEN=$((B + 2)) KPORT=$((B + 6)) RPORT=$((B + 8)) APORT=$((B + 10))
ports_free $B $((B + 19)) || exit 1
SIPP_COMMON=(-i 127.0.0.1 -mi 127.0.0.1 -p $GEN -mp $((B + 12)) -nostdin -buff_size 4194304 -max_socket 1024)

# The table: one row per measure; "sipcx" and "peer" cells, and the ratio sipcx/peer.
ROWS=()
row() { ROWS+=("$(printf '| %s | %s | %s | %s |' "$@")"); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{print (a > 0 && b > 0) ? sprintf("%.2f", a/b) : "n/a"}'; }

# in_bg NAME CMD...: starts CMD (its output in $TMP/NAME.out); BGPID is its PID.
in_bg() {
	local name=$1
	shift
	(cd "$TMP" && exec "$@" >"$TMP/$name.out" 2>&1) &
	BGPID=$!
	PIDS+=("$BGPID")
}
stop_bg() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
# timed OUT CMD...: runs CMD in $TMP (stdout OUT.out, stderr OUT.err); GCPU: its CPU seconds.
timed() {
	local out=$1 TIMEFORMAT='%U %S'
	shift
	{ time (cd "$TMP" && "$@" >"$out.out" 2>"$out.err"); } 2>"$out.time"
	GCPU=$(awk '{print $1 + $2}' "$out.time")
}
# load_stat JSON: OK FAILED EL from the summary (the last line) of sipcx load --json.
load_stat() {
	read -r OK FAILED EL <<<"$(tail -1 "$1" | jq -r 'select(.event == "summary") |
		"\(.answered) \(.failed + .stopped) \(.t)"' 2>/dev/null)"
	OK=${OK:-0} FAILED=${FAILED:-?} EL=${EL:-0}
}
sipp_stat() {
	read -r OK FAILED EL <<<"$(stat_of "$1" 2>/dev/null)"
	OK=${OK:-0} FAILED=${FAILED:-?} EL=${EL:-0}
}

# series KEY TPID RUN RATES...: for each rate, RUN RATE N (N = RATE x DUR) sets OK, FAILED,
# EL (seconds) and GCPU (the generator's CPU seconds); TPID's CPU is the target's. Best clean
# rate in BEST[KEY], the generator's and the target's CPU per call at it in GUS[KEY], TUS[KEY].
declare -A BEST GUS TUS
series() {
	local key=$1 tpid=$2 run=$3 R N c0 c1 rate gus tus
	shift 3
	BEST[$key]=0 GUS[$key]="" TUS[$key]=""
	for R in "$@"; do
		N=$((R * DUR))
		c0=$(cpu_of "$tpid")
		$run "$R" "$N"
		c1=$(cpu_of "$tpid")
		rate=$(awk -v n="$OK" -v e="$EL" 'BEGIN{printf "%.0f", (e > 0 ? n/e : 0)}')
		gus=$(awk -v c="$GCPU" -v n="$OK" 'BEGIN{printf "%.1f", n ? c*1e6/n : 0}')
		tus=$(awk -v a="$c0" -v b="$c1" -v n="$OK" 'BEGIN{printf "%.1f", n ? (b-a)*1e6/n : 0}')
		printf "%-24s rate %5d/s  ok %6d  failed %4s  achieved %5d/s  generator %6.1f us  target %6.1f us per call\n" \
			"$key" "$R" "$OK" "$FAILED" "$rate" "$gus" "$tus"
		[ "$FAILED" = 0 ] && [ "$OK" -ge "$N" ] || break
		if [ "$rate" -gt "${BEST[$key]}" ]; then
			BEST[$key]=$rate GUS[$key]=$gus TUS[$key]=$tus
		fi
		if [ $((rate * 10)) -lt $((R * 9)) ]; then
			echo "$key: saturated at $R/s (achieved $rate/s): higher rates not tried"
			break
		fi
		kill -0 "$tpid" 2>/dev/null || { echo "$key: the target exited"; break; }
	done
}

# 1. Answer CPS: bench_calls.sh with sipcx answer as its ext target.
part_answer() {
	echo "== answer CPS: SIPp places calls on sipp -sn uas, baresip, sipcx answer --echo and --shared-echo"
	TARGETS="sipp-uas baresip ext ext2" EXT_NAME=sipcx EXT2_NAME=sipcx-shared ROUNDS=$ANSWER_ROUNDS \
		EXT_CMD="$SIPCX answer -q --listen udp:127.0.0.1:{PORT} --echo --max-calls 100000 --rtp-ports $RTP_PORTS" \
		EXT2_CMD="$SIPCX answer -q --listen udp:127.0.0.1:{PORT} --shared-echo --max-calls 100000 --rtp-ports $RTP_PORTS" \
		"$SRC/bench/bench_calls.sh" "$ANSWER_RATES" "$DUR" "0 1000" | tee "$TMP/answer.txt"
	# "NAME hold H ms  R/s  C us/call" after the "# best clean rate" line
	local name hold r c h
	declare -A AR AC
	while read -r name hold r c; do
		AR[$name/$hold]=${r%/s} AC[$name/$hold]=$c
	done < <(awk '/^# best clean/{b=1; next} b && $2 == "hold" {print $1, $3, $5, $6}' "$TMP/answer.txt")
	for h in 0 1000; do
		local what="answer CPS, hold 0 (signalling)"
		[ $h = 0 ] || what="answer CPS, hold 1 s with RTP echoed"
		for peer in sipp-uas baresip; do
			row "$what: sipcx answer --echo vs $peer" \
				"${AR[sipcx/$h]:-0}/s, ${AC[sipcx/$h]:-?} us/call" "${AR[$peer/$h]:-0}/s, ${AC[$peer/$h]:-?} us/call" \
				"rate $(ratio "${AR[sipcx/$h]:-0}" "${AR[$peer/$h]:-0}"), cpu $(ratio "${AC[sipcx/$h]:-0}" "${AC[$peer/$h]:-0}")"
		done
		[ $h = 0 ] && continue # no RTP: --shared-echo is --echo
		row "$what: sipcx answer --shared-echo vs sipp-uas" \
			"${AR[sipcx-shared/$h]:-0}/s, ${AC[sipcx-shared/$h]:-?} us/call" "${AR[sipp-uas/$h]:-0}/s, ${AC[sipp-uas/$h]:-?} us/call" \
			"rate $(ratio "${AR[sipcx-shared/$h]:-0}" "${AR[sipp-uas/$h]:-0}"), cpu $(ratio "${AC[sipcx-shared/$h]:-0}" "${AC[sipp-uas/$h]:-0}")"
	done
}

# 2. Dial CPS against sipp -sn uas: sipcx load --no-media --duration 0 and sipp -sn uac.
dial_sipcx() {
	timed "$TMP/dial-sipcx-$1" timeout $((DUR + 40)) "$SIPCX" load "sip:service@127.0.0.1:$UAS" \
		--no-media --duration 0 --rate "$1" --calls "$2" --concurrent $(($1 * 4 + 100)) --json -q
	load_stat "$TMP/dial-sipcx-$1.out"
}
dial_sipp() {
	timed "$TMP/dial-sipp-$1" timeout $((DUR + 40)) sipp -sn uac "127.0.0.1:$UAS" -s service -d 0 \
		"${SIPP_COMMON[@]}" -r "$1" -m "$2" -l $(($1 * 4 + 100)) -timeout $((DUR + 30))s \
		-recv_timeout 8000 -trace_stat -stf "$TMP/dial-sipp-$1.csv" -fd 1
	sipp_stat "$TMP/dial-sipp-$1.csv"
}
part_dial() {
	echo "== dial CPS: sipcx load --no-media --duration 0 and sipp -sn uac against sipp -sn uas"
	in_bg uas timeout 600 sipp -sn uas -i 127.0.0.1 -mi 127.0.0.1 -p $UAS -mp $((B + 16)) -nostdin -buff_size 4194304 -max_socket 1024
	local upid=$BGPID
	wait_port $UAS || { echo "sipp -sn uas does not listen on $UAS"; return; }
	series "sipcx load" "$upid" dial_sipcx $DIAL_RATES
	series "sipp -sn uac" "$upid" dial_sipp $DIAL_RATES
	stop_bg "$upid"
	row "dial CPS, no media: sipcx load vs sipp -sn uac (both against sipp -sn uas)" \
		"${BEST[sipcx load]}/s, ${GUS[sipcx load]:-?} us/call" "${BEST[sipp -sn uac]}/s, ${GUS[sipp -sn uac]:-?} us/call" \
		"rate $(ratio "${BEST[sipcx load]}" "${BEST[sipp -sn uac]}"), cpu $(ratio "${GUS[sipcx load]:-0}" "${GUS[sipp -sn uac]:-0}")"
}

# 3. Registrations/s with digest.
reg_sipcx() {
	timed "$TMP/reg-sipcx-$1" timeout $((DUR + 40)) "$SIPCX" load "sip:127.0.0.1:$KPORT" --register-only \
		--accounts "$TMP/accounts.csv" --expiry 3600 --duration 0 --rate "$1" --calls "$2" \
		--concurrent $(($1 * 4 + 100)) --csv "$TMP/reg-sipcx-$1.csv" --json -q
	load_stat "$TMP/reg-sipcx-$1.out"
	# registered when the last 200 came: the unregistrations (Expires: 0) that follow are not
	# waited for (the run sends the last of them up to a second late, at its next whole second)
	EL=$(awk -F, 'NR > 1 && $4 == 200 {e = $3 + $6; if (e > m) m = e; if (!s || $3 < s) s = $3}
		END{printf "%.3f", (m - s)/1000}' \
		"$TMP/reg-sipcx-$1.csv" 2>/dev/null)
}
# reg_sipp_at PORT ACCOUNTS TAG RATE N
reg_sipp_at() {
	timed "$TMP/reg-$3-$4" timeout $((DUR + 40)) sipp -sf "$SRC/bench/uac_register_inf.xml" "127.0.0.1:$1" \
		-inf "$2" -key expires 3600 -key contact_port $GEN "${SIPP_COMMON[@]}" -r "$4" -m "$5" \
		-l $(($4 * 4 + 100)) -timeout $((DUR + 30))s -recv_timeout 8000 -trace_stat -stf "$TMP/reg-$3-$4.csv" -fd 1
	sipp_stat "$TMP/reg-$3-$4.csv"
}
reg_sipp_kam() { reg_sipp_at $KPORT "$TMP/accounts-sipp.csv" sipp-kam "$@"; }
reg_sipp_kam_few() { reg_sipp_at $KPORT "$TMP/users-sipp.csv" sipp-kam-few "$@"; }
reg_sipp_registrar() { reg_sipp_at $RPORT "$TMP/users-sipp.csv" sipp-registrar "$@"; }
part_register() {
	echo "== registrations/s with digest: $REG_ACCOUNTS accounts at kamailio; $REG_USERS at sipcx registrar and kamailio"
	local i u users=()
	{
		echo SEQUENTIAL
		for ((i = 1; i <= REG_ACCOUNTS; i++)); do printf 'bench%05d;pw%05d\n' $i $i; done
	} >"$TMP/accounts.csv"
	sed 1d "$TMP/accounts.csv" | tr ';' ' ' >"$TMP/kam-users.txt"
	# SIPp takes each account's credentials as an [authentication] keyword in field 1
	sed '1!s/^\([^;]*\);\(.*\)$/\1;[authentication username=\1 password=\2]/' "$TMP/accounts.csv" >"$TMP/accounts-sipp.csv"
	head -$((REG_USERS + 1)) "$TMP/accounts-sipp.csv" >"$TMP/users-sipp.csv"
	for u in $(sed 1d "$TMP/accounts.csv" | head -$REG_USERS); do users+=(--user "${u/;/:}"); done

	KPID=$(KAM_PORT=$KPORT KAM_EXTRA_USERS="$TMP/kam-users.txt" KAM_DEBUG=1 "$KAM/start.sh" 2>"$TMP/kam.err") ||
		{ echo "kamailio did not start: $(tail -3 "$TMP/kam.err")"; KPID=""; return; }
	series "sipcx load -> kamailio" "$KPID" reg_sipcx $REG_RATES
	series "sipp -> kamailio" "$KPID" reg_sipp_kam $REG_RATES
	series "sipp -> kamailio ($REG_USERS)" "$KPID" reg_sipp_kam_few $REG_RATES
	"$KAM/stop.sh" >/dev/null 2>&1
	KPID=""
	in_bg registrar timeout 600 "$SIPCX" registrar -q --listen "udp:127.0.0.1:$RPORT" "${users[@]}"
	local rpid=$BGPID
	if wait_port $RPORT; then
		series "sipp -> sipcx registrar" "$rpid" reg_sipp_registrar $REG_RATES
	else
		echo "sipcx registrar does not listen: $(tail -3 "$TMP/registrar.out")"
	fi
	stop_bg "$rpid"
	local a="sipcx load -> kamailio" b="sipp -> kamailio" c="sipp -> kamailio ($REG_USERS)" d="sipp -> sipcx registrar"
	row "registrations/s, generators: sipcx load --register-only vs SIPp, at kamailio ($REG_ACCOUNTS accounts)" \
		"${BEST[$a]}/s, ${GUS[$a]:-?} us/reg" "${BEST[$b]}/s, ${GUS[$b]:-?} us/reg" \
		"rate $(ratio "${BEST[$a]}" "${BEST[$b]}"), cpu $(ratio "${GUS[$a]:-0}" "${GUS[$b]:-0}")"
	row "registrations/s, registrars: sipcx registrar vs kamailio, SIPp registering ($REG_USERS accounts)" \
		"${BEST[$d]}/s, ${TUS[$d]:-?} us/reg" "${BEST[$c]}/s, ${TUS[$c]:-?} us/reg" \
		"rate $(ratio "${BEST[$d]}" "${BEST[$c]}"), cpu $(ratio "${TUS[$d]:-0}" "${TUS[$c]:-0}")"
}

# 4. Concurrent calls with RTP: sipcx load --echo-check holding N calls on sipcx answer --echo,
# then (CONC_PEERS) the same load on sipp -sn uas -rtp_echo.
child_of() { ps -o pid= --ppid "$1" | head -1 | tr -d ' '; }
# active_of JSON: "active" of the last progress line of sipcx load --json.
active_of() { grep '"progress"' "$1" | tail -1 | jq -r .active 2>/dev/null; }
# conc_run PEER N PTIME: one run; sets C_UP C_UP1 C_OK C_FAILED C_LOSS C_ARSS (B a call)
# C_FDS C_ACPU C_LRSS C_LCPU (us a call-second), or returns 1 when the answerer does not start.
conc_run() {
	local peer=$1 n=$2 pt=$3 ramp=$((($2 + CONC_RATE - 1) / CONC_RATE)) hold apid lpid a l base r0a i up
	hold=$((ramp + CONC_HOLD + 8))
	local name="$peer-$n-$pt" ans=(-q --listen "udp:127.0.0.1:$APORT" --echo --max-calls "$n" --rtp-ports "$RTP_PORTS")
	[ "$CONC_MEDIA" = none ] && ans=(-q --listen "udp:127.0.0.1:$APORT" --no-media --max-calls "$n" --rtp-ports "$RTP_PORTS")
	case $peer in
	sipcx) in_bg "answer-$name" timeout $((2 * hold + 120)) "$SIPCX" answer "${ans[@]}" ;;
	sipcx-shared) in_bg "answer-$name" timeout $((2 * hold + 120)) "$SIPCX" answer -q --listen "udp:127.0.0.1:$APORT" \
		--shared-echo --max-calls "$n" --rtp-ports "$RTP_PORTS" ;;
	sipp-uas) in_bg "answer-$name" timeout $((2 * hold + 120)) sipp -sn uas -i 127.0.0.1 -mi 127.0.0.1 -p "$APORT" \
		-mp $((B + 16)) -rtp_echo -nostdin -buff_size 4194304 -max_socket 1024 -timeout $((2 * hold + 100))s ;;
	esac
	apid=$BGPID
	wait_port $APORT || { echo "$peer does not listen: $(tail -3 "$TMP/answer-$name.out")"; stop_bg "$apid"; return 1; }
	a=$(child_of "$apid")
	r0a=$(mem_of "$a" VmRSS)
	# the generator's own RSS with one call up, to subtract
	in_bg "load1-$name" timeout 30 "$SIPCX" load "sip:bench@127.0.0.1:$APORT" --rate 1 --calls 1 --duration 3 \
		--rtp-ports "$LOAD_PORTS" "${CONC_LARGS[@]}" --ptime "$pt" -q
	sleep 1.5
	base=$(mem_of "$(child_of "$BGPID")" VmRSS)
	wait "$BGPID"
	in_bg "load-$name" timeout $((2 * hold + 60)) "$SIPCX" load "sip:bench@127.0.0.1:$APORT" --rate "$CONC_RATE" \
		--calls "$n" --concurrent "$n" --duration "${hold}s" --rtp-ports "$LOAD_PORTS" "${CONC_LARGS[@]}" \
		--ptime "$pt" --json -q
	lpid=$BGPID
	l=$(child_of "$lpid")
	for ((i = 0; i < 2 * (ramp + 20); i++)); do
		up=$(active_of "$TMP/load-$name.out")
		[ "${up:-0}" -ge "$n" ] && break
		kill -0 "$lpid" 2>/dev/null || break
		sleep 0.5
	done
	sleep 1
	up=$(active_of "$TMP/load-$name.out")
	local ra rl ca0 cl0 ca1 cl1
	ra=$(mem_of "$a" VmRSS) rl=$(mem_of "$l" VmRSS)
	C_FDS=$(ls "/proc/$a/fd" 2>/dev/null | wc -l)
	ca0=$(cpu_of "$a") cl0=$(cpu_of "$l")
	sleep "$CONC_HOLD"
	ca1=$(cpu_of "$a") cl1=$(cpu_of "$l")
	C_UP1=$(active_of "$TMP/load-$name.out")
	wait "$lpid"
	stop_bg "$apid"
	load_stat "$TMP/load-$name.out"
	C_OK=$OK C_FAILED=$FAILED C_UP=${up:-0} C_UP1=${C_UP1:-0}
	C_LOSS=$(tail -1 "$TMP/load-$name.out" | jq -r '"loss p50 \(.loss_pct.p50)% max \(.loss_pct.max)%, jitter p99 \(.jitter_ms.p99) ms, MOS min \(.mos.min)"' 2>/dev/null)
	echo "$peer: up $C_UP of $n (then $C_UP1 after ${CONC_HOLD}s); answered $OK, failed $FAILED; $C_LOSS"
	echo "$peer: RSS $r0a -> $ra KiB, $C_FDS descriptors; CPU $ca0 -> $ca1 s"
	echo "load:   RSS $base (one call) -> $rl KiB; CPU $cl0 -> $cl1 s"
	[ "$C_UP" -gt 0 ] || return 0
	C_ARSS=$(awk -v a="$r0a" -v b="$ra" -v n="$C_UP" 'BEGIN{printf "%.0f", (b-a)*1024/n}')
	C_LRSS=$(awk -v a="$base" -v b="$rl" -v n="$C_UP" 'BEGIN{printf "%.0f", (b-a)*1024/n}')
	C_ACPU=$(awk -v a="$ca0" -v b="$ca1" -v n="$C_UP" -v t="$CONC_HOLD" 'BEGIN{printf "%.1f", (b-a)*1e6/n/t}')
	C_LCPU=$(awk -v a="$cl0" -v b="$cl1" -v n="$C_UP" -v t="$CONC_HOLD" 'BEGIN{printf "%.1f", (b-a)*1e6/n/t}')
}
part_concurrent() {
	local spec n pt lo=${RTP_PORTS%-*} hi=${RTP_PORTS#*-} per=1 what="with RTP" peer
	CONC_LARGS=()
	# RFC 5761 rtcp-mux (the default): one socket a call on each side once it is answered
	[ "$CONC_NO_MUX" = 1 ] && per=2 CONC_LARGS+=(--no-rtcp-mux) what="$what, no rtcp-mux"
	if [ "$CONC_MEDIA" = none ]; then
		CONC_LARGS+=(--no-media) what="without media${what#with RTP}"
	else
		CONC_LARGS+=(--echo-check)
	fi
	# the answerer's ports below the middle of RTP_PORTS, the generator's above
	local mid=$(((lo + hi) / 2))
	local RTP_PORTS="$lo-$mid" LOAD_PORTS="$((mid + 1))-$hi"
	for spec in $CONC_COUNTS; do
		n=${spec%@*} pt=20
		[ "$spec" != "$n" ] && pt=${spec#*@}
		local w="$what, ptime $pt ms"
		[ "$CONC_MEDIA" = none ] && w=$what
		if [ $((2 * n)) -gt $((mid - lo + 1)) ]; then
			echo "skipped: $n calls need $((2 * n)) RTP ports a side, RTP_PORTS gives each side $((mid - lo + 1))"
			row "$n concurrent calls" "skipped: RTP port range" "" ""
			continue
		fi
		if [ $((per * n + 200)) -gt "$(ulimit -n)" ]; then
			local fit=$((($(ulimit -n) - 200) / per / 500 * 500))
			echo "$n calls need $((per * n + 200)) descriptors a side, ulimit -n is $(ulimit -n) (the hard limit," \
				"raised only with CAP_SYS_RESOURCE): $fit calls instead"
			[ "$fit" -gt 0 ] || continue
			n=$fit
		fi
		local -A R=()
		for peer in $CONC_PEERS; do
			[ "$peer" != sipcx ] && [ "$CONC_MEDIA" = none ] && continue
			if [ "$peer" = sipp-uas ] && [ $((2 * n + 200)) -gt "$(ulimit -n)" ]; then
				echo "== $n calls on sipp-uas skipped: its SDP has no a=rtcp-mux, so sipcx load would need" \
					"$((2 * n + 200)) descriptors (ulimit -n $(ulimit -n))"
				continue
			fi
			echo "== $n concurrent calls $w: sipcx load ${CONC_LARGS[*]} on $peer"
			conc_run "$peer" "$n" "$pt" || continue
			R[$peer]="$C_UP|$C_FAILED|$C_LOSS|$C_ARSS|$C_FDS|$C_ACPU|$C_LRSS|$C_LCPU"
		done
		local s=${R[sipcx]:-} o=${R[sipp-uas]:-} su sf sl sr sd sc lr lc ou of ol orr od oc
		local x=${R[sipcx-shared]:-} xu xf xl xr xd xc
		IFS='|' read -r su sf sl sr sd sc lr lc <<<"$s"
		IFS='|' read -r ou of ol orr od oc _ _ <<<"$o"
		IFS='|' read -r xu xf xl xr xd xc _ _ <<<"$x"
		[ -n "$s" ] && [ "${su:-0}" -gt 0 ] || { row "$n concurrent calls $w" "${su:-0} up" "" ""; continue; }
		local m="$n concurrent calls $w"
		if [ -n "$o" ]; then
			row "$m, the same sipcx load on each: calls up (failed), sipcx answer --echo vs sipp -sn uas -rtp_echo" \
				"$su ($sf failed); $sl" "$ou ($of failed); $ol" ""
			row "$m: answerer CPU per call-second held, sipcx answer --echo vs sipp -sn uas -rtp_echo" \
				"$sc us" "$oc us" "$(ratio "$sc" "$oc")"
			row "$m: answerer RSS per call, sipcx answer --echo vs sipp -sn uas -rtp_echo" \
				"$sr B ($sd fds)" "$orr B ($od fds)" "$(ratio "$sr" "$orr")"
		else
			row "$m: calls up (failed)" "$su ($sf failed, answerer $sd fds); $sl" "" ""
		fi
		if [ -n "$x" ] && [ -n "$o" ]; then
			row "$m, the same sipcx load: calls up (failed), sipcx answer --shared-echo vs sipp -sn uas -rtp_echo" \
				"$xu ($xf failed); $xl" "$ou ($of failed); $ol" ""
			row "$m: answerer CPU per call-second held, sipcx answer --shared-echo vs sipp -sn uas -rtp_echo" \
				"$xc us" "$oc us" "$(ratio "$xc" "$oc")"
		elif [ -n "$x" ]; then
			row "$m: sipcx answer --shared-echo, calls up (failed); its CPU per call-second" \
				"$xu ($xf failed); $xl; $xc us" "" ""
		fi
		row "$m: RSS per call, answer --echo vs load" "$sr B" "$lr B" ""
		row "$m: CPU per call-second held, answer --echo vs load" "$sc us" "$lc us" ""
	done
}

# 5. Threads: sipcx load --threads 1 and 2 at one rate against one sipp -sn uas beside sipp -sn
# uac (and, with SIPCX_BEFORE, the same runs of another build), the runs alternated, REPEAT
# rounds, medians; then sipcx answer --threads 1 and 2 taking sipp -sn uac -t un (a socket per
# call, so SO_REUSEPORT spreads the calls over the loops), alternated at each rate of UN_RATES:
# the highest achieved rate (median of the rounds) of a rate with every call answered in every round. The dial rate compared is the start
# rate (sipcx load's summary "rate", first start to last; SIPp: its calls over its run, their ends
# included): a BYE the UAS drops makes a run last 32 s longer without slowing the starts.
# median V...: the middle value (the lower middle of an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END{print v[int((NR + 1) / 2)]}'; }
# dial_threads BIN T TAG: sets OK, FAILED, RATE (answered over the run), START (start rate).
dial_threads() {
	timed "$TMP/thr-$3" timeout $((THREADS_CALLS / THREADS_RATE + 60)) "$1" load "sip:service@127.0.0.1:$UAS" \
		--no-media --duration 0 --rate "$THREADS_RATE" --calls "$THREADS_CALLS" \
		--concurrent "$THREADS_CONC" --rtp-ports "$RTP_PORTS" --threads "$2" --json -q
	read -r OK FAILED RATE START <<<"$(tail -1 "$TMP/thr-$3.out" | jq -r 'select(.event == "summary") |
		"\(.answered) \(.failed + .stopped) \(if .duration_s > 0 then .answered / .duration_s else 0 end) \(.rate)"' 2>/dev/null)"
	OK=${OK:-0} FAILED=${FAILED:-?} RATE=${RATE:-0} START=${START:-0}
}
dial_threads_sipp() {
	timed "$TMP/thr-$1" timeout $((THREADS_CALLS / THREADS_RATE + 60)) sipp -sn uac "127.0.0.1:$UAS" -s service -d 0 \
		"${SIPP_COMMON[@]}" -r "$THREADS_RATE" -m "$THREADS_CALLS" -l "$THREADS_CONC" \
		-timeout $((THREADS_CALLS / THREADS_RATE + 50))s -recv_timeout 8000 -trace_stat -stf "$TMP/thr-$1.csv" -fd 1
	sipp_stat "$TMP/thr-$1.csv"
	RATE=$(awk -v n="$OK" -v e="$EL" 'BEGIN{print (e > 0 ? n/e : 0)}') START=$RATE
}
# answer_un T R N TAG: sipcx answer --threads T takes N calls of sipp -sn uac -t un at R/s.
answer_un() {
	in_bg "ans-$4" timeout $(($3 / $2 + 90)) "$SIPCX" answer -q --listen "udp:127.0.0.1:$APORT" --threads "$1" \
		--max-calls 100000
	local apid=$BGPID c0 c1
	wait_port $APORT || { echo "sipcx answer does not listen: $(tail -3 "$TMP/ans-$4.out")"; OK=0 FAILED='?' RATE=0 TCPU=0; return; }
	c0=$(cpu_of "$apid")
	timed "$TMP/un-$4" timeout $(($3 / $2 + 60)) sipp -sn uac "127.0.0.1:$APORT" -s service -d 0 -t un \
		-i 127.0.0.1 -mi 127.0.0.1 -mp $((B + 12)) -nostdin -buff_size 4194304 -max_socket 16000 \
		-r "$2" -m "$3" -l $(($2 * 4 + 100)) -timeout $(($3 / $2 + 50))s -recv_timeout 8000 \
		-trace_stat -stf "$TMP/un-$4.csv" -fd 1
	c1=$(cpu_of "$apid")
	stop_bg "$apid"
	sipp_stat "$TMP/un-$4.csv"
	RATE=$(awk -v n="$OK" -v e="$EL" 'BEGIN{printf "%.0f", (e > 0 ? n/e : 0)}')
	TCPU=$(awk -v a="$c0" -v b="$c1" -v n="$OK" 'BEGIN{printf "%.1f", n ? (b-a)*1e6/n : 0}')
}
part_threads() {
	local k r t
	echo "== threads: sipcx load --threads 1, 2 (${SIPCX_BEFORE:+and $SIPCX_BEFORE, }) beside sipp -sn uac, $THREADS_CALLS calls at $THREADS_RATE/s against sipp -sn uas, $REPEAT rounds"
	local kinds=("sipcx 1" "sipcx 2")
	[ -n "${SIPCX_BEFORE:-}" ] && kinds+=("before 1" "before 2")
	kinds+=("sipp uac")
	declare -A RS FS
	for ((r = 1; r <= REPEAT; r++)); do
		for k in "${kinds[@]}"; do
			# a fresh UAS each run: a run that overloads it does not weigh on the next
			in_bg "uas-$r-${k/ /}" timeout 600 sipp -sn uas -i 127.0.0.1 -mi 127.0.0.1 -p $UAS -mp $((B + 16)) \
				-nostdin -buff_size 4194304 -max_socket 1024
			local upid=$BGPID
			wait_port $UAS || { echo "sipp -sn uas does not listen on $UAS"; return; }
			case $k in
			sipcx*) dial_threads "$SIPCX" "${k#* }" "$r-${k/ /}" ;;
			before*) dial_threads "$SIPCX_BEFORE" "${k#* }" "$r-${k/ /}" ;;
			*) dial_threads_sipp "$r-sipp" ;;
			esac
			printf "round %d  %-9s ok %6d  failed %4s  started at %6.0f/s  (answered over the run %.0f/s)  generator cpu %.2f s\n" \
				"$r" "$k" "$OK" "$FAILED" "$START" "$RATE" "$GCPU"
			stop_bg "$upid"
			RS[$k]+=" $START" FS[$k]+=" $FAILED"
		done
	done
	declare -A MED
	for k in "${kinds[@]}"; do
		# shellcheck disable=SC2086
		MED[$k]=$(median ${RS[$k]})
		printf "median %-9s started at %6.0f/s  (rounds:%s; failed:%s)\n" "$k" "${MED[$k]}" "${RS[$k]}" "${FS[$k]}"
	done
	for t in 1 2; do
		row "dial, no media, --threads $t: sipcx load vs sipp -sn uac ($THREADS_RATE/s asked, median of $REPEAT)" \
			"$(printf %.0f "${MED[sipcx $t]}")/s${SIPCX_BEFORE:+ (before: $(printf %.0f "${MED[before $t]}")/s)}" \
			"$(printf %.0f "${MED[sipp uac]}")/s" "$(ratio "${MED[sipcx $t]}" "${MED[sipp uac]}")"
	done
	[ -n "${SIPCX_BEFORE:-}" ] && for t in 1 2; do
		row "dial, --threads $t: this build vs SIPCX_BEFORE" "$(printf %.0f "${MED[sipcx $t]}")/s" \
			"$(printf %.0f "${MED[before $t]}")/s" "$(ratio "${MED[sipcx $t]}" "${MED[before $t]}")"
	done

	echo "== threads: sipcx answer --threads 1 and 2 taking sipp -sn uac -t un, rates $UN_RATES, ${DUR}s each, $REPEAT rounds"
	declare -A UBEST UCPU ULIVE=([1]=1 [2]=1)
	local R N
	for R in $UN_RATES; do
		N=$((R * DUR))
		declare -A V=() CPU=() OKR=([1]=1 [2]=1)
		for ((r = 1; r <= REPEAT; r++)); do
			for t in 1 2; do
				[ "${ULIVE[$t]}" = 1 ] || continue
				answer_un "$t" "$R" "$N" "$t-$R-$r"
				printf "answer --threads %d  rate %5d/s  round %d  ok %6d  failed %4s  achieved %5d/s  answer cpu %6.1f us/call\n" \
					"$t" "$R" "$r" "$OK" "$FAILED" "$RATE" "$TCPU"
				[ "$FAILED" = 0 ] && [ "$OK" -ge "$N" ] || OKR[$t]=0
				V[$t]+=" $RATE" CPU[$t]+=" $TCPU"
			done
		done
		for t in 1 2; do
			[ "${ULIVE[$t]}" = 1 ] || continue
			if [ "${OKR[$t]}" = 1 ]; then
				# shellcheck disable=SC2086
				r=$(median ${V[$t]})
				if [ "$r" -gt "${UBEST[$t]:-0}" ]; then
					# shellcheck disable=SC2086
					UBEST[$t]=$r UCPU[$t]=$(median ${CPU[$t]})
				fi
			else
				ULIVE[$t]=0
			fi
		done
	done
	row "answer, hold 0, no media, sipp -sn uac -t un: sipcx answer --threads 2 vs --threads 1 (highest rate with no failed call, median of $REPEAT)" \
		"${UBEST[2]:-0}/s, ${UCPU[2]:-?} us/call" "${UBEST[1]:-0}/s, ${UCPU[1]:-?} us/call" \
		"$(ratio "${UBEST[2]:-0}" "${UBEST[1]:-0}")"
}

case " $PARTS " in *" concurrent "*)
	want=4000
	for n in $CONC_COUNTS; do n=${n%@*}; [ $((2 * n + 2000)) -gt $want ] && want=$((2 * n + 2000)); done
	[ "$(ulimit -n)" -ge $want ] || ulimit -n $want 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
	;;
esac
echo "# bench_load: $SIPCX, $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), parts: $PARTS"
for p in $PARTS; do
	case $p in
	answer | dial | register | concurrent | threads) "part_$p" ;;
	*) echo "bench_load: unknown part $p" >&2 ;;
	esac
done
echo
echo "| measure | sipcx | peer | sipcx/peer |"
echo "|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
