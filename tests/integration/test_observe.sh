#!/usr/bin/env bash
# What sipcx shows of its own calls, checked with the tools people read it with: a call from
# `sipcx dial` to `sipcx answer --echo` on loopback with --pcap (tshark dissects the SIP
# methods and the RTP), --json (every line parses; the events come in order, both sides),
# RTCP reports as "rtcp" lines during the call, --junit (an XML parser reads it), --ladder and --mermaid (match golden files once times and
# ports are masked; `sipcx ladder FILE.pcap` draws the same from the capture), --hep (a UDP
# collector receives HEP3 packets whose chunks hold the SIP messages and the Call-ID). Bad
# values of the common options give one line and exit 2.
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need timeout python3 tshark jq
need_sipcx
GOLDEN=$SIPCX_SOURCE/tests/data

ports P 1
ports H 1
# The HEP collector: counts datagrams, decodes their chunks (HEP3: "HEP3", total length,
# then vendor 16 bits, type 16 bits, length 16 bits, value), writes one JSON line each.
python3 - "$H" "$TMP/hep.jsonl" >"$TMP/hep.out" 2>&1 <<'EOF' &
import json, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(30)
print("listening", flush=True)
with open(sys.argv[2], "w") as out:
    while True:
        try:
            d, _ = s.recvfrom(65535)
        except socket.timeout:
            break
        rec = {"magic": d[:4].decode("latin1"), "len": struct.unpack("!H", d[4:6])[0], "size": len(d)}
        i = 6
        while i + 6 <= len(d):
            vendor, typ, ln = struct.unpack("!HHH", d[i:i + 6])
            if ln < 6 or i + ln > len(d):
                rec["bad"] = True
                break
            v = d[i + 6:i + ln]
            if typ in (15, 17, 14):
                rec[str(typ)] = v.decode("latin1")
            elif typ in (7, 8):
                rec[str(typ)] = struct.unpack("!H", v)[0]
            elif typ in (3, 4):
                rec[str(typ)] = socket.inet_ntop(socket.AF_INET, v)
            elif typ in (1, 2, 11):
                rec[str(typ)] = v[0]
            elif typ == 12:
                rec[str(typ)] = struct.unpack("!I", v)[0]
            i += ln
        out.write(json.dumps(rec) + "\n")
        out.flush()
EOF
PIDS+=($!)
wait_for "$TMP/hep.out" '^listening' 10 || {
	cat "$TMP/hep.out"
	exit 1
}

"$SIPCX" answer --listen "udp:127.0.0.1:$P" --count 1 --echo --ringtime 0.2 --json \
	--junit "$TMP/a.xml" >"$TMP/a.out" 2>"$TMP/a.err" &
A=$!
PIDS+=("$A")
wait_for "$TMP/a.out" '"event":"listening"' 10 || {
	cat "$TMP/a.out" "$TMP/a.err"
	exit 1
}
# Plain RTP (--srtp off): tshark judges the packets it can read; SRTCP's ciphertext can look
# like a malformed RTCP packet to its heuristics.
timeout 30 "$SIPCX" dial "sip:echo@127.0.0.1:$P" --duration 4 --pcap "$TMP/c.pcap" --json --srtp off \
	--ladder --mermaid "$TMP/c.mmd" --junit "$TMP/d.xml" --hep "udp:127.0.0.1:$H;id=2001;password=s3cret" \
	>"$TMP/d.out" 2>"$TMP/d.err"
ok_if "dial with every observer exits 0" $? "$TMP/d.out" "$TMP/d.err"
timeout 15 tail --pid="$A" -f /dev/null
wait "$A"
ok_if "answer --count 1 exits 0" $? "$TMP/a.out" "$TMP/a.err"

# --- pcap: tshark reads SIP and RTP out of it. ----------------------------------------------
m=$(tshark -r "$TMP/c.pcap" -Y sip -T fields -e sip.Method -e sip.Status-Code 2>/dev/null |
	tr -s '\t\n' '  ')
[[ "$m" == *INVITE*100*180*200*ACK*BYE*200* ]]
ok_if "pcap: tshark sees INVITE 100 180 200 ACK BYE 200 in order (got: $m)" $? "$TMP/d.err"
rtp=$(tshark -r "$TMP/c.pcap" -d "udp.port==1-65535,rtp" -Y "rtp && !rtcp" 2>/dev/null | wc -l)
[ "$rtp" -gt 100 ]
ok_if "pcap: RTP both ways ($rtp packets, want > 100 in 4 s)" $? "$TMP/d.err"
bad=$(tshark -r "$TMP/c.pcap" -Y "_ws.malformed || _ws.expert.severity >= \"error\"" 2>/dev/null |
	wc -l)
