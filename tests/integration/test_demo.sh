#!/usr/bin/env bash
# make demo's flow keeps working: scripts/demo.sh on this build shows the seed's whole flow
# (registration, a call answered with its RTP echoed, BYE, unregistration) and checks each step.
set -u
out=$(mktemp)
trap 'rm -f "$out"' EXIT
pass=0
fail=0
timeout 60 bash "${SIPCX_SOURCE:?}/scripts/demo.sh" "${SIPCX_BIN:?}" >"$out" 2>&1
rc=$?
[ $rc -eq 0 ] && pass=$((pass + 1)) || { echo "FAIL: demo exit $rc"; fail=$((fail + 1)); }
for want in 'SIP/2.0 401 Unauthorized' 'Authorization: Digest' 'SIP/2.0 180 Ringing' \
	'ACK sip:alice@' 'echo ok: ' 'BYE sip:alice@' 'Expires: 0' 'unregistered' \
	'every step of the flow happened'; do
	if grep -q -- "$want" "$out"; then pass=$((pass + 1)); else
		echo "FAIL: demo output lacks '$want'"
		fail=$((fail + 1))
	fi
done
[ $fail -eq 0 ] || cat "$out"
echo "test_demo: $pass passed, $fail failed"
[ $fail -eq 0 ]
