#!/usr/bin/env bash
# Proves the SIPp scenarios of this folder against each other on loopback, without sipcx: each
# row starts a UAS scenario, runs a UAC scenario at it, and compares both exit codes with the
# expected ones (rows marked "must fail" prove that a check of the scenario bites).
# usage: tests/peers/sipp/prove.sh [-l] [NAME...]
#   -l     print each row as the two commands to run by hand (fixed ports) and exit
#   NAME   run only these rows (default: all, about 40 s)
# Each SIPp is bounded: timeout 60, -timeout 30s -timeout_error, -m 1. Ports come from
# free_port (tests/integration/lib/peers.sh). Prints ok/FAIL per row and the SIPp output of a
# failed row; exit 0 when every row gave the expected exit codes.
set -u
. "$(cd "$(dirname "$0")" && pwd)/../../integration/lib/peers.sh"
need sipp ss timeout

# name | UAS scenario and arguments | UAC scenario and arguments | UAS exit | UAC exit
ROWS=(
	"answer|uas_answer.xml -rtp_echo|uac_call.xml -d 1000|0|0"
	"late-180|helper_uas_late180.xml -rtp_echo|uac_call.xml -d 500|0|0"
	"early-183|uas_183_early.xml -rtp_echo -d 500|uac_call.xml -d 500|0|0"
	"callee-bye|uas_answer_bye.xml -rtp_echo -d 500|helper_uac_remote_bye.xml|0|0"
	"auth-401|uas_auth_401.xml -rtp_echo -key authuser alice -key authpass alicepw|uac_call.xml -d 200 -au alice -ap alicepw|0|0"
	"auth-401-wrong-password|uas_auth_401.xml -key authuser alice -key authpass alicepw|uac_call.xml -d 200 -au alice -ap wrong|1|1"
	"auth-407|uas_auth_407.xml -rtp_echo -key authuser alice -key authpass alicepw|uac_call.xml -d 200 -au alice -ap alicepw|0|0"
	"cancel|uas_ring_noanswer.xml|uac_cancel.xml -d 500|0|0"
	"reject-486|uas_busy.xml|uac_reject.xml -key code 486|0|0"
	"reject-code-mismatch|uas_busy.xml|uac_reject.xml -key code 603|0|1"
	"late-offer|uas_late_offer.xml -rtp_echo|uac_late_offer.xml -d 500|0|0"
	"late-offer-given-an-offer|uas_late_offer.xml|uac_call.xml -d 200|1|0"
	"answer-without-sdp|uas_answer_nosdp.xml|uac_call.xml -d 200|0|0"
	"callee-holds|uas_reinvite.xml -rtp_echo -d 500|helper_uac_hold_answer.xml -d 200|0|0"
	"caller-holds-resumes|helper_uas_mirror.xml -rtp_echo|uac_reinvite_hold.xml -d 500|0|0"
	"no-ack-bye|helper_uas_no_ack_bye.xml -d 1000|uac_no_ack.xml -key bye_wait_ms 5000|0|0"
	"no-ack-bye-too-late|helper_uas_no_ack_bye.xml -d 1000|uac_no_ack.xml -key bye_wait_ms 1000|0|1"
	"options-in-dialog|helper_uas_dialog.xml|uac_options_in_dialog.xml -d 200|0|0"
	"bye-wrong-to-tag|helper_uas_dialog.xml|uac_bad_dialog.xml -d 200|0|0"
	"transfer|uas_refer.xml -rtp_echo -key refer_to sip:carol@127.0.0.1:5999 -d 300|uac_transferee.xml|0|0"
)

list=0
[ "${1:-}" = -l ] && list=1 && shift
want=" $* "
pass=0
fail=0
for row in "${ROWS[@]}"; do
	IFS='|' read -r name uas uac wuas wuac <<<"$row"
	[ $# -gt 0 ] && [ "${want/ $name /}" = "$want" ] && continue
	read -ra ua <<<"$uas"
	read -ra ca <<<"$uac"
	if [ $list = 1 ]; then
		# The same commands with fixed ports, to run by hand from this folder.
		echo "$name: UAS exit $wuas, UAC exit $wuac"
		echo "  timeout 60 sipp -sf $uas -i 127.0.0.1 -mi 127.0.0.1 -p 5100 -mp 5102 -m 1 -timeout 30s -timeout_error -nostdin &"
		echo "  timeout 60 sipp -sf $uac 127.0.0.1:5100 -i 127.0.0.1 -mi 127.0.0.1 -p 5106 -mp 5108 -s bob -key caller alice -m 1 -timeout 30s -timeout_error -nostdin"
		continue
	fi
	# SIP on P (UAS) and P+6 (UAC); RTP on P+2, P+8 (-rtp_echo also binds P+4, P+10).
	P=$(free_port 12) || skip "no free ports"
	sipp_bg "$name-uas" -sf "${ua[@]}" -i 127.0.0.1 -mi 127.0.0.1 -p "$P" -mp $((P + 2)) \
		-m 1 -timeout 30s -timeout_error -trace_logs -log_file "$TMP/$name-uas.actions"
	uas_pid=$SIPP_PID
	if ! wait_listen udp "$P" 2>/dev/null; then
		kill "$uas_pid" 2>/dev/null
	fi
	sipp_fg "$name-uac" -sf "${ca[@]}" "127.0.0.1:$P" -i 127.0.0.1 -mi 127.0.0.1 -p $((P + 6)) \
		-mp $((P + 8)) -s bob -key caller alice -m 1 -timeout 30s -timeout_error \
		-trace_logs -log_file "$TMP/$name-uac.actions"
	rc_uac=$?
	wait "$uas_pid"
	rc_uas=$?
	if [ "$rc_uas" = "$wuas" ] && [ "$rc_uac" = "$wuac" ]; then
		pass=$((pass + 1))
		echo "ok - $name (UAS exit $rc_uas, UAC exit $rc_uac)"
	else
		fail=$((fail + 1))
		echo "FAIL - $name: UAS exit $rc_uas (want $wuas), UAC exit $rc_uac (want $wuac)"
		for f in "$TMP/$name-uas.log" "$TMP/$name-uac.log"; do
			echo "  --- $(basename "$f")"
			grep -vE '^ *$|^-+|Scenario Screen|^ +\[' "$f" | head -20 | sed 's/^/    /'
		done
	fi
	# What the scenarios' <log> actions said (the checked values).
	cat "$TMP/$name-uas.actions" "$TMP/$name-uac.actions" 2>/dev/null | sed 's/^/    # /'
done
[ $list = 1 ] && exit 0
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