[ "$bad" = 0 ]
ok_if "pcap: no malformed packet or checksum error ($bad)" $? "$TMP/d.err"

# --- JSON lines: every one parses; the events of both sides in order. ----------------------
python3 - "$TMP/d.out" "$TMP/a.out" >"$TMP/json.check" 2>&1 <<'EOF'
import json, sys
def events(path):
    return [json.loads(l) for l in open(path) if l.strip()]
d, a = events(sys.argv[1]), events(sys.argv[2])
# RTCP reports come when the schedule says (RFC 3550 6.2): at least one in a 4 s call, between
# the answer and the hangup; the other events in a fixed order
de = [e["event"] for e in d if e["event"] != "rtcp"]
ae = [e["event"] for e in a if e["event"] != "rtcp"]
rt = [e for e in d if e["event"] == "rtcp"]
assert rt, "no rtcp event in a 4 s call"
assert all(r["rtp"]["rx"] > 0 and 1 <= r["mos"] <= 4.5 for r in rt), rt
ans = [e["t"] for e in d if e["event"] == "answered"][0]
hup = [e["t"] for e in d if e["event"] == "hangup"][0]
assert all(ans <= r["t"] <= hup for r in rt), (ans, hup, rt)
want_d = ["calling", "ringing", "answered", "established", "hangup", "call", "summary"]
want_a = ["listening", "incoming", "ringing", "answered", "established", "hangup", "call", "summary"]
assert de == want_d, de
assert ae == want_a, ae
call = [e for e in d if e["event"] == "call"][0]
assert call["status"] == 200 and call["answered"] and call["exit"] == 0, call
assert call["rtp"]["tx"] > 50 and call["rtp"]["rx"] > 50, call["rtp"]
assert 1.0 <= call["mos"] <= 4.5, call
assert call["call_id"] == [e for e in a if e["event"] == "call"][0]["call_id"]
hang = [e for e in a if e["event"] == "hangup"][0]
assert hang["side"] == "remote", hang
assert all(isinstance(e["ts"], float) and e["t"] >= 0 for e in d + a)
print("ok")
EOF
ok_if "json: every line parses, the events of both sides in order" $? "$TMP/json.check" \
	"$TMP/d.out" "$TMP/a.out"

# the way a CI job asserts on it
jq -e -s '[.[] | select(.event == "call")] | length == 1 and .[0].status == 200 and .[0].rtp.rx > 50' \
	"$TMP/d.out" >/dev/null
ok_if "json: jq finds one call, status 200, RTP received" $? "$TMP/d.out"
jq -e -s 'map(.event) | index("incoming") < index("answered")' "$TMP/a.out" >/dev/null
ok_if "json: jq on the answerer's lines: incoming before answered" $? "$TMP/a.out"

# --- JUnit: one testcase each side, no failure. ----------------------------------------------
python3 - "$TMP/d.xml" "$TMP/a.xml" >"$TMP/junit.check" 2>&1 <<'EOF'
import sys, xml.etree.ElementTree as ET
for path, cls in zip(sys.argv[1:], ["sipcx.dial", "sipcx.answer"]):
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "1" and root.get("failures") == "0"
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 1 and cases[0].get("classname") == cls, ET.tostring(root)
    assert cases[0].find("failure") is None
print("ok")
EOF
ok_if "junit: both files parse, one passed testcase each" $? "$TMP/junit.check"

# --- Ladder and Mermaid: the golden drawings, times and ports masked. -------------------------
mask() { # addresses to A:PORT, times to T, counts to N; squeeze the spaces the widths leave
	sed -E 's/[0-9]+\.[0-9]{6}/T/g; s/127\.0\.0\.1:[0-9]+/ADDR/g; s/x[0-9]+/xN/g' | tr -s ' '
}
# the SIP rows of the live ladder (stderr: stdout holds the JSON lines)
# (the media columns right of the SIP ones are empty on these rows: dropped)
grep -E '^ *[0-9]+\.[0-9]{6} ' "$TMP/d.err" | grep -v '~' | mask | sed -E 's/( \|)+$//' \
	>"$TMP/ladder.txt"
