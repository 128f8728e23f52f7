#!/usr/bin/env bash
# Being transferred (RFC 3515, RFC 5589 blind transfer): `sipcx dial` calls a SIPp transferor,
# which REFERs it to a SIPp target; sipcx answers 202, calls the target (with the REFER's
# Referred-By), tells the transferor with NOTIFYs (message/sipfrag 100 Trying, 180 Ringing,
# 200 OK, the last with Subscription-State terminated), stays in the new call for the rest of
# --duration and hangs it up; both SIPp scenarios complete. --json has the two transfer lines.
# A target that is busy: the final NOTIFY says 486, dial exits 1. --no-refer: 603, the call
# goes on. Transferring (the transferor's side): `sipcx answer --transfer-to` REFERs a SIPp
# transferee, follows its NOTIFYs to the 200 and hangs up; three sipcx: A transfers B to C
# (`dial --transfer-to`), B follows the REFER, C hears B's tone.
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need sipp timeout python3
need_sipcx

# transfer NAME TARGET_SCENARIO [DIAL ARGS...]: target and transferor SIPps, then the dial.
transfer() {
	local name=$1 target=$2
	shift 2
	ports T 8 # SIPp's -mp takes four ports from -mp up (audio, video, with -rtp_echo)
	ports R 8
	sipp_bg "$name-target" -sf "$target" -i 127.0.0.1 -mi 127.0.0.1 -p "$T" -mp $((T + 2)) \
		-rtp_echo -m 1 -timeout 30s -timeout_error -trace_msg \
		-message_file "$TMP/$name-target.msg"
	TGT=$SIPP_PID
	sipp_bg "$name-refer" -sf uas_refer.xml -i 127.0.0.1 -mi 127.0.0.1 -p "$R" -mp $((R + 2)) \
		-rtp_echo -key refer_to "sip:target@127.0.0.1:$T" -d 1000 -m 1 -timeout 30s \
		-timeout_error -trace_logs -log_file "$TMP/$name-notify.log" -trace_msg \
		-message_file "$TMP/$name-refer.msg"
	XFR=$SIPP_PID
	wait_listen udp "$T" && wait_listen udp "$R" || return 9
	timeout 40 "$SIPCX" dial "sip:transferor@127.0.0.1:$R" --duration 3 "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err"
}

# --- A blind transfer that works. -------------------------------------------------------------
transfer ok uas_answer.xml
ok_if "dial: exit 0 after being transferred" $? "$TMP/ok.out" "$TMP/ok.err"
grep -q 'REFER: calling sip:target@127.0.0.1:' "$TMP/ok.out" &&
	grep -q 'transferred (REFER) to sip:target@.*: 200 OK' "$TMP/ok.out"
ok_if "dial says it called the target and it answered" $? "$TMP/ok.out"
wait "$XFR"
ok_if "sipp transferor: 202, NOTIFYs answered, its BYE after the 200 sipfrag" $? \
	"$TMP/ok-refer.log" "$TMP/ok-notify.log"
wait "$TGT"
ok_if "sipp target: called, and hung up by us at the end" $? "$TMP/ok-target.log"
frags=$(sed -n 's/.*NOTIFY sipfrag: SIP\/2.0 \([0-9]*\).*/\1/p' "$TMP/ok-notify.log" | tr '\n' ' ')
[ "$frags" = "100 180 200 " ]
ok_if "the NOTIFYs: 100, 180, 200 in order (got: $frags)" $? "$TMP/ok-notify.log"
cat >"$TMP/msgs.py" <<'PY'
import re, sys
def messages(path):
    return re.split(r"-{10,}", open(path, errors="replace").read())
notifies = [m for m in messages(sys.argv[1]) if re.search(r"^NOTIFY ", m, re.M)]
assert len(notifies) == 3, len(notifies)
for m in notifies:
    assert re.search(r"^Event: *refer", m, re.M | re.I), m
    assert re.search(r"^Content-Type: *message/sipfrag", m, re.M | re.I), m
assert re.search(r"^Subscription-State: *active", notifies[0], re.M | re.I), notifies[0]
assert re.search(r"^Subscription-State: *terminated", notifies[-1], re.M | re.I), notifies[-1]
inv = [m for m in messages(sys.argv[2]) if re.search(r"^INVITE ", m, re.M)][0]
assert re.search(r"^Referred-By: *<sip:sipp-transferor@", inv, re.M | re.I), inv
print("ok")
PY
python3 "$TMP/msgs.py" "$TMP/ok-refer.msg" "$TMP/ok-target.msg" >"$TMP/ok.check" 2>&1
ok_if "NOTIFYs carry Event: refer and sipfrag, active then terminated; the INVITE Referred-By" \
	$? "$TMP/ok.check"

