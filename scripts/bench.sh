#!/usr/bin/env bash
# Run the benchmarks of a release build: timings side by side (noisy machines: compare
# ratios within one run), then instructions per message under callgrind (repeatable).
# Usage: scripts/bench.sh BUILD_DIR
set -euo pipefail
build="${1:-build/bench}"
here="$(cd "$(dirname "$0")/.." && pwd)"
corpus="$here/bench/corpus"

echo "== bench_parse: time per message (same process, same run)"
"$build/bench/bench_parse" "$corpus"

if command -v valgrind >/dev/null; then
	echo
	echo "== bench_parse: instructions per message (valgrind --tool=callgrind, 2000 parses each)"
	iters=2000
	parsers=$("$build/bench/bench_parse" --list)
	printf '%-22s' message
	for p in $parsers; do printf ' %12s' "$p"; done
	echo
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	for f in "$corpus"/*; do
		printf '%-22s' "$(basename "$f")"
		for p in $parsers; do
			valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$tmp/out" \
				"$build/bench/bench_parse" --one "$p" "$f" "$iters" >/dev/null 2>&1 || {
				printf ' %12s' fails
				continue
			}
			ir=$(awk '/^summary:/ {print $2}' "$tmp/out")
			printf ' %12d' $((ir / iters))
		done
		echo
	done
fi
