#!/usr/bin/env bash
# Attended transfer and Replaces (RFC 3891, RFC 5589 7). Three sipcx: A calls B, then calls C
# (the consultation, `dial --attended`), then REFERs B with Refer-To: <C's Contact?Replaces=...>;
# B calls C with that Replaces header (and Require: replaces), C answers it at once and hangs
# up A's consultation call (BYE, Reason "replaced"); A's REFER ends with NOTIFY 200, A hangs up
# B; C hears B's tone. SIPp takes over a sipcx call: a SIPp UAC's INVITE with Replaces naming
# the dialog of a `sipcx dial` to `sipcx answer` is answered 200 and the dial's call ends
# (BYE, replaced); INVITEs whose Replaces name no dialog (481), an established one with
# early-only (486) or are malformed (400) are refused. Being transferred with Replaces: a
# SIPp transferor's Refer-To carries ?Replaces=... and the INVITE sipcx sends to the SIPp
# target has it unescaped, with Require: replaces.
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need sipp timeout python3
need_sipcx

# json_field FILE EVENT FIELD: FIELD of the first EVENT line of a --json output.
json_field() {
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    try: o = json.loads(l)
    except ValueError: continue
    if o.get("event") == sys.argv[2]:
        print(o.get(sys.argv[3], "")); break' "$1" "$2" "$3"
}

# --- Three sipcx: A transfers B to C, attended. ------------------------------------------------
ports B 1
ports C 1
answer_in_bg c --listen "udp:127.0.0.1:$C" --count 1 --expect-tone 1000 --ringtime 0.3 &&
	answer_in_bg b --listen "udp:127.0.0.1:$B" --duration 3.5 --tone 1000 || exit 1
timeout 30 "$SIPCX" dial "sip:b@127.0.0.1:$B" --transfer-to "sip:c@127.0.0.1:$C" --attended \
	--transfer-after 0.5 --duration 3 --trace >"$TMP/a.out" 2>"$TMP/a.trace"
ok_if "A: dial --transfer-to --attended: exit 0" $? "$TMP/a.out" "$TMP/a.trace"
grep -q "consultation call to sip:c@127.0.0.1:$C answered" "$TMP/a.out" &&
	grep -q "transfer to sip:c@127.0.0.1:$C done: 200" "$TMP/a.out" &&
	grep -q 'consultation call ended by remote, reason SIP;cause=200;text="replaced"' \
		"$TMP/a.out"
ok_if "A: consultation answered, transfer done (200), C hung the consultation up (replaced)" \
	$? "$TMP/a.out"
refer_to=$(hdr_of REFER Refer-To "$TMP/a.trace")
grep -qE "^Refer-To: <sip:[^?>]*:$C[^?>]*\?Replaces=[^;>]+%3Bto-tag%3D[^;>]+%3Bfrom-tag%3D[^;>]+>" \
	<<<"$refer_to"
ok_if "A's REFER: Refer-To is C's Contact with the escaped Replaces ($refer_to)" $? "$TMP/a.trace"
[ "$(rc_of b)" = 0 ] && grep -q 'transferred by .* (REFER) to sip:' "$TMP/b.out"
ok_if "B: followed the REFER, exit 0" $? "$TMP/b.out"
consult_id=$(sed -n 's/.*consultation call to .* answered, Call-ID \(.*\)$/\1/p' "$TMP/a.out")
# the second INVITE C received: B's
awk '/^INVITE sip:/ {n++} n == 2 {print} n == 2 && /^--- end/ {exit}' "$TMP/c.trace" \
	>"$TMP/c.invite2"
rep=$(grep '^Replaces: ' "$TMP/c.invite2")
[ -n "$consult_id" ] && grep -q "^Replaces: $consult_id;to-tag=[^;]*;from-tag=" <<<"$rep" &&
	grep -q '^Require: replaces' "$TMP/c.invite2"
ok_if "C: B's INVITE names the consultation call (Replaces: $rep), Require: replaces" $? \
	"$TMP/c.trace"
[ "$(rc_of c)" = 0 ] &&
	grep -q 'replaced (INVITE with Replaces)' "$TMP/c.out" &&
	grep -q "established (ACK) .*, replacing Call-ID $consult_id" "$TMP/c.out" &&
	grep -q 'tone 1000 Hz heard' "$TMP/c.out"
ok_if "C: the replacement answered at once, the old call hung up, B's tone heard: exit 0" $? \
	"$TMP/c.out"
[ "$(grep -c '^SIP/2.0 180' "$TMP/c.trace")" = 1 ]
ok_if "C: rang (--ringtime) for the consultation only, not for the replacement" $? "$TMP/c.trace"