diff -u "$GOLDEN/ladder_call.txt" "$TMP/ladder.txt" >"$TMP/ladder.diff"
ok_if "ladder: the call's SIP rows match tests/data/ladder_call.txt" $? "$TMP/ladder.diff"
grep -q 'RTP xN (pt 0)' <(mask <"$TMP/d.err")
ok_if "ladder: the RTP streams are drawn, counted" $? "$TMP/d.err"
grep -v -- '-->>P[0-9]: RTCP\|: RTP x' "$TMP/c.mmd" | grep -v '^    participant P[2-9]' | mask \
	>"$TMP/mermaid.txt"
diff -u "$GOLDEN/ladder_call.mmd" "$TMP/mermaid.txt" >"$TMP/mermaid.diff"
ok_if "mermaid: matches tests/data/ladder_call.mmd" $? "$TMP/mermaid.diff"
"$SIPCX" ladder --sip-only "$TMP/c.pcap" | grep -E '^ *[0-9]+\.[0-9]{6} ' | mask \
	>"$TMP/from_pcap.txt"
diff -u "$GOLDEN/ladder_call.txt" "$TMP/from_pcap.txt" >"$TMP/from_pcap.diff"
ok_if "sipcx ladder FILE.pcap draws the same" $? "$TMP/from_pcap.diff"
"$SIPCX" ladder --sip-only --mermaid "$TMP/c.pcap" | mask >"$TMP/from_pcap.mmd"
diff -u "$GOLDEN/ladder_call.mmd" "$TMP/from_pcap.mmd" >"$TMP/from_pcap_mmd.diff"
ok_if "sipcx ladder --mermaid FILE.pcap draws the same" $? "$TMP/from_pcap_mmd.diff"

# --- HEP3: one packet per SIP message, chunks right. -------------------------------------------
kill "${PIDS[0]}" 2>/dev/null
wait "${PIDS[0]}" 2>/dev/null
python3 - "$TMP/hep.jsonl" "$P" >"$TMP/hep.check" 2>&1 <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 7, len(recs)  # INVITE 100 180 200 ACK BYE 200
methods = [r["15"].split(" ")[0] if not r["15"].startswith("SIP/2.0") else r["15"].split(" ")[1] for r in recs]
assert methods == ["INVITE", "100", "180", "200", "ACK", "BYE", "200"], methods
cid = [l for l in recs[0]["15"].split("\r\n") if l.lower().startswith("call-id:")][0].split(":", 1)[1].strip()
for r in recs:
    assert r["magic"] == "HEP3" and r["len"] == r["size"] and not r.get("bad"), r
    assert r["1"] == 2 and r["2"] == 17 and r["11"] == 1, r  # IPv4, UDP, SIP
    assert r["3"] == "127.0.0.1" and r["4"] == "127.0.0.1", r
    assert r["12"] == 2001 and r["14"] == "s3cret" and r["17"] == cid, r
assert recs[0]["8"] == int(sys.argv[2]) and recs[1]["7"] == int(sys.argv[2])
print("ok")
EOF
ok_if "hep: 7 HEP3 packets, IPv4/UDP/SIP, ports, capture id 2001, password, Call-ID" $? \
	"$TMP/hep.check" "$TMP/hep.jsonl"

# --- SIP over TCP in the pcap: tshark reassembles the stream (synthetic handshake, sequence
# numbers that follow the bytes), over IPv6 too when the machine has it. -----------------------
ports T 1
"$SIPCX" answer --listen "tcp:127.0.0.1:$T" --count 1 >"$TMP/at.out" 2>&1 &
AT=$!
PIDS+=("$AT")
wait_for "$TMP/at.out" '^listening on ' 10
timeout 30 "$SIPCX" dial "sip:x@127.0.0.1:$T;transport=tcp" --duration 0.3 --no-rtp \
	--pcap "$TMP/tcp.pcap" >"$TMP/dt.out" 2>&1
ok_if "tcp: dial with --pcap exits 0" $? "$TMP/dt.out"
m=$(tshark -r "$TMP/tcp.pcap" -Y "sip && tcp" -T fields -e sip.Method -e sip.Status-Code 2>/dev/null |
	tr -s '\t\n' '  ')
[[ "$m" == *INVITE*200*ACK*BYE*200* ]]
ok_if "tcp: tshark sees INVITE 200 ACK BYE 200 over TCP (got: $m)" $? "$TMP/dt.out"
bad=$(tshark -r "$TMP/tcp.pcap" -Y "_ws.malformed || _ws.expert.severity >= \"warning\"" 2>/dev/null |
	wc -l)
