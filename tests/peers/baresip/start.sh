#!/bin/bash
# Start a headless baresip (Debian baresip-core 1.0.0) answering calls on 127.0.0.1, in the background.
# usage: start.sh [--port N] [--echo|--manual] [--register] [--accounts F] [--ctrl N] [--cons N]
#                 [--rtp LO-HI] [--codecs LIST] [--rtcp-mux] [--tls-cert F] [--tls-ca F]
#                 [--record DIR] [--run DIR]
#   --port N      SIP port, UDP and TCP (default 5070)
#   --echo        the echo module answers and loops each call's received audio back
#                 (default: answermode=auto, a 440 Hz sine is sent, received audio goes to a
#                 silent aubridge sink)
#   --manual      answermode=manual: rings (180) forever, never answers (a CANCEL target;
#                 or answer with: ctl.py --port CTRL accept)
#   --register    the account registers carol/carolpw to kamailio on 127.0.0.1:5060
#                 (default: no registration, calls go straight to sip:carol@127.0.0.1:PORT)
#   --accounts F  a baresip accounts file of your own instead
#   --ctrl N      ctrl_tcp (JSON commands, ctl.py) port (default PORT+3)
#   --cons N      cons (line console) port, UDP and TCP (default PORT+2)
#   (baresip also takes PORT+1 for SIP over TLS: keep it free)
#   --rtp LO-HI   RTP/RTCP port range (default PORT+10 to PORT+1209: 256 calls need 1024)
#   --codecs LIST the account's audio_codecs, in preference order (default PCMU,PCMA; e.g.
#                 opus/48000/2 or G722/16000/1 as baresip names them: the g711, g722 and
#                 opus modules are loaded)
#   --rtcp-mux    rtcp_mux yes: offer a=rtcp-mux and take it (RFC 5761; default no)
#   --tls-cert F  sip_certificate: its certificate and private key in one PEM file, for the
#                 SIP over TLS listener on PORT+1 (without it that listener has none)
#   --tls-ca F    sip_cafile: a CA it adds (baresip 1.0.0 does not verify a server's
#                 certificate with it: it takes any)
#   --record DIR  the sndfile module writes each call's audio into DIR as WAV files:
#                 dump-TIME-dec.wav what it decoded, dump-TIME-enc.wav what it encoded
#                 (TIME to the second)
#   --run DIR     its config, log and PID file (default run-PORT beside this script)
# Prints the PID once baresip says it is ready (at most 5 s). Stop it with stop.sh (same
# --port or --run). Everything listens on 127.0.0.1 only.
set -euo pipefail
D="$(cd "$(dirname "$0")" && pwd)"
REG=0 ECHO=0 MANUAL=0 MUX=0 PORT=5070 ACC="" CTRL="" CONS="" RTP="" RUN="" CODECS=""
CERT="" CAFILE="" RECORD=""
while [ $# -gt 0 ]; do
	case "$1" in
	--register) REG=1 ;;
	--echo) ECHO=1 ;;
	--manual) MANUAL=1 ;;
	--rtcp-mux) MUX=1 ;;
	--port) PORT="$2"; shift ;;
	--accounts) ACC="$2"; shift ;;
	--ctrl) CTRL="$2"; shift ;;
	--cons) CONS="$2"; shift ;;
	--rtp) RTP="$2"; shift ;;
	--codecs) CODECS="$2"; shift ;;
	--tls-cert) CERT="$2"; shift ;;
	--tls-ca) CAFILE="$2"; shift ;;
	--record) RECORD="$2"; shift ;;
	--run) RUN="$2"; shift ;;
	*) echo "start.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
CTRL=${CTRL:-$((PORT + 3))}
CONS=${CONS:-$((PORT + 2))}
RTP=${RTP:-$((PORT + 10))-$((PORT + 1209))}
RUN=${RUN:-$D/run-$PORT}
mkdir -p "$RUN"
if [ -s "$RUN/baresip.pid" ] && kill -0 "$(cat "$RUN/baresip.pid")" 2>/dev/null; then
	echo "already running: $(cat "$RUN/baresip.pid")" >&2
	exit 1
