#!/usr/bin/env bash
# sipcx registrar exposed: no open relay, 420, 404 for foreign domains, no enumeration, Contact parameters, Path, outbound flows, RFC 5658, lockout, expiry on time, stateless REGISTER, TCP limits.
. "$(dirname "$0")/lib/peers.sh"
need ss timeout python3
need_sipcx
P=$(free_port 4) || skip "no free port"
R=$P SINK=$((P + 1)) EDGE=$((P + 2))
export PYTHONPATH=$SIPCX_SOURCE/tests/integration/lib

# py NAME: run the Python on stdin (sip.py imported, R SINK EDGE set); exit 0 is a pass.
py() {
	CHECKS=$((CHECKS + 1))
	local out
	out=$(R=$R SINK=$SINK EDGE=$EDGE timeout 30 python3 -c "import os, sys, socket, time
from sip import *
R, SINK, EDGE = int(os.environ['R']), int(os.environ['SINK']), int(os.environ['EDGE'])
$(cat)" 2>&1)
	if [ $? = 0 ]; then
		echo "ok - $1"
	else
		echo "FAIL - $1"
		echo "$out" | sed 's/^/    /' | tail -15
		FAILS=$((FAILS + 1))
	fi
}
has() {
	CHECKS=$((CHECKS + 1))
	if grep -qE -- "$2" "$3"; then echo "ok - $1"; else
		echo "FAIL - $1: no /$2/ in $3"
		sed 's/^/    /' "$3" | tail -20
		FAILS=$((FAILS + 1))
	fi
}
registrar() {
	local name=$1
	shift
	"$SIPCX" registrar --listen "udp:127.0.0.1:$R tcp:127.0.0.1:$R" "$@" >"$TMP/$name.out" 2>&1 &
	REGISTRAR=$!
	PIDS+=("$REGISTRAR")
	wait_for "$TMP/$name.out" '^listening on' 5 || { cat "$TMP/$name.out"; exit 1; }
}
stop_registrar() { interrupt "$REGISTRAR" >/dev/null; }

registrar a --user alice:alicepw --user bob:bobpw --min-expires 1 --algorithm md5,sha-256 \
	--max-auth-failures 3 --lockout 30s --tcp-message-timeout 1s --tcp-max-per-source 4

py "no open relay: BYE, INVITE, MESSAGE with a To tag and no Route are not forwarded (404)" <<'EOF'
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); sink.bind(("127.0.0.1", SINK)); sink.settimeout(1)
p = Peer(R)
for m in ("BYE", "INVITE", "MESSAGE"):
    p.send(request(p, m, "sip:x@127.0.0.1:%d" % SINK, "sip:x@127.0.0.1", to_tag="x1"))
    assert status(p.final()) == 404, m
try:
    sink.recv(100); sys.exit("relayed")
except socket.timeout: pass
EOF
py "no open relay: a Route naming us without our Record-Route token gets 403" <<'EOF'
p = Peer(R)
p.send(request(p, "BYE", "sip:x@127.0.0.1:%d" % SINK, "sip:x@127.0.0.1", to_tag="x1",
               hdrs=["Route: <sip:127.0.0.1:%d;lr>" % R]))
assert status(p.final()) == 403
p.send(request(p, "MESSAGE", "sip:x@192.0.2.9", "sip:x@192.0.2.9"))
r = p.final(); assert status(r) == 403 and "Relaying Denied" in r, r
EOF
py "Require with an unknown option tag: 420 with Unsupported (OPTIONS, REGISTER); path is known" <<'EOF'
p = Peer(R)
p.send(request(p, "OPTIONS", "sip:127.0.0.1:%d" % R, "sip:127.0.0.1", hdrs=["Require: foo, path"]))
r = p.final(); assert status(r) == 420 and header(r, "Unsupported") == ["foo"], r
p.send(request(p, "REGISTER", "sip:127.0.0.1:%d" % R, "sip:alice@127.0.0.1", hdrs=["Require: bar"]))
r = p.final(); assert status(r) == 420 and header(r, "Unsupported") == ["bar"], r
p.send(request(p, "OPTIONS", "sip:127.0.0.1:%d" % R, "sip:127.0.0.1", hdrs=["Require: path"]))
r = p.final(); assert status(r) == 200 and "path" in header(r, "Supported")[0], r
EOF
py "a REGISTER for a domain we do not serve: 404 (RFC 3261 10.3)" <<'EOF'
p = Peer(R)
r = register(p, R, "alice", "alicepw", domain="example.com"); assert status(r) == 404, r
EOF
py "no user enumeration: a known user without binding and an unknown one get the same answer" <<'EOF'
p = Peer(R)
for u in ("bob", "zed"):
    p.send(request(p, "OPTIONS", "sip:%s@127.0.0.1:%d" % (u, R), "sip:%s@127.0.0.1" % u))
    r = p.final(); assert status(r) == 404 and "Not Found" in r.split("\r\n")[0], (u, r)