# --- The target is busy. ----------------------------------------------------------------------
transfer busy uas_busy.xml --json
[ $? = 1 ]
ok_if "target busy: dial exits 1" $? "$TMP/busy.out" "$TMP/busy.err"
cat >"$TMP/busy.py" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = [e for e in ev if e["event"] == "transfer"]
assert len(t) == 2 and t[1]["status"] == 486, t
assert t[0]["refer_to"].startswith("sip:target@"), t
print("ok")
PY
python3 "$TMP/busy.py" "$TMP/busy.out" >"$TMP/busy.check" 2>&1
ok_if "json: two transfer lines, the second with status 486" $? "$TMP/busy.check" "$TMP/busy.out"
wait "$XFR"
grep -q 'NOTIFY sipfrag: SIP/2.0 486' "$TMP/busy-notify.log"
ok_if "the transferor was told 486 in the final NOTIFY" $? "$TMP/busy-notify.log"
wait "$TGT"

# --- --no-refer: 603. -------------------------------------------------------------------------
ports R 8
sipp_bg norefer -sf uas_refer_refused.xml -i 127.0.0.1 -mi 127.0.0.1 -p "$R" -mp $((R + 2)) \
	-key refer_to "sip:target@127.0.0.1:9" -d 500 -m 1 -timeout 10s -trace_msg \
	-message_file "$TMP/norefer.msg" -timeout_error
XFR=$SIPP_PID
wait_listen udp "$R" || exit 1
timeout 30 "$SIPCX" dial "sip:transferor@127.0.0.1:$R" --duration 1.5 --no-refer \
	>"$TMP/norefer.out" 2>&1
ok_if "dial --no-refer: exit 0" $? "$TMP/norefer.out"
wait "$XFR"
ok_if "sipp: the REFER was declined, the call went on to our BYE" $? "$TMP/norefer.log"
grep -q '^SIP/2.0 603' "$TMP/norefer.msg"
ok_if "--no-refer: the REFER got 603 Decline" $? "$TMP/norefer.msg"

# --- The transferor's side: sipcx answer REFERs a SIPp transferee. ----------------------------
ports A 1
ports S 8
("$SIPCX" answer --listen "udp:127.0.0.1:$A" --count 1 --transfer-to sip:carol@127.0.0.1:9 \
	--transfer-after 0.3 --trace >"$TMP/tfr.out" 2>"$TMP/tfr.trace"
echo $? >"$TMP/tfr.rc") &
PIDS+=($!)
wait_for "$TMP/tfr.out" '^listening on ' 10 || exit 1
sipp_fg tfe -sf uac_transferee.xml "127.0.0.1:$A" -i 127.0.0.1 -mi 127.0.0.1 -p "$S" \
	-mp $((S + 2)) -s bob -key caller alice -m 1 -timeout 15s -timeout_error
ok_if "sipp transferee: REFER, its NOTIFYs answered, our BYE" $? "$TMP/tfe.log"
wait_for "$TMP/tfr.rc" '^[0-9]+$' 15
[ "$(cat "$TMP/tfr.rc")" = 0 ] && grep -q 'transferred <sip:alice@.*> to sip:carol@127.0.0.1:9: 200' \
	"$TMP/tfr.out"
ok_if "answer --transfer-to: the 200 sipfrag seen, exit 0" $? "$TMP/tfr.out"
grep -q '^Refer-To: <sip:carol@127.0.0.1:9>' "$TMP/tfr.trace" &&
	grep -q '^Referred-By: ' "$TMP/tfr.trace" &&
	grep -q '^Reason: SIP;cause=200;text="transferred"' "$TMP/tfr.trace"
ok_if "the REFER has Refer-To and Referred-By; the BYE says transferred" $? "$TMP/tfr.trace"

# --- Three sipcx: A transfers B to C; C hears B's tone. ---------------------------------------
ports B 1
ports C 1
("$SIPCX" answer --listen "udp:127.0.0.1:$C" --count 1 --expect-tone 1000 >"$TMP/c.out" 2>&1
echo $? >"$TMP/c.rc") &
PIDS+=($!)
("$SIPCX" answer --listen "udp:127.0.0.1:$B" --duration 2.5 --tone 1000 >"$TMP/b.out" 2>&1
echo $? >"$TMP/b.rc") &
PIDS+=($!)
wait_for "$TMP/c.out" '^listening on ' 10 && wait_for "$TMP/b.out" '^listening on ' 10 || exit 1
timeout 30 "$SIPCX" dial "sip:b@127.0.0.1:$B" --transfer-to "sip:c@127.0.0.1:$C" \
	--transfer-after 0.5 --duration 3 >"$TMP/a.out" 2>&1
ok_if "A: dial --transfer-to: exit 0" $? "$TMP/a.out"
grep -q "transfer to sip:c@127.0.0.1:$C done: 200" "$TMP/a.out"
ok_if "A: the transfer is done, the call hung up" $? "$TMP/a.out"
wait_for "$TMP/b.rc" '^[0-9]+$' 15 && wait_for "$TMP/c.rc" '^[0-9]+$' 15
[ "$(cat "$TMP/b.rc")" = 0 ] && grep -q 'transferred by .* (REFER) to sip:c@' "$TMP/b.out"
ok_if "B: followed the REFER, exit 0" $? "$TMP/b.out"
[ "$(cat "$TMP/c.rc")" = 0 ] && grep -q 'tone 1000 Hz heard' "$TMP/c.out"
ok_if "C: called by B, heard its tone, hung up by B at its end: exit 0" $? "$TMP/c.out"

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
finish
