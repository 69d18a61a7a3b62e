#!/usr/bin/python3
"""Raw HTTP/WebSocket client for the handshake and framing tests of the
OCPP listener. Standard library only.

usage: ocpp_ws.py PORT CASE [options]

Each case prints one result line that the test script compares:
  upgrade       "HTTP <status>" then the response headers, one per line
  raw           sends --request-file as is, prints "HTTP <status>" or
                "closed" when the server closed without an answer
  bigheaders    a request with --size bytes of headers: "HTTP <status>"
  slowloris     sends a partial request, then nothing: "closed after N s"
                (or "open" after --wait seconds)
  big           a text message of --size bytes: "close <code>"
  binary        a binary frame: "close <code>"
  badutf8       a text frame with invalid UTF-8: "close <code>"
  ping          a ping with a payload: "pong <payload>"
  frame         sends --text as one text frame: "text <answer>" or
                "close <code>"
  flood         --count connections that never send their request: for
                each, "open" or "closed" (closed at once by the server)
  many          --count upgrades one after another: "N of N upgraded"
  burst         --count connections opened together, then their requests,
                then their answers read: "N of N upgraded"
  queue         a flood of --count half-open handshakes from 127.0.0.1, then
                an upgrade from --source and one from 127.0.0.1 (see below)
"""
import argparse
import base64
import os
import socket
import struct
import sys
import time


def connect(port, timeout=5.0, source="127.0.0.1"):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0))
    s.settimeout(timeout)
    return s


def request(path, protocol="ocpp1.6", version="13", extra=()):
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        f"Sec-WebSocket-Version: {version}",
    ]
    if protocol is not None:
        lines.append(f"Sec-WebSocket-Protocol: {protocol}")
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_head(s):
    """Reads an HTTP response head; returns (status, headers dict, rest)
    or (None, {}, b"") when the server closed first."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        try:
            chunk = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            chunk = b""
        if not chunk:
            return None, {}, b""
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, rest


def frame(opcode, payload, fin=True):
    mask = os.urandom(4)
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", b0, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", b0, 0x80 | 127, n)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


class Reader:
    def __init__(self, s, rest=b""):
        self.s = s
        self.buf = rest

    def need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def next(self):
        b0, b1 = self.need(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.need(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.need(8))[0]
        return b0 & 0x0F, self.need(n)


def open_ws(args):
    s = connect(args.port)
    s.sendall(request(args.path))
    status, _, rest = read_head(s)
    if status != 101:
        print(f"HTTP {status}")
        sys.exit(2)
    return s, Reader(s, rest)


def wait_close(reader):
    """Skips text frames until a close frame; prints its code."""
    try:
        while True:
            op, data = reader.next()
            if op == 8:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                print(f"close {code}")
                return
    except (EOFError, ConnectionResetError, socket.timeout):
        print("closed without close frame")


def case_upgrade(args):
    s = connect(args.port)
    s.sendall(request(args.path, None if args.no_protocol else args.protocol,
                      args.version, args.header))
    status, headers, _ = read_head(s)
    print(f"HTTP {status}")
    for k, v in sorted(headers.items()):
        print(f"{k}: {v}")


def case_raw(args):
    s = connect(args.port)
    with open(args.request_file, "rb") as f:
        s.sendall(f.read())
    status, _, _ = read_head(s)
    print("closed" if status is None else f"HTTP {status}")


def case_bigheaders(args):
    s = connect(args.port)
    filler = [f"X-Filler-{i}: " + "a" * 90 for i in range(args.size // 100)]
    try:
        s.sendall(request(args.path, extra=filler))
    except (BrokenPipeError, ConnectionResetError):
        pass
    status, _, _ = read_head(s)
    print("closed" if status is None else f"HTTP {status}")


def case_slowloris(args):
    s = connect(args.port, timeout=args.wait)
    s.sendall(b"GET /ocpp/CP1 HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    t0 = time.monotonic()
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
    except socket.timeout:
        print("open")
        return
    except ConnectionResetError:
        pass
    print(f"closed after {time.monotonic() - t0:.0f} s")


def case_flood(args):
    """Opens --count connections that never finish their request, then
    reports for each whether the server closed it at once."""
    socks = [connect(args.port, timeout=0.5) for _ in range(args.count)]
    time.sleep(0.3)
    verdict = []
    for s in socks:
        try:
            verdict.append("closed" if s.recv(1) == b"" else "data")
        except socket.timeout:
            verdict.append("open")
        except ConnectionResetError:
            verdict.append("closed")
    print(" ".join(verdict))
    for s in socks:
        s.close()


def case_burst(args):
    """The reconnect after a power cut: every charger dials at once, before
    the server has read a single request."""
    socks = [connect(args.port) for _ in range(args.count)]
    for i, s in enumerate(socks):
        s.sendall(request(f"/ocpp/BURST{i}"))
    ok = sum(read_head(s)[0] == 101 for s in socks)
    print(f"{ok} of {args.count} upgraded")
    for s in socks:
        s.close()


def case_queue(args):
    """While --count half-open handshakes from 127.0.0.1 hold its slots, a
    charger from --source upgrades, and one from 127.0.0.1 waits its turn
    (no answer, not closed) until the flood goes away. Prints
    "other <status> same <waiting|closed|status> flood <n> open, after
    release same <status>"."""
    flood = [connect(args.port, timeout=0.5) for _ in range(args.count)]
    time.sleep(0.3)
    same = connect(args.port, timeout=1.0)
    same.sendall(request("/ocpp/QUEUED1"))
    other = connect(args.port, source=args.source)
    other.sendall(request("/ocpp/OTHER1"))
    other_status = read_head(other)[0]
    try:
        data = same.recv(1)
        same_now = "closed" if data == b"" else "answered"
    except socket.timeout:
        same_now = "waiting"
    except ConnectionResetError:
        same_now = "closed"
    still_open = 0
    for s in flood:
        try:
            still_open += s.recv(1) != b""
        except socket.timeout:
            still_open += 1
        except ConnectionResetError:
            pass
    for s in flood:
        s.close()
    same.settimeout(5.0)
    after = read_head(same)[0] if same_now == "waiting" else None
    print(f"other {other_status} same {same_now} flood {still_open} open, "
          f"after release same {after}")
    other.close()
    same.close()