EOF
py "--algorithm md5,sha-256: MD5 challenged first" <<'EOF'
p = Peer(R)
r = register(p, R, "alice")
ch = header(r, "WWW-Authenticate"); assert len(ch) == 2 and "MD5" in ch[0] and "SHA-256" in ch[1], ch
EOF
py "Contact parameters echoed; outbound: a new flow of the same instance replaces the old" <<'EOF'
p, q = Peer(R), Peer(R)
inst = '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1'
r = register(p, R, "alice", "alicepw", contact="<sip:alice@127.0.0.1:%d>;%s;x-a=b" % (p.port, inst),
             hdrs=["Supported: outbound"])
assert status(r) == 200, r
c = header(r, "Contact"); assert len(c) == 1 and inst in c[0] and ";x-a=b" in c[0] and ";expires=" in c[0], c
assert "outbound" in header(r, "Require"), r
r = register(q, R, "alice", "alicepw", contact="<sip:alice@127.0.0.1:%d>;%s" % (q.port, inst))
c = header(r, "Contact"); assert status(r) == 200 and len(c) == 1 and str(q.port) in c[0], c
r = register(q, R, "alice", "alicepw", expires=0, contact="<sip:alice@127.0.0.1:%d>;%s" % (q.port, inst))
assert status(r) == 200 and not header(r, "Contact"), r
EOF
py "Path (RFC 3327): stored, echoed with Supported: path, and the route to the contact" <<'EOF'
edge = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); edge.bind(("127.0.0.1", EDGE)); edge.settimeout(2)
p, c = Peer(R), Peer(R)
path = "<sip:127.0.0.1:%d;lr>" % EDGE
r = register(p, R, "bob", "bobpw", hdrs=["Path: " + path, "Supported: path"])
assert status(r) == 200 and header(r, "Path") == [path], r
c.send(request(c, "MESSAGE", "sip:bob@127.0.0.1:%d" % R, "sip:bob@127.0.0.1", body="hi",
               hdrs=["Content-Type: text/plain"]))
m = edge.recv(65535).decode()
assert m.startswith("MESSAGE sip:bob@127.0.0.1:%d SIP/2.0" % p.port), m
assert header(m, "Route") == [path], m
register(p, R, "bob", "bobpw", expires=0)
EOF
py "RFC 5658: UDP in, TCP out: two Record-Routes, on the registration's own connection" <<'EOF'
t, a = Peer(R, "tcp"), Peer(R)
# the contact says a port nobody listens on (9): only the registration's connection reaches bob
r = register(t, R, "bob", "bobpw", contact="<sip:bob@127.0.0.1:9;transport=tcp>")
assert status(r) == 200, r
a.send(request(a, "INVITE", "sip:bob@127.0.0.1:%d" % R, "sip:bob@127.0.0.1", frm="sip:alice@127.0.0.1"))
m = t.recv(3)
assert m and m.startswith("INVITE "), m
rr = header(m, "Record-Route")
assert len(rr) == 2 and "transport=tcp" in rr[0] and "transport=tcp" not in rr[1], rr
assert all(";sxr=" in x for x in rr), rr
# The dialog's next request from alice (her route set: the Record-Routes reversed) reaches
# bob on his connection too: the callee-side entry names it.
to = header(m, "To")[0]
a.send(request(a, "BYE", m.split(" ")[1], "sip:bob@127.0.0.1", frm="sip:alice@127.0.0.1",
               to_tag="b1", call_id=header(m, "Call-ID")[0], cseq=2,
               hdrs=["Route: %s, %s" % (rr[1], rr[0])]))
