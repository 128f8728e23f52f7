#!/usr/bin/env bash
# The echo both ways, sipcx against itself on loopback: `sipcx echo` (the echo UAS: answers
# every call and sends its RTP back) checked by `sipcx dial --echo-check` (the echo UAC: G.711
# every 20 ms, each packet must come back unchanged): UDP, TCP, IPv6, PCMA, three calls at
# once; and the checker fails (exit 1) when nothing comes back (`sipcx answer` without --echo)
# or something else comes back (`sipcx answer --tone`). `sipcx echo` exits 0 on SIGINT.
# KEEP=DIR keeps the outputs and SIP traces in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need ss timeout
need_sipcx


has() { # has FILE REGEX: the exit status of grep -E
	grep -qE -- "$2" "$1"
}
no_sanitizer() { # no_sanitizer NAME FILE
	CHECKS=$((CHECKS + 1))
	if has "$2" 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer'; then
		echo "FAIL - $1: sanitizer report"
		grep -A20 -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$2" | sed 's/^/    /'
		FAILS=$((FAILS + 1))
	else
		echo "ok - $1: no sanitizer report"
	fi
}
# clean NAME: no sanitizer report in the last check's output.
clean() {
	printf '%s\n' "$OUT" >"$TMP/$1.dial"
	no_sanitizer "$1" "$TMP/$1.dial"
}
# uas NAME LISTEN CMD ARGS...: `sipcx CMD --listen LISTEN ARGS` in the background, output in
# $TMP/NAME.out; PID in UAS. Returns once it has printed where it listens.
uas() {
	local name=$1 listen=$2 cmd=$3
	shift 3
	"$SIPCX" "$cmd" --listen "$listen" "$@" >"$TMP/$name.out" 2>&1 &
	UAS=$!
	PIDS+=("$UAS")
	wait_for "$TMP/$name.out" '^listening on ' 10
}

# --- sipcx echo, called over UDP, TCP and IPv6, with PCMU and PCMA, and three calls at once. ---
ports P 1; ports T 1
listen="udp:127.0.0.1:$P tcp:127.0.0.1:$T"
have_ipv6 && ports V 1 && listen="$listen udp:[::1]:$V"
uas echo "$listen" echo || {
	cat "$TMP/echo.out"
	exit 1
}
check "udp: dial --echo-check exits 0" 0 "$SIPCX" dial --echo-check --duration 1 \
	"sip:echo@127.0.0.1:$P"
expect "udp: every packet came back unchanged" 'call 1: echo ok: [0-9]+ sent, [0-9]+ back \(0.00% lost\), 0 changed'
expect "udp: PCMU" 'answered 200 OK, PCMU/8000 pt 0'
clean "udp dial"
check "tcp: dial --echo-check exits 0" 0 "$SIPCX" dial --echo-check --duration 1 \
	"sip:echo@127.0.0.1:$T;transport=tcp"
expect "tcp: every packet came back unchanged" 'call 1: echo ok: .* \(0.00% lost\), 0 changed'
clean "tcp dial"
if have_ipv6; then
	check "ipv6: dial --echo-check exits 0" 0 "$SIPCX" dial --echo-check --duration 1 \
		"sip:echo@[::1]:$V"
	expect "ipv6: every packet came back unchanged" 'call 1: echo ok: .* \(0.00% lost\), 0 changed'
	expect "ipv6: media on ::1" 'media to \[?::1\]?:'
	clean "ipv6 dial"
else
	echo "# no ::1 on this host: the IPv6 call is not run"
fi
check "pcma: dial --codec pcma --echo-check exits 0" 0 "$SIPCX" dial --codec pcma --echo-check \
	--duration 1 "sip:echo@127.0.0.1:$P"
expect "pcma: negotiated PCMA" 'answered 200 OK, PCMA/8000 pt 8'
expect "pcma: every packet came back unchanged" 'call 1: echo ok: .* \(0.00% lost\), 0 changed'
clean "pcma dial"
check "three calls at once: exit 0" 0 "$SIPCX" dial --echo-check --count 3 --rate 20 \
	--duration 1 "sip:echo@127.0.0.1:$P"
expect "three calls: all answered" ': 3 calls, 3 answered, 0 failed$'
clean "three calls dial"
n=$(grep -c 'echo ok: ' <<<"$OUT")
CHECKS=$((CHECKS + 1))
if [ "$n" = 3 ]; then echo "ok - three calls: three echoes ok"; else
	echo "FAIL - three calls: $n echoes ok"
	FAILS=$((FAILS + 1))
fi
n=$(grep -c 'ended .* by remote after' "$TMP/echo.out")
CHECKS=$((CHECKS + 1))
if [ "$n" -ge 6 ]; then echo "ok - sipcx echo saw every call hung up by the caller ($n)"; else
	echo "FAIL - sipcx echo printed $n calls ended by remote"
	sed 's/^/    /' "$TMP/echo.out" | tail -30
	FAILS=$((FAILS + 1))
fi
interrupt "$UAS"
rc=$?
CHECKS=$((CHECKS + 1))
if [ "$rc" = 0 ]; then echo "ok - sipcx echo exits 0 on SIGINT"; else
	echo "FAIL - sipcx echo exit $rc on SIGINT"
	FAILS=$((FAILS + 1))
fi
no_sanitizer "sipcx echo" "$TMP/echo.out"

# --- The checker fails when the echo does not come back. --------------------------------------
ports P 1
uas silent "udp:127.0.0.1:$P" answer || exit 1
check "no echo: dial --echo-check exits 1" 1 "$SIPCX" dial --echo-check --duration 1 \
	"sip:echo@127.0.0.1:$P"
expect "no echo: echo FAILED, nothing back" 'call 1: echo FAILED: [0-9]+ sent, 0 back'
clean "no echo dial"
interrupt "$UAS" >/dev/null
ports P 1
uas tone "udp:127.0.0.1:$P" answer --tone 440 || exit 1
check "a tone instead of the echo: dial --echo-check exits 1" 1 "$SIPCX" dial --echo-check \
	--duration 1 "sip:echo@127.0.0.1:$P"
expect "a tone instead of the echo: echo FAILED" 'call 1: echo FAILED: '
clean "tone dial"
interrupt "$UAS" >/dev/null
no_sanitizer "sipcx answer (silent)" "$TMP/silent.out"
no_sanitizer "sipcx answer --tone" "$TMP/tone.out"

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP/." "$KEEP/"
finish
