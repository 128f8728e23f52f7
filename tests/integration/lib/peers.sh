# Shared helpers for tests/integration/test_peer_*.sh: real peers on loopback, with cleanup.
# Source it; it sets a trap that stops every peer started through it.
# Env: SIPCX_BIN (build dir with the sipcx binary), SIPCX_SOURCE (source dir).

SIPCX_SOURCE=${SIPCX_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
SIPCX_BIN=${SIPCX_BIN:-$SIPCX_SOURCE/build}
SIPCX=$SIPCX_BIN/sipcx
PEERS=$SIPCX_SOURCE/tests/peers
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sipcx-peer.XXXXXX")
PIDS=()
KAM_DIRS=()
KAM_DIR=""
BS_RUNS=()
SIPP_PID=""
FAILS=0
CHECKS=0

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for d in "${KAM_DIRS[@]}"; do
		"$d/stop.sh" >/dev/null 2>&1
	done
	for d in "${BS_RUNS[@]}"; do
		"$PEERS/baresip/stop.sh" --run "$d" >/dev/null 2>&1
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# skip "why": exit 77, which ctest reports as skipped.
skip() {
	echo "SKIP: $*"
	exit 77
}

need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed (scripts/deps.sh test installs it)"
	done
}

need_sipcx() {
	[ -x "$SIPCX" ] || skip "no sipcx binary at $SIPCX (set SIPCX_BIN)"
}

have_ipv6() {
	[ -e /proc/net/if_inet6 ] && ip -6 addr show lo 2>/dev/null | grep -q '::1'
}

# free_port [COUNT]: the first of COUNT consecutive ports free for UDP and TCP on loopback,
# from a base derived from this shell's PID so parallel ctest runs look in different places.
# Each call hands out a new range (remembered in $TMP/.next_port, since callers run it in
# $(...)), so one test can ask for several peers' ports, RTP ports (-mp) included, before
# any of them binds: `P=$(free_port 12); M=$(free_port 4)`.
free_port() {
	local n=${1:-1} base=$((20000 + ($$ * 37) % 30000)) p i busy used
	[ -s "$TMP/.next_port" ] && base=$(cat "$TMP/.next_port")
	((base + n + 2000 > 65000)) && base=20000 # a long test wraps around
	used=$(ss -Hlntu 2>/dev/null | awk '{print $5}' | sed 's/.*://' | sort -u)
	# From base to 65000, then from 20000: a wide range (RTP ports) finds room anywhere.
	local tries=$(((45000 + n - 1) / n))
	for ((p = base; tries > 0; p += n, tries--)); do
		((p + n > 65000)) && p=20000
		busy=0
		for ((i = 0; i < n; i++)); do
			if grep -qx "$((p + i))" <<<"$used"; then
				busy=1
				break
			fi
		done
		if [ $busy = 0 ]; then
			echo "$((p + n))" >"$TMP/.next_port"
			echo "$p"
			return 0
		fi
	done
	return 1
}

# ports VAR N: VAR = the first of N free consecutive ports (free_port); the test stops if none.
ports() {
	local p
	p=$(free_port "$2") || {
		echo "FAIL - no $2 free port(s) on loopback"
		exit 1
	}
	printf -v "$1" %s "$p"
}

# wait_listen PROTO PORT: until something listens (at most 5 s).
wait_listen() {
	local flag=-Hlnu i
	[ "$1" = tcp ] && flag=-Hlnt
	for ((i = 0; i < 50; i++)); do
		ss $flag 2>/dev/null | awk '{print $4}' | grep -q ":$2\$" && return 0
		sleep 0.1
	done
	echo "nothing listens on $1 port $2" >&2
	return 1
}

# SIPp runs in $TMP (its -trace_* files land there), with media/ there linked to the scenarios'
# WAVs; sipp_args prints its arguments one per line, a relative -sf name made a path in
# tests/peers/sipp.
sipp_media() {
	[ -e "$TMP/media" ] || ln -s "$PEERS/sipp/media" "$TMP/media"
}
sipp_args() {
	local prev="" a
	for a in "$@"; do
		if [ "$prev" = -sf ] && [ "${a#/}" = "$a" ]; then
			a=$PEERS/sipp/$a
		fi
		printf '%s\n' "$a"
		prev=$a
	done
}

# sipp_bg NAME ARGS...: a SIPp in the background (bounded by timeout(1)), output in $TMP/NAME.log;
# its PID in SIPP_PID (`wait "$SIPP_PID"` gives SIPp's exit code).
sipp_bg() {
	local name=$1
	shift
	local args
	sipp_media
	mapfile -t args < <(sipp_args "$@")
	(cd "$TMP" && exec timeout 60 sipp "${args[@]}" -nostdin >"$TMP/$name.log" 2>&1) &
	SIPP_PID=$!
	PIDS+=($!)
}

