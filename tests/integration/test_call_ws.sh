#!/usr/bin/env bash
# SIP over WebSocket (RFC 7118), sipcx against itself on loopback:
# - `sipcx answer --listen "ws:... wss:..." --echo` takes calls from `sipcx dial --echo-check`
#   over ws (sip:...;transport=ws, and --transport ws) and wss (--tls-ca, a certificate made
#   here): exit 0, the echo checked, Via SIP/2.0/WS|WSS, Contact ;transport=ws (both: RFC 7118 5.2), the trace
#   and the pcap (tshark) see the SIP messages;
# - the callee hangs up: its BYE reaches the caller over the connection the caller opened;
# - `sipcx registrar` on ws: takes a REGISTER with digest, and routes a call between two
#   phones registered over ws;
# - a browser-like client (a few lines of Python: its own handshake, masked frames, a Contact
#   in .invalid, no Content-Length) registers, pings OPTIONS and calls: the answers, and the
#   callee's BYE to its .invalid Contact, come back on its connection; registered to a
#   registrar that asks no credentials, a call through it reaches it (486 from it); a
#   handshake without "Sec-WebSocket-Protocol: sip" gets HTTP 400;
# - usage: a wss: listener without --tls-cert: exit 2;
# - no sanitizer report from any of them.
# KEEP=DIR keeps the outputs in DIR.
set -u
. "$(dirname "$0")/lib/peers.sh"
need ss timeout openssl python3
need_sipcx

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/ca.key" -out "$TMP/ca.pem" -days 2 \
	-subj "/CN=ca" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null ||
	skip "openssl cannot make certificates"

ports A 2
S=$((A + 1))
"$SIPCX" answer --listen "ws:127.0.0.1:$A wss:127.0.0.1:$S" --tls-cert "$TMP/ca.pem" \
	--tls-key "$TMP/ca.key" --echo --duration 280 --trace >"$TMP/ans.out" 2>"$TMP/ans.err" &
ANS=$!
PIDS+=("$ANS")
wait_for "$TMP/ans.out" '^listening on ' 10
has "$TMP/ans.out" "^listening on ws:127.0.0.1:$A\$" && has "$TMP/ans.out" "^listening on wss:127.0.0.1:$S\$"
ok_if "answer listens on ws: and wss:" $? "$TMP/ans.out" "$TMP/ans.err"

check "sip:...;transport=ws call with the echo checked (exit 0)" 0 "$SIPCX" dial \
	"sip:echo@127.0.0.1:$A;transport=ws" --duration 2 --echo-check --trace --pcap "$TMP/ws.pcap"
printf '%s\n' "$OUT" >"$TMP/ws.out"
expect "echo ok" 'echo ok: [0-9]+ sent, [0-9]+ back \(0.00% lost\)'
expect "INVITE over WS: Via SIP/2.0/WS with ;alias" '^Via: SIP/2.0/WS 127\.0\.0\.1:[0-9]+;rport;alias;branch='
expect "our Contact ;transport=ws" '^Contact: <sip:sipcx@127\.0\.0\.1:[0-9]+;transport=ws>$'
expect "their Contact ;transport=ws" "^Contact: <sip:sipcx@127\.0\.0\.1:$A;transport=ws>\$"
expect "the trace says WS" "SEND [0-9]+ bytes WS 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$A"
sanitizer_clean "ws call" "$TMP/ws.out"
if command -v tshark >/dev/null; then
	m=$(tshark -r "$TMP/ws.pcap" -d "tcp.port==$A,sip" -Y sip -T fields -e sip.Method \
		-e sip.Status-Code 2>/dev/null | tr -s '\t\n' ' ')
	grep -q 'INVITE.*200.*ACK.*BYE' <<<"$m"
	ok_if "pcap: tshark reads the SIP of the WS call (got: $m)" $?
fi

