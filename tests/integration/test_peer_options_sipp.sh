#!/usr/bin/env bash
# sipcx options against SIPp UASes (answering, silent, malformed), and the engine answering SIPp's OPTIONS.
. "$(dirname "$0")/lib/peers.sh"
need sipp ss timeout
need_sipcx
ENGINE=$SIPCX_BIN/bench/bench_options
S=$PEERS/sipp
P=$(free_port 12) || skip "no free ports"

# 1. sipcx options -> SIPp UAS, UDP and TCP, IPv4 and IPv6.
fams=(4)
have_ipv6 && fams+=(6)
port=$P
for fam in "${fams[@]}"; do
	for tp in udp tcp; do
		ip=127.0.0.1
		host=127.0.0.1
		if [ "$fam" = 6 ]; then
			ip=::1
			host='[::1]'
		fi
		targ=()
		[ "$tp" = tcp ] && targ=(-t t1)
		sipp_bg "uas-$fam-$tp" -sf "$S/uas_options.xml" -i "$ip" -p "$port" "${targ[@]}" \
			-m 1 -timeout 30s -timeout_error
		wait_listen "$tp" "$port" || exit 1
		check "options IPv$fam $tp -> SIPp UAS" 0 "$SIPCX" options --transport "$tp" "sip:$host:$port"
		expect "IPv$fam $tp: status line and rtt" '^SIP/2.0 200 OK  rtt [0-9.]+ ms$'
		port=$((port + 1))
	done
done

# 2. A peer that never answers: the timeout exit code after Timer F (64*T1 = 3.2 s with T1 50 ms).
sipp_bg silent -sf "$S/uas_options_silent.xml" -i 127.0.0.1 -p "$port" -d 10000 -m 1 -timeout 30s
wait_listen udp "$port" || exit 1
start=$(date +%s%N)
check "options -> silent peer: timeout" 3 "$SIPCX" options --t1 50ms "sip:127.0.0.1:$port"
expect "silent: says timeout" '^timeout: no final response \(Timer F'
ms=$((($(date +%s%N) - start) / 1000000))
CHECKS=$((CHECKS + 1))
if [ "$ms" -ge 3000 ] && [ "$ms" -lt 10000 ]; then
	echo "ok - Timer F fired after $ms ms"
else
	echo "FAIL - Timer F after $ms ms, want 3200"
	FAILS=$((FAILS + 1))
fi
# --timeout gives up earlier than Timer F.
port=$((port + 1))
sipp_bg silent2 -sf "$S/uas_options_silent.xml" -i 127.0.0.1 -p "$port" -d 10000 -m 1 -timeout 30s
wait_listen udp "$port" || exit 1
check "options --timeout 300ms -> silent peer" 3 "$SIPCX" options --timeout 300ms "sip:127.0.0.1:$port"
expect "--timeout: says timeout" '^timeout: no final response in 300 ms'

# 3. Malformed responses are dropped, no crash; the good one after them counts.
port=$((port + 1))
sipp_bg junk -sf "$S/uas_options_malformed.xml" -i 127.0.0.1 -p "$port" -m 1 -timeout 30s
wait_listen udp "$port" || exit 1
check "options -> malformed responses" 0 "$SIPCX" options --t1 50ms "sip:127.0.0.1:$port"
expect "malformed: only the good 200 taken" '^SIP/2.0 200 Good After Junk  rtt'

# 4. The engine answers OPTIONS sent by SIPp (UDP, TCP, IPv6).
if [ ! -x "$ENGINE" ]; then
	echo "# no $ENGINE (built with SIPCX_BUILD_BENCH=ON): engine-as-server part not run"
else
	listen="udp:127.0.0.1:0 tcp:127.0.0.1:0"
	have_ipv6 && listen="$listen udp:[::1]:0"
	timeout 120 "$ENGINE" --listen "$listen" >"$TMP/engine.out" 2>&1 &
	EPID=$!
	PIDS+=($EPID)
	for _ in $(seq 1 50); do
		[ "$(grep -c '^listening' "$TMP/engine.out")" -ge 2 ] && break
		sleep 0.1
	done
	eu=$(awk '/^listening udp:127/{n=split($2,a,":"); print a[n]}' "$TMP/engine.out")
	et=$(awk '/^listening tcp:127/{n=split($2,a,":"); print a[n]}' "$TMP/engine.out")
	e6=$(awk '/^listening udp:\[/{n=split($2,a,":"); print a[n]}' "$TMP/engine.out")
	port=$((port + 1))
	check "SIPp OPTIONS x20 -> engine (UDP)" 0 timeout 30 sipp -sf "$S/uac_options.xml" "127.0.0.1:$eu" \
		-i 127.0.0.1 -p "$port" -m 20 -r 200 -timeout 20s -timeout_error -nostdin
	expect "SIPp: 20 successful" 'Successful call +\| +[0-9]+ +\| +20'
	port=$((port + 1))
	check "SIPp OPTIONS x20 -> engine (TCP)" 0 timeout 30 sipp -sf "$S/uac_options.xml" "127.0.0.1:$et" \
		-t t1 -i 127.0.0.1 -p "$port" -m 20 -r 200 -timeout 20s -timeout_error -nostdin
	if [ -n "$e6" ]; then
		port=$((port + 1))
		check "SIPp OPTIONS x5 -> engine (IPv6)" 0 timeout 30 sipp -sf "$S/uac_options.xml" "[::1]:$e6" \
			-i ::1 -p "$port" -m 5 -timeout 20s -timeout_error -nostdin
	fi
	# sipcx options against the engine too: both ends ours.
	check "options -> engine" 0 "$SIPCX" options "sip:127.0.0.1:$eu"
	expect "engine: 200" '^SIP/2.0 200 OK  rtt'
	kill -TERM "$EPID"
	wait "$EPID"
	CHECKS=$((CHECKS + 1))
	if grep -q '^requests [0-9]' "$TMP/engine.out"; then
		echo "ok - engine exited cleanly: $(tail -1 "$TMP/engine.out")"
	else
		echo "FAIL - engine output: $(cat "$TMP/engine.out")"
		FAILS=$((FAILS + 1))
	fi
fi
finish
