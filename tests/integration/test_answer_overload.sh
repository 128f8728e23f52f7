#!/usr/bin/env bash
# sipcx answer under overload (loopback, SIPp): out of file descriptors (RLIMIT_NOFILE 64), an
# incoming call gets 503 with Retry-After, one line names the limit, and the calls placed once
# the others ended are answered; a flood of INVITEs far past what --max-calls and --max-txns
# allow gets 486 and 503 with Retry-After, the calls taken are served to their BYE, memory stays
# bounded, and calls placed after the flood are answered. Counts only (SIPp's -trace_stat).
# KEEP=DIR keeps the outputs and SIPp's files in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need sipp prlimit ss timeout awk
need_sipcx

# stat_of CSV: "successful failed" from the last row of a SIPp -trace_stat file.
stat_of() {
	awk -F';' 'NR == 1 {for (i = 1; i <= NF; i++) c[$i] = i; next} {l = $0} END {
		split(l, v, ";"); printf "%d %d", v[c["SuccessfulCall(C)"]], v[c["FailedCall(C)"]]}' "$1"
}
# calls NAME PORT COUNT HOLD_MS [SIPP-ARGS...]: SIPp places COUNT calls (INVITE, 200, ACK, a
# pause, BYE) to 127.0.0.1:PORT, 50 a second, all at once if need be; "successful failed" in
# $TMP/NAME.stat.
calls() {
	local name=$1 port=$2 n=$3 hold=$4 c
	shift 4
	c=$(free_port 6)
	sipp_fg "$name" -sf "$SIPCX_SOURCE/bench/uac_call_nortp.xml" "127.0.0.1:$port" -i 127.0.0.1 \
		-p "$c" -mp $((c + 2)) -s bob -key caller alice -r 50 -m "$n" -l "$n" -d "$hold" \
		-timeout 50s -trace_stat -stf "$TMP/$name.csv" "$@"
	stat_of "$TMP/$name.csv" >"$TMP/$name.stat" 2>/dev/null
}
stat() { # stat NAME: its "successful failed"
	cat "$TMP/$1.stat" 2>/dev/null || echo "0 0"
}
# pid_of ARGS: the sipcx process whose command line has ARGS (not its timeout(1)).
pid_of() {
	pgrep -f -- "$*" | while read -r p; do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = sipcx ] && echo "$p"
	done | head -1
}
rss_kb() {
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

# --- Out of descriptors: RLIMIT_NOFILE 64, the hard limit too (root may not raise it). -------
ports P 1
limit=(prlimit --nofile=64:64)
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null || skip "running as root without setpriv: the limit cannot be held"
	limit=(setpriv --bounding-set -sys_resource --inh-caps -sys_resource "${limit[@]}")
fi
("${limit[@]}" timeout 60 "$SIPCX" answer --trace --listen "udp:127.0.0.1:$P" --echo \
	--max-calls 100 >"$TMP/fd.out" 2>"$TMP/fd.trace"
echo $? >"$TMP/fd.rc") &
PIDS+=($!)
wait_for "$TMP/fd.out" '^listening on ' 10
ok_if "fd: sipcx answer listens with RLIMIT_NOFILE 64" $? "$TMP/fd.out" "$TMP/fd.trace"
APID=$(pid_of "--listen udp:127.0.0.1:$P")
calls fd-sipp "$P" 40 3000
read -r s f <<<"$(stat fd-sipp)"
[ "$((s + f))" = 40 ] && [ "$s" -gt 0 ] && [ "$f" -gt 0 ]
ok_if "fd: of 40 calls at once some are answered ($s), the rest refused ($f)" $? "$TMP/fd-sipp.log"
n503=$(grep -c '^SIP/2.0 503 Service Unavailable' "$TMP/fd.trace")
nra=$(awk '/^SIP\/2.0 503 / {on = 1} on && /^Retry-After: [0-9]+/ {n++; on = 0} /^--- end/ {on = 0}
	END {print n + 0}' "$TMP/fd.trace")
[ "$n503" = "$f" ] && [ "$nra" = "$n503" ]
ok_if "fd: each refused call got 503 with Retry-After ($n503 503s, $nra with Retry-After)" $? \
	"$TMP/fd.trace"
[ "$(grep -c 'out of file descriptors (RLIMIT_NOFILE 64' "$TMP/fd.trace")" = 1 ]
ok_if "fd: one line names the limit" $? "$TMP/fd.trace"
calls fd-after "$P" 5 100
[ "$(stat fd-after)" = "5 0" ]
ok_if "fd: once those calls ended, 5 more are answered ($(stat fd-after))" $? "$TMP/fd-after.log"
[ -n "$APID" ] && kill -INT "$APID"
[ "$(rc_of fd)" = 0 ]
ok_if "fd: exit 0 on SIGINT" $? "$TMP/fd.out"
grep -qE "^--- answer: .*, $f out of descriptors" "$TMP/fd.out"
ok_if "fd: the summary counts the $f calls refused for descriptors" $? "$TMP/fd.out"

# --- A flood: 20,000 INVITEs as fast as SIPp sends them, calls held 10 s. --------------------
ports P 1
(timeout 120 "$SIPCX" answer --listen "udp:127.0.0.1:$P" --echo -q --max-calls 200 \
	--max-txns 2000 >"$TMP/flood.out" 2>/dev/null
echo $? >"$TMP/flood.rc") &
PIDS+=($!)
wait_for "$TMP/flood.out" '^listening on ' 10
ok_if "flood: sipcx answer listens" $? "$TMP/flood.out"
APID=$(pid_of "--listen udp:127.0.0.1:$P")
rss0=$(rss_kb "$APID")
ports C 6
sipp_bg flood-sipp -sn uac "127.0.0.1:$P" -i 127.0.0.1 -p "$C" -mp $((C + 2)) -r 20000 -m 20000 \
	-l 20000 -d 10000 -timeout 50s -max_socket 1024 -buff_size 4194304 -trace_stat \
	-stf "$TMP/flood.csv" -fd 1 -trace_err -error_file "$TMP/flood.err"
FLOOD=$SIPP_PID
peak=$rss0
while kill -0 "$FLOOD" 2>/dev/null; do # sampled while SIPp runs (bounded by its timeout)
	r=$(rss_kb "$APID")
	[ "${r:-0}" -gt "$peak" ] && peak=$r
	sleep 0.2
done
wait "$FLOOD"
read -r s f <<<"$(stat_of "$TMP/flood.csv")"
[ "$((s + f))" = 20000 ] && [ "$s" -ge 1 ] && [ "$s" -le 200 ]
ok_if "flood: of 20000 calls, at most --max-calls 200 answered and ended by BYE ($s), $f refused" \
	$? "$TMP/flood-sipp.log"
n486=$(grep -c "received 'SIP/2.0 486 " "$TMP/flood.err")
n503=$(grep -c "received 'SIP/2.0 503 " "$TMP/flood.err")
nra=$(grep -c '^Retry-After: ' "$TMP/flood.err")
[ "$n486" -gt 0 ] && [ "$n503" -gt 0 ] && [ "$nra" -ge "$n503" ]
ok_if "flood: refused with 486 ($n486, past --max-calls) and 503 with Retry-After ($n503, past --max-txns)" \
	$? "$TMP/flood-sipp.log"
grown=$(((peak - rss0) / 1024))
[ "$grown" -lt 64 ]
ok_if "flood: the answerer's memory stayed bounded (RSS $((rss0 / 1024)) MB, peak +$grown MB)" $?
kill -0 "$APID" 2>/dev/null
ok_if "flood: the answerer is still running" $?
# Recovery: the refused INVITEs' transactions end (32 s at most, 64*T1), then calls are taken.
for ((i = 0; i < 60; i++)); do
	calls probe "$P" 1 0
	[ "$(stat probe)" = "1 0" ] && break
	sleep 1
done
calls after "$P" 20 200
[ "$(stat after)" = "20 0" ]
ok_if "flood: after it, 20 calls are answered ($(stat after))" $? "$TMP/after.log"
kill -INT "$APID"
[ "$(rc_of flood)" = 0 ]
ok_if "flood: exit 0 on SIGINT" $? "$TMP/flood.out"
grep -qE '^--- answer: .*503: [1-9][0-9]* at the transaction cap' "$TMP/flood.out"
ok_if "flood: the summary counts the 503s at the transaction cap" $? "$TMP/flood.out"

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP/." "$KEEP/"
finish