check "--transport ws (exit 0)" 0 "$SIPCX" dial "sip:echo@127.0.0.1:$A" --transport ws --duration 1
check "wss call with the echo checked (exit 0)" 0 "$SIPCX" dial \
	"sip:echo@127.0.0.1:$S;transport=wss" --tls-ca "$TMP/ca.pem" --duration 2 --echo-check --trace
printf '%s\n' "$OUT" >"$TMP/wss.out"
expect "echo ok over wss" 'echo ok: [0-9]+ sent, [0-9]+ back \(0.00% lost\)'
expect "Via SIP/2.0/WSS" '^Via: SIP/2.0/WSS 127\.0\.0\.1:[0-9]+;rport;alias;branch='
expect "Contact ;transport=ws over wss too (RFC 7118 5.2)" '^Contact: <sip:sipcx@127\.0\.0\.1:[0-9]+;transport=ws>$'
sanitizer_clean "wss call" "$TMP/wss.out"
check "wss to a server the CA did not sign: exit 1" 1 "$SIPCX" dial \
	"sip:echo@127.0.0.1:$S;transport=wss" --duration 1
expect "certificate verify failed" 'TLS: certificate verify failed'

# The callee hangs up: the BYE goes over the connection the caller opened (Via ;alias).
ports H 1
"$SIPCX" answer --listen "ws:127.0.0.1:$H" --hangup 1s --count 1 >"$TMP/hang.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/hang.out" '^listening on ' 10
check "the callee hangs up: the caller gets the BYE over its connection (exit 0)" 0 \
	"$SIPCX" dial "sip:x@127.0.0.1:$H;transport=ws" --duration 10
expect "ended by remote" 'call 1: ended by remote after'

# sipcx registrar on ws: digest registration, then a call between two phones over ws.
ports R 1
"$SIPCX" registrar --listen "ws:127.0.0.1:$R" --user alice:alicepw --user bob:bobpw \
	--duration 280 >"$TMP/reg.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/reg.out" '^listening on' 10
check "sipcx register over ws with digest (exit 0)" 0 "$SIPCX" register \
	"sip:127.0.0.1:$R;transport=ws" --username alice --password alicepw --duration 0.2
expect "registered with a ws Contact" 'registered sip:alice@127\.0\.0\.1 at sip:alice@127\.0\.0\.1:[0-9]+;transport=ws'
ports B 1
"$SIPCX" answer --listen "ws:127.0.0.1:$B" --register "sip:127.0.0.1:$R;transport=ws" \
	--username bob --password bobpw --echo --duration 280 >"$TMP/bob.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/bob.out" '^listening on |failed' 10
has "$TMP/bob.out" "registered sip:bob@127\.0\.0\.1:$B;transport=ws"
ok_if "bob registered to sipcx registrar over ws" $? "$TMP/bob.out"
check "alice calls bob through the registrar over ws, echo checked (exit 0)" 0 "$SIPCX" dial \
	"sip:bob@127.0.0.1:$R;transport=ws" --username alice --password alicepw --duration 1 \
	--echo-check
expect "echo ok through the proxy" 'echo ok: [0-9]+ sent, [0-9]+ back \(0.00% lost\)'
wait_for "$TMP/reg.out" 'routed BYE from ws:' 10
has "$TMP/reg.out" "routed INVITE from ws:127\.0\.0\.1:[0-9]+ -> sip:bob@127\.0\.0\.1:$B;transport=ws"
ok_if "the registrar routed the INVITE and the BYE over ws" $? "$TMP/reg.out"

# A browser-like client: its own handshake and masked frames, Contact in .invalid (RFC 7118
# 5.2), no Content-Length; what it gets back, one line per message's first line.
cat >"$TMP/browser.py" <<'PY'
import base64, os, socket, struct, sys
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
key = base64.b64encode(os.urandom(16)).decode()
proto = "" if mode == "noproto" else "Sec-WebSocket-Protocol: sip\r\n"
s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
           % (key, proto)).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(4096)
    if not d:
        break
    buf += d
