#!/usr/bin/env bash
# baresip (tests/peers/baresip, Debian's 1.0.0) takes DTMF and a REFER from sipcx. baresip's
# ctrl_tcp events, recorded for the whole run by `ctl.py --events`, prove what it got:
# - `sipcx dial --dtmf 123# --dtmf-mode rfc4733`: CALL_DTMF_START 1, END, 2, END, 3, END, #,
#   END, all on sipcx's call (its Call-ID);
# - the same with `--dtmf-mode info`: the same events, each INFO (application/dtmf-relay)
#   answered 200 and logged by baresip with its digit, in order;
# - `sipcx dial --transfer-to C`: baresip answers the REFER 202 (TRANSFER event with the
#   Refer-To), its NOTIFYs (Event: refer, message/sipfrag 100 Trying, then 200 OK with
#   Subscription-State terminated) are answered 200, sipcx reports the transfer's 200 (text
#   and --json), hangs up with Reason "transferred" and exits 0; baresip's new call reaches C
#   (a `sipcx answer` that hears baresip's 440 Hz, hangs up and exits 0);
# - baresip calls `sipcx answer --transfer-to C`: the same transfer from the answering side.
# baresip 1.0.0 puts no Referred-By in the new INVITE (the test says so when it is missing).
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need baresip timeout python3
need_sipcx

baresip_up bs || exit 1
CTRL=$((BP + 3))
EV=$TMP/events.jsonl
"$PEERS/baresip/ctl.py" --port "$CTRL" --events "$EV" --for 120 &
PIDS+=($!)
wait_for "$EV" '"connected"' 5 || {
	echo "FAIL - no ctrl_tcp connection to baresip"
	exit 1
}

# events CALLID: baresip's events of that call, "TYPE PARAM" a line, in order.
cat >"$TMP/events.py" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("id") == sys.argv[2]:
        print(e.get("type"), e.get("param", ""))
PY
events() {
	python3 "$TMP/events.py" "$EV" "$1"
}
# call_id FILE: the Call-ID of the call in a --json output.
call_id() {
	sed -n 's/.*"event":"established".*"call_id":"\([^"]*\)".*/\1/p' "$1" | head -1
}
# closed CALLID: until baresip says that call is closed (at most 10 s).
closed() {
	wait_for "$EV" "\"CALL_CLOSED\".*\"id\": \"$1\"" 10
}
# dtmf_events CALLID: the DTMF events of the call on one line, e.g. "1 E 2 E".
dtmf_events() {
	events "$1" | sed -n 's/^CALL_DTMF_START /S/p; s/^CALL_DTMF_END.*/E/p' | sed 's/^S//' |
		tr '\n' ' ' | sed 's/ $//'
}

# --- DTMF: RFC 4733, then SIP INFO. ----------------------------------------------------------
for mode in rfc4733 info; do
	timeout 30 "$SIPCX" dial "sip:carol@127.0.0.1:$BP" --dtmf '123#' --dtmf-mode "$mode" \
		--dtmf-delay 0.2 --duration 1.5 --json --trace >"$TMP/$mode.out" 2>"$TMP/$mode.trace"
	ok_if "$mode: dial --dtmf 123# exits 0" $? "$TMP/$mode.out" "$TMP/$mode.trace"
	CID=$(call_id "$TMP/$mode.out")
	closed "$CID"
	ok_if "$mode: baresip's events: the call ($CID) closed after our BYE" $? "$EV"
	got=$(dtmf_events "$CID")
	[ "$got" = "1 E 2 E 3 E # E" ]
	ok_if "$mode: baresip reported 1 2 3 #, in order, each started and ended (got: $got)" $? \
		"$EV"
