#!/usr/bin/python3
"""KNX side of the performance budget runs (run-bench.sh). Standard library
only; speaks knxd's client protocol on its unix socket itself.

usage:
  bench_knx.py chargers EXAMPLE_CONF DIR PREFIX N
      writes N charger files PREFIX0001.. into DIR: the example's
      [connector 1] objects, each charger on 32 free group addresses of its
      own (charger k: 256 + 32 (k - 1) + object index)
  bench_knx.py latency PORT KNX_URL CHARGER_CONF SAMPLES
      one charger over ws:// and the bus in one process, one clock:
      (a) GroupValue_Write charging = 1 -> RemoteStartTransaction at the
          charger; (b) MeterValues with a new current -> the current
          telegram on the bus. Prints p50/p99/max in milliseconds.
  bench_knx.py telegrams PORT KNX_URL CHARGER_CONF VALUES
      a steady 16 A session with meter values 10 s apart (simulated time
      in the timestamps, sent 200 ms apart in real time); counts every
      telegram the gateway sends after the session is running and scales
      it to one charger-hour.
"""
import base64
import json
import os
import re
import select
import socket
import struct
import sys
import time

GA_BASE = 256
GA_PER_CHARGER = 32
SPACING_S = 0.05     # between command samples (one telegram each)
# A meter value with a new current makes up to four telegrams (current,
# power, meter, session energy): 150 ms apart keeps them below the
# 20..50 telegrams/s limit, so the rate limiter does not queue them.
METER_SPACING_S = 0.15


# ---- charger files ---------------------------------------------------------

def write_chargers(example, out_dir, prefix, n):
    lines = open(example).read().split("\n")
    for k in range(1, n + 1):
        ident = f"{prefix}{k:04d}"
        base = GA_BASE + GA_PER_CHARGER * (k - 1)
        obj = 0
        out = []
        for line in lines:
            if re.match(r"^id\s*=", line):
                line = f"id = {ident}"
            m = re.match(r"^(\w+)(\s*=\s*)9/7/\d+(.*)$", line)
            if m:
                line = f"{m.group(1)}{m.group(2)}{base + obj}{m.group(3)}"
                obj += 1
            out.append(line)
        if obj > GA_PER_CHARGER:
            sys.exit("more objects than group addresses per charger")
        with open(os.path.join(out_dir, ident + ".conf"), "w") as f:
            f.write("\n".join(out))


def charger_conf(path):
    """(identity, {object: group address as a number})"""
    ident, gas = None, {}
    for line in open(path):
        line = line.split(";")[0].strip()
        m = re.match(r"^(\w+)\s*=\s*(\S+)$", line)
        if not m:
            continue
        if m.group(1) == "id":
            ident = m.group(2)
        elif m.group(2).isdigit():
            gas[m.group(1)] = int(m.group(2))
    return ident, gas


def ga_str(ga):
    return f"{ga >> 11}/{(ga >> 8) & 7}/{ga & 0xff}"


# ---- a minimal OCPP-J charger over ws:// ------------------------------------

class Charger:
    def __init__(self, port, ident):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET /ocpp/{ident} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\n"
                        "Sec-WebSocket-Version: 13\r\n"
                        "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.s.recv(4096)
            if not chunk:
                sys.exit("gateway closed during the handshake")
            buf += chunk
        head, self.buf = buf.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            sys.exit("upgrade refused: " + head.split(b"\r\n")[0].decode())
        self.seq = 0
        self.calls = []       # CALLs from the gateway not yet taken

    def fileno(self):
        return self.s.fileno()

    def send(self, msg):
        data = json.dumps(msg, separators=(",", ":")).encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            head = struct.pack("!BB", 0x81, 0x80 | n)
        else:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.s.sendall(head + mask + body)

    def _frame(self):
        """one whole frame from the buffer, or None"""
        b = self.buf
        if len(b) < 2:
            return None
        n, off = b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, off = struct.unpack("!H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, off = struct.unpack("!Q", b[2:10])[0], 10
        if len(b) < off + n:
            return None
        self.buf = b[off + n:]
        return b[0] & 0x0F, b[off:off + n]

    def recv(self, timeout=10.0):
        """the next OCPP message (a list)"""
        end = time.monotonic() + timeout
        while True:
            f = self._frame()
            if f:
                op, payload = f
                if op == 1:
                    return json.loads(payload)
                if op == 8:
                    sys.exit("gateway closed the WebSocket")
                continue
            left = end - time.monotonic()
            if left <= 0:
                sys.exit("no message from the gateway")
            self.s.settimeout(left)
            chunk = self.s.recv(65536)
            if not chunk:
                sys.exit("gateway closed the connection")
            self.buf += chunk

    def answer(self, msg, payload=None):
        self.send([3, msg[1], payload if payload is not None
                   else answer_for(msg[2])])

    def call(self, action, payload):
        """a CALL; answers the gateway's calls meanwhile; returns the result"""
        self.seq += 1
        mid = f"k{self.seq}"
        self.send([2, mid, action, payload])
        while True:
            m = self.recv()
            if m[0] == 2:
                self.answer(m)
            elif m[1] == mid:
                if m[0] != 3:
                    sys.exit(f"{action} refused: {m}")
                return m[2]

    def drain(self, wait=0.5):
        """answers the gateway's calls for WAIT seconds"""
        end = time.monotonic() + wait
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([self.s], [], [], left)
            if r or self._frame_ready():
                m = self.recv()
                if m[0] == 2:
                    self.answer(m)

    def _frame_ready(self):
        saved = self.buf
        f = self._frame()
        self.buf = saved
        return f is not None


def answer_for(action):
    if action == "GetConfiguration":
        return {"configurationKey": [{"key": "NumberOfConnectors",
                                      "readonly": True, "value": "1"}]}
    return {"status": "Accepted"}


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def status(cp, st, t=None):
    cp.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                   "status": st,
                                   "timestamp": iso(t or time.time())})