def case_many(args):
    """Upgrades --count WebSockets with identities MANY0, MANY1, ... and
    keeps them all open together; prints how many got a 101."""
    held = []
    ok = 0
    for i in range(args.count):
        s = connect(args.port)
        s.sendall(request(f"/ocpp/MANY{i}"))
        status, _, _ = read_head(s)
        ok += status == 101
        held.append(s)
    print(f"{ok} of {args.count} upgraded")
    for s in held:
        s.close()


def case_big(args):
    s, r = open_ws(args)
    s.sendall(frame(1, b"[" + b" " * (args.size - 2) + b"]"))
    wait_close(r)


def case_binary(args):
    s, r = open_ws(args)
    s.sendall(frame(2, b'[2,"1","Heartbeat",{}]'))
    wait_close(r)


def case_badutf8(args):
    s, r = open_ws(args)
    s.sendall(frame(1, b'[2,"1","Heartbeat",{"x":"\xff\xfe"}]'))
    wait_close(r)


def case_ping(args):
    s, r = open_ws(args)
    s.sendall(frame(9, b"are-you-there"))
    try:
        while True:
            op, data = r.next()
            if op == 10:
                print("pong " + data.decode())
                return
            if op == 8:
                print("close")
                return
    except (EOFError, socket.timeout):
        print("no pong")


def case_frame(args):
    s, r = open_ws(args)
    s.sendall(frame(1, args.text.encode()))
    try:
        while True:
            op, data = r.next()
            if op == 1:
                text = data.decode()
                if text.startswith("[2,"):
                    continue  # the gateway's own calls (TriggerMessage)
                print("text " + text)
                return
            if op == 8:
                print(f"close {struct.unpack('!H', data[:2])[0]}")
                return
    except (EOFError, socket.timeout):
        print("nothing")


CASES = {
    "upgrade": case_upgrade, "raw": case_raw, "bigheaders": case_bigheaders,
    "slowloris": case_slowloris, "big": case_big, "binary": case_binary,
    "badutf8": case_badutf8, "ping": case_ping, "frame": case_frame,
    "flood": case_flood, "many": case_many, "burst": case_burst,
    "queue": case_queue,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--path", default="/ocpp/CP1")
    ap.add_argument("--protocol", default="ocpp1.6")
    ap.add_argument("--no-protocol", action="store_true")
    ap.add_argument("--version", default="13")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--request-file")
    ap.add_argument("--size", type=int, default=70000)
    ap.add_argument("--wait", type=float, default=15.0)
    ap.add_argument("--text", default="")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--source", default="127.0.0.9")
    args = ap.parse_args()
    CASES[args.case](args)


if __name__ == "__main__":
    main()