head, _, buf = buf.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode())
if mode == "noproto":
    sys.exit(0)
def send(text):
    data, mask = text.encode(), os.urandom(4)
    n = len(data)
    hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0xfe]) + struct.pack("!H", n))
    s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
def recv():
    global buf
    while True:
        if len(buf) >= 2:
            n, off = buf[1] & 0x7f, 2
            if n == 126 and len(buf) >= 4:
                n, off = struct.unpack("!H", buf[2:4])[0], 4
            if n < 126 or off == 4:
                if len(buf) >= off + n:
                    op, data, buf = buf[0] & 0x0f, buf[off:off + n], buf[off + n:]
                    return op, data
        d = s.recv(4096)
        if not d:
            return None, b""
        buf += d
cid = "br" + os.urandom(4).hex()
def msg(method, cseq, extra=""):
    return ("%s sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK%s%d\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=b1\r\nTo: <sip:alice@127.0.0.1>\r\n"
            "Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:x8f2@df7jal23ls0d.invalid;transport=ws>\r\n"
            "%s\r\n" % (method, cid, cseq, cid, cseq, method, extra))
if mode == "INVITE":
    # A call, as a browser makes it: the callee hangs up, its BYE must come back here.
    sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=audio %s RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % sys.argv[3])
    send(msg("INVITE", 1, "Content-Type: application/sdp\r\n\r\n" + sdp).replace("\r\n\r\n\r\n", "\r\n\r\n"))
    def until(prefix):  # messages until one whose first line starts with prefix: its lines
        for _ in range(10):
            op, data = recv()
            if op is None:
                break
            lines = data.decode().split("\r\n")
            print(lines[0])
            if lines[0].startswith(prefix):
                return lines
        sys.exit(1)
    lines = until("SIP/2.0 200")
    to = [l for l in lines if l.lower().startswith("to:")][0][3:].strip()
    contact = [l for l in lines if l.lower().startswith("contact:")][0]
    contact = contact[contact.index("<") + 1:contact.index(">")]
    ack = msg("ACK", 1).replace("ACK sip:127.0.0.1 ", "ACK %s " % contact)
    ack = ack.replace("To: <sip:alice@127.0.0.1>", "To: " + to).replace("z9hG4bK", "z9hG4bKack")
    send(ack)
    lines = until("BYE ")
    ok = ["SIP/2.0 200 OK"] + [l for l in lines if l.split(":")[0].lower() in
                               ("via", "from", "to", "call-id", "cseq")] + ["", ""]
    send("\r\n".join(ok))
    sys.exit(0)
if mode == "BUSY":
    # Registered (no credentials asked), it is called through the registrar: 486 to the INVITE.
    send(msg("REGISTER", 1, "Expires: 60\r\n"))
    op, data = recv()
    print(data.split(b"\r\n")[0].decode())
    s.settimeout(15)
    op, data = recv()
    lines = data.decode().split("\r\n")
    print(lines[0])
    if not lines[0].startswith("INVITE "):
        sys.exit(1)
    keep = [l for l in lines if l.split(":")[0].lower() in ("via", "from", "to", "call-id", "cseq")]
    keep = [l + ";tag=busy" if l.lower().startswith("to:") else l for l in keep]
    send("\r\n".join(["SIP/2.0 486 Busy Here"] + keep + ["Content-Length: 0", "", ""]))
    op, data = recv()
    print(data.split(b"\r\n")[0].decode())
    sys.exit(0)
send(msg(mode, 1, "Expires: 60\r\n" if mode == "REGISTER" else ""))
s.sendall(bytes([0x89, 0x82]) + b"\0\0\0\0" + b"hi")  # a ping among the messages
for _ in range(2):  # the answer and the pong, in either order
    op, data = recv()
    if op is None:
        break
    print("pong " + data.decode() if op == 0xA else data.split(b"\r\n")[0].decode())
