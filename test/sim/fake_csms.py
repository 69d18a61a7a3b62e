#!/usr/bin/env python3
"""A tiny OCPP 1.6J central system for tests (standard library only).

Listens on 127.0.0.1, accepts the WebSocket upgrade, answers the charge
point's CALLs with valid confirmations and can send CALLs from a script.

usage: fake_csms.py [--port P] [--script FILE] [--log FILE] [--interval S]
                    [--boot-status Accepted|Pending|Rejected] [--once]
                    [--no-subprotocol] [--password PW]
                    [--tls-cert F --tls-key F [--tls-ca F]]
                    [--accept TAG,TAG...] [--first-transaction-id N]
                    [--drop-unanswered ACTION]

--password: the upgrade needs Basic Auth with the identity (the path's last
segment) as user, else 401. --tls-cert/--tls-key: wss:// only; --tls-ca
also asks for a client certificate that chains to it and names the
identity in its subject CN (OCPP security profile 3), else 403.
--accept: only these idTags are Accepted (Authorize, StartTransaction),
others Invalid; default all. --first-transaction-id: the transactionId of
the first StartTransaction (default 1), counted up from there.
--drop-unanswered: the first CALL of ACTION is not answered; the TCP
connection is closed instead, as a backend that went away before its
answer would.

--port 0 (default) picks a free port; the port is printed first on stdout as
"PORT <n>". Log lines are JSON: {"t":ms,"dir":"in"|"out","frame":...} where
"in" is what the charge point sent, plus {"t":ms,"event":...} lines.

Script commands (one per line, '#' comments), run on the first connection:
  after ACTION [TIMEOUT]   wait until the charge point sent a CALL ACTION
                           (each CALL satisfies one `after`)
  call ACTION JSON         send a CALL, wait up to 10 s for its answer
                           (logged as {"event":"result","action":...,
                           "payload":... or "error":CODE})
  fragment ACTION JSON     the same, split into three WebSocket fragments
  ping                     send a WebSocket ping
  send RAW                 send RAW as a text frame
  sleep SECONDS
  await FILE [TIMEOUT]     wait until FILE exists (the test's go-ahead for
                           the next step; default 60 s)
  close [CODE]             send a close frame (default 1000)
  drop                     close the TCP connection without a close frame
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 16384
MAX_MSG = 1 << 20


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Log:
    def __init__(self, path):
        self.t0 = time.monotonic()
        self.f = open(path, "w", encoding="utf-8") if path else None
        self.lock = threading.Lock()

    def write(self, entry):
        entry = dict({"t": int((time.monotonic() - self.t0) * 1000)}, **entry)
        line = json.dumps(entry, separators=(",", ":"))
        with self.lock:
            if self.f:
                self.f.write(line + "\n")
                self.f.flush()

    def frame(self, direction, text):
        try:
            self.write({"dir": direction, "frame": json.loads(text)})
        except ValueError:
            self.write({"dir": direction, "raw": text})

    def event(self, name, **kw):
        self.write(dict({"event": name}, **kw))


class Connection:
    def __init__(self, sock, server):
        self.sock = sock
        self.server = server
        self.log = server.log
        self.send_lock = threading.Lock()
        self.cond = threading.Condition()
        self.calls_seen = {}      # action -> count
        self.calls_consumed = {}  # action -> count
        self.results = {}         # id -> frame
        self.closed = False
        self.next_id = 0

    # ---- framing ----
    def send_frame(self, opcode, payload, fin=True):
        head = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([n])
        elif n < 65536:
            head += bytes([126]) + struct.pack("!H", n)
        else:
            head += bytes([127]) + struct.pack("!Q", n)
        with self.send_lock:
            try:
                self.sock.sendall(head + payload)
            except OSError:
                pass

    def send_text(self, text):
        self.log.frame("out", text)
        self.send_frame(0x1, text.encode())

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("eof")
            buf += chunk
        return buf

    def read_frame(self):
        b0, b1 = self.recv_exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.recv_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.recv_exact(8))[0]
        if n > MAX_MSG:
            raise ConnectionError("frame too large")
        if not b1 & 0x80:
            self.log.event("error", detail="unmasked client frame")
            mask = b"\0\0\0\0"
        else:
            mask = self.recv_exact(4)
        data = bytearray(self.recv_exact(n))
        for i in range(n):
            data[i] ^= mask[i % 4]
        return bool(b0 & 0x80), b0 & 0x0F, bytes(data)

    # ---- OCPP ----
    def answer(self, msg_id, action, payload):
        srv = self.server
        if action == srv.drop_unanswered and not srv.dropped:
            srv.dropped = True
            self.log.event("dropped", action=action)
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if action == "BootNotification":
            conf = {"status": srv.boot_status, "currentTime": now_iso(),
                    "interval": srv.interval}
        elif action == "Heartbeat":
            conf = {"currentTime": now_iso()}
        elif action == "Authorize":
            conf = {"idTagInfo": srv.tag_info(payload.get("idTag"))}
        elif action == "StartTransaction":
            srv.tx_counter += 1
            conf = {"transactionId": srv.tx_counter,
                    "idTagInfo": srv.tag_info(payload.get("idTag"))}
        elif action == "StopTransaction":
            conf = {"idTagInfo": {"status": "Accepted"}}
        elif action == "DataTransfer":
            conf = {"status": "UnknownVendorId"}
        elif action in ("StatusNotification", "MeterValues",
                        "DiagnosticsStatusNotification",
                        "FirmwareStatusNotification"):
            conf = {}
        else:
            self.send_text(json.dumps([4, msg_id, "NotImplemented", "", {}]))
            return
        self.send_text(json.dumps([3, msg_id, conf]))

    def on_text(self, text):
        self.log.frame("in", text)
        try:
            frame = json.loads(text)
        except ValueError:
            return
        if not isinstance(frame, list) or len(frame) < 3:
            return
        if frame[0] == 2 and len(frame) == 4:
            self.answer(frame[1], frame[2], frame[3])
            with self.cond:
                self.calls_seen[frame[2]] = self.calls_seen.get(frame[2], 0) + 1
                self.cond.notify_all()
        elif frame[0] in (3, 4):
            with self.cond:
                self.results[frame[1]] = frame
                self.cond.notify_all()

    def reader(self):
        parts, opcode = [], None
        try:
            while True:
                fin, op, data = self.read_frame()
                if op == 0x9:
                    self.send_frame(0xA, data)
                elif op == 0xA:
                    self.log.event("pong", detail=data.decode(errors="replace"))
                elif op == 0x8:
                    code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 0
                    self.log.event("close-received", code=code)
                    self.send_frame(0x8, data[:2])
                    break
                elif op in (0x1, 0x2, 0x0):
                    if op != 0:
                        opcode, parts = op, []
                    parts.append(data)
                    if fin:
                        if opcode == 0x1:
                            self.on_text(b"".join(parts).decode("utf-8"))
                        parts = []
        except (ConnectionError, OSError, ValueError):
            pass
        finally:
            with self.cond:
                self.closed = True
                self.cond.notify_all()
            try:
                self.sock.close()
            except OSError:
                pass
            self.log.event("disconnected")

    # ---- script ----
    def wait_for(self, pred, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return pred()
                self.cond.wait(left)
            return True

    def do_call(self, action, payload_text, fragments=1):
        self.next_id += 1
        msg_id = "csms-%d" % self.next_id
        text = json.dumps([2, msg_id, action, json.loads(payload_text)])
        self.log.frame("out", text)
        data = text.encode()
        step = max(1, len(data) // fragments + 1)
        chunks = [data[i:i + step] for i in range(0, len(data), step)] or [b""]
        for i, chunk in enumerate(chunks):
            self.send_frame(0x1 if i == 0 else 0x0, chunk, i == len(chunks) - 1)
        if not self.wait_for(lambda: msg_id in self.results, 10):
            self.log.event("error", detail="no answer to " + action)
            return
        # the answer by action, for tests that check what a command got
        frame = self.results[msg_id]
        self.log.event("result", action=action,
                       payload=frame[2] if frame[0] == 3 else None,
                       error=frame[2] if frame[0] == 4 else None)

    def await_file(self, path, timeout):
        deadline = time.monotonic() + timeout
        while not os.path.exists(path):
            if time.monotonic() > deadline or self.closed:
                return False
            time.sleep(0.05)
        return True

    def run_script(self, path):
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            word, _, rest = line.partition(" ")
            if word == "after":
                args = rest.split()
                action, timeout = args[0], float(args[1]) if len(args) > 1 else 30

                def seen(a=action):
                    return self.calls_seen.get(a, 0) > self.calls_consumed.get(a, 0)
                if not self.wait_for(seen, timeout):
                    self.log.event("error", detail="timeout waiting for " + action)
                    return
                with self.cond:
                    self.calls_consumed[action] = self.calls_consumed.get(action, 0) + 1
            elif word in ("call", "fragment"):
                action, _, payload = rest.partition(" ")
                self.do_call(action, payload or "{}", 3 if word == "fragment" else 1)
            elif word == "ping":
                self.send_frame(0x9, b"fake")
            elif word == "send":
                self.send_text(rest)
            elif word == "sleep":
                time.sleep(float(rest))
            elif word == "await":
                args = rest.split()
                if not self.await_file(args[0], float(args[1]) if len(args) > 1 else 60):
                    self.log.event("error", detail="timeout waiting for " + args[0])
                    return
            elif word == "close":
                code = int(rest) if rest else 1000
                self.log.event("close-sent", code=code)
                self.send_frame(0x8, struct.pack("!H", code))
            elif word == "drop":
                try:
                    self.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            else:
                self.log.event("error", detail="bad script line: " + line)
                return
        self.log.event("script-done")


class Server:
    def __init__(self, args):
        self.log = Log(args.log)
        self.interval = args.interval
        self.boot_status = args.boot_status
        self.script = args.script
        self.no_subprotocol = args.no_subprotocol
        self.tx_counter = args.first_transaction_id - 1
        self.drop_unanswered = args.drop_unanswered
        self.dropped = False
        self.connections = 0
        self.password = args.password
        self.accept = set(args.accept.split(",")) if args.accept else None
        self.tls = None
        if args.tls_cert:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(args.tls_cert, args.tls_key)
            if args.tls_ca:
                self.tls.load_verify_locations(args.tls_ca)
                self.tls.verify_mode = ssl.CERT_OPTIONAL

    def tag_info(self, tag):
        ok = self.accept is None or tag in self.accept
        return {"status": "Accepted" if ok else "Invalid"}

    def refuse(self, sock, status, reason, identity):
        sock.sendall(("HTTP/1.1 %d %s\r\nContent-Length: 0\r\n\r\n"
                      % (status, reason)).encode())
        self.log.event("refused", status=status, identity=identity)

    def authorized(self, sock, headers, identity):
        """Basic Auth (--password) and the client certificate (--tls-ca)."""
        if self.password is not None:
            want = base64.b64encode(("%s:%s" % (identity, self.password))
                                    .encode()).decode()
            if headers.get("authorization", "") != "Basic " + want:
                self.refuse(sock, 401, "Unauthorized", identity)
                return False
        if self.tls is not None and self.tls.verify_mode == ssl.CERT_OPTIONAL:
            cert = sock.getpeercert()
            cns = [v for rdn in (cert or {}).get("subject", ())
                   for k, v in rdn if k == "commonName"]
            if cns != [identity]:
                self.refuse(sock, 403, "Forbidden", identity)
                return False
        return True

    def handshake(self, sock):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk or len(head) > MAX_HEAD:
                return None
            head += chunk
        text = head.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        lines = text.split("\r\n")
        request = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        key = headers.get("sec-websocket-key")
        if len(request) < 3 or request[0] != "GET" or not key:
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return None
        identity = request[1].rstrip("/").rsplit("/", 1)[-1]
        if not self.authorized(sock, headers, identity):
            return None
        offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        reply = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n" % accept)
        proto = ""
        if "ocpp1.6" in offered and not self.no_subprotocol:
            proto = "ocpp1.6"
            reply += "Sec-WebSocket-Protocol: ocpp1.6\r\n"
        sock.sendall((reply + "\r\n").encode())
        self.log.event("connected", path=request[1], protocol=proto,
                       offered=offered, identity=identity,
                       authorization=headers.get("authorization", ""),
                       tls=self.tls is not None)
        return True

    def serve(self, listener, once):
        while True:
            sock, _ = listener.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls is not None:
                try:
                    sock.settimeout(10)
                    sock = self.tls.wrap_socket(sock, server_side=True)
                    sock.settimeout(None)
                except (ssl.SSLError, OSError) as e:
                    self.log.event("tls-failed", detail=str(e))
                    sock.close()
                    continue
            if not self.handshake(sock):
                sock.close()
                continue
            self.connections += 1
            conn = Connection(sock, self)
            reader = threading.Thread(target=conn.reader, daemon=True)
            reader.start()
            if self.script and self.connections == 1:
                threading.Thread(target=conn.run_script, args=(self.script,),
                                 daemon=True).start()
            if once:
                reader.join()
                time.sleep(0.2)
                return


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--script")
    ap.add_argument("--log")
    ap.add_argument("--interval", type=int, default=300)
    ap.add_argument("--boot-status", default="Accepted",
                    choices=["Accepted", "Pending", "Rejected"])
    ap.add_argument("--once", action="store_true")
    ap.add_argument("--no-subprotocol", action="store_true")
    ap.add_argument("--password")
    ap.add_argument("--accept")
    ap.add_argument("--first-transaction-id", type=int, default=1)
    ap.add_argument("--drop-unanswered")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--tls-ca")
    args = ap.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(8)
    print("PORT %d" % listener.getsockname()[1], flush=True)
    try:
        Server(args).serve(listener, args.once)
    except KeyboardInterrupt:
        pass
    listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
