#!/usr/bin/env bash
# A blind transfer (RFC 3515, RFC 5589) through kamailio (tests/peers/kamailio: registrar and
# record-routing proxy) between sipcx phones registered as alice, bob and carol:
# - `sipcx dial` as alice calls bob (a registered `sipcx answer --tone 1000`) through kamailio
#   and transfers him to sip:carol@kamailio (`--transfer-to`): the REFER and the NOTIFYs go
#   through kamailio in the dialog (Route; kamailio's Via on what arrives), the NOTIFYs say 100
#   Trying then 200 OK (active, then terminated) and are answered 200, alice hangs up with
#   Reason "transferred" and exits 0; bob's new INVITE goes to kamailio with alice's
#   Referred-By, reaches carol (a registered `sipcx answer --expect-tone 1000`) through
#   kamailio, carol hears bob's tone and bob's BYE comes through kamailio at his end; every
#   phone exits 0 and the bindings are gone once bob and carol stop;
# - the other way round: bob (`sipcx dial`) calls a registered alice (`sipcx answer
#   --transfer-to sip:carol@kamailio`), follows her REFER to carol through kamailio, carol
#   hears his tone; every phone exits 0;
# - attended: alice (`sipcx dial --attended`) calls bob, then carol (the consultation, which
#   rings), then REFERs bob with Refer-To carol's AoR at kamailio ?Replaces=<the consultation>
#   (the consultation was record-routed: RFC 5589 7.2); bob's INVITE with Replaces and Require
#   goes to kamailio and reaches carol through it, carol answers it without ringing and hangs
#   the consultation up (BYE through kamailio, Reason replaced), hears bob's tone; all exit 0;
# - the same attended: alice (`sipcx answer --transfer-to --attended`) calls carol first, then
#   REFERs bob with Replaces; bob's INVITE with Replaces reaches carol through kamailio;
# - the same through a kamailio that challenges INVITEs (KAM_INVITE_AUTH=1): bob's INVITE to
#   carol gets 407 and is sent again with his digest (the credentials of his own call); and
#   attended: alice's consultation (her --username/--password) and bob's INVITE with Replaces
#   each get 407 and are sent again with their digest.
# (A transferee that is a `sipcx answer` has no credentials for its new call: not tested with
# KAM_INVITE_AUTH.)
# (`sipcx dial` does not register: the caller's AoR is set by --username.)
# KEEP=DIR keeps the outputs, SIP traces and kamailio's log in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need kamailio kamcmd ss timeout python3
need_sipcx

has() { # has FILE REGEX: the exit status of grep -E
	grep -qE -- "$2" "$1"
}
# phone NAME USER ARGS...: sipcx answer registered as USER (password USERpw) to kamailio on
# its own port (in L), by answer_in_bg NAME. Returns once it listens, registered.
phone() {
	local name=$1 user=$2
	shift 2
	ports L 1
	answer_in_bg "$name" --listen "udp:127.0.0.1:$L" --register "sip:127.0.0.1:$K" \
		--username "$user" --password "${user}pw" --expiry 60 "$@" &&
		has "$TMP/$name.out" "registered sip:$user@127.0.0.1:$L"
}

# msgs.py TRACE KPORT: one line per SIP message of a sipcx --trace file: "SEND|RECV PEER FIRST
# LINE | Via count | the headers asked for" (Route, Record-Route, Referred-By, Refer-To,
# Replaces, Require, Event, Subscription-State, Reason, CSeq) and the sipfrag of a NOTIFY.
cat >"$TMP/msgs.py" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
for d, peer, m in re.findall(r"^--- \S+ (SEND|RECV) \d+ bytes \S+ (\S+ -> \S+)\n((?:(?!^--- ).*\n)*)",
                            text, re.M):
    head, _, body = m.partition("\n\n")
    lines = head.split("\n")
    out = [d + " " + peer, lines[0].strip(), "vias=%d" % sum(1 for l in lines if re.match(r"(?i)via:", l))]
    for l in lines[1:]:
        if re.match(r"(?i)(route|record-route|referred-by|refer-to|replaces|require|event|subscription-state|reason|cseq):", l):
            out.append(l.strip())
    if lines[0].startswith("NOTIFY"):
        out.append("frag=" + body.strip().split("\n")[0].strip())
    print(" | ".join(out))
