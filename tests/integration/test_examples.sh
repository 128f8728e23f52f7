#!/usr/bin/env bash
# The examples work as their comments say: example_register registers with the embedded
# registrar, stays registered, and unregisters (Expires: 0) at SIGINT.
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
"$bin/sipcx" registrar --listen "udp:127.0.0.1:$port" --user alice:alicepw --duration 30 \
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

echo "test_examples: $pass passed, $fail failed"
[ $fail -eq 0 ]
