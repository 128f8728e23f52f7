#!/usr/bin/env bash
# The examples work as their comments say: example_register registers with the embedded
# registrar, stays registered, and unregisters (Expires: 0) at SIGINT; example_dial calls
# example_answer (180, 200 after a second, BYE); example_echome echoes RTP read and written
# by its own thread (sipcx dial --echo-check proves it); example_client registers to the
# embedded registrar, answers a call routed through it, and unregisters at SIGTERM.
set -u
bin="${SIPCX_BIN:?}"
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}
# Wait (bounded) until a file has a line matching a pattern.
wait_for() { timeout 10 bash -c "until grep -q -- '$2' '$1' 2>/dev/null; do sleep 0.05; done"; }

port=$((20000 + $$ % 20000))
"$bin/sipcx" registrar --listen "udp:127.0.0.1:$port" --user alice:alicepw --duration 120 \
	>"$tmp/registrar.log" 2>&1 &
pids+=($!)
wait_for "$tmp/registrar.log" 'listening' || { bad "registrar did not start: $(cat "$tmp/registrar.log")"; }

# Wrong password: exit 1 with the reason.
"$bin/example_register" "sip:127.0.0.1:$port" alice wrong >"$tmp/bad.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'authentication failed' "$tmp/bad.out" && ok || bad "wrong password: exit $rc: $(cat "$tmp/bad.out")"

"$bin/example_register" "sip:127.0.0.1:$port" alice alicepw >"$tmp/ex.out" 2>&1 &
ex=$!
pids+=($ex)
wait_for "$tmp/ex.out" '^registered: ' && ok || bad "not registered: $(cat "$tmp/ex.out")"
grep -q 'for 1800 s' "$tmp/ex.out" && ok || bad "granted expiry: $(cat "$tmp/ex.out")"
wait_for "$tmp/registrar.log" 'bound' && ok || bad "registrar saw no binding: $(cat "$tmp/registrar.log")"
kill -INT "$ex"
timeout 10 tail --pid="$ex" -f /dev/null
wait "$ex"
rc=$?
[ $rc -eq 0 ] && ok || bad "example exit $rc after SIGINT"
wait_for "$tmp/registrar.log" 'removed' && ok || bad "binding not removed: $(cat "$tmp/registrar.log")"

# example_dial -> example_answer: the answerer rings a second, answers; the caller hangs up.
ap=$((port + 2))
"$bin/example_answer" "udp:127.0.0.1:$ap" >"$tmp/answer.out" 2>&1 &
an=$!
pids+=($an)
wait_for "$tmp/answer.out" 'listening' || bad "example_answer did not start"
timeout 30 "$bin/example_dial" "sip:bob@127.0.0.1:$ap" 1 >"$tmp/dial.out" 2>&1
rc=$?
wait_for "$tmp/answer.out" '^ended by remote' && ok || bad "example_answer: $(cat "$tmp/answer.out")"
grep -q '^answered: 200 OK, PCMU' "$tmp/dial.out" && ok || bad "example_dial: $(cat "$tmp/dial.out")"
[ $rc -eq 0 ] && ok || bad "example_dial exit $rc"

# example_echome + sipcx dial --echo-check: RTP through the user thread's read/write.
ep=$((port + 4))
"$bin/example_echome" "udp:127.0.0.1:$ep" >"$tmp/echome.out" 2>&1 &
em=$!
pids+=($em)
wait_for "$tmp/echome.out" 'listening' || bad "example_echome did not start"
timeout 30 "$bin/sipcx" dial "sip:echo@127.0.0.1:$ep" --duration 1 --echo-check >"$tmp/check.out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q 'echo ok' "$tmp/check.out" && ok || bad "echo check through example_echome: exit $rc: $(cat "$tmp/check.out")"
wait_for "$tmp/echome.out" 'packets echoed' && ok || bad "example_echome: $(cat "$tmp/echome.out")"
kill -INT "$em"
timeout 10 tail --pid="$em" -f /dev/null
wait "$em"
rc=$?
[ $rc -eq 0 ] && ok || bad "example_echome exit $rc after SIGINT"

# example_client: registered to the embedded registrar, answers a call routed to it, unregisters.
# (example_register bound alice before: wait for one more binding, not for the first line)
bound_before=$(grep -c 'bound alice' "$tmp/registrar.log")
SIP_SERVER="127.0.0.1:$port" SIP_USERNAME=alice SIP_PASSWORD=alicepw "$bin/example_client" \
	>"$tmp/client.out" 2>&1 &
cl=$!
pids+=($cl)
for ((i = 0; i < 200; i++)); do
	[ "$(grep -c 'bound alice' "$tmp/registrar.log")" -gt "$bound_before" ] && break
	sleep 0.05
done
[ "$(grep -c 'bound alice' "$tmp/registrar.log")" -gt "$bound_before" ] ||
	bad "example_client did not register: $(cat "$tmp/client.out")"
timeout 30 "$bin/sipcx" dial "sip:alice@127.0.0.1:$port" --duration 0.5 >"$tmp/cd.out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || bad "call to example_client via the registrar: exit $rc: $(cat "$tmp/cd.out")"
wait_for "$tmp/client.out" 'call over' && ok || bad "example_client: $(cat "$tmp/client.out")"
kill -TERM "$cl"
timeout 10 tail --pid="$cl" -f /dev/null
wait "$cl"
rc=$?
[ $rc -eq 0 ] && ok || bad "example_client exit $rc after SIGTERM"
wait_for "$tmp/registrar.log" 'removed alice' && ok || bad "example_client's binding not removed: $(tail -3 "$tmp/registrar.log")"

echo "test_examples: $pass passed, $fail failed"
[ $fail -eq 0 ]