PY
msgs() {
	python3 "$TMP/msgs.py" "$1"
}

ports K 1
kamailio_start "$K" || exit 1
KV="127.0.0.1:$K"

# --- alice (dial) transfers bob to carol. -----------------------------------------------------
phone carol carol --count 1 --expect-tone 1000
ok_if "carol registers to kamailio" $? "$TMP/carol.out" "$TMP/carol.trace"
CAROL=$L
phone bob bob --duration 3 --tone 1000
ok_if "bob registers to kamailio" $? "$TMP/bob.out" "$TMP/bob.trace"
BOB=$L
ul=$(kam_ul)
grep -q "Address: sip:bob@127.0.0.1:$BOB" <<<"$ul" && grep -q "Address: sip:carol@127.0.0.1:$CAROL" <<<"$ul"
ok_if "kamailio holds bob's and carol's contacts" $?
timeout 30 "$SIPCX" dial "sip:bob@$KV" --username alice --password alicepw \
	--transfer-to "sip:carol@$KV" --transfer-after 0.5 --duration 5 --trace \
	>"$TMP/alice.out" 2>"$TMP/alice.trace"
ok_if "alice: dial --transfer-to through kamailio: exit 0" $? "$TMP/alice.out" "$TMP/alice.trace"
has "$TMP/alice.out" "transfer to sip:carol@$KV done: 200" &&
	has "$TMP/alice.out" 'ended by local after 0\.[5-9][0-9]* s, reason SIP;cause=200;text="transferred"'
ok_if "alice: the transfer's 200, then her BYE with Reason transferred, at once" $? "$TMP/alice.out"
msgs "$TMP/alice.trace" >"$TMP/alice.msgs"
! grep -v "^SEND 127.0.0.1:[0-9]* -> $KV |" "$TMP/alice.msgs" | grep -q '^SEND' &&
	! grep -v "^RECV $KV -> " "$TMP/alice.msgs" | grep -q '^RECV'
ok_if "alice: every message sent to kamailio, every one received from it" $? "$TMP/alice.msgs"
grep '^SEND .* | REFER sip:bob@127.0.0.1:'"$BOB"' ' "$TMP/alice.msgs" |
	grep "Route: <sip:$KV;lr" | grep "Refer-To: <sip:carol@$KV>" | grep -q 'Referred-By: <sip:alice@'
ok_if "alice: the REFER to bob's contact, routed through kamailio, Refer-To carol, Referred-By alice" \
	$? "$TMP/alice.msgs"
grep -q "^RECV .* | SIP/2.0 202 .*CSeq: [0-9]* REFER" "$TMP/alice.msgs"
ok_if "alice: the REFER got 202 (through kamailio)" $? "$TMP/alice.msgs"
frags=$(sed -n 's/^RECV .* | NOTIFY .*frag=SIP\/2.0 \([0-9]*\).*/\1/p' "$TMP/alice.msgs" | tr '\n' ' ')
[[ "$frags" =~ ^100\ (180\ )?200\ $ ]]
ok_if "alice: bob's NOTIFYs sipfrags 100 [180] 200 (got: $frags)" $? "$TMP/alice.msgs"
grep '^RECV .* | NOTIFY ' "$TMP/alice.msgs" >"$TMP/alice.notify"
! grep -qv 'vias=2 .*Event: refer' "$TMP/alice.notify" &&
	head -1 "$TMP/alice.notify" | grep -q 'Subscription-State: active' &&
	tail -1 "$TMP/alice.notify" | grep -q 'Subscription-State: terminated'
ok_if "alice: the NOTIFYs came through kamailio (its Via on top), Event refer, active then terminated" \
	$? "$TMP/alice.notify"