def meter_payload(tx, t, energy, amps, watts):
    return {"connectorId": 1, "transactionId": tx, "meterValue": [{
        "timestamp": iso(t), "sampledValue": [
            {"value": f"{energy:.1f}", "context": "Sample.Periodic",
             "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": f"{amps:.2f}", "context": "Sample.Periodic",
             "measurand": "Current.Import", "unit": "A"},
            {"value": f"{watts:.0f}", "context": "Sample.Periodic",
             "measurand": "Power.Active.Import", "unit": "W"}]}]}


def boot(cp):
    cp.call("BootNotification", {"chargePointVendor": "Bench",
                                 "chargePointModel": "Latency"})
    cp.drain(1.0)       # the configuration calls after boot


# ---- the bus ---------------------------------------------------------------

class Bus:
    """knxd's client protocol on the unix socket, as libeibclient speaks it
    (EIBConnection.py of knxd 0.14 is Python 2 only): each message is a
    2-byte length, a 2-byte type and data; 38 opens a group socket, 39
    carries a group telegram (dest + APDU out, src + dest + APDU in)."""
    OPEN_GROUPCON = 38
    GROUP_PACKET = 39

    def __init__(self, url):
        if not url.startswith("local:"):
            sys.exit("only local: knxd URLs")
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(url[len("local:"):])
        self.buf = b""
        self._send(self.OPEN_GROUPCON, b"\x00\x00\x00")
        self.s.settimeout(5)
        while True:
            m = self._message()
            if m is None:
                self._fill()
                continue
            if m[0] != self.OPEN_GROUPCON:
                sys.exit("knxd refused the group socket")
            break
        self.s.setblocking(False)

    def _send(self, mtype, data):
        body = struct.pack("!H", mtype) + data
        self.s.sendall(struct.pack("!H", len(body)) + body)

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            sys.exit("knxd connection lost")
        self.buf += chunk

    def _message(self):
        if len(self.buf) < 4:
            return None
        n = struct.unpack("!H", self.buf[:2])[0]
        if len(self.buf) < 2 + n:
            return None
        body, self.buf = self.buf[2:2 + n], self.buf[2 + n:]
        return struct.unpack("!H", body[:2])[0], body[2:]

    def fileno(self):
        return self.s.fileno()

    def write(self, ga, apdu):
        self._send(self.GROUP_PACKET, struct.pack("!H", ga) + bytes(apdu))

    def telegrams(self):
        """every telegram already received: [(dest, apdu bytes)]"""
        try:
            while True:
                self._fill()
        except BlockingIOError:
            pass
        out = []
        while True:
            m = self._message()
            if m is None:
                return out
            if m[0] == self.GROUP_PACKET and len(m[1]) >= 4:
                out.append((struct.unpack("!H", m[1][2:4])[0], m[1][4:]))

    def wait_for(self, ga, timeout=5.0):
        """monotonic ns when a write to GA arrives"""
        end = time.monotonic() + timeout
        while True:
            for dst, apdu in self.telegrams():
                if dst == ga and len(apdu) >= 2 and apdu[1] & 0xC0 == 0x80:
                    return time.perf_counter_ns()
            left = end - time.monotonic()
            if left <= 0:
                sys.exit(f"no telegram on {ga_str(ga)}")
            select.select([self.fileno()], [], [], left)


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, (len(s) * p) // 100)]