[ "$bad" = 0 ]
ok_if "tcp: no malformed packet, no TCP warning ($bad)" $? "$TMP/dt.out"
if have_ipv6; then
	ports V 1
	"$SIPCX" answer --listen "udp:[::1]:$V" --count 1 --echo >"$TMP/a6.out" 2>&1 &
	PIDS+=($!)
	wait_for "$TMP/a6.out" '^listening on ' 10
	timeout 30 "$SIPCX" dial "sip:x@[::1]:$V" --duration 0.5 --pcap "$TMP/v6.pcap" \
		>"$TMP/d6.out" 2>&1
	ok_if "ipv6: dial with --pcap exits 0" $? "$TMP/d6.out"
	n=$(tshark -r "$TMP/v6.pcap" -Y "ipv6.src == ::1 && sip.Method == INVITE" 2>/dev/null | wc -l)
	r=$(tshark -r "$TMP/v6.pcap" -d "udp.port==1-65535,rtp" -Y "ipv6 && rtp" 2>/dev/null | wc -l)
	[ "$n" = 1 ] && [ "$r" -gt 20 ]
	ok_if "ipv6: the INVITE and the RTP over IPv6 in the pcap ($n, $r)" $? "$TMP/d6.out"
fi

# --- sipcx-client: SIP_PCAP keeps its REGISTER, the call and the unregistration. ------------
CLIENT=$SIPCX_BIN/sipcx-client
ports R 1
"$SIPCX" registrar --listen "udp:127.0.0.1:$R" --user alice:pw --duration 60 >"$TMP/r.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/r.out" '^listening on ' 10
SIP_SERVER="127.0.0.1:$R" SIP_USERNAME=alice SIP_PASSWORD=pw SIP_LISTEN=127.0.0.1:0 SIP_RINGTIME=0 \
	SIP_PCAP="$TMP/client.pcap" "$CLIENT" >"$TMP/client.out" 2>&1 &
CP=$!
PIDS+=("$CP")
wait_for "$TMP/client.out" 'registered' 10
timeout 30 "$SIPCX" dial "sip:alice@127.0.0.1:$R" --duration 0.5 >"$TMP/dc.out" 2>&1
ok_if "client: a call through the registrar" $? "$TMP/dc.out" "$TMP/client.out"
kill -INT "$CP"
wait "$CP"
ok_if "client: exits 0 on SIGINT with SIP_PCAP set" $? "$TMP/client.out"
m=$("$SIPCX" ladder --sip-only "$TMP/client.pcap" | tr -s ' -' ' ' | grep -oE '(REGISTER|401 Unauthorized|INVITE|ACK|BYE)' | tr '\n' ' ')
[[ "$m" == "REGISTER 401 Unauthorized REGISTER INVITE ACK BYE REGISTER " ]]
ok_if "client: its pcap holds REGISTER, 401, REGISTER, INVITE, ACK, BYE, REGISTER (got: $m)" $? \
	"$TMP/client.out"
SIP_SERVER=127.0.0.1:9 SIP_USERNAME=a SIP_PASSWORD=b SIP_HEP=tcp:nowhere timeout 10 "$CLIENT" \
	>"$TMP/badhep.out" 2>&1
[ $? = 1 ] && grep -q 'SIP_HEP' "$TMP/badhep.out"
ok_if "client: a bad SIP_HEP is named, exit 1" $? "$TMP/badhep.out"

# --- Bad values: one line on stderr, exit 2. ------------------------------------------------
check "bad --hep: exit 2" 2 "$SIPCX" options --hep "tcp:127.0.0.1" sip:127.0.0.1:9
expect "bad --hep: says which option" 'bad --hep'
check "--pcap in a missing directory: exit 2" 2 "$SIPCX" options --pcap /nonexistent/dir/x.pcap \
	sip:127.0.0.1:9
expect "--pcap: says the file" 'cannot write --pcap /nonexistent/dir/x.pcap'
check "--pcap without a value: exit 2" 2 "$SIPCX" options sip:127.0.0.1:9 --pcap
check "sipcx ladder of a file that is not a capture: exit 1" 1 "$SIPCX" ladder /etc/hostname
expect "ladder: says so" 'not a pcap capture'

[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp -r "$TMP"/. "$KEEP"/
finish