done
grep -q '^a=rtpmap:101 telephone-event/8000' "$TMP/rfc4733.trace"
ok_if "rfc4733: baresip's SDP has telephone-event (pt 101)" $? "$TMP/rfc4733.trace"
! grep -q '^INFO ' "$TMP/rfc4733.trace"
ok_if "rfc4733: no INFO sent" $? "$TMP/rfc4733.trace"
# the INFOs and their answers: "INFO application/dtmf-relay Signal=N" and "200 INFO"
# the INFOs and their answers ("INFO application/dtmf-relay 1", "200 INFO"), then "spaced" if
# each INFO went at least the digit's 100 ms and the 100 ms gap after the one before
cat >"$TMP/info.py" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
sent = []
for head, m in re.findall(r"^--- (\S+ \S+) .*\n((?:(?!^--- ).*\n)*)", text, re.M):
    if m.startswith("INFO "):
        ct = re.search(r"^Content-Type: *(\S+)", m, re.M | re.I)
        sig = re.search(r"^Signal=(\S+)", m, re.M)
        print("INFO", ct.group(1) if ct else "-", sig.group(1) if sig else "-")
        h, mi, sec = head.split()[0].split(":")
        sent.append(int(h) * 3600 + int(mi) * 60 + float(sec))
    elif m.startswith("SIP/2.0 ") and re.search(r"^CSeq: *\d+ INFO", m, re.M):
        print(m.split()[1], "INFO")
gaps = [b - a for a, b in zip(sent, sent[1:])]
print("spaced" if gaps and min(gaps) >= 0.195 else "gaps %s" % gaps)
PY
got=$(python3 "$TMP/info.py" "$TMP/info.trace" | tr '\n' ';')
want="INFO application/dtmf-relay 1;200 INFO;INFO application/dtmf-relay 2;200 INFO;"
want+="INFO application/dtmf-relay 3;200 INFO;INFO application/dtmf-relay #;200 INFO;spaced;"
[ "$got" = "$want" ]
ok_if "info: four INFOs (application/dtmf-relay, Signal 1 2 3 #), each answered 200 before the next, 200 ms apart at least (got: $got)" \
	$? "$TMP/info.trace"
got=$(sed -n "s/.*call: received DTMF: '\(.\)' (duration=100).*/\1/p" "$TMP/bs/baresip.log" |
	tr -d '\n')
[ "$got" = "123#" ]
ok_if "info: baresip's log has each digit, Duration 100 (got: $got)" $? "$TMP/bs/baresip.log"

# --- REFER: sipcx dial transfers baresip to a third phone, C. ---------------------------------
# target_checks NAME CALLID: C (answer_in_bg NAME) was called by baresip's new call, heard its
# tone, hung up and exited 0; baresip saw the new call established and closed.
target_checks() {
	local name=$1 ncid
	[ "$(rc_of "$name")" = 0 ] && grep -q 'tone 440 Hz heard' "$TMP/$name.out" &&
		grep -q 'ended .* by local' "$TMP/$name.out"
	ok_if "$name: C answered baresip's new call, heard its 440 Hz, hung up: exit 0" $? \
		"$TMP/$name.out"
	ncid=$(sed -n 's/^Call-ID: *//p' "$TMP/$name.trace" | head -1 | tr -d '\r')
	grep -q '^User-Agent: baresip' "$TMP/$name.trace" && [ -n "$ncid" ] &&
		events "$ncid" | grep -q "^CALL_ESTABLISHED sip:$name@127.0.0.1:$C\$" && closed "$ncid"
	ok_if "$name: the INVITE to C is baresip's new call ($ncid): established, then closed" $? \
		"$TMP/$name.trace" "$EV"
	hdr_of INVITE Referred-By "$TMP/$name.trace" | grep -q . ||
		echo "# note: baresip's INVITE to C has no Referred-By (baresip 1.0.0 sends none)"
}

ports C 1
answer_in_bg c1 --listen "udp:127.0.0.1:$C" --count 1 --hangup 1.2 --expect-tone 440 || exit 1
timeout 30 "$SIPCX" dial "sip:carol@127.0.0.1:$BP" --transfer-to "sip:c1@127.0.0.1:$C" \
	--transfer-after 0.5 --duration 5 --json --trace >"$TMP/xfer.out" 2>"$TMP/xfer.trace"
