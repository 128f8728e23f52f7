#!/usr/bin/env bash
# Watch SIP on the wire with tcpdump (default) or tshark.
#
# Usage: scripts/monitor_sip.sh [OPTIONS] [SIP_SERVER|any] [INTERFACE|any] [PORT|5060]
#
#   SIP_SERVER   only packets to or from this host (IP address or name); any: every host
#   INTERFACE    where to capture (lo, eth0...); any: every interface
#   PORT         the SIP port, UDP and TCP (default 5060)
#
# Options (before or after the arguments):
#   --tshark      one line per SIP message (time, source, destination, method or status,
#                 CSeq, Call-ID) decoded by tshark, instead of tcpdump's full text
#   --write FILE  save the packets to FILE (pcap) instead of printing them
#   --count N     stop after N packets
#   -h, --help    this text
#
# Without --count it runs until Ctrl-C (SIGINT) or SIGTERM.
# Capturing needs root, or the cap_net_raw capability on this shell or on the capture
# program (tcpdump, or tshark's dumpcap).
#
# Exit codes: 0 stopped (--count reached, Ctrl-C, SIGTERM); 1 the capture program failed
# (its own message above, e.g. no such interface); 2 usage error; 3 tcpdump or tshark not
# installed; 4 no permission to capture.
set -u

me=monitor_sip.sh

usage() {
	sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
}
bad() {
	echo "$me: $*" >&2
	echo "$me: try --help" >&2
	exit 2
}

tool=tcpdump
write=""
count=""
pos=()
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help)
		usage
		exit 0
		;;
	--tshark) tool=tshark ;;
	--write | --count)
		[ $# -ge 2 ] || bad "$1 needs a value"
		if [ "$1" = --write ]; then
			write=$2
			write_set=1
		else
			count=$2
		fi
		shift
		;;
	--write=*)
		write=${1#--write=}
		write_set=1
		;;
	--count=*) count=${1#--count=} ;;
	--)
		shift
		pos+=("$@")
		break
		;;
	-?*) bad "unknown option '$1'" ;;
	*) pos+=("$1") ;;
	esac
	shift
done

[ ${#pos[@]} -le 3 ] || bad "too many arguments: ${pos[*]} (at most SIP_SERVER INTERFACE PORT)"
server=${pos[0]:-any}
iface=${pos[1]:-any}
port=${pos[2]:-5060}

# The server goes into a capture filter: a host name, an IPv4 or an IPv6 address, nothing else.
server=${server#[}
server=${server%]}
[[ "$server" =~ ^[A-Za-z0-9_.:-]+$ && "$server" != -* ]] ||
	bad "SIP_SERVER '$server' is not a host name or an IP address"
[[ "$iface" =~ ^[A-Za-z0-9_.:@-]+$ && "$iface" != -* ]] ||
	bad "INTERFACE '$iface' is not an interface name"
if ! [[ "$port" =~ ^[0-9]{1,5}$ ]] || [ "$((10#$port))" -lt 1 ] || [ "$((10#$port))" -gt 65535 ]; then
	bad "PORT '$port' is not a port number (1-65535)"
fi
port=$((10#$port))
if [ -n "$count" ]; then
	if ! [[ "$count" =~ ^[0-9]{1,9}$ ]] || [ "$((10#$count))" -lt 1 ]; then
		bad "--count '$count' is not a number of packets (1 or more)"
	fi
	count=$((10#$count))
fi
if [ -n "${write_set:-}" ] && { [ -z "$write" ] || [ -d "$write" ]; }; then
	bad "--write '$write' is not a file name"
fi

filter="port $port"
[ "$server" = any ] || filter="$filter and host $server"

# The program, installed?
path=$(command -v "$tool" 2>/dev/null) || {
	echo "$me: $tool not found (apt-get install $tool)" >&2
	exit 3
}

# Allowed to capture? Root normally has cap_net_raw; a container's root may not. Otherwise
# the capture program itself may carry the capability (setcap) or be setuid root.
has_net_raw() { # hex capability mask on stdin -> status
	local mask
	read -r mask || return 1
	[ -n "$mask" ] && (((0x$mask >> 13) & 1))
}
capturer=$path
if [ "$tool" = tshark ]; then
	capturer=$(command -v dumpcap 2>/dev/null || echo /usr/bin/dumpcap)
fi
can_capture() {
	awk '/^CapEff:/ {print $2}' /proc/self/status 2>/dev/null | has_net_raw && return 0
	[ -x "$capturer" ] || return 1
	[ -u "$capturer" ] && [ "$(stat -c %u "$capturer" 2>/dev/null)" = 0 ] && return 0
	command -v getcap >/dev/null 2>&1 &&
		getcap "$capturer" 2>/dev/null | grep -q 'cap_net_raw'
}
if ! can_capture; then
	echo "$me: capturing needs root or cap_net_raw (run it with sudo, or" \
		"setcap cap_net_raw,cap_net_admin+eip $capturer)" >&2
	exit 4
fi

cmd=()
if [ "$tool" = tcpdump ]; then
	# --immediate-mode: each packet as it arrives (a stop loses nothing still buffered).
	cmd=(tcpdump -i "$iface" -n -s 0 --immediate-mode)
	[ -z "$count" ] || cmd+=(-c "$count")
	if [ -n "$write" ]; then
		cmd+=(-U -w "$write")
	else
		cmd+=(-A -l)
	fi
	cmd+=("$filter")
else
	cmd=(tshark -i "$iface" -n -f "$filter")
	[ -z "$count" ] || cmd+=(-c "$count")
	if [ -n "$write" ]; then
		# tshark cannot apply a display filter while saving: the capture filter does the job.
		cmd+=(-F pcap -w "$write")
	else
		cmd+=(-l -Y sip -T fields -E separator=' ' -e frame.time_relative
			-e ip.src -e ipv6.src -e ip.dst -e ipv6.dst
			-e sip.Method -e sip.Status-Code -e sip.CSeq -e sip.Call-ID)
	fi
fi

echo "$me: $tool on $iface, filter '$filter'${write:+, writing $write}${count:+, $count packet(s)}" >&2

# The capture runs as a child so that its exit code can be reported as documented; a
# SIGINT or SIGTERM to this script is passed on to it (both programs stop cleanly on TERM).
stopped=0
"${cmd[@]}" &
child=$!
trap 'stopped=1; kill -TERM "$child" 2>/dev/null' INT TERM HUP
rc=0
wait "$child" || rc=$?
while [ "$rc" -gt 128 ] && kill -0 "$child" 2>/dev/null; do
	rc=0
	wait "$child" || rc=$?
done
trap - INT TERM HUP
if [ "$rc" -ne 0 ] && ! { [ "$stopped" = 1 ] && [ "$rc" -gt 128 ]; }; then
	echo "$me: $tool failed (exit $rc)" >&2
	exit 1
fi
exit 0
