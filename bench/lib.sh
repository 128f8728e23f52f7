# Helpers shared by the bench scripts (sourced; bash). Process accounting from /proc, SIPp
# statistics, waiting for a port.

# pids_of PID: PID and all its descendants.
pids_of() {
	ps -e -o pid=,ppid= | awk -v root="$1" '{p[$1] = $2} END {
		n = 1; s[1] = root; print root
		while (n > 0) { r = s[n--]; for (c in p) if (p[c] == r) { print c; s[++n] = c } } }'
}
# cpu_of PID: CPU seconds (user+system) of PID and its descendants.
cpu_of() {
	local t=0 p
	for p in $(pids_of "$1"); do
		[ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	awk -v t=$t -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t/hz}'
}
# mem_of PID FIELD: the largest FIELD (VmHWM, VmRSS; KiB) among PID and its descendants.
mem_of() {
	local m=0 p k
	for p in $(pids_of "$1"); do
		k=$(awk -v f="$2:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null)
		[ -n "$k" ] && [ "$k" -gt "$m" ] && m=$k
	done
	echo "$m"
}
# rss_of PID: the largest peak RSS (VmHWM, MB) among PID and its descendants.
rss_of() {
	awk -v k="$(mem_of "$1" VmHWM)" 'BEGIN{printf "%.1f", k/1024}'
}
# stat_of CSV: "ok failed elapsed_s" from the last row of a sipp -trace_stat file.
stat_of() {
	awk -F';' 'NR==1{for(i=1;i<=NF;i++) c[$i]=i; next} {l=$0} END{
		split(l,v,";"); split(v[c["StartTime"]],s,/[ \t]+/); split(v[c["CurrentTime"]],t,/[ \t]+/);
		printf "%d %d %.3f", v[c["SuccessfulCall(C)"]], v[c["FailedCall(C)"]], t[3]-s[3]}' "$1"
}
# wait_port PORT: until something binds UDP PORT (at most 10 s).
wait_port() {
	local i
	for ((i = 0; i < 100; i++)); do
		ss -Hlnu 2>/dev/null | awk '{print $4}' | grep -q ":$1\$" && return 0
		sleep 0.1
	done
	return 1
}
# ports_free LO HI: fails, naming it, when a TCP or UDP port in LO..HI is taken.
ports_free() {
	local busy
	busy=$(ss -Hlntu 2>/dev/null | awk '{print $5}' | sed 's/.*://' | awk -v lo="$1" -v hi="$2" '$1 >= lo && $1 <= hi' | head -1)
	[ -z "$busy" ] || { echo "port $busy (in $1..$2) is taken; run again" >&2; return 1; }
}
