#!/bin/bash
# Stop the baresip started by start.sh, by the PID in its run directory.
# usage: stop.sh [--port N | --run DIR]   (the same as given to start.sh; default port 5070)
D="$(cd "$(dirname "$0")" && pwd)"
RUN="$D/run-5070"
case "${1:-}" in
--port) RUN="$D/run-$2" ;;
--run) RUN="$2" ;;
esac
PIDF="$RUN/baresip.pid"
[ -s "$PIDF" ] || { echo "no pidfile"; exit 0; }
P="$(cat "$PIDF")"
if kill -0 "$P" 2>/dev/null; then
	kill -TERM "$P"
	for _ in $(seq 1 50); do kill -0 "$P" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$P" 2>/dev/null && kill -KILL "$P"
	echo "stopped $P"
else
	echo "not running ($P)"
fi
rm -f "$PIDF"