# --- A SIPp UAC takes over a sipcx call. ----------------------------------------------------
ports C 1
ports U 8
answer_in_bg c2 --listen "udp:127.0.0.1:$C" --count 1 || exit 1
(timeout 30 "$SIPCX" dial "sip:c@127.0.0.1:$C" --duration 10 --json >"$TMP/d2.json" \
	2>"$TMP/d2.err"
echo $? >"$TMP/d2.rc") &
PIDS+=($!)
wait_for "$TMP/d2.json" '"event":"answered"' 10
cid=$(json_field "$TMP/d2.json" answered call_id)
ltag=$(json_field "$TMP/d2.json" answered local_tag)
rtag=$(json_field "$TMP/d2.json" answered remote_tag)
[ -n "$cid" ] && [ -n "$ltag" ] && [ -n "$rtag" ]
ok_if "dial --json gives the dialog (Call-ID $cid, tags $ltag / $rtag)" $? "$TMP/d2.json"
# early-only on a confirmed dialog: 486; no such dialog: 481; malformed: 400
sipp_fg early -sf uac_replaces_refused.xml "127.0.0.1:$C" -i 127.0.0.1 -mi 127.0.0.1 -p "$U" \
	-mp $((U + 2)) -s c -key caller sipp -key code 486 -key rep_id "$cid" \
	-key rep_to "$rtag;early-only" -key rep_from "$ltag" -m 1 -timeout 20s -timeout_error
ok_if "Replaces with early-only naming an established call: 486" $? "$TMP/early.log"
sipp_fg nodlg -sf uac_replaces_refused.xml "127.0.0.1:$C" -i 127.0.0.1 -mi 127.0.0.1 \
	-p "$U" -mp $((U + 2)) -s c -key caller sipp -key code 481 -key rep_id "$cid" \
	-key rep_to "$ltag" -key rep_from "$rtag" -m 1 -timeout 20s -timeout_error
ok_if "Replaces with the tags the wrong way round (no such dialog): 481" $? "$TMP/nodlg.log"
sipp_fg badrep -sf uac_replaces_refused.xml "127.0.0.1:$C" -i 127.0.0.1 -mi 127.0.0.1 \
	-p "$U" -mp $((U + 2)) -s c -key caller sipp -key code 400 -key rep_id "$cid" \
	-key rep_to "" -key rep_from "$ltag" -m 1 -timeout 20s -timeout_error
ok_if "Replaces with an empty to-tag: 400" $? "$TMP/badrep.log"
grep -q '"event":"hangup"' "$TMP/d2.json"
[ $? != 0 ]
ok_if "the refused INVITEs left the call up" $? "$TMP/d2.json"
sipp_fg take -sf uac_replaces.xml "127.0.0.1:$C" -i 127.0.0.1 -mi 127.0.0.1 -p "$U" \
	-mp $((U + 2)) -s c -key rep_id "$cid" -key rep_to "$rtag" -key rep_from "$ltag" -d 500 \
	-m 1 -timeout 20s -timeout_error
ok_if "SIPp's INVITE with Replaces: 200 at once, ACK, its BYE answered" $? "$TMP/take.log"
wait_for "$TMP/d2.rc" '^[0-9]+$' 15
[ "$(cat "$TMP/d2.rc")" = 0 ] &&
	grep -q '"event":"hangup".*"side":"remote".*"end_reason":"SIP;cause=200;text=\\"replaced\\""' \
		"$TMP/d2.json"
ok_if "dial: its call hung up by the callee (BYE, replaced), exit 0" $? "$TMP/d2.json"
[ "$(rc_of c2)" = 0 ] && grep -q 'replaced (INVITE with Replaces) by <sip:sipp@' \
	"$TMP/c2.out"
ok_if "answer: the call with dial replaced by SIPp's, exit 0" $? "$TMP/c2.out"

# --- Being transferred with Replaces: the INVITE to the target carries it. --------------------
ports T 8
ports R 8
sipp_bg target -sf uas_answer.xml -i 127.0.0.1 -mi 127.0.0.1 -p "$T" -mp $((T + 2)) -rtp_echo \
	-m 1 -timeout 30s -timeout_error -trace_msg -message_file "$TMP/target.msg"
TGT=$SIPP_PID
sipp_bg refer -sf uas_refer.xml -i 127.0.0.1 -mi 127.0.0.1 -p "$R" -mp $((R + 2)) -rtp_echo \
	-key refer_to "sip:target@127.0.0.1:$T?Replaces=abc%40host.example%3Bto-tag%3Dt1%3Bfrom-tag%3Df2" \
	-d 1000 -m 1 -timeout 30s -timeout_error -trace_logs -log_file "$TMP/notify.log"
XFR=$SIPP_PID
wait_listen udp "$T" && wait_listen udp "$R" || exit 1
timeout 40 "$SIPCX" dial "sip:transferor@127.0.0.1:$R" --duration 3 >"$TMP/tfe.out" 2>&1
ok_if "dial: transferred with Replaces, exit 0" $? "$TMP/tfe.out"
wait "$XFR"
ok_if "sipp transferor: 202, NOTIFYs up to 200, BYE" $? "$TMP/refer.log" "$TMP/notify.log"
wait "$TGT"
ok_if "sipp target: called and hung up" $? "$TMP/target.log"
grep -q '^Replaces: abc@host.example;to-tag=t1;from-tag=f2' "$TMP/target.msg" &&
	grep -q '^Require: replaces' "$TMP/target.msg" &&
	! grep -q '^INVITE sip:target@127.0.0.1:[0-9]*?' "$TMP/target.msg"
ok_if "the INVITE to the target: Replaces unescaped, Require: replaces, no URI headers left" $? \
	"$TMP/target.msg"

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
finish
