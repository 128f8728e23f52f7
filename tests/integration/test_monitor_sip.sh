#!/usr/bin/env bash
# scripts/monitor_sip.sh: its usage errors and exit codes always; then, as root with tcpdump,
# real captures on loopback while `sipcx options` pings a `sipcx registrar`: tcpdump's text,
# --write FILE (read back with tcpdump -r), --tshark (one line per message), each stopped by
# --count; the OPTIONS and its 200 OK must show in each. Skipped (77) when it cannot capture.
set -u
. "$(dirname "$0")/lib/peers.sh"
MON=$SIPCX_SOURCE/scripts/monitor_sip.sh
need timeout ss

check "bash -n monitor_sip.sh" 0 bash -n "$MON"
check "--help" 0 bash "$MON" --help
expect "--help shows the usage" 'Usage: .*monitor_sip.sh .*SIP_SERVER.*INTERFACE.*PORT'
expect "--help lists the exit codes" 'Exit codes: 0 .*'
check "an unknown option" 2 bash "$MON" --bogus
expect "an unknown option is named" "unknown option '--bogus'"
check "a bad port" 2 bash "$MON" any lo 70000
expect "a bad port is named" "PORT '70000'"
check "--count 0" 2 bash "$MON" any lo 5060 --count 0
check "--write without a file" 2 bash "$MON" --write
check "too many arguments" 2 bash "$MON" any lo 5060 5061
check "a server that is not a host" 2 bash "$MON" 'host x or' lo
mkdir -p "$TMP/empty"
check "no tcpdump on PATH" 3 env PATH="$TMP/empty" "$BASH" "$MON" any lo 5060
expect "no tcpdump: how to install it" 'tcpdump not found \(apt-get install tcpdump\)'
check "no tshark on PATH" 3 env PATH="$TMP/empty" "$BASH" "$MON" --tshark
expect "no tshark: how to install it" 'tshark not found \(apt-get install tshark\)'

# Without the capability (an unprivileged user, no capabilities): exit 4, said in one line.
if [ "$(id -u)" = 0 ] && command -v tcpdump >/dev/null && command -v setpriv >/dev/null; then
	pub=$(mktemp -d "${TMPDIR:-/tmp}/sipcx-mon.XXXXXX")
	chmod 755 "$pub"
	cp "$MON" "$pub/monitor_sip.sh"
	chmod 755 "$pub/monitor_sip.sh"
	check "not root, no cap_net_raw" 4 setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all "$pub/monitor_sip.sh" any lo 5060 --count 1
	expect "no permission: one clear line" 'capturing needs root or cap_net_raw'
	rm -rf "$pub"
fi

if [ "$FAILS" != 0 ]; then
	finish
	exit 1
fi
[ "$(id -u)" = 0 ] || skip "not root: the live captures need root (the usage checks passed)"
command -v tcpdump >/dev/null || skip "tcpdump is not installed (scripts/deps.sh test installs it)"
need_sipcx

check "no such interface: the capture fails" 1 bash "$MON" any nosuchif0 5060 --count 1

ports P 1
"$SIPCX" registrar --listen "udp:127.0.0.1:$P" --duration 120 >"$TMP/registrar.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/registrar.out" '^listening on' 10 || {
	cat "$TMP/registrar.out"
	echo "FAIL - the registrar did not start"
	exit 1
}

# capture NAME READY ARGS...: monitor_sip.sh ARGS in the background (bounded), output in
# $TMP/NAME.out and .err; once READY shows on its stderr, one OPTIONS ping after another until
# it stops by itself (--count). Sets RC to its exit code.
capture() {
	local name=$1 ready=$2 pid i
	shift 2
	timeout 30 bash "$MON" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	pid=$!
	PIDS+=("$pid")
	if ! wait_for "$TMP/$name.err" "$ready" 15; then
		echo "  $name: no '$ready' from the capture"
	fi
	# The first ping may go out before the capture really runs: ping until it has enough.
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		"$SIPCX" options --timeout 1s "sip:127.0.0.1:$P" >>"$TMP/$name.pings" 2>&1
		sleep 0.1
	done
	RC=0
	wait "$pid" || RC=$?
}

capture text 'listening on' any lo "$P" --count 2
ok_if "tcpdump text: exit 0 after --count 2 (got $RC)" "$RC" "$TMP/text.err"
grep -aq "OPTIONS sip:127.0.0.1:$P SIP/2.0" "$TMP/text.out"
ok_if "tcpdump text: the OPTIONS request" $? "$TMP/text.out"
grep -aq 'SIP/2.0 200 OK' "$TMP/text.out"
ok_if "tcpdump text: its 200 OK" $? "$TMP/text.out"
grep -q "filter 'port $P'" "$TMP/text.err"
ok_if "tcpdump text: says its filter" $? "$TMP/text.err"

capture write 'listening on' 127.0.0.1 lo "$P" --count 2 --write "$TMP/sip.pcap"
ok_if "--write: exit 0 after --count 2 (got $RC)" "$RC" "$TMP/write.err"
grep -q "filter 'port $P and host 127.0.0.1'" "$TMP/write.err"
ok_if "--write with a server: filter on its host" $? "$TMP/write.err"
[ ! -s "$TMP/write.out" ]
ok_if "--write: nothing printed" $? "$TMP/write.out"
tcpdump -r "$TMP/sip.pcap" -n -A >"$TMP/read.out" 2>&1
grep -aq "OPTIONS sip:127.0.0.1:$P" "$TMP/read.out" && grep -aq 'SIP/2.0 200 OK' "$TMP/read.out"
ok_if "--write: the pcap has the OPTIONS and its 200 OK" $? "$TMP/read.out"

if command -v tshark >/dev/null; then
	# tshark says 'Capture started' once its capture child runs.
	capture tshark 'Capture started' --tshark any lo "$P" --count 2
	ok_if "--tshark: exit 0 after --count 2 (got $RC)" "$RC" "$TMP/tshark.err"
	# time source destination OPTIONS CSeq Call-ID, then time source destination 200 CSeq Call-ID
	grep -Eq '^[0-9.]+ 127\.0\.0\.1 +127\.0\.0\.1 +OPTIONS +1 OPTIONS [^ ]+$' "$TMP/tshark.out"
	ok_if "--tshark: a line for the OPTIONS" $? "$TMP/tshark.out"
	grep -Eq '^[0-9.]+ 127\.0\.0\.1 +127\.0\.0\.1 +200 1 OPTIONS [^ ]+$' "$TMP/tshark.out"
	ok_if "--tshark: a line for its 200" $? "$TMP/tshark.out"
else
	echo "ok - --tshark # SKIP tshark is not installed"
fi

finish
