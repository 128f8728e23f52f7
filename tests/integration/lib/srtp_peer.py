#!/usr/bin/env python3
"""A raw SRTP caller for tests: INVITE over UDP with one a=crypto line (RFC 4568), then
G.711 silence as SRTP (RFC 3711 AES_CM_128_HMAC_SHA1_80, written here from the RFC: AES from
the libcrypto that sipcx links, through ctypes), then BYE. The packets are protected with the
key the offer declared, or (--wrong-key) with another one, as a peer with a key mix-up would.
What comes back is unprotected with the key of the answer and counted.

usage: srtp_peer.py SIP_PORT [--wrong-key] [--packets N]
prints: "answered 200 srtp SUITE", then "sent N back M intact K" (K: came back unchanged);
exit 0 when the call went through, 1 otherwise. Every wait is bounded."""
import base64
import ctypes
import ctypes.util
import hashlib
import hmac
import os
import random
import re
import socket
import struct
import sys
import time

_lib = ctypes.CDLL(ctypes.util.find_library("crypto"))
_lib.EVP_CIPHER_CTX_new.restype = ctypes.c_void_p
_lib.EVP_aes_128_ctr.restype = ctypes.c_void_p
_lib.EVP_CIPHER_CTX_free.argtypes = [ctypes.c_void_p]
_lib.EVP_EncryptInit_ex.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                    ctypes.c_char_p, ctypes.c_char_p]
_lib.EVP_EncryptUpdate.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                   ctypes.POINTER(ctypes.c_int), ctypes.c_char_p, ctypes.c_int]


def aes_ctr(key, iv, data):
    """AES-128 in counter mode from iv: RFC 3711 4.1.1 AES-CM (the counter is the whole block)."""
    ctx = _lib.EVP_CIPHER_CTX_new()
    try:
        if _lib.EVP_EncryptInit_ex(ctx, _lib.EVP_aes_128_ctr(), None, key, iv) != 1:
            raise RuntimeError("EVP_EncryptInit_ex")
        out = ctypes.create_string_buffer(len(data) + 16)
        n = ctypes.c_int(0)
        if _lib.EVP_EncryptUpdate(ctx, out, ctypes.byref(n), data, len(data)) != 1:
            raise RuntimeError("EVP_EncryptUpdate")
        return out.raw[: n.value]
    finally:
        _lib.EVP_CIPHER_CTX_free(ctx)


class Srtp:
    """One direction of AES_CM_128_HMAC_SHA1_80 with a 30-byte master key || salt, ROC 0."""

    def __init__(self, master):
        mk, ms = master[:16], int.from_bytes(master[16:30], "big")

        def kdf(label, n):  # RFC 3711 4.3.1, key_derivation_rate 0
            x = ms ^ (label << 48)
            return aes_ctr(mk, (x << 16).to_bytes(16, "big"), b"\0" * n)

        self.ke, self.ka, self.ks = kdf(0, 16), kdf(1, 20), int.from_bytes(kdf(2, 14), "big")

    def _crypt(self, hdr, body):
        seq, ssrc = struct.unpack("!H", hdr[2:4])[0], struct.unpack("!I", hdr[8:12])[0]
        iv = (self.ks << 16) ^ (ssrc << 64) ^ (seq << 16)  # RFC 3711 4.1.1, ROC 0
        return aes_ctr(self.ke, iv.to_bytes(16, "big"), body)

    def _tag(self, pkt):
        return hmac.new(self.ka, pkt + b"\0\0\0\0", hashlib.sha1).digest()[:10]

    def protect(self, pkt):
        enc = pkt[:12] + self._crypt(pkt[:12], pkt[12:])
        return enc + self._tag(enc)

    def unprotect(self, pkt):
        """The plain packet, or None when the tag is wrong."""
        if len(pkt) < 22:
            return None
        body, tag = pkt[:-10], pkt[-10:]
        if not hmac.compare_digest(self._tag(body), tag):
            return None
        return body[:12] + self._crypt(body[:12], body[12:])