m2 = t.recv(3)
assert m2 and m2.startswith("BYE "), m2
assert not header(m2, "Route"), m2
# the same with the flow changed under the token: refused
forged = rr[0].replace(";sxf=", ";sxf=9")
a.send(request(a, "BYE", m.split(" ")[1], "sip:bob@127.0.0.1", to_tag="b1",
               call_id=header(m, "Call-ID")[0], cseq=3, hdrs=["Route: %s, %s" % (rr[1], forged)]))
assert t.recv(1) is None
EOF
py "the same REGISTER again (a retransmission) gets the same 200, no transaction kept" <<'EOF'
p = Peer(R)
ruri, aor, cid = "sip:127.0.0.1:%d" % R, "sip:alice@127.0.0.1", rnd()
p.send(request(p, "REGISTER", ruri, aor, call_id=cid, contact="<sip:alice@127.0.0.1:%d>" % p.port, hdrs=["Expires: 60"]))
ch = p.final()
req = request(p, "REGISTER", ruri, aor, call_id=cid, cseq=2, contact="<sip:alice@127.0.0.1:%d>" % p.port,
              hdrs=["Expires: 60", authorize(ch, "REGISTER", ruri, "alice", "alicepw")])
p.send(req); r1 = p.final(); p.send(req); r2 = p.final()
assert status(r1) == 200 and status(r2) == 200, (r1, r2)
p.send(req.replace("CSeq: 2", "CSeq: 1")); assert status(p.final()) == 401
EOF
has "registrar: relay attempts reported" 'rejected  from udp:127.0.0.1:[0-9]+: 403' "$TMP/a.out"

# Expiry on the second, nobody touching the AoR: bound with expires 1, expired 1 s later.
py "a binding expires on time with nobody looking" <<'EOF'
p = Peer(R)
r = register(p, R, "alice", "alicepw", expires=1); assert status(r) == 200, r
EOF
wait_for "$TMP/a.out" "expired alice" 4
has "expired line" 'expired alice' "$TMP/a.out"
b=$(grep -E 'bound alice .* expires 1 s' "$TMP/a.out" | tail -1 | sed -E 's/^\+([0-9.]+)s.*/\1/')
e=$(grep -E 'expired alice' "$TMP/a.out" | tail -1 | sed -E 's/^\+([0-9.]+)s.*/\1/')
CHECKS=$((CHECKS + 1))
if python3 -c "import sys; d=$e-$b; sys.exit(0 if 0.9 <= d <= 1.6 else 1)"; then echo "ok - expired 1 s after binding"; else
	echo "FAIL - expired $e s, bound $b s"; FAILS=$((FAILS + 1)); fi

# Lockout: 3 wrong passwords from 127.0.0.3, then the right one from there is refused; 127.0.0.1 is not affected.
py "lockout after 3 failed passwords, per source" <<'EOF'
bad = Peer(R, src="127.0.0.3")
for i in range(3):
    assert status(register(bad, R, "alice", "guess%d" % i)) == 401
r = register(bad, R, "alice", "alicepw"); assert status(r) == 403 and header(r, "Retry-After"), r
good = Peer(R)
assert status(register(good, R, "alice", "alicepw")) == 200
EOF
has "lockout reported" 'limited lockout of 127.0.0.3 for 30 s after 3 failed passwords' "$TMP/a.out"

py "slowloris: a message trickled over TCP is cut off after --tcp-message-timeout" <<'EOF'
s = socket.create_connection(("127.0.0.1", R)); s.settimeout(0.2)
t0 = time.time(); closed = False
for b in b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKslow\r\n":
    try:
        s.send(bytes([b]))
        if s.recv(100) == b"": closed = True
    except socket.timeout: pass
    except OSError: closed = True
    if closed or time.time() - t0 > 6: break
    time.sleep(0.1)
assert closed and time.time() - t0 < 3, time.time() - t0
EOF
py "one source holds at most --tcp-max-per-source connections" <<'EOF'
conns = [socket.create_connection(("127.0.0.1", R)) for _ in range(5)]
conns[-1].settimeout(2)
assert conns[-1].recv(10) == b""
conns[0].settimeout(0.3)
try:
    conns[0].recv(10); sys.exit("first connection closed")
except socket.timeout: pass
EOF
stop_registrar
finish
