#!/usr/bin/env bash
# sipcx registrar as registrar + proxy for SIPp: a SIPp UAS registers as bob, a SIPp UAC calls bob through it (INVITE, ACK, RTP, BYE).
. "$(dirname "$0")/lib/peers.sh"
need sipp ss timeout
need_sipcx
P=$(free_port 12) || skip "no free port"
R=$P S=$((P + 1)) SM=$((P + 2)) RP=$((P + 5)) C=$((P + 6)) CM=$((P + 8))
SIPP=$PEERS/sipp


"$SIPCX" registrar --listen "udp:127.0.0.1:$R tcp:127.0.0.1:$R" --user alice:alicepw \
	--user bob:bobpw --min-expires 5 >"$TMP/registrar.out" 2>&1 &
REG=$!
PIDS+=("$REG")
wait_for "$TMP/registrar.out" '^listening on' 5 || { cat "$TMP/registrar.out"; exit 1; }

# The callee: SIPp answering calls on S (RTP echo on SM).
(cd "$SIPP" && exec timeout 60 sipp -sf uas_answer.xml -i 127.0.0.1 -mi 127.0.0.1 -p "$S" \
	-mp "$SM" -rtp_echo -m 1 -timeout 30s -timeout_error -nostdin >"$TMP/uas.log" 2>&1) &
UAS=$!
PIDS+=("$UAS")
wait_listen udp "$S" || exit 1

# bob registers the callee's address (SIPp's own REGISTER with digest).
(cd "$SIPP" && timeout 30 sipp -sf uac_register.xml "127.0.0.1:$R" -i 127.0.0.1 -p "$RP" -s bob \
	-au bob -ap bobpw -key expires 60 -key contact_port "$S" -m 1 -timeout 10s -timeout_error \
	-nostdin >"$TMP/register.log" 2>&1)
ok_if "SIPp registers bob (401, digest, 200)" "$?" "$TMP/register.log" "$TMP/registrar.out"
ok_if "registrar bound bob to the UAS" \
	"$(grep -qE "bound bob sip:bob@127.0.0.1:$S;transport=UDP expires 60 s" "$TMP/registrar.out"; echo $?)" \
	"$TMP/registrar.out"

# alice calls bob at the registrar: routed to the binding, record-routed, BYE through the proxy.
(cd "$SIPP" && timeout 40 sipp -sf uac_call.xml "127.0.0.1:$R" -i 127.0.0.1 -mi 127.0.0.1 -p "$C" \
	-mp "$CM" -s bob -key caller alice -d 500 -m 1 -timeout 20s -timeout_error \
	-nostdin >"$TMP/uac.log" 2>&1)
ok_if "the call through the registrar completes (UAC)" "$?" "$TMP/uac.log" "$TMP/registrar.out"
wait "$UAS"
ok_if "the callee saw INVITE, ACK and BYE (UAS)" "$?" "$TMP/uas.log"
for m in INVITE ACK BYE; do
	ok_if "registrar routed $m" \
		"$(grep -qE "routed $m from udp:127.0.0.1:[0-9]+ -> sip:" "$TMP/registrar.out"; echo $?)" \
		"$TMP/registrar.out"
done
ok_if "INVITE went to bob's Contact" \
	"$(grep -qE "routed INVITE from udp:127.0.0.1:$C -> sip:bob@127.0.0.1:$S" "$TMP/registrar.out"; echo $?)" \
	"$TMP/registrar.out"

# Nobody registered as alice: a call to her gets 404 from the registrar, as for an unknown user.
# (run in $TMP: -trace_err writes its log in the working directory)
ln -s "$SIPP/media" "$TMP/media"
(cd "$TMP" && timeout 30 sipp -sf "$SIPP/uac_call.xml" "127.0.0.1:$R" -i 127.0.0.1 -mi 127.0.0.1 \
	-p "$C" -mp "$CM" -s alice -key caller bob -d 100 -m 1 -timeout 10s -timeout_error \
	-trace_err -nostdin >"$TMP/uac480.log" 2>&1)
ok_if "a call to a user without binding fails" "$([ $? != 0 ]; echo $?)" "$TMP/uac480.log"
ok_if "with 404 (as for an unknown user: no enumeration)" "$(cat "$TMP"/*errors.log 2>/dev/null | grep -q "404 Not Found"; echo $?)" \
	"$TMP/uac480.log"

interrupt "$REG"
ok_if "registrar exits 0" "$?" "$TMP/registrar.out"
finish