def recv_sip(s, want_status=None, timeout=5.0):
    """The next response (with want_status when given) as text, or None."""
    end = time.time() + timeout
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            msg = s.recv(65535).decode("latin-1")
        except socket.timeout:
            return None
        m = re.match(r"SIP/2\.0 (\d+)", msg)
        if m and (want_status is None or int(m.group(1)) in want_status):
            return msg
    return None


def main():
    port = int(sys.argv[1])
    wrong = "--wrong-key" in sys.argv
    count = int(sys.argv[sys.argv.index("--packets") + 1]) if "--packets" in sys.argv else 50
    sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sip.bind(("127.0.0.1", 0))
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", 0))
    lport, mport = sip.getsockname()[1], rtp.getsockname()[1]
    dst = ("127.0.0.1", port)
    declared, sent_with = os.urandom(30), os.urandom(30)
    if not wrong:
        sent_with = declared
    call_id, tag, branch = "%x@srtp" % random.getrandbits(48), "%x" % random.getrandbits(32), None
    sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=audio %d RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
           "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\na=sendrecv\r\n"
           % (mport, base64.b64encode(declared).decode()))

    def request(method, cseq, uri, to_tag="", body="", extra=""):
        nonlocal branch
        branch = "z9hG4bK%x" % random.getrandbits(48)
        return ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\n"
                "Max-Forwards: 70\r\nFrom: <sip:srtp@127.0.0.1>;tag=%s\r\n"
                "To: <sip:echo@127.0.0.1:%d>%s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"
                "Contact: <sip:srtp@127.0.0.1:%d>\r\n%sContent-Length: %d\r\n\r\n%s"
                % (method, uri, lport, branch, tag, port, to_tag, call_id, cseq, method,
                   lport, extra, len(body), body)).encode("latin-1")

    ruri = "sip:echo@127.0.0.1:%d" % port
    sip.sendto(request("INVITE", 1, ruri, body=sdp, extra="Content-Type: application/sdp\r\n"),
               dst)
    ok = recv_sip(sip, range(200, 700), 10)
    if not ok or not ok.startswith("SIP/2.0 200"):
        print("not answered: %s" % (ok.splitlines()[0] if ok else "nothing"))
        return 1
    to_tag = ";tag=" + re.search(r"(?im)^(?:To|t)\s*:.*;\s*tag=([^;\s>]+)", ok).group(1)
    head, _, body = ok.partition("\r\n\r\n")
    crypto = re.search(r"a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)", body)
    peer_port = int(re.search(r"m=audio (\d+)", body).group(1))
    print("answered 200 srtp %s" % (crypto.group(2) if crypto else "none"))
    sip.sendto(request("ACK", 1, ruri, to_tag), dst)
    if not crypto:
        return 1
    tx, rx = Srtp(sent_with), Srtp(base64.b64decode(crypto.group(3)))
    ssrc, seq0 = random.getrandbits(32), random.getrandbits(15)
    back = intact = 0
    rtp.setblocking(False)
    for i in range(count):
        pkt = struct.pack("!BBHII", 0x80, 0, (seq0 + i) & 0xFFFF, 160 * i, ssrc) + b"\xff" * 160
        rtp.sendto(tx.protect(pkt), ("127.0.0.1", peer_port))
        end = time.time() + 0.02
        while time.time() < end:
            try:
                data = rtp.recv(2048)
            except BlockingIOError:
                time.sleep(0.002)
                continue
            back += 1
            plain = rx.unprotect(data)
            intact += plain is not None and plain[12:] == b"\xff" * 160
    # what is still on its way back
    rtp.settimeout(0.5)
    try:
        while True:
            data = rtp.recv(2048)
            back += 1
            plain = rx.unprotect(data)
            intact += plain is not None and plain[12:] == b"\xff" * 160
    except socket.timeout:
        pass
    print("sent %d back %d intact %d" % (count, back, intact))
    sip.sendto(request("BYE", 2, ruri, to_tag), dst)
    recv_sip(sip, [200], 5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