# sipp_fg NAME ARGS...: a SIPp in the foreground (bounded by timeout(1)), output in $TMP/NAME.log;
# returns SIPp's exit code (0 all calls passed, 1 some failed, 255 fatal, 124 killed by timeout).
# Relative scenario names are taken from tests/peers/sipp.
sipp_fg() {
	local name=$1
	shift
	local args
	sipp_media
	mapfile -t args < <(sipp_args "$@")
	(cd "$TMP" && exec timeout 60 sipp "${args[@]}" -nostdin >"$TMP/$name.log" 2>&1)
}

# kamailio_start PORT [KNOB=VALUE...]: a copy of tests/peers/kamailio on 127.0.0.1 and [::1]
# (when present), in $TMP/kamailio-PORT. Knobs are start.sh's environment, e.g.
# KAM_MULTI_CONTACT=1 (parallel forking to every contact of a user), KAM_INVITE_AUTH=1 (407 on
# INVITE), KAM_MAX_EXPIRES=10 (tests/peers/kamailio/README.md lists them all).
kamailio_start() {
	local port=$1 d=$TMP/kamailio-$1 v6=0
	shift
	cp -r "$PEERS/kamailio" "$d"
	rm -rf "$d/run"
	KAM_DIRS+=("$d")
	KAM_DIR=$d
	have_ipv6 && v6=1
	env KAM_IPV6=$v6 KAM_CHILDREN=2 "$@" KAM_PORT="$port" timeout 30 "$d/start.sh" \
		>"$TMP/kam-start.log" 2>&1 ||
		{
			cat "$TMP/kam-start.log"
			return 1
		}
	wait_listen tcp "$port"
}

# answer_in_bg NAME ARGS...: `sipcx answer --trace ARGS` in the background (bounded by timeout(1)),
# stdout in $TMP/NAME.out, the trace in $TMP/NAME.trace, its exit status in $TMP/NAME.rc once it
# ends (rc_of NAME). Returns once it says where it listens (after its registration, when asked);
# 1 if it did not within 10 s.
answer_in_bg() {
	local name=$1
	shift
	(timeout 60 "$SIPCX" answer --trace "$@" >"$TMP/$name.out" 2>"$TMP/$name.trace"
	echo $? >"$TMP/$name.rc") &
	PIDS+=($!)
	wait_for "$TMP/$name.out" '^listening on ' 10
}
# rc_of NAME: the exit status of answer_in_bg NAME, waiting for it at most 15 s ("timeout" if
# it has not ended by then).
rc_of() {
	wait_for "$TMP/$1.rc" '^[0-9]+$' 15 && cat "$TMP/$1.rc" || echo timeout
}

# baresip_up NAME [ARGS...]: a baresip (tests/peers/baresip/start.sh ARGS) on free ports, its
# run directory $TMP/NAME; BP is its SIP port (its ctrl_tcp is BP+3). Stopped at exit.
baresip_up() {
	local name=$1
	shift
	ports BP 1220 # SIP, TLS, console, ctrl, RTP from +10 to +1209
	"$PEERS/baresip/start.sh" --port "$BP" --run "$TMP/$name" "$@" >"$TMP/$name.start" 2>&1 || {
		cat "$TMP/$name.start"
		return 1
	}
	BS_RUNS+=("$TMP/$name")
}