n=$(wc -l <"$TMP/alice.notify")
[ "$(grep -c '^SEND .* | SIP/2.0 200 OK .*CSeq: [0-9]* NOTIFY' "$TMP/alice.msgs")" = "$n" ]
ok_if "alice: each of the $n NOTIFYs answered 200" $? "$TMP/alice.msgs"
grep '^SEND .* | BYE ' "$TMP/alice.msgs" | grep "Route: <sip:$KV;lr" |
	grep -q 'Reason: SIP;cause=200;text="transferred"'
ok_if "alice: her BYE to bob routed through kamailio, Reason transferred" $? "$TMP/alice.msgs"

[ "$(rc_of bob)" = 0 ] && has "$TMP/bob.out" "transferred by <sip:alice@[^>]*> \(REFER\) to sip:carol@$KV" &&
	has "$TMP/bob.out" "transfer to sip:carol@$KV: 200" && has "$TMP/bob.out" 'unregistered'
ok_if "bob: followed the REFER to carol (200), unregistered, exit 0" $? "$TMP/bob.out"
msgs "$TMP/bob.trace" >"$TMP/bob.msgs"
grep "^SEND 127.0.0.1:$BOB -> $KV | INVITE sip:carol@$KV " "$TMP/bob.msgs" |
	grep -q 'Referred-By: <sip:alice@'
ok_if "bob: his INVITE to sip:carol@kamailio went to kamailio, with alice's Referred-By" $? \
	"$TMP/bob.msgs"
[ "$(rc_of carol)" = 0 ] && has "$TMP/carol.out" "incoming call 1 from <sip:bob@" &&
	has "$TMP/carol.out" 'tone 1000 Hz heard' && has "$TMP/carol.out" 'ended <sip:bob@[^>]*> by remote'
ok_if "carol: called by bob, heard his 1000 Hz, hung up by him: exit 0" $? "$TMP/carol.out"
msgs "$TMP/carol.trace" >"$TMP/carol.msgs"
grep "^RECV $KV -> 127.0.0.1:$CAROL | INVITE sip:carol@127.0.0.1:$CAROL" "$TMP/carol.msgs" |
	grep 'vias=2' | grep "Record-Route: <sip:$KV;lr" | grep -q 'Referred-By: <sip:alice@'
ok_if "carol: the INVITE came from kamailio (its Via, its Record-Route), with Referred-By alice" $? \
	"$TMP/carol.msgs"
grep -q "^RECV $KV -> 127.0.0.1:$CAROL | BYE .*vias=2" "$TMP/carol.msgs"
ok_if "carol: bob's BYE came through kamailio" $? "$TMP/carol.msgs"
ul=$(kam_ul)
grep -q 'AoRs:' <<<"$ul" && ! grep -qE 'AoR: (bob|carol)$' <<<"$ul"
ok_if "kamailio: bob's and carol's bindings gone" $? <(echo "$ul")

# --- alice (dial --attended) consults carol, then transfers bob to her with Replaces. ----------
phone carola carol --count 1 --expect-tone 1000 --ringtime 0.3
ok_if "att: carol registers" $? "$TMP/carola.out" "$TMP/carola.trace"
CAROL=$L
phone boba bob --duration 4 --tone 1000
ok_if "att: bob registers" $? "$TMP/boba.out" "$TMP/boba.trace"
timeout 30 "$SIPCX" dial "sip:bob@$KV" --username alice --password alicepw \
	--transfer-to "sip:carol@$KV" --attended --transfer-after 0.5 --duration 5 --trace \
	>"$TMP/alicea.out" 2>"$TMP/alicea.trace"
ok_if "att: alice: dial --transfer-to --attended through kamailio: exit 0" $? "$TMP/alicea.out" \
	"$TMP/alicea.trace"
consult_id=$(sed -n 's/.*consultation call to .* answered, Call-ID \(.*\)$/\1/p' "$TMP/alicea.out")
[ -n "$consult_id" ] && has "$TMP/alicea.out" "transfer to sip:carol@$KV done: 200" &&
	has "$TMP/alicea.out" 'consultation call ended by remote, reason SIP;cause=200;text="replaced"' &&
	has "$TMP/alicea.out" 'ended by local after [0-9.]+ s, reason SIP;cause=200;text="transferred"'
