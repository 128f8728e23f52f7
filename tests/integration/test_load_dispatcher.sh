#!/usr/bin/env bash
# Beyond one process, in a network namespace of its own: three sipcx answer instances, each on
# its own address as if on its own machine, behind kamailio's dispatcher (round-robin, record-
# routing), and two sipcx load instances started together; their --json summaries merged by
# sipcx load --merge. Needs root (ip netns); skipped otherwise.
. "$(dirname "$0")/lib/peers.sh"
need kamailio ip python3 timeout
need_sipcx
[ -e /usr/lib/x86_64-linux-gnu/kamailio/modules/dispatcher.so ] || skip "kamailio's dispatcher module is not installed"
NS=sipcx-lb-$$
ip netns add "$NS" 2>/dev/null || skip "cannot make a network namespace (not root?)"
trap 'cleanup; ip netns del "$NS" 2>/dev/null' EXIT
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up
for i in 1 2 3 4; do nsx ip addr add "10.77.0.$i/32" dev lo; done

# The load balancer on 10.77.0.1, the answerers on .2, .3 and .4 (port 5060 each).
KD=$TMP/lb
mkdir -p "$KD"
printf '1 sip:10.77.0.%s:5060\n' 2 3 4 >"$KD/dispatcher.list"
nsx timeout 120 kamailio -f "$PEERS/kamailio/dispatcher.cfg" -DD -E -w "$KD" -Y "$KD" -P "$KD/pid" \
	-l udp:10.77.0.1:5060 -A "DS_LIST=\"$KD/dispatcher.list\"" \
	-A "CTL_SOCK=\"unix:$KD/ctl\"" -m 128 -M 8 >"$KD/kamailio.log" 2>&1 &
PIDS+=($!)
for i in 2 3 4; do
	(nsx timeout 120 "$SIPCX" answer --listen "udp:10.77.0.$i:5060" --echo --max-calls 500 --json \
		--duration 90 >"$TMP/a$i.out" 2>"$TMP/a$i.err") &
	PIDS+=($!)
done
for i in 2 3 4; do
	wait_for "$TMP/a$i.out" '"event":"listening"' 10 || ok_if "answerer $i up" 1 "$TMP/a$i.err"
done
for ((i = 0; i < 100; i++)); do
	nsx ss -Hlnu 2>/dev/null | grep -q '10.77.0.1:5060' && break
	sleep 0.05
done
ok_if "kamailio listens on 10.77.0.1:5060" "$(nsx ss -Hlnu | grep -q '10.77.0.1:5060'; echo $?)" "$KD/kamailio.log"

# Two generators at once, 150 calls each with RTP and an echo check, through the balancer.
for g in 1 2; do
	(nsx timeout 90 "$SIPCX" load sip:echo@10.77.0.1:5060 --rate 50 --calls 150 --duration 1 \
		--echo-check --json >"$TMP/g$g.json" 2>"$TMP/g$g.err"
	echo $? >"$TMP/g$g.rc") &
	PIDS+=($!)
done
for g in 1 2; do
	wait_for "$TMP/g$g.rc" '^[0-9]+$' 60
	ok_if "generator $g: exit 0" "$(cat "$TMP/g$g.rc" 2>/dev/null)" "$TMP/g$g.err" "$TMP/g$g.json"
done
check "the two summaries merged" 0 "$SIPCX" load --merge --json "$TMP/g1.json" "$TMP/g2.json"
expect "300 attempted, 300 answered, 0 failed" '"runs":2,"attempted":300,"answered":300,"failed":0,'
# Round-robin: each answerer took its third (each established call gets one line).
for i in 2 3 4; do
	n=$(grep -c '"event":"established"' "$TMP/a$i.out")
	ok_if "answerer 10.77.0.$i took 100 of the 300 calls ($n)" "$([ "$n" = 100 ]; echo $?)" "$TMP/a$i.out"
done
# ACK and BYE came through the balancer (Record-Route): every call ended by the caller's BYE.
bye=$(cat "$TMP"/a[234].out | grep -c '"event":"hangup".*"side":"remote"')
ok_if "300 BYEs reached the answerers through kamailio ($bye)" "$([ "$bye" = 300 ]; echo $?)"
finish