ok_if "dial --transfer-to: exit 0" $? "$TMP/xfer.out" "$TMP/xfer.trace"
CID=$(call_id "$TMP/xfer.out")
cat >"$TMP/xfer.py" <<'PY'
import json, re, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = [e for e in ev if e["event"] == "transfer"]
assert len(t) == 1, t
assert t[0]["role"] == "transferor" and t[0]["transfer_to"] == sys.argv[3], t
assert t[0]["status"] == 200, t
h = [e for e in ev if e["event"] == "hangup"]
assert h and h[0]["side"] == "local" and "transferred" in h[0]["end_reason"], h
assert h[0]["t"] < 3, h  # hung up once transferred, not at --duration
s = [e for e in ev if e["event"] == "summary"]
assert s and s[0]["exit"] == 0, s
msgs = re.split(r"^--- .*$", open(sys.argv[2], errors="replace").read(), flags=re.M)
msgs = [m.strip() for m in msgs if m.strip() and m.strip() != "end"]
refer = [m for m in msgs if m.startswith("REFER ")]
assert len(refer) == 1, refer
assert re.search(r"^Refer-To: *<%s>" % re.escape(sys.argv[3]), refer[0], re.M), refer[0]
assert re.search(r"^Referred-By: *<sip:", refer[0], re.M), refer[0]
ok202 = [m for m in msgs if m.startswith("SIP/2.0 202") and re.search(r"^CSeq: *\d+ REFER", m, re.M)]
assert ok202, "no 202 to the REFER"
notify = [m for m in msgs if m.startswith("NOTIFY ")]
frags = [m.split("\n\n", 1)[1].strip() if "\n\n" in m else "" for m in notify]
assert frags == ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"], frags
for m in notify:
    assert re.search(r"^Event: *refer", m, re.M | re.I), m
    assert re.search(r"^Content-Type: *message/sipfrag", m, re.M | re.I), m
assert re.search(r"^Subscription-State: *active", notify[0], re.M | re.I), notify[0]
assert re.search(r"^Subscription-State: *terminated", notify[-1], re.M | re.I), notify[-1]
ok = [m for m in msgs if m.startswith("SIP/2.0 200") and re.search(r"^CSeq: *\d+ NOTIFY", m, re.M)]
assert len(ok) == 2, "NOTIFYs answered: %d" % len(ok)
bye = [m for m in msgs if m.startswith("BYE ")]
assert bye and re.search(r'^Reason: *SIP;cause=200;text="transferred"', bye[0], re.M), bye
print("ok")
PY
python3 "$TMP/xfer.py" "$TMP/xfer.out" "$TMP/xfer.trace" "sip:c1@127.0.0.1:$C" \
	>"$TMP/xfer.check" 2>&1
ok_if "dial: REFER (Refer-To, Referred-By) got 202; NOTIFYs 100 Trying (active), 200 OK (terminated) answered 200; transfer status 200 in --json; BYE transferred" \
	$? "$TMP/xfer.check"
got=$(events "$CID" | grep -E '^(TRANSFER|CALL_CLOSED)' | tr '\n' ';')
[[ "$got" == "TRANSFER <sip:c1@127.0.0.1:$C>;CALL_CLOSED "*";" ]]
ok_if "baresip: TRANSFER event with the Refer-To on our call, then the call closed (got: $got)" \
	$? "$EV"
target_checks c1

# --- baresip calls sipcx answer, which transfers it to C. -------------------------------------
ports C 1
answer_in_bg c2 --listen "udp:127.0.0.1:$C" --count 1 --hangup 1.2 --expect-tone 440 || exit 1
ports A 1
answer_in_bg a --listen "udp:127.0.0.1:$A" --count 1 --transfer-to "sip:c2@127.0.0.1:$C" --transfer-after 0.5 || exit 1
# through its line console (UDP): ctrl_tcp serves one client, a second one would end the events
printf '/dial sip:a@127.0.0.1:%s\n' "$A" >"/dev/udp/127.0.0.1/$((BP + 2))"
wait_for "$EV" "\"CALL_ESTABLISHED\".*\"peeruri\": \"sip:a@127.0.0.1:$A\"" 10
ok_if "baresip dials sipcx answer (console /dial): established" $? "$EV" "$TMP/bs/baresip.log"
[ "$(rc_of a)" = 0 ] && grep -q "transferred <sip:carol@127.0.0.1:$BP>.* to sip:c2@127.0.0.1:$C: 200" \
	"$TMP/a.out"
ok_if "answer --transfer-to: the transfer's 200, exit 0" $? "$TMP/a.out"
ACID=$(sed -n 's/^Call-ID: *//p' "$TMP/a.trace" | head -1 | tr -d '\r')
events "$ACID" | grep -q "^TRANSFER <sip:c2@127.0.0.1:$C>\$"
ok_if "baresip: TRANSFER event on its call to us ($ACID)" $? "$EV"
target_checks c2

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
finish