ok_if "att: alice: consultation answered, transfer done (200), consultation replaced, bob hung up" \
	$? "$TMP/alicea.out"
msgs "$TMP/alicea.trace" >"$TMP/alicea.msgs"
! grep -v "^SEND 127.0.0.1:[0-9]* -> $KV |" "$TMP/alicea.msgs" | grep -q '^SEND' &&
	! grep -v "^RECV $KV -> " "$TMP/alicea.msgs" | grep -q '^RECV'
ok_if "att: alice: every message sent to kamailio, every one received from it" $? "$TMP/alicea.msgs"
grep '^SEND .* | REFER sip:bob@' "$TMP/alicea.msgs" | grep "Route: <sip:$KV;lr" |
	grep -q "Refer-To: <sip:carol@$KV?Replaces=$consult_id%3Bto-tag%3D[^%>]*%3Bfrom-tag%3D[^%>]*>"
ok_if "att: alice: the REFER routed through kamailio, Refer-To carol's AoR at kamailio with Replaces naming the consultation" \
	$? "$TMP/alicea.msgs"
grep -q "^RECV $KV -> [^ ]* | BYE .*vias=2 .*Reason: SIP;cause=200;text=\"replaced\"" "$TMP/alicea.msgs"
ok_if "att: alice: carol's BYE of the consultation came through kamailio, Reason replaced" $? \
	"$TMP/alicea.msgs"
[ "$(rc_of boba)" = 0 ] && has "$TMP/boba.out" "transfer to sip:carol@$KV: 200"
ok_if "att: bob: followed the REFER to carol (200), exit 0" $? "$TMP/boba.out"
msgs "$TMP/boba.trace" >"$TMP/boba.msgs"
grep "^SEND [^ ]* -> $KV | INVITE sip:carol@$KV " "$TMP/boba.msgs" |
	grep "Replaces: $consult_id;to-tag=" | grep 'Require: replaces' | grep -q 'Referred-By: <sip:alice@'
ok_if "att: bob: his INVITE to sip:carol@kamailio went to kamailio with Replaces, Require, Referred-By" \
	$? "$TMP/boba.msgs"
msgs "$TMP/carola.trace" >"$TMP/carola.msgs"
grep "^RECV $KV -> 127.0.0.1:$CAROL | INVITE sip:carol@127.0.0.1:$CAROL" "$TMP/carola.msgs" |
	grep "Replaces: $consult_id;to-tag=" | grep 'vias=2' | grep "Record-Route: <sip:$KV;lr" |
	grep -q 'Referred-By: <sip:alice@'
ok_if "att: carol: the INVITE with Replaces came from kamailio (its Via, its Record-Route)" $? \
	"$TMP/carola.msgs"
grep "^SEND 127.0.0.1:$CAROL -> $KV | BYE sip:alice@" "$TMP/carola.msgs" |
	grep "Route: <sip:$KV;lr" | grep -q 'Reason: SIP;cause=200;text="replaced"'
ok_if "att: carol: hung the consultation up (BYE to alice through kamailio, Reason replaced)" $? \
	"$TMP/carola.msgs"
[ "$(rc_of carola)" = 0 ] && has "$TMP/carola.out" 'replaced \(INVITE with Replaces\) by <sip:bob@' &&
	has "$TMP/carola.out" "established \(ACK\) <sip:bob@[^>]*>, replacing Call-ID $consult_id" &&
	has "$TMP/carola.out" 'tone 1000 Hz heard' && has "$TMP/carola.out" 'ended <sip:bob@[^>]*> by remote'
ok_if "att: carol: in a call with bob in the consultation's place, heard his tone, exit 0" $? \
	"$TMP/carola.out"
[ "$(grep -c '^SEND .* | SIP/2.0 180 ' "$TMP/carola.msgs")" = 1 ]
ok_if "att: carol rang for the consultation only, not for the replacement" $? "$TMP/carola.msgs"

