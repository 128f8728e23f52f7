#!/usr/bin/env bash
# sipcx load against real peers on loopback: sipcx answer --echo (echo check, JSON, CSV), SIPp
# UASs (486, ringing without answer), kamailio with digest on REGISTER and INVITE (--accounts,
# --register-only), SIGINT hanging the calls up, --merge, and usage errors.
. "$(dirname "$0")/lib/peers.sh"
need sipp kamailio kamcmd python3 timeout ss
need_sipcx

# answer_json NAME ARGS...: sipcx answer --json ARGS in the background, as answer_in_bg.
answer_json() {
	local name=$1
	shift
	(timeout 60 "$SIPCX" answer --json "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	echo $? >"$TMP/$name.rc") &
	PIDS+=($!)
	wait_for "$TMP/$name.out" '"event":"listening"' 10
}

ports A 1
answer_json echo --listen "udp:127.0.0.1:$A" --echo --max-calls 500 --count 200 ||
	{ ok_if "echo answerer up" 1 "$TMP/echo.out"; finish; exit; }

# 1. 200 calls with an echo check, JSON and CSV.
load l1 "sip:echo@127.0.0.1:$A" --rate 100 --calls 200 --concurrent 100 --duration 1 \
	--echo-check --csv "$TMP/l1.csv" --threads 2
ok_if "200 calls: exit 0" "$RC" "$TMP/l1.err"
ok_if "200 attempted, 200 answered, 0 failed" \
	"$([ "$(js "$TMP/l1.json" '(s["attempted"], s["answered"], s["failed"])')" = "(200, 200, 0)" ]; echo $?)" "$TMP/l1.json"
ok_if "the tone came back in every call (RTP both ways)" \
	"$([ "$(js "$TMP/l1.json" 's["rtp"]["rx"] > 0 and s["loss_pct"]["max"] < 5 and s["mos"]["min"] > 4')" = True ]; echo $?)" "$TMP/l1.json"
ok_if "setup-time percentiles in order" \
	"$([ "$(js "$TMP/l1.json" '0 < s["setup_ms"]["p50"] <= s["setup_ms"]["p90"] <= s["setup_ms"]["p99"] <= s["setup_ms"]["max"]')" = True ]; echo $?)" "$TMP/l1.json"
ok_if "progress objects before the summary" \
	"$(grep -q '"event":"progress"' "$TMP/l1.json"; echo $?)" "$TMP/l1.json"
ok_if "CSV: a header and 200 calls, each ok with its Call-ID" \
	"$([ "$(grep -c ',200,ok,' "$TMP/l1.csv")" = 200 ] && [ "$(wc -l <"$TMP/l1.csv")" = 201 ]; echo $?)" "$TMP/l1.csv"
ok_if "CSV: attempts 1 to 200, each once (two pacers, one a loop)" \
	"$([ "$(sed 1d "$TMP/l1.csv" | cut -d, -f1 | sort -n | uniq | tr '\n' ' ')" = "$(seq -s ' ' 1 200) " ]; echo $?)" "$TMP/l1.csv"
ok_if "--concurrent 100 held across the pacers (active at most 100 each second)" \
	"$(grep '"event":"progress"' "$TMP/l1.json" | grep -o '"active":[0-9]*' | cut -d: -f2 | awk '$1 > 100 {bad = 1} END {exit bad}'; echo $?)" "$TMP/l1.json"
ok_if "the answerer took 200 calls, each ended by our BYE" \
	"$([ "$(rc_of echo)" = 0 ] && [ "$(grep -c '"event":"hangup".*"side":"remote"' "$TMP/echo.out")" = 200 ]; echo $?)" "$TMP/echo.out"

# 2. The echo check fails against a peer that does not echo (it sends its own tone).
ports B 1
answer_in_bg tone --listen "udp:127.0.0.1:$B" --tone 440 --max-calls 50 --count 10 -q ||
	ok_if "tone answerer up" 1 "$TMP/tone.out"
load l2 "sip:tone@127.0.0.1:$B" --rate 50 --calls 10 --duration 1 --echo-check
ok_if "no echo: exit 1" "$([ "$RC" = 1 ]; echo $?)" "$TMP/l2.err"
ok_if "no echo: 10 answered, 10 failed by media" \
	"$([ "$(js "$TMP/l2.json" '(s["answered"], s["failed"], s["failed_by_cause"].get("media"))')" = "(10, 10, 10)" ]; echo $?)" "$TMP/l2.json"

# 3. A SIPp UAS that is busy: failures by status, and --max-failed.
ports U 1
sipp_bg busy -sf uas_busy.xml -i 127.0.0.1 -p "$U" -m 20 -timeout 30s
wait_listen udp "$U"
load l3 "sip:busy@127.0.0.1:$U" --rate 100 --calls 10 --duration 1
ok_if "486 from SIPp: exit 1" "$([ "$RC" = 1 ]; echo $?)" "$TMP/l3.err"
ok_if "10 failed with 486" \
	"$([ "$(js "$TMP/l3.json" '(s["answered"], s["failed"], s["failed_by_status"].get("486"))')" = "(0, 10, 10)" ]; echo $?)" "$TMP/l3.json"
load l3b "sip:busy@127.0.0.1:$U" --rate 100 --calls 10 --duration 1 --max-failed 100
ok_if "--max-failed 100: exit 0" "$RC" "$TMP/l3b.err"
wait "$SIPP_PID"
ok_if "SIPp UAS: its 20 calls passed" "$?" "$TMP/busy.log"

# 4. Ringing without an answer: --ring-timeout cancels (CANCEL, 487), counted as timeouts.
ports R 1
sipp_bg ring -sf uas_ring_noanswer.xml -i 127.0.0.1 -p "$R" -m 3 -timeout 30s
wait_listen udp "$R"
load l4 "sip:ring@127.0.0.1:$R" --rate 10 --calls 3 --ring-timeout 500ms
ok_if "no answer: 3 failed by timeout" \
	"$([ "$RC" = 1 ] && [ "$(js "$TMP/l4.json" '(s["failed"], s["failed_by_cause"].get("timeout"))')" = "(3, 3)" ]; echo $?)" "$TMP/l4.json"
wait "$SIPP_PID"
ok_if "SIPp UAS: 3 calls cancelled as its scenario expects" "$?" "$TMP/ring.log"

# 5. SIGINT: the calls up are hung up (BYE), the summary printed, exit 130.
ports C 1
answer_json long --listen "udp:127.0.0.1:$C" --echo --max-calls 100 ||
	ok_if "answerer up" 1 "$TMP/long.out"
timeout 60 "$SIPCX" load "sip:long@127.0.0.1:$C" --rate 50 --calls 1000 --duration 60 --json \
	>"$TMP/l5.json" 2>"$TMP/l5.err" &
LP=$!
PIDS+=("$LP")
wait_for "$TMP/long.out" '"event":"established"' 10
i=0
while [ "$(grep -c '"event":"established"' "$TMP/long.out")" -lt 10 ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
interrupt "$LP"
ok_if "SIGINT: exit 130" "$([ "$?" = 130 ]; echo $?)" "$TMP/l5.err"
up=$(grep -c '"event":"established"' "$TMP/long.out")
ok_if "SIGINT: every call up was answered and none failed" \
	"$([ "$(js "$TMP/l5.json" '(s["answered"] >= 10, s["failed"])')" = "(True, 0)" ]; echo $?)" "$TMP/l5.json"
i=0
while [ "$(grep -c '"event":"hangup".*"side":"remote"' "$TMP/long.out")" -lt "$up" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
ok_if "SIGINT: the answerer got a BYE for each of its $up calls" \
	"$([ "$(grep -c '"event":"hangup".*"side":"remote"' "$TMP/long.out")" = "$up" ]; echo $?)" "$TMP/long.out"

# 6. kamailio: a registration storm of 60 accounts (digest, refresh, Expires: 0), then calls
# through it to a registered answerer, each INVITE challenged (407).
for i in $(seq 1 60); do echo "load$i pw$i"; done >"$TMP/users.txt"
{
	echo SEQUENTIAL
	for i in $(seq 1 60); do echo "load$i;pw$i"; done
} >"$TMP/accounts.csv"
ports K 1
kamailio_start "$K" KAM_EXTRA_USERS="$TMP/users.txt" KAM_INVITE_AUTH=1 || exit 1
timeout 60 "$SIPCX" load "sip:127.0.0.1:$K" --register-only --accounts "$TMP/accounts.csv" \
	--rate 100 --expiry 5 --duration 3 --json >"$TMP/l6.json" 2>"$TMP/l6.err" &
LP=$!
PIDS+=("$LP")
i=0
while [ "$(kam_ul | grep -c 'AoR: load')" -lt 60 ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
ok_if "register storm: kamailio holds the 60 bindings" \
	"$([ "$(kam_ul | grep -c 'AoR: load')" = 60 ]; echo $?)"
wait "$LP"
ok_if "register storm: exit 0" "$?" "$TMP/l6.err"
ok_if "register storm: 60 registered, each refreshed and unregistered" \
	"$([ "$(js "$TMP/l6.json" '(s["answered"], s["failed"], s["refreshes"] >= 60, s["unregistered"])')" = "(60, 0, True, 60)" ]; echo $?)" "$TMP/l6.json"
ok_if "register storm: no binding left in kamailio" "$(kam_ul | grep -q 'AoR: load'; [ $? = 1 ]; echo $?)"
load l6b "sip:127.0.0.1:$K" --register-only --username load1 --password wrong --calls 5 --rate 50
ok_if "wrong password: 5 failed by auth (401)" \
	"$([ "$RC" = 1 ] && [ "$(js "$TMP/l6b.json" '(s["failed_by_cause"].get("auth"), s["failed_by_status"].get("401"))')" = "(5, 5)" ]; echo $?)" "$TMP/l6b.json"
ports N 1
answer_in_bg alice --listen "udp:127.0.0.1:$N" --register "sip:127.0.0.1:$K" --username alice \
	--password alicepw --echo --max-calls 100 --count 60 -q || ok_if "alice registered" 1 "$TMP/alice.out"
load l7 "sip:alice@127.0.0.1:$K" --accounts "$TMP/accounts.csv" --rate 60 --calls 60 --duration 1 --echo-check
ok_if "through kamailio, 407 answered per account: 60 calls, 0 failed" \
	"$([ "$RC" = 0 ] && [ "$(js "$TMP/l7.json" '(s["answered"], s["failed"])')" = "(60, 0)" ]; echo $?)" "$TMP/l7.json"
ok_if "alice's answerer took the 60 calls" "$([ "$(rc_of alice)" = 0 ]; echo $?)" "$TMP/alice.out"

# 6b. Over TLS (sips:): each loop opens one connection, verified against the test's CA; a
# load that does not trust that certificate fails every attempt as a transport failure.
if command -v openssl >/dev/null &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
		-addext "subjectAltName=IP:127.0.0.1" -keyout "$TMP/tls.key" -out "$TMP/tls.pem" >/dev/null 2>&1; then
	ports T 1
	answer_json tlsecho --listen "tls:127.0.0.1:$T" --tls-cert "$TMP/tls.pem" --tls-key "$TMP/tls.key" \
		--echo --max-calls 100 --count 20
	load l6u "sips:echo@127.0.0.1:$T" --rate 20 --calls 3 --duration 1
	ok_if "over TLS, the certificate not trusted: 3 failed by transport, the reason said once" \
		"$([ "$RC" = 1 ] && [ "$(js "$TMP/l6u.json" 's["failed_by_cause"].get("transport")')" = 3 ] &&
			[ "$(grep -c 'certificate verify failed' "$TMP/l6u.err")" = 1 ]; echo $?)" "$TMP/l6u.json" "$TMP/l6u.err"
	load l6t "sips:echo@127.0.0.1:$T" --tls-ca "$TMP/tls.pem" --rate 20 --calls 20 --duration 1 --echo-check
	ok_if "over TLS: 20 calls, the echo back in each, 0 failed" \
		"$([ "$RC" = 0 ] && [ "$(js "$TMP/l6t.json" '(s["answered"], s["failed"])')" = "(20, 0)" ]; echo $?)" \
		"$TMP/l6t.json" "$TMP/l6t.err"
else
	echo "skip - over TLS: openssl cannot make a test certificate"
fi

# 7. --no-media on both sides: 400 calls up at once in processes allowed 256 descriptors each
# (with an RTP socket pair per call not even 128 would fit); every SDP names one discard port
# per loop.
printf '#!/bin/sh\nulimit -n 256 && exec "%s" "$@"\n' "$SIPCX" >"$TMP/sipcx-256"
chmod +x "$TMP/sipcx-256"
ports N 1
SIPCX="$TMP/sipcx-256" answer_json nomedia --listen "udp:127.0.0.1:$N" --no-media --max-calls 500 --count 400 ||
	ok_if "--no-media answerer up" 1 "$TMP/nomedia.err"
SIPCX="$TMP/sipcx-256" load l7 "sip:x@127.0.0.1:$N" --no-media --rate 400 --calls 400 --concurrent 400 \
	--duration 3 --threads 2
ok_if "--no-media, 256 descriptors: 400 answered, 0 failed" \
	"$([ "$RC" = 0 ] && [ "$(js "$TMP/l7.json" '(s["answered"], s["failed"], s["rtp"]["rx"])')" = "(400, 0, 0)" ]; echo $?)" \
	"$TMP/l7.json" "$TMP/l7.err"
ok_if "--no-media: more than 300 calls up at once" \
	"$(grep '"event":"progress"' "$TMP/l7.json" | grep -o '"active":[0-9]*' | cut -d: -f2 | awk '$1 > 300 {up = 1} END {exit !up}'; echo $?)" "$TMP/l7.json"
ok_if "--no-media: the answerer took 400 calls, its SDP always one port, the offers one per loop" \
	"$([ "$(rc_of nomedia)" = 0 ] && [ "$(grep -c '"event":"answered"' "$TMP/nomedia.out")" = 400 ] &&
		[ "$(grep '"event":"answered"' "$TMP/nomedia.out" | grep -o '"local_port":[0-9]*' | sort -u | wc -l)" = 1 ] &&
		[ "$(grep '"event":"answered"' "$TMP/nomedia.out" | grep -o '"remote_media":"[^"]*"' | sort -u | wc -l)" -le 2 ]; echo $?)" \
	"$TMP/nomedia.out" "$TMP/nomedia.err"
check "--no-media with --echo" 2 "$SIPCX" answer --no-media --echo
expect "says so" 'no-media opens no RTP socket'

# 7b. --ptime 100: the offer asks a=ptime:100, the answer takes it, each call sends and gets a
# packet every 100 ms (about 20 in its 2 s, not 100), echoed and checked.
ports P 1
answer_json ptime --listen "udp:127.0.0.1:$P" --echo --max-calls 50 --count 20 ||
	ok_if "ptime answerer up" 1 "$TMP/ptime.err"
load l7b "sip:x@127.0.0.1:$P" --ptime 100 --rate 20 --calls 20 --duration 2 --echo-check --trace
ok_if "--ptime 100: 20 answered, 0 failed, the tone echoed" \
	"$([ "$RC" = 0 ] && [ "$(js "$TMP/l7b.json" '(s["answered"], s["failed"])')" = "(20, 0)" ]; echo $?)" \
	"$TMP/l7b.json" "$TMP/l7b.err"
ok_if "--ptime 100: 18 to 24 packets a call each way (20 ms packets would be 100)" \
	"$([ "$(js "$TMP/l7b.json" '18 * 20 <= s["rtp"]["tx"] <= 24 * 20 and 18 * 20 <= s["rtp"]["rx"] <= 24 * 20')" = True ]; echo $?)" \
	"$TMP/l7b.json"
ok_if "--ptime 100: 20 offers and 20 answers say a=ptime:100, none a=ptime:20" \
	"$([ "$(grep -c '^a=ptime:100' "$TMP/l7b.err")" = 40 ] && ! grep -q '^a=ptime:20' "$TMP/l7b.err"; echo $?)" \
	"$TMP/l7b.err"
check "--ptime 5" 2 "$SIPCX" load --ptime 5 sip:x@127.0.0.1
expect "says so" 'bad --ptime \(10 to 200 ms\)'

# 7c. sipcx answer --shared-echo: every call's SDP names the loop's one echo pair, which returns
# what a live call's peer sends (echo-checked by 100 calls) and nothing to anyone else.
ports S 1
answer_json shared --listen "udp:127.0.0.1:$S" --shared-echo --threads 1 --max-calls 200 ||
	ok_if "shared echo answerer up" 1 "$TMP/shared.err"
load l7c "sip:x@127.0.0.1:$S" --rate 100 --calls 100 --concurrent 100 --duration 1 --echo-check --threads 2
ok_if "--shared-echo: 100 answered, 0 failed, every tone came back" \
	"$([ "$RC" = 0 ] && [ "$(js "$TMP/l7c.json" '(s["answered"], s["failed"], s["loss_pct"]["max"] == 0)')" = "(100, 0, True)" ]; echo $?)" \
	"$TMP/l7c.json" "$TMP/l7c.err"
EP=$(grep '"event":"answered"' "$TMP/shared.out" | grep -o '"local_port":[0-9]*' | sort -u | cut -d: -f2)
ok_if "--shared-echo: the 100 answers name one port" \
	"$([ "$(grep -c '"event":"answered"' "$TMP/shared.out")" = 100 ] && [ "$(wc -w <<<"$EP")" = 1 ]; echo $?)" \
	"$TMP/shared.out"
ok_if "--shared-echo: no call line claims a MOS (no RTP statistics per call)" \
	"$([ "$(grep -c '"event":"call"' "$TMP/shared.out")" = 100 ] && ! grep '"event":"call"' "$TMP/shared.out" | grep -q '"mos"'; echo $?)" \
	"$TMP/shared.out"
# rtp_probe SRC: 0 when an RTP packet sent from SRC to the echo port comes back within 1 s
rtp_probe() {
	python3 - "$1" "$EP" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.settimeout(1)
pkt = bytes([0x80, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4]) + bytes(160)
s.sendto(pkt, ("127.0.0.1", int(sys.argv[2])))
try:
    data, _ = s.recvfrom(2048)
    sys.exit(0 if data == pkt else 2)
except socket.timeout:
    sys.exit(1)
PY
}
(timeout 20 "$SIPCX" dial "sip:x@127.0.0.1:$S" --duration 4 >"$TMP/sd.out" 2>&1) &
PIDS+=($!)
wait_for "$TMP/shared.out" '"call":101.*"event":"answered"|"event":"answered".*"call":101' 10
rtp_probe 127.0.0.1
ok_if "--shared-echo: a live call's peer address is echoed" $? "$TMP/shared.out" "$TMP/sd.out"
rtp_probe 127.0.0.2
ok_if "--shared-echo: another address is not (no reflection for strangers)" \
	"$([ $? = 1 ]; echo $?)" "$TMP/shared.out"
wait_for "$TMP/shared.out" '"event":"hangup".*"call":101|"call":101.*"event":"hangup"' 15
rtp_probe 127.0.0.1
ok_if "--shared-echo: once the calls ended, not even their address" "$([ $? = 1 ]; echo $?)" "$TMP/shared.out"
check "--shared-echo with --no-media" 2 "$SIPCX" answer --shared-echo --no-media
expect "says so" 'shared-echo echoes on the loop'

# 8. --merge: two runs' summaries as one.
check "--merge two summaries" 1 "$SIPCX" load --merge "$TMP/l1.json" "$TMP/l3.json"
expect "merged counts" 'attempted 210  answered 200  failed 10'
check "--merge --json" 1 "$SIPCX" load --merge --json "$TMP/l1.json" "$TMP/l3.json"
expect "merged JSON" '"attempted":210,"answered":200,"failed":10,.*"failed_by_status":\{"486":10\}'

# 9. Usage errors: one line, exit 2.
check "--rate 0" 2 "$SIPCX" load --rate 0 sip:x@127.0.0.1
expect "says so" 'bad --rate'
check "no URI" 2 "$SIPCX" load
check "--register-only without an account" 2 "$SIPCX" load --register-only sip:127.0.0.1
check "--accounts missing" 2 "$SIPCX" load --accounts "$TMP/none.csv" sip:x@127.0.0.1
expect "names the file" 'cannot read --accounts'
check "--echo-check with --no-media" 2 "$SIPCX" load --echo-check --no-media sip:x@127.0.0.1
check "--merge without a summary" 2 "$SIPCX" load --merge "$TMP/l1.err"
finish
