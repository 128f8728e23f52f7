#!/usr/bin/env bash
# sipcx parse: exit codes, summary, JSON, and the RFC 4475 verdicts (corpus read when present).
set -u
bin="${SIPCX_BIN:?}/sipcx"
src="${SIPCX_SOURCE:?}"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Our own vectors are well-formed: exit 0, the summary names each header canonically.
for f in "$src"/tests/data/*.sip; do
	if "$bin" parse "$f" >"$tmp/out" 2>"$tmp/err"; then ok; else bad "$f: exit $?: $(cat "$tmp/err")"; fi
	grep -q '^body: [0-9]* bytes$' "$tmp/out" && ok || bad "$f: no body line"
done
# Compact forms are shown with their canonical names.
"$bin" parse "$src/tests/data/msg_compact.sip" >"$tmp/out"
grep -q '^  Call-ID: ' "$tmp/out" && grep -q '^  Via: ' "$tmp/out" && ok || bad "compact forms not canonical"

# --json is one valid JSON object with the headers in order.
if command -v python3 >/dev/null; then
	"$bin" parse --json "$src/tests/data/msg_invite_sdp.sip" >"$tmp/json"
	python3 - "$tmp/json" <<'PY' && ok || bad "json output"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["valid"] is True and d["type"] == "request" and d["method"] == "INVITE", d
names = [h["name"] for h in d["headers"]]
assert names[0] == "Via" and "CSeq" in names and d["body_length"] > 0, names
PY
fi

# A broken message: exit 1 and one line on stderr with the byte offset.
printf 'INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 4294967328\r\n\r\n' >"$tmp/big"
"$bin" parse "$tmp/big" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && ok || bad "overflowing Content-Length: exit $rc"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'offset [0-9]*: ' "$tmp/err" && ok || bad "error line: $(cat "$tmp/err")"
# Same message from stdin.
"$bin" parse - <"$tmp/big" >/dev/null 2>&1
[ $? -eq 1 ] && ok || bad "stdin"

# Usage errors: exit 2 with one line.
"$bin" parse --bogus 2>"$tmp/err"
[ $? -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && ok || bad "unknown option"
"$bin" parse /nonexistent/file 2>"$tmp/err"
[ $? -eq 2 ] && ok || bad "missing file"
"$bin" bogus-command 2>/dev/null
[ $? -eq 2 ] && ok || bad "unknown command"

# Smuggling: a bare CR inside a header value is refused (400), exit 1.
printf 'OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKsm1\r\nMax-Forwards: 70\r\nTo: <sip:a@127.0.0.1>\r\nFrom: <sip:b@127.0.0.1>;tag=1\r\nCall-ID: sm1\r\nCSeq: 1 OPTIONS\r\nX-Note: a\rRoute: <sip:x.invalid;lr>\r\nContent-Length: 0\r\n\r\n' >"$tmp/sm.sip"
"$bin" parse --json "$tmp/sm.sip" >"$tmp/json" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q '"status":400,' "$tmp/json" && ok || bad "bare CR in a header: exit $rc, $(cat "$tmp/json")"
# A folded value reads as one space, in the summary and in --json.
printf 'OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKf1\r\nTo: <sip:a@127.0.0.1>\r\nFrom: <sip:b@127.0.0.1>;tag=1\r\nCall-ID: f1\r\nCSeq: 1 OPTIONS\r\nSubject: one \r\n\t two\r\nContent-Length: 0\r\n\r\n' >"$tmp/fold.sip"
"$bin" parse --json "$tmp/fold.sip" | grep -q '"value":"one two"' && ok || bad "a fold in --json is not one space: $("$bin" parse --json "$tmp/fold.sip")"
"$bin" parse "$tmp/fold.sip" | grep -q '^  Subject: one two$' && ok || bad "a fold in the summary is not one space"

# RFC 4475: valid ones accepted; invalid ones rejected with the response the RFC names.
dir="${SIPCX_RFC4475_DIR:-}"
if [ -n "$dir" ] && [ -f "$dir/MANIFEST.tsv" ]; then
	# file -> expected: 0 (accept), or "1:STATUS" (reject with STATUS), or "1:drop"
	declare -A want=(
		[badinv01.dat]=1:400 [clerr.dat]=1:400 [ncl.dat]=1:400 [scalar02.dat]=1:400
		[scalarlg.dat]=1:drop [quotbal.dat]=1:400 [ltgtruri.dat]=1:400 [lwsruri.dat]=1:400
		[lwsstart.dat]=1:400 [trws.dat]=1:400 [escruri.dat]=1:400 [regbadct.dat]=1:400
		[badaspec.dat]=1:400 [baddn.dat]=1:400 [badvers.dat]=1:505 [mismatch01.dat]=1:400
		[mismatch02.dat]=1:400 [bigcode.dat]=1:drop [multi01.dat]=1:400 [mcl01.dat]=1:400
		[insuf.dat]=1:400 [unkscm.dat]=1:416 [novelsc.dat]=1:416
	)
	while IFS=$'\t' read -r file _ _ class _; do
		[ "$file" = file ] && continue
		case "$class" in unreferenced) continue ;; esac
		exp="${want[$file]:-0}"
		"$bin" parse --json "$dir/$file" >"$tmp/json" 2>"$tmp/err"
		rc=$?
		if [ "$exp" = 0 ]; then
			[ $rc -eq 0 ] && ok || bad "$file ($class): exit $rc: $(cat "$tmp/err")"
			continue
		fi
		[ $rc -eq 1 ] || { bad "$file ($class): exit $rc, want 1"; continue; }
		if [ "${exp#1:}" = drop ]; then
			grep -q '"action":"drop"' "$tmp/json" && ok || bad "$file: not dropped: $(cat "$tmp/err")"
		else
			grep -q "\"status\":${exp#1:}," "$tmp/json" && ok || bad "$file: want ${exp#1:}: $(cat "$tmp/err")"
		fi
	done <"$dir/MANIFEST.tsv"
else
	echo "skipped RFC 4475 part: corpus not found (SIPCX_RFC4475_DIR=${dir:-unset})"
fi

echo "test_cli_parse: $pass passed, $fail failed"
[ $fail -eq 0 ]
