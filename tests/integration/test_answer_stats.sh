#!/usr/bin/env bash
# The summary of sipcx answer (and echo) measures what sipcx load does, from the answering side
# (loopback): sipcx load and SIPp (uac_call.xml, RTP from a WAV) call `sipcx answer --echo`;
# the JSON summary line counts every call, its setup-time percentiles are ordered and its RTP
# totals are the sum of the calls' own lines, loss is near 0 and MOS above 4; the text summary
# shows the same with the ring time in the setup time; calls rejected by --code are counted by
# status, INVITEs refused 486 at --max-calls as such, matching what the caller saw.
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need sipp python3 timeout ss
need_sipcx

# js FILE EXPR: EXPR (Python) over the last JSON summary line of FILE (s) and its "call" lines
# (calls); "no summary" when there is none.
js() {
	python3 - "$1" "$2" <<'PY'
import json, sys
s, calls = None, []
for l in open(sys.argv[1]):
    if l.startswith("{"):
        o = json.loads(l)
        if o.get("event") == "summary":
            s = o
        elif o.get("event") == "call":
            calls.append(o)
print(eval(sys.argv[2], {"s": s, "calls": calls}) if s else "no summary")
PY
}
# is NAME FILE EXPR: a check that EXPR (js) is True.
is() {
	[ "$(js "$2" "$3")" = True ]
	ok_if "$1" $? "$2"
}
# answer NAME ARGS...: sipcx answer ARGS in the background (stdout $TMP/NAME.out, stderr
# $TMP/NAME.err), its PID in APID; returns once it listens.
answer() {
	local name=$1
	shift
	"$SIPCX" answer "${AR[@]}" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	APID=$!
	PIDS+=("$APID")
	wait_for "$TMP/$name.out" 'listening' 10
	ok_if "$name: sipcx answer listens" $? "$TMP/$name.out" "$TMP/$name.err"
}
# ended PID: it exits by itself (--count) within 20 s; else SIGINT (interrupt). Its exit code.
ended() {
	local i
	for ((i = 0; i < 400; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	interrupt "$1"
}
# load NAME ARGS...: sipcx load --json ARGS (bounded), output in $TMP/NAME.json, exit code in RC.
load() {
	local name=$1
	shift
	timeout 60 "$SIPCX" load --json -q "${LR[@]}" "$@" >"$TMP/$name.json" 2>"$TMP/$name.err"
	RC=$?
}
# ordered NAME FILE KEY: the {p50,p90,p99,max} of KEY in the summary exist and are in order.
ordered() {
	is "$1: $3 percentiles exist and p50 <= p90 <= p99 <= max" "$2" \
		"0 <= s['$3']['p50'] <= s['$3']['p90'] <= s['$3']['p99'] <= s['$3']['max']"
}

# RTP ports of their own for the answerers (R) and the callers (L), 50 calls each: the default
# range is the whole machine's.
ports R 100
ports L 100
AR=(--rtp-ports "$R-$((R + 99))")
LR=(--rtp-ports "$L-$((L + 99))")

# --- 1. sipcx load, 40 calls with RTP echoed, JSON, two loops on both sides. ------------------
N=40
ports A 1
answer json --listen "udp:127.0.0.1:$A" --echo --json --threads 2 --count $N --max-calls 100
load l1 "sip:echo@127.0.0.1:$A" --rate 50 --calls $N --concurrent $N --duration 1 \
	--echo-check --threads 2
ok_if "json: sipcx load's $N calls all passed the echo check" "$RC" "$TMP/l1.json" "$TMP/l1.err"
ended "$APID"
ok_if "json: sipcx answer exits 0 after --count $N" $? "$TMP/json.err"
F=$TMP/json.out
tail -1 "$F" | grep -q '^{"event":"summary",'
ok_if "json: the summary is the last line" $? "$F"
is "json: calls, answered = $N, none unanswered, failed or refused" "$F" \
	"(s['calls'], s['answered'], s['unanswered'], s['failed'], s['refused_busy'], \
	s['refused_txns'], s['refused_fds'], s['unanswered_by_status']) == ($N, $N, 0, 0, 0, 0, 0, {})"
is "json: as many call lines, each answered" "$F" \
	"len(calls) == $N and all(c['answered'] for c in calls)"
ordered json "$F" setup_ms
ordered json "$F" loss_pct
ordered json "$F" jitter_ms
is "json: setup time positive, under 1 s on loopback (no ring time)" "$F" \
	"0 < s['setup_ms']['p50'] and s['setup_ms']['max'] < 1000"
is "json: the RTP totals are the sum of the calls' (tx, rx > 0)" "$F" \
	"(s['rtp']['tx'], s['rtp']['rx']) == (sum(c['rtp']['tx'] for c in calls), \
	sum(c['rtp']['rx'] for c in calls)) and s['rtp']['rx'] > 0 and s['rtp']['tx'] > 0"
is "json: loss near 0 (max < 2 %)" "$F" "s['loss_pct']['max'] < 2"
is "json: MOS min .. p50 within (4, 4.5] and ordered" "$F" \
	"4 < s['mos']['min'] <= s['mos']['p1'] <= s['mos']['p10'] <= s['mos']['p50'] <= 4.5"
is "json: MOS min and max are the calls' own" "$F" \
	"abs(s['mos']['min'] - min(c['mos'] for c in calls)) < 0.006 and \
	abs(s['jitter_ms']['max'] - max(c['rtp']['jitter_ms'] for c in calls)) < 0.0006"
is "json: the caller measured the same loss (max < 2 %) and MOS (> 4)" "$TMP/l1.json" \
	"s['answered'] == $N and s['loss_pct']['max'] < 2 and s['mos']['min'] > 4"

# --- 2. Text: ring time in the setup time; --max-calls 4 refuses the rest with 486. ----------
ports B 1
answer text --listen "udp:127.0.0.1:$B" --echo -q --ringtime 300ms --max-calls 4 --count 4
load l2 "sip:echo@127.0.0.1:$B" --rate 100 --calls 12 --concurrent 12 --duration 1
ans=$(js "$TMP/l2.json" "s['answered']")
busy=$(js "$TMP/l2.json" "s['failed_by_status'].get('486', 0)")
[ "$ans" = 4 ] && [ "$busy" = 8 ]
ok_if "text: of 12 calls at once 4 answered, 8 got 486 (caller: $ans, $busy)" $? "$TMP/l2.json"
ended "$APID"
ok_if "text: sipcx answer exits 0 after --count 4" $? "$TMP/text.err"
T=$TMP/text.out
grep -qE '^--- answer: 4 calls taken, 4 answered, 0 not answered, 0 failed; 503: 0 at the transaction cap, 0 out of descriptors; 486: 8 at --max-calls$' "$T"
ok_if "text: counts 4 calls answered and 8 INVITEs refused 486 at --max-calls" $? "$T"
# the numbers of a text line NAME: p50 p90 p99 max (or p50 p10 p1 min)
nums() {
	awk -v n="$1" 'index($0, n) == 1 {for (i = 1; i <= NF; i++) if ($i ~ /^p[0-9]+$|^max$|^min$/)
		printf "%s ", $(i + 1); exit}' "$T"
}
read -r s50 s90 s99 smax <<<"$(nums 'setup time ')"
python3 -c "import sys; a=[float(x) for x in sys.argv[1:]]; sys.exit(not(len(a)==4 and 300 <= a[0] <= a[1] <= a[2] <= a[3] < 1300))" \
	"$s50" "$s90" "$s99" "$smax"
ok_if "text: setup time holds the 300 ms ring time, ordered ($s50 $s90 $s99 $smax ms)" $? "$T"
grep -q '(INVITE received to 2xx sent, ring time included)$' "$T"
ok_if "text: the setup line says what it measures" $? "$T"
read -r m50 m10 m1 mmin <<<"$(nums 'MOS ')"
python3 -c "import sys; a=[float(x) for x in sys.argv[1:]]; sys.exit(not(len(a)==4 and 4 < a[3] <= a[2] <= a[1] <= a[0] <= 4.5))" \
	"$m50" "$m10" "$m1" "$mmin"
ok_if "text: MOS above 4 ($m50 $m10 $m1 $mmin)" $? "$T"
read -r _ _ _ lmax <<<"$(nums 'loss ')"
python3 -c "import sys; sys.exit(not(0 <= float(sys.argv[1]) < 2))" "${lmax:-x}"
ok_if "text: loss near 0 (max $lmax %)" $? "$T"
grep -qE '^rtp +sent [1-9][0-9]*  received [1-9][0-9]* packets$' "$T" && grep -q '^jitter ' "$T"
ok_if "text: RTP and jitter lines" $? "$T"

# --- 3. Every call rejected with --code 603: counted by status, no measures. -----------------
ports C 1
answer rej --listen "udp:127.0.0.1:$C" --code 603 --json
load l3 "sip:echo@127.0.0.1:$C" --rate 100 --calls 5 --duration 1
is "reject: the caller got 603 five times" "$TMP/l3.json" "s['failed_by_status'] == {'603': 5}"
interrupt "$APID" # no --count
ok_if "reject: exit 0 on SIGINT" $? "$TMP/rej.err"
is "reject: 5 calls, 0 answered, 5 unanswered, by status {603: 5}" "$TMP/rej.out" \
	"(s['calls'], s['answered'], s['unanswered'], s['unanswered_by_status']) == (5, 0, 5, {'603': 5})"
is "reject: no setup, loss, jitter or MOS without an answered call" "$TMP/rej.out" \
	"not any(k in s for k in ('setup_ms', 'loss_pct', 'jitter_ms', 'mos'))"

# --- 4. SIPp calls sipcx echo: 3 calls at once, RTP from a WAV. -------------------------------
ports E 1
ports S 24
"$SIPCX" echo --listen "udp:127.0.0.1:$E" "${AR[@]}" --json --count 3 >"$TMP/sipp.out" 2>"$TMP/sipp.err" &
APID=$!
PIDS+=("$APID")
wait_for "$TMP/sipp.out" 'listening' 10
ok_if "sipp: sipcx echo listens" $? "$TMP/sipp.err"
sipp_fg uac -sf uac_call.xml "127.0.0.1:$E" -i 127.0.0.1 -mi 127.0.0.1 -p "$S" -mp $((S + 2)) \
	-s echo -key caller alice -d 2000 -m 3 -l 3 -r 10 -timeout 30s -timeout_error
ok_if "sipp: SIPp's 3 calls complete (INVITE, 200, ACK, RTP, BYE)" $? "$TMP/uac.log"
ended "$APID"
ok_if "sipp: sipcx echo exits 0 after --count 3" $? "$TMP/sipp.err"
is "sipp: 3 calls, 3 answered" "$TMP/sipp.out" "(s['calls'], s['answered'], s['unanswered']) == (3, 3, 0)"
ordered sipp "$TMP/sipp.out" setup_ms
is "sipp: 2 s of SIPp's RTP received and echoed in each (rx >= 3 * 80)" "$TMP/sipp.out" \
	"s['rtp']['rx'] >= 240 and s['rtp']['tx'] >= 240"
is "sipp: loss near 0 (max < 2 %), MOS above 4" "$TMP/sipp.out" \
	"s['loss_pct']['max'] < 2 and s['mos']['min'] > 4"

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP/." "$KEEP/"
finish