# transferred_dial N [--attended]: bob (`sipcx dial`) calls a registered alice (`sipcx answer
# --transfer-to [--attended]`), who transfers him to carol, all through the kamailio on $KV;
# outputs in $TMP/{alice,bob,carol}N.*, check names begin with "N: ". Attended: alice calls
# carol first (the consultation, which rings), then REFERs bob with Replaces naming it; bob's
# INVITE with Replaces reaches carol through kamailio, she hangs the consultation up.
transferred_dial() {
	local n=$1 att=${2:-}
	phone "carol$n" carol --count 1 --expect-tone 1000 ${att:+--ringtime 0.3}
	ok_if "$n: carol registers" $? "$TMP/carol$n.out" "$TMP/carol$n.trace"
	CAROL=$L
	phone "alice$n" alice --count 1 --transfer-to "sip:carol@$KV" --transfer-after 0.5 $att
	ok_if "$n: alice registers (sipcx answer --transfer-to $att)" $? "$TMP/alice$n.out" \
		"$TMP/alice$n.trace"
	timeout 30 "$SIPCX" dial "sip:alice@$KV" --username bob --password bobpw --tone 1000 \
		--duration 3 --trace >"$TMP/bob$n.out" 2>"$TMP/bob$n.trace"
	ok_if "$n: bob, transferred by alice: exit 0" $? "$TMP/bob$n.out" "$TMP/bob$n.trace"
	has "$TMP/bob$n.out" "transferred \(REFER\) to sip:carol@$KV: 200"
	ok_if "$n: bob says he called carol and she answered" $? "$TMP/bob$n.out"
	msgs "$TMP/bob$n.trace" >"$TMP/bob$n.msgs"
	grep "^SEND [^ ]* -> $KV | INVITE sip:carol@$KV " "$TMP/bob$n.msgs" |
		grep -q 'Referred-By: <sip:alice@' &&
		grep -q "^RECV $KV -> [^ ]* | REFER .*vias=2" "$TMP/bob$n.msgs"
	ok_if "$n: alice's REFER came through kamailio; bob's INVITE to carol went to it, Referred-By alice" \
		$? "$TMP/bob$n.msgs"
	[ "$(rc_of "alice$n")" = 0 ] &&
		has "$TMP/alice$n.out" "transferred <sip:bob@[^>]*> to sip:carol@$KV: 200"
	ok_if "$n: alice: the transfer's 200, exit 0" $? "$TMP/alice$n.out"
	[ "$(rc_of "carol$n")" = 0 ] && has "$TMP/carol$n.out" 'tone 1000 Hz heard'
	ok_if "$n: carol: called by bob through kamailio, heard his tone: exit 0" $? "$TMP/carol$n.out"
	[ -n "$att" ] || return 0
	local cid
	cid=$(sed -n 's/.*consultation call to .* answered, Call-ID \(.*\)$/\1/p' "$TMP/alice$n.out")
	[ -n "$cid" ] &&
		has "$TMP/alice$n.out" 'consultation call ended by remote, reason SIP;cause=200;text="replaced"'
	ok_if "$n: alice: her consultation call to carol answered, then hung up by carol (replaced)" \
		$? "$TMP/alice$n.out"
	msgs "$TMP/alice$n.trace" >"$TMP/alice$n.msgs"
	grep '^SEND .* | REFER sip:bob@' "$TMP/alice$n.msgs" | grep "Route: <sip:$KV;lr" |
		grep -q "Refer-To: <sip:carol@$KV?Replaces=$cid%3Bto-tag%3D[^%>]*%3Bfrom-tag%3D[^%>]*>"
	ok_if "$n: alice: the REFER through kamailio, Refer-To carol's AoR with Replaces naming the consultation" \
		$? "$TMP/alice$n.msgs"
	grep "^SEND [^ ]* -> $KV | INVITE sip:carol@$KV " "$TMP/bob$n.msgs" |
		grep "Replaces: $cid;to-tag=" | grep -q 'Require: replaces'
	ok_if "$n: bob: his INVITE to carol went to kamailio with Replaces and Require: replaces" $? \
		"$TMP/bob$n.msgs"
	msgs "$TMP/carol$n.trace" >"$TMP/carol$n.msgs"
	grep "^RECV $KV -> 127.0.0.1:$CAROL | INVITE sip:carol@" "$TMP/carol$n.msgs" |
		grep "Replaces: $cid;to-tag=" | grep 'vias=2' | grep -q "Record-Route: <sip:$KV;lr" &&
		grep "^SEND 127.0.0.1:$CAROL -> $KV | BYE sip:alice@" "$TMP/carol$n.msgs" |
		grep -q 'Reason: SIP;cause=200;text="replaced"' &&
		has "$TMP/carol$n.out" "established \(ACK\) <sip:bob@[^>]*>, replacing Call-ID $cid" &&
		[ "$(grep -c '^SEND .* | SIP/2.0 180 ' "$TMP/carol$n.msgs")" = 1 ]
	ok_if "$n: carol: bob's INVITE with Replaces through kamailio taken without ringing, the consultation hung up (BYE through kamailio)" \
		$? "$TMP/carol$n.msgs" "$TMP/carol$n.out"
}

