#!/usr/bin/env python3
"""Loopback SIP helpers for the registrar tests: build a request, send it over UDP or TCP,
read responses, answer a digest challenge (RFC 7616 MD5/SHA-256), listen as a sink.
Every wait is bounded."""
import hashlib
import random
import re
import socket
import time


def rnd():
    return "%08x" % random.getrandbits(32)


class Peer:
    """A UDP or TCP socket on 127.0.0.X with a local port, talking to the registrar."""

    def __init__(self, port, proto="udp", src="127.0.0.1", lport=0):
        self.dst = ("127.0.0.1", port)
        self.proto = proto
        if proto == "udp":
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.s.bind((src, lport))
        else:
            self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.s.bind((src, lport))
            self.s.connect(self.dst)
        self.host, self.port = self.s.getsockname()
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        if self.proto == "udp":
            self.s.sendto(data, self.dst)
        else:
            self.s.sendall(data)

    def recv(self, timeout=2.0):
        """The next message (text), or None after timeout."""
        end = time.time() + timeout
        while True:
            if self.proto == "udp":
                self.s.settimeout(max(0.01, end - time.time()))
                try:
                    return self.s.recv(65535).decode("latin-1")
                except (socket.timeout, BlockingIOError):
                    return None
            m = re.search(rb"\r\n\r\n", self.buf)
            if m:
                head = self.buf[: m.end()].decode("latin-1")
                cl = re.search(r"(?im)^(content-length|l)\s*:\s*(\d+)", head)
                n = m.end() + (int(cl.group(2)) if cl else 0)
                if len(self.buf) >= n:
                    msg, self.buf = self.buf[:n], self.buf[n:]
                    return msg.decode("latin-1")
            left = end - time.time()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                d = self.s.recv(65535)
            except socket.timeout:
                return None
            if not d:
                return None
            self.buf += d

    def final(self, timeout=2.0):
        """The next final response (1xx skipped), or None."""
        end = time.time() + timeout
        while time.time() < end:
            m = self.recv(end - time.time())
            if m is None:
                return None
            if m.startswith("SIP/2.0 ") and int(m.split(" ", 2)[1]) >= 200:
                return m
        return None


def request(peer, method, ruri, to, frm=None, call_id=None, cseq=1, contact=None, hdrs=(),
            to_tag=None, body=""):
    """A request from peer, as text."""
    frm = frm or to
    tp = "UDP" if peer.proto == "udp" else "TCP"
    h = ["%s %s SIP/2.0" % (method, ruri),
         "Via: SIP/2.0/%s %s:%d;rport;branch=z9hG4bK%s" % (tp, peer.host, peer.port, rnd()),
         "Max-Forwards: 70",
         "From: <%s>;tag=f%s" % (frm, rnd()),
         "To: <%s>%s" % (to, ";tag=" + to_tag if to_tag else ""),
         "Call-ID: %s" % (call_id or rnd() + "@test"),
         "CSeq: %d %s" % (cseq, method)]
    if contact:
        h.append("Contact: %s" % contact)
    h += list(hdrs)
    h.append("Content-Length: %d" % len(body))
    return "\r\n".join(h) + "\r\n\r\n" + body


def status(msg):
    return int(msg.split(" ", 2)[1]) if msg else 0


def header(msg, name):
    """Every value of header name (case-insensitive), in order."""
    return [m.group(1).strip() for m in re.finditer(r"(?im)^%s\s*:(.*)$" % re.escape(name), msg or "")]


def authorize(challenge_msg, method, ruri, user, password, proxy=False):
    """The Authorization (or Proxy-Authorization) line answering the first challenge."""
    name = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
    ch = header(challenge_msg, name)[0]
    p = dict(re.findall(r'(\w+)="?([^",]*)"?', ch))
    alg = p.get("algorithm", "MD5").upper()
    H = (lambda s: hashlib.sha256(s.encode()).hexdigest()) if alg == "SHA-256" else \
        (lambda s: hashlib.md5(s.encode()).hexdigest())
    cnonce, nc = rnd(), "00000001"
    ha1 = H("%s:%s:%s" % (user, p["realm"], password))
    ha2 = H("%s:%s" % (method, ruri))
    resp = H("%s:%s:%s:%s:auth:%s" % (ha1, p["nonce"], nc, cnonce, ha2))
    return ('%s: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'algorithm=%s, qop=auth, nc=%s, cnonce="%s"' %
            ("Proxy-Authorization" if proxy else "Authorization", user, p["realm"], p["nonce"],
             ruri, resp, alg, nc, cnonce))


def register(peer, reg_port, user, password=None, expires=60, contact=None, hdrs=(),
             domain="127.0.0.1", call_id=None):
    """REGISTER (answering one 401 when a password is given); the final response."""
    ruri = "sip:127.0.0.1:%d" % reg_port
    aor = "sip:%s@%s" % (user, domain)
    contact = contact or "<sip:%s@%s:%d%s>" % (user, peer.host, peer.port,
                                               ";transport=tcp" if peer.proto == "tcp" else "")
    cid = call_id or rnd() + "@reg"
    req = request(peer, "REGISTER", ruri, aor, call_id=cid, cseq=1, contact=contact,
                  hdrs=list(hdrs) + ["Expires: %d" % expires])
    peer.send(req)
    r = peer.final()
    if status(r) == 401 and password is not None:
        auth = authorize(r, "REGISTER", ruri, user, password)
        peer.send(request(peer, "REGISTER", ruri, aor, call_id=cid, cseq=2, contact=contact,
                          hdrs=list(hdrs) + ["Expires: %d" % expires, auth]))
        r = peer.final()
    return r
