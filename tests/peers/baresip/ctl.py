#!/usr/bin/env python3
"""Send one command to baresip's ctrl_tcp module (netstring-framed JSON) and
print the response.  usage: ctl.py [--port CTRL] COMMAND [PARAMS...]
examples:  ctl.py dial sip:bob@127.0.0.1:5080
           ctl.py hangup            ctl.py listcalls      ctl.py reginfo
           ctl.py quit"""
import json, socket, sys, time
args = sys.argv[1:]
port = 5073  # start.sh: --ctrl, default SIP port + 3
if args[:1] == ["--port"]:
    port = int(args[1]); args = args[2:]
if not args:
    print(__doc__); sys.exit(2)
cmd = {"command": args[0], "params": " ".join(args[1:]), "token": "t%d" % time.time()}
data = json.dumps(cmd).encode()
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"%d:%s," % (len(data), data))
buf = b""
deadline = time.time() + 5
# read netstrings until the response (events may arrive first)
while time.time() < deadline:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        break
    if not chunk:
        break
    buf += chunk
    while b":" in buf:
        n, rest = buf.split(b":", 1)
        n = int(n)
        if len(rest) < n + 1:
            break
        msg, buf = rest[:n], rest[n + 1:]
        obj = json.loads(msg)
        print(json.dumps(obj))
        if obj.get("response"):
            s.close(); sys.exit(0 if obj.get("ok") else 1)
s.close(); sys.exit(1)