# --- bob (dial) calls alice (answer), who transfers him to carol. -----------------------------
transferred_dial rev
# --- the same, attended (sipcx answer --attended). ----------------------------------------------
transferred_dial revatt --attended

# --- The same through a kamailio that challenges INVITEs: bob's new INVITE answers the 407. ----
ports K 1
kamailio_start "$K" KAM_INVITE_AUTH=1 || exit 1
KV="127.0.0.1:$K"
transferred_dial auth
got=$(grep -E "^(SEND [^ ]* -> $KV \| INVITE sip:carol@|RECV $KV -> [^ ]* \| SIP/2.0 [0-9]+ .*CSeq: [0-9]+ INVITE)" \
	"$TMP/bobauth.msgs" | sed -n '/INVITE sip:carol@/,$p' |
	sed -E 's/.*\| (INVITE|SIP\/2.0 [0-9]+).*/\1/' | grep -v '^SIP/2.0 100$' | tr '\n' ' ')
[[ "$got" == "INVITE SIP/2.0 407 INVITE SIP/2.0 200 " ]] &&
	grep -A12 '^INVITE sip:carol@' "$TMP/bobauth.trace" |
	grep -q '^Proxy-Authorization: Digest username="bob"'
ok_if "auth: bob's INVITE to carol got 407, was sent again with his digest, then 200 (got: $got)" \
	$? "$TMP/bobauth.msgs"
# Attended: alice's consultation INVITE and bob's INVITE with Replaces both answer the 407.
transferred_dial authatt --attended
n407() { # n407 MSGS: "INVITEs sent to carol, 407s and 200s to INVITEs since the first"
	local m
	m=$(sed -n "/^SEND [^ ]* -> $KV | INVITE sip:carol@/,\$p" "$1")
	echo "$(grep -c "^SEND [^ ]* -> $KV | INVITE sip:carol@" <<<"$m")" \
		"$(grep -c "^RECV .* | SIP/2.0 407 .*CSeq: [0-9]* INVITE" <<<"$m")" \
		"$(grep -c "^RECV .* | SIP/2.0 200 .*CSeq: [0-9]* INVITE" <<<"$m")"
}
a=$(n407 "$TMP/aliceauthatt.msgs")
b=$(n407 "$TMP/bobauthatt.msgs")
[ "$a" = "2 1 1" ] && [ "$b" = "2 1 1" ] &&
	grep -q '^Proxy-Authorization: Digest username="alice"' "$TMP/aliceauthatt.trace" &&
	grep -A14 '^INVITE sip:carol@' "$TMP/bobauthatt.trace" | grep -q '^Proxy-Authorization: Digest username="bob"'
ok_if "authatt: alice's consultation and bob's INVITE with Replaces each got 407 and went again with their digest (alice: $a, bob: $b)" \
	$? "$TMP/aliceauthatt.msgs" "$TMP/bobauthatt.msgs"

if [ -n "${KEEP:-}" ]; then
	mkdir -p "$KEEP"
	cp -r "$TMP"/. "$KEEP"/
	cp "$KAM_DIR/run/kamailio.log" "$KEEP"/ 2>/dev/null
fi
finish