# tls_cert NAME SUBJECT_ALT_NAME [CA]: NAME.pem and NAME.key in $TMP, self-signed (a CA too), or
# signed by CA (CA.pem, CA.key in $TMP), for 2 days; SUBJECT_ALT_NAME e.g. "IP:127.0.0.1".
tls_cert() {
	local n=$1 san=$2 ca=${3:-}
	if [ -z "$ca" ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/$n.key" -out "$TMP/$n.pem" \
			-days 2 -subj "/CN=$n" -addext "subjectAltName=$san" 2>/dev/null
	else
		openssl req -newkey rsa:2048 -nodes -keyout "$TMP/$n.key" -out "$TMP/$n.csr" \
			-subj "/CN=$n" 2>/dev/null &&
			openssl x509 -req -in "$TMP/$n.csr" -CA "$TMP/$ca.pem" -CAkey "$TMP/$ca.key" \
				-CAcreateserial -days 2 -out "$TMP/$n.pem" \
				-extfile <(printf 'subjectAltName=%s\n' "$san") 2>/dev/null
	fi
}

# wav_check FILE HZ SECONDS: 8 kHz mono 16-bit, at least SECONDS long, its zero crossings
# those of a HZ tone (within 5 %) in its middle second; prints "ok FRAMES HZ_FOUND".
wav_check() {
	python3 - "$@" <<'EOF'
import struct, sys, wave
path, hz, secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
w = wave.open(path)
assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2), w.getparams()
n = w.getnframes()
assert n >= secs * 8000, n
x = struct.unpack("<%dh" % n, w.readframes(n))
# the middle second: no edges
mid = x[n // 2 - 4000:n // 2 + 4000]
zc = sum(1 for a, b in zip(mid, mid[1:]) if (a < 0) != (b < 0))
assert abs(zc / 2 - hz) < hz * 0.05, (zc / 2, hz)
print("ok", n, zc / 2)
EOF
}

# kam_ul [PORT]: the bindings (kamcmd ul.dump) of the kamailio started on PORT (default: the last).
kam_ul() {
	local d=${1:+$TMP/kamailio-$1}
	kamcmd -s "unix:${d:-$KAM_DIR}/run/kamailio_ctl" ul.dump 2>&1
}

# ok_if NAME STATUS [FILE...]: a check from an exit status; on failure the tail of each FILE.
ok_if() {
	CHECKS=$((CHECKS + 1))
	if [ "$2" = 0 ]; then
		echo "ok - $1"
	else
		echo "FAIL - $1"
		for f in "${@:3}"; do
			echo "  --- $(basename "$f")"
			tail -30 "$f" | sed 's/^/    /'
		done
		FAILS=$((FAILS + 1))
	fi
}

# has FILE REGEX: the exit status of grep -E.
has() {
	grep -qE -- "$2" "$1"
}
# sanitizer_clean NAME FILE: a check that FILE holds no ASan/UBSan/LSan report.
sanitizer_clean() {
	! has "$2" 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer'
	ok_if "$1: no sanitizer report" $? "$2"
}

# hdr_of METHOD HEADER FILE: that header of the first METHOD request in a sipcx --trace file
# (each message there sits between a "--- TIME SEND|RECV ..." line and "--- end").
hdr_of() {
	awk -v m="$1" -v h="^$2:" '/^--- / {on = 0} $1 == m && $2 ~ /^sip:/ {on = 1}
		on && $0 ~ h {print; exit}' "$3"
}


# check NAME EXPECTED_RC CMD...: run CMD (bounded), compare its exit code; output in $OUT.
check() {
	local name=$1 want=$2 rc
	shift 2
	CHECKS=$((CHECKS + 1))
	OUT=$(timeout 60 "$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ]; then
		echo "ok - $name (exit $rc)"
	else
		echo "FAIL - $name: exit $rc, want $want"
		echo "$OUT" | sed 's/^/    /' | head -40
		FAILS=$((FAILS + 1))
	fi
}

# expect NAME PATTERN: the last check's output has PATTERN (grep -E).
expect() {
	CHECKS=$((CHECKS + 1))
	if grep -qE -- "$2" <<<"$OUT"; then
		echo "ok - $1"
	else
		echo "FAIL - $1: no /$2/ in:"
		echo "$OUT" | sed 's/^/    /' | head -40
		FAILS=$((FAILS + 1))
	fi
}

finish() {
	echo "$((CHECKS - FAILS)) passed, $FAILS failed"
	[ "$FAILS" = 0 ]
}

# interrupt PID: SIGINT, then its exit status; bounded: SIGKILL and 124 after 15 s.
interrupt() {
	local i
	kill -INT "$1" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "process $1 still runs 15 s after SIGINT: killed"
		kill -KILL "$1"
		wait "$1"
		return 124
	fi
	wait "$1"
}
# wait_for FILE REGEX [SECONDS]: until FILE has a line matching REGEX (default 10 s).
wait_for() {
	local i
	for ((i = 0; i < ${3:-10} * 20; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# js FILE EXPR [EVENT]: EXPR (Python) over the last JSON line of FILE whose event is EVENT
# (default summary; e.g. call, the call line of dial or answer --json), as s.
js() {
	python3 - "$1" "$2" "${3:-summary}" <<'PY'
import json, sys
s = None
for l in open(sys.argv[1]):
    if l.startswith("{"):
        o = json.loads(l)
        if o.get("event") == sys.argv[3]:
            s = o
print(eval(sys.argv[2], {"s": s}) if s else "no " + sys.argv[3])
PY
}
# load NAME ARGS...: sipcx load ARGS --json (bounded), stdout in $TMP/NAME.json, its exit code in RC.
load() {
	local name=$1
	shift
	timeout 120 "$SIPCX" load --json "$@" >"$TMP/$name.json" 2>"$TMP/$name.err"
	RC=$?
}
