#!/usr/bin/env bash
# Audio checked against another stack: baresip (headless, tests/peers/baresip) auto-answers
# and sends its 440 Hz tone: `sipcx dial --expect-tone 440` hears it; in its echo mode it
# decodes what it gets and sends it back re-encoded: `--tone 1000 --expect-tone 1000` comes
# back, `--tone 700 --expect-tone 1000` is not taken for it (exit 1).
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need baresip timeout
need_sipcx
baresip_up tone || exit 1
check "baresip's 440 Hz heard" 0 "$SIPCX" dial "sip:carol@127.0.0.1:$BP" --duration 2 \
	--expect-tone 440
expect "says so" 'tone 440 Hz heard: longest 1\.[5-9]|tone 440 Hz heard: longest 2\.'

baresip_up echo --echo || exit 1
check "1000 Hz through baresip's echo: heard" 0 "$SIPCX" dial "sip:carol@127.0.0.1:$BP" \
	--duration 2 --tone 1000 --expect-tone 1000
check "700 Hz through baresip's echo is not 1000 Hz: exit 1" 1 "$SIPCX" dial \
	"sip:carol@127.0.0.1:$BP" --duration 2 --tone 700 --expect-tone 1000
expect "says it was not heard" 'tone 1000 Hz NOT heard'

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
finish