s.sendall(bytes([0x88, 0x82]) + b"\0\0\0\0" + b"\x03\xe8")  # close, 1000
op, data = recv()
print("close" if op == 0x8 else "no close")
PY
check "a browser-like client: REGISTER from .invalid gets its 401 on its connection (exit 0)" 0 \
	python3 "$TMP/browser.py" "$R" REGISTER
expect "101 to the handshake" '^HTTP/1.1 101 Switching Protocols$'
expect "the 401 came back" '^SIP/2.0 401 '
expect "the ping got its pong" '^pong hi$'
expect "the close was answered" '^close$'
# A registrar that asks no credentials: the browser registers its .invalid Contact, and a call
# to it through the registrar goes over the connection it registered on.
ports O 1
"$SIPCX" registrar --listen "ws:127.0.0.1:$O" --duration 280 >"$TMP/open.out" 2>&1 &
PIDS+=($!)
wait_for "$TMP/open.out" '^listening on' 10
python3 "$TMP/browser.py" "$O" BUSY >"$TMP/busy.out" 2>&1 &
BUSY=$!
PIDS+=("$BUSY")
wait_for "$TMP/busy.out" '^SIP/2.0 200 ' 10
ok_if "the browser registered its .invalid Contact" $? "$TMP/busy.out"
check "a call to the browser through the registrar gets its 486 (exit 1)" 1 "$SIPCX" dial \
	"sip:alice@127.0.0.1:$O;transport=ws" --duration 1
expect "486 Busy Here" '486 Busy Here'
wait "$BUSY"
ok_if "the browser got the INVITE over its connection, and the ACK" $? "$TMP/busy.out"
has "$TMP/busy.out" '^INVITE sip:x8f2@df7jal23ls0d\.invalid;transport=ws SIP/2\.0$' &&
	has "$TMP/busy.out" '^ACK '
ok_if "INVITE to the .invalid Contact, then the ACK of the 486" $? "$TMP/busy.out"

check "a browser-like client: OPTIONS to sipcx answer over ws (exit 0)" 0 \
	python3 "$TMP/browser.py" "$A" OPTIONS
expect "200 to OPTIONS" '^SIP/2.0 200 '
ports H2 3
"$SIPCX" answer --listen "ws:127.0.0.1:$H2" --hangup 1s --count 1 --trace >"$TMP/hang2.out" \
	2>"$TMP/hang2.err" &
PIDS+=($!)
wait_for "$TMP/hang2.out" '^listening on ' 10
check "a browser-like client calls; the callee's BYE comes back over its connection (exit 0)" 0 \
	python3 "$TMP/browser.py" "$H2" INVITE "$((H2 + 2))"
expect "200 to the INVITE" '^SIP/2.0 200 '
expect "the BYE to the .invalid Contact came back" '^BYE sip:x8f2@df7jal23ls0d\.invalid;transport=ws SIP/2\.0$'
wait_for "$TMP/hang2.out" 'ended .* by local' 10
ok_if "sipcx answer ended the call (its BYE answered)" $? "$TMP/hang2.out" "$TMP/hang2.err"
check "a handshake without the sip subprotocol: HTTP 400 (exit 0)" 0 \
	python3 "$TMP/browser.py" "$A" noproto
expect "400 Bad Request" '^HTTP/1.1 400 Bad Request$'

check "a wss: listener without --tls-cert: exit 2" 2 "$SIPCX" answer --listen "wss:127.0.0.1:0"
expect "says what is missing" 'a wss: listener needs --tls-cert'

interrupt "$ANS"
ok_if "answer: exit 0 after SIGINT" $? "$TMP/ans.out" "$TMP/ans.err"
sanitizer_clean "answer" "$TMP/ans.err"
sanitizer_clean "registrar" "$TMP/reg.out"
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$TMP"/*.out "$TMP"/*.err "$KEEP"/ 2>/dev/null
finish