fi
sed -e "s/^sip_listen.*/sip_listen\t\t127.0.0.1:$PORT/" \
	-e "s/^cons_listen.*/cons_listen\t\t127.0.0.1:$CONS/" \
	-e "s/^ctrl_tcp_listen.*/ctrl_tcp_listen\t\t127.0.0.1:$CTRL/" \
	-e "s/^rtp_ports.*/rtp_ports\t\t$RTP/" \
	"$D/conf/config" >"$RUN/config"
if [ "$ECHO" = 1 ]; then
	# echo module: answers itself (the account must be answermode=manual) and bridges each
	# call's player to its source through aubridge (one device per call)
	sed -i -e 's/^#ECHO#//' -e 's/^audio_player.*/audio_player\t\taubridge,echo/' \
		-e 's/^audio_source.*/audio_source\t\taubridge,echo/' \
		-e 's/^ausrc_srate.*/ausrc_srate\t\t8000/' -e 's/^ausrc_channels.*/ausrc_channels\t\t1/' \
		"$RUN/config"
fi
[ "$MUX" = 1 ] && sed -i 's/^rtcp_mux.*/rtcp_mux\t\tyes/' "$RUN/config"
[ -z "$CERT" ] || printf 'sip_certificate\t%s\n' "$CERT" >>"$RUN/config"
[ -z "$CAFILE" ] || printf 'sip_cafile\t\t%s\n' "$CAFILE" >>"$RUN/config"
if [ -n "$RECORD" ]; then
	mkdir -p "$RECORD"
	printf 'module\t\t\tsndfile.so\nsnd_path\t\t%s\n' "$RECORD" >>"$RUN/config"
fi
if [ -n "$ACC" ]; then
	cp "$ACC" "$RUN/accounts"
elif [ "$REG" = 1 ]; then
	cp "$D/conf/accounts.kamailio" "$RUN/accounts"
else
	sed "s/127.0.0.1:5070/127.0.0.1:$PORT/" "$D/conf/accounts.local" >"$RUN/accounts"
fi
if [ "$ECHO" = 1 ] || [ "$MANUAL" = 1 ]; then
	sed -i 's/answermode=auto/answermode=manual/' "$RUN/accounts"
fi
if [ -n "$CODECS" ]; then
	sed -i "s|audio_codecs=[^;]*|audio_codecs=$CODECS|" "$RUN/accounts"
	# the echo's source runs at the first codec's rate and channels (NAME/RATE/CH), as the
	# decoder feeds its aubridge player: aubridge passes audio only between equal formats
	IFS=/ read -r _ RATE CH <<<"${CODECS%%,*}"
	if [ "$ECHO" = 1 ] && [ -n "${RATE:-}" ]; then
		sed -i -e "s/^ausrc_srate.*/ausrc_srate\t\t$RATE/" \
			-e "s/^ausrc_channels.*/ausrc_channels\t\t${CH:-1}/" "$RUN/config"
	fi
fi
cp "$D/conf/contacts" "$RUN/contacts"
: >"$RUN/baresip.log"
# -4: IPv4 only; stdin from /dev/null (no stdio UI module is loaded)
nohup baresip -4 -f "$RUN" >"$RUN/baresip.log" 2>&1 </dev/null &
BPID=$!
echo "$BPID" >"$RUN/baresip.pid"
for _ in $(seq 1 50); do
	grep -q "baresip is ready" "$RUN/baresip.log" 2>/dev/null && break
	kill -0 "$BPID" 2>/dev/null || { echo "baresip died:" >&2; tail -20 "$RUN/baresip.log" >&2; exit 1; }
	sleep 0.1
done
grep -q "baresip is ready" "$RUN/baresip.log" || { echo "baresip not ready after 5 s" >&2; exit 1; }
echo "$BPID"