def report(name, samples_ns):
    ms = [x / 1e6 for x in samples_ns]
    print(f"{name}_samples {len(ms)}")
    print(f"{name}_p50_ms {pct(ms, 50):.3f}")
    print(f"{name}_p90_ms {pct(ms, 90):.3f}")
    print(f"{name}_p99_ms {pct(ms, 99):.3f}")
    print(f"{name}_max_ms {max(ms):.3f}")


# ---- runs ------------------------------------------------------------------

def run_latency(port, url, conf, samples):
    ident, gas = charger_conf(conf)
    bus = Bus(url)
    cp = Charger(port, ident)
    boot(cp)
    status(cp, "Preparing")
    cp.drain(0.3)
    bus.telegrams()

    # (a) KNX command -> RemoteStartTransaction at the charger
    start = []
    for _ in range(samples):
        t0 = time.perf_counter_ns()
        bus.write(gas["charging"], [0x00, 0x81])
        while True:
            m = cp.recv(5.0)
            if m[0] == 2:
                if m[2] == "RemoteStartTransaction":
                    start.append(time.perf_counter_ns() - t0)
                    cp.answer(m, {"status": "Rejected"})
                    break
                cp.answer(m)
        cp.drain(SPACING_S)
        bus.telegrams()
    report("knx_to_ocpp", start)

    # (b) MeterValues with a new current -> the current telegram
    tx = cp.call("StartTransaction", {"connectorId": 1, "idTag": "BENCH",
                                      "meterStart": 0,
                                      "timestamp": iso(time.time())})["transactionId"]
    status(cp, "Charging")
    cp.drain(0.3)
    bus.telegrams()
    meter = []
    energy = 0.0
    for i in range(samples):
        amps = 16.0 if i % 2 == 0 else 10.0
        energy += 1.0
        msg = meter_payload(tx, time.time(), energy, amps, 0)
        t0 = time.perf_counter_ns()
        cp.seq += 1
        cp.send([2, f"m{cp.seq}", "MeterValues", msg])
        t1 = bus.wait_for(gas["current"])
        meter.append(t1 - t0)
        cp.drain(METER_SPACING_S)
        bus.telegrams()
    report("ocpp_to_knx", meter)


def run_telegrams(port, url, conf, values):
    ident, gas = charger_conf(conf)
    names = {ga: name for name, ga in gas.items()}
    bus = Bus(url)
    cp = Charger(port, ident)
    boot(cp)
    t = time.time()
    status(cp, "Preparing", t)
    tx = cp.call("StartTransaction", {"connectorId": 1, "idTag": "BENCH",
                                      "meterStart": 100000,
                                      "timestamp": iso(t)})["transactionId"]
    status(cp, "Charging", t)
    cp.drain(1.0)
    bus.telegrams()
    # A car at 16 A on three phases: the meter's current and power wobble
    # by a few tenths as real ones do, the register grows 30.7 Wh per 10 s.
    wobble = [0.0, 0.1, -0.1, 0.05, -0.05, 0.1, 0.0, -0.1]
    energy = 100000.0
    counts = {}
    for i in range(values):
        t += 10
        amps = 16.0 + wobble[i % len(wobble)]
        watts = amps * 230 * 3
        energy += watts * 10 / 3600
        cp.call("MeterValues", meter_payload(tx, t, energy, amps, watts))
        cp.drain(0.2)
        for dst, _ in bus.telegrams():
            n = names.get(dst, ga_str(dst))
            counts[n] = counts.get(n, 0) + 1
    cp.drain(1.0)
    for dst, _ in bus.telegrams():
        n = names.get(dst, ga_str(dst))
        counts[n] = counts.get(n, 0) + 1
    total = sum(counts.values())
    hours = values * 10 / 3600
    print(f"meter_values {values}")
    print(f"simulated_s {values * 10}")
    print("telegrams_by_object " +
          ",".join(f"{k}={v}" for k, v in sorted(counts.items())))
    print(f"telegrams {total}")
    print(f"telegrams_per_charger_hour {total / hours:.0f}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "chargers" and len(a) == 4:
        write_chargers(a[0], a[1], a[2], int(a[3]))
    elif cmd == "latency" and len(a) == 4:
        run_latency(int(a[0]), a[1], a[2], int(a[3]))
    elif cmd == "telegrams" and len(a) == 4:
        run_telegrams(int(a[0]), a[1], a[2], int(a[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
