#!/usr/bin/env python3
"""Send one command to baresip's ctrl_tcp module (netstring-framed JSON) and
print the response; or, with --events FILE, stay connected and record the
events baresip sends to its ctrl_tcp clients.
usage: ctl.py [--port CTRL] COMMAND [PARAMS...]
       ctl.py [--port CTRL] --events FILE [--for SECONDS]
examples:  ctl.py dial sip:bob@127.0.0.1:5080
           ctl.py hangup            ctl.py listcalls      ctl.py reginfo
           ctl.py quit
           ctl.py --port 5073 --events ev.jsonl --for 30 &
--events: one JSON object a line in FILE, flushed as each arrives; the first line is
{"connected": true}, written once the connection is up (wait for it before the call).
Ends when baresip closes the connection, after SECONDS (default 60), or on SIGTERM/SIGINT."""
import json, signal, socket, sys, time


def messages(s, deadline):
    """Yield the netstrings' JSON objects read from s until deadline or EOF."""
    buf = b""
    while time.time() < deadline:
        s.settimeout(max(0.01, min(0.5, deadline - time.time())))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            return
        buf += chunk
        while b":" in buf:
            n, rest = buf.split(b":", 1)
            n = int(n)
            if len(rest) < n + 1:
                break
            msg, buf = rest[:n], rest[n + 1:]
            yield json.loads(msg)


def events(port, path, seconds):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    with open(path, "w") as out:
        out.write('{"connected": true}\n')
        out.flush()
        try:
            for obj in messages(s, time.time() + seconds):
                out.write(json.dumps(obj) + "\n")
                out.flush()
        except KeyboardInterrupt:
            pass
    s.close()
    return 0


def command(port, args):
    cmd = {"command": args[0], "params": " ".join(args[1:]), "token": "t%d" % time.time()}
    data = json.dumps(cmd).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"%d:%s," % (len(data), data))
    # read netstrings until the response (events may arrive first)
    for obj in messages(s, time.time() + 5):
        print(json.dumps(obj))
        if obj.get("response"):
            s.close()
            return 0 if obj.get("ok") else 1
    s.close()
    return 1


def main():
    args = sys.argv[1:]
    port = 5073  # start.sh: --ctrl, default SIP port + 3
    path, seconds = None, 60.0
    while args[:1] in (["--port"], ["--events"], ["--for"]) and len(args) > 1:
        if args[0] == "--port":
            port = int(args[1])
        elif args[0] == "--events":
            path = args[1]
        else:
            seconds = float(args[1])
        args = args[2:]
    if path:
        return events(port, path, seconds)
    if not args:
        print(__doc__)
        return 2
    return command(port, args)


sys.exit(main())
