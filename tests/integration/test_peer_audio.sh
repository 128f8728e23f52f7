#!/usr/bin/env bash
# Audio that can be asserted, on loopback: a WAV file played by one side is heard by the other
# (--play-file, resampled from 16 kHz; --expect-tone; --rec-file keeps what arrived, checked
# with python's wave module and its zero crossings); a tone sent through `sipcx echo` comes
# back (audio both ways), and a tone never sent is not heard (exit 1); SIPp's own 400 Hz
# stream (rtp_stream) is heard by `sipcx answer --expect-tone 400` and recorded; bad files and
# options are one line and exit 2. Early media: `answer --early-media` rings with 183 and its
# SDP, the caller hears the tone before the 200 (and SIPp gets the 183 with the answer).
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need sipp timeout python3
need_sipcx

# a 1 kHz tone, 1 s, at 16 kHz (the player resamples it to 8 kHz)
python3 - "$TMP/t1k.wav" <<'EOF'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 1000 * i / 16000)))
                       for i in range(16000)))
w.close()
EOF

# answer_bg NAME PORT ARGS...: sipcx answer on udp:127.0.0.1:PORT; exit status in NAME.rc.
answer_bg() {
	local name=$1 port=$2
	shift 2
	("$SIPCX" answer --listen "udp:127.0.0.1:$port" "$@" >"$TMP/$name.out" 2>&1
	echo $? >"$TMP/$name.rc") &
	PIDS+=($!)
	wait_for "$TMP/$name.out" '^listening on ' 10
}

# --- A file played by the answerer, heard and recorded by the caller. -------------------------
ports A 1
answer_bg play "$A" --count 1 --play-file "$TMP/t1k.wav" --loop || exit 1
check "dial --expect-tone 1000 against --play-file (16 kHz, looped)" 0 "$SIPCX" dial \
	"sip:x@127.0.0.1:$A" --duration 2 --expect-tone 1000 --rec-file "$TMP/rec.wav"
expect "the tone was heard most of the call" 'tone 1000 Hz heard: longest 1\.[5-9][0-9] s|tone 1000 Hz heard: longest 2\.'
wav_check "$TMP/rec.wav" 1000 1.8 >"$TMP/rec.check" 2>&1
ok_if "--rec-file: 8 kHz mono, 2 s of a 1 kHz tone" $? "$TMP/rec.check"

# --- Through sipcx echo: both ways; a tone never sent is not heard. ----------------------------
ports A 1
answer_bg echo "$A" --echo --count 2 || exit 1
check "tone 1000 through the echo: heard" 0 "$SIPCX" dial "sip:x@127.0.0.1:$A" --duration 1.2 \
	--tone 1000 --expect-tone 1000
check "tone 440 through the echo, 1000 expected: exit 1" 1 "$SIPCX" dial "sip:x@127.0.0.1:$A" \
	--duration 1.2 --tone 440 --expect-tone 1000
expect "says it was not heard" 'tone 1000 Hz NOT heard'

# --- SIPp's stream (a 400 Hz u-law file through rtp_stream) heard by sipcx answer. ------------
ports A 1
ports S 4
answer_bg sipp "$A" --count 1 --expect-tone 400 --rec-file "$TMP/sipp.wav" || exit 1
sipp_fg uac -sf uac_call.xml "127.0.0.1:$A" -i 127.0.0.1 -mi 127.0.0.1 -p "$S" -mp $((S + 2)) \
	-s bob -key caller alice -d 2000 -m 1 -timeout 20s -timeout_error
ok_if "sipp uac with rtp_stream: the call completes" $? "$TMP/uac.log"
wait_for "$TMP/sipp.rc" '^[0-9]+$' 15
[ "$(cat "$TMP/sipp.rc")" = 0 ] && grep -q 'tone 400 Hz heard' "$TMP/sipp.out"
ok_if "answer --expect-tone 400: SIPp's tone heard, exit 0" $? "$TMP/sipp.out"
wav_check "$TMP/sipp.wav" 400 1.5 >"$TMP/sipp.check" 2>&1
ok_if "answer --rec-file: SIPp's 400 Hz in the file" $? "$TMP/sipp.check"

# --- Early media: the answerer's tone during the ring time, with 183 and its SDP. -------------
ports A 1
answer_bg early "$A" --count 1 --ringtime 1.5 --early-media --tone 1000 || exit 1
timeout 30 "$SIPCX" dial "sip:x@127.0.0.1:$A" --duration 0.3 --expect-tone 1000 --json \
	>"$TMP/early.json" 2>&1
ok_if "early media: dial --expect-tone 1000 exits 0" $? "$TMP/early.json"
python3 - "$TMP/early.json" >"$TMP/early.check" 2>&1 <<'EOF2'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ring = [e for e in ev if e["event"] == "ringing"]
assert ring and ring[0]["status"] == 183, ring
call = [e for e in ev if e["event"] == "call"][0]
# 0.3 s after the answer, but the tone was heard for more than a second: before the 200
assert call["tone"]["longest_ms"] >= 1200, call["tone"]
print("ok", call["tone"])
EOF2
ok_if "early media: 183 came, the tone was heard for over a second before the 200" $? \
	"$TMP/early.check" "$TMP/early.json"
ports A 1
ports S 8
answer_bg early2 "$A" --count 1 --ringtime 0.5 --early-media --echo || exit 1
sipp_fg early-uac -sf uac_call.xml "127.0.0.1:$A" -i 127.0.0.1 -mi 127.0.0.1 -p "$S" \
	-mp $((S + 2)) -s bob -key caller alice -d 500 -m 1 -timeout 20s -timeout_error -trace_msg \
	-message_file "$TMP/early-uac.msg"
ok_if "early media: a SIPp call through the 183 completes" $? "$TMP/early-uac.log"
python3 - "$TMP/early-uac.msg" >"$TMP/early-uac.check" 2>&1 <<'EOF2'
import re, sys
msgs = re.split(r"-{10,}", open(sys.argv[1], errors="replace").read())
p183 = [m for m in msgs if re.search(r"^SIP/2.0 183 ", m, re.M)]
assert p183, "no 183"
assert re.search(r"^Content-Type: *application/sdp", p183[0], re.M | re.I), p183[0]
assert re.search(r"^m=audio [0-9]+ RTP/AVP 0", p183[0], re.M), p183[0]
print("ok")
EOF2
ok_if "early media: SIPp got the 183 with the SDP answer" $? "$TMP/early-uac.check"

# --- Bad files and options. --------------------------------------------------------------------
printf 'not a wav file at all' >"$TMP/bad.wav"
check "--play-file that is not a WAV: exit 2" 2 "$SIPCX" dial sip:x@127.0.0.1:9 --play-file \
	"$TMP/bad.wav"
expect "says so" 'cannot play --play-file .*: not a WAV file'
check "--play-file missing: exit 2" 2 "$SIPCX" answer --play-file "$TMP/none.wav"
check "--rec-file in a missing directory: exit 2" 2 "$SIPCX" dial sip:x@127.0.0.1:9 --rec-file \
	/nonexistent/r.wav
check "--loop alone: exit 2" 2 "$SIPCX" dial sip:x@127.0.0.1:9 --loop
check "--play-file with --echo: exit 2" 2 "$SIPCX" answer --echo --play-file "$TMP/t1k.wav"
check "--expect-tone 20000: exit 2" 2 "$SIPCX" dial sip:x@127.0.0.1:9 --expect-tone 20000

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
finish
