#!/usr/bin/python3
"""GET /status/events and /events on the gateway: the stream's head, the
status pushed when it opens and after changes (several changes, one
push), the page's HTML on /events and the JSON on /status/events only,
the cap on open streams (one more is 503, a closed one frees its place).

usage: status_events.py PORT SIM_FIFO
CP1's simulator reads SIM_FIFO; it has booted and plugged connector 1."""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from page_checks import check, sim_command  # noqa: E402

port, fifo = int(sys.argv[1]), sys.argv[2]
CAP = 16


def sim(cmd):
    sim_command(fifo, cmd)


class Stream:
    def __init__(self, path="/status/events"):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Accept: text/event-stream\r\n\r\n".encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1]) if lines[0] else 0
        self.headers = {k.lower(): v.strip() for k, _, v in
                        (l.partition(":") for l in lines[1:])}

    def event(self):
        """The next event as (name, data); None at the end of the stream."""
        while b"\n\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        block, _, self.buf = self.buf.partition(b"\n\n")
        name, data = "message", []
        for line in block.decode().split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line.startswith(":") or line.startswith("retry:"):
                pass
        if not data:
            return self.event()
        return name, "\n".join(data)

    def status_where(self, pred, what, limit=200):
        """Reads events until a status event satisfies pred; the events
        read and that status."""
        seen = 0
        for _ in range(limit):
            ev = self.event()
            check(ev is not None, f"stream ended while waiting for {what}")
            if ev[0] != "status":
                continue
            seen += 1
            st = json.loads(ev[1])
            if pred(st):
                return seen, st
        raise SystemExit(f"FAIL: no status event with {what}")

    def close(self):
        self.s.close()


def connector(st):
    cp = next(c for c in st["chargers"] if c["id"] == "CP1")
    return cp, cp["connectors"][0]


a = Stream()
check(a.status == 200, f"/events answered {a.status}")
check(a.headers.get("content-type", "").startswith("text/event-stream"),
      f"content type {a.headers}")
check("content-length" not in a.headers, "a stream with a length")
# the state on opening: JSON here, the page's HTML on /events
ev = a.event()
check(ev and ev[0] == "status", f"first event {ev and ev[0]}")
cp, k = connector(json.loads(ev[1]))
check(cp["online"] is True and k["status"] == "Preparing", f"first status {k}")
p = Stream("/events")
check(p.status == 200, f"/events answered {p.status}")
ev = p.event()
check(ev and ev[0] == "page" and 'data-charger="CP1"' in ev[1],
      f"the page event {ev and ev[0]}")

# a session starts: the stream follows
sim("start 1 TAG9 1000")
_, st = a.status_where(lambda st: connector(st)[1]["status"] == "Charging",
                       "CP1 charging")
check(connector(st)[1]["transaction_id"], "no transaction id")


def page_where(text, what):
    for _ in range(200):
        ev = p.event()
        check(ev is not None, f"page stream ended while waiting for {what}")
        check(ev[0] == "page", f"a {ev[0]} event on /events")
        if text in ev[1]:
            return
    raise SystemExit(f"FAIL: no page with {what}")


page_where("s-charging", "the charging status")

# thirty meter values in a row: far fewer pushes, the last value arrives
for i in range(1, 31):
    sim(f"meter 1 energy={1000 + i * 10} current={i}")
n, st = a.status_where(lambda st: connector(st)[1]["current_a"] == 30,
                       "the last meter value")
check(n < 30, f"{n} pushes for 30 meter values")

# the cap: CAP streams open (a, p and these), one more is refused
others = [Stream() for _ in range(CAP - 2)]
check(all(s.status == 200 for s in others), [s.status for s in others])
extra = Stream()
check(extra.status == 503, f"stream {CAP + 1} answered {extra.status}")
check(extra.headers.get("retry-after") == "10", extra.headers)
extra.close()
# every open one gets the next change
sim("meter 1 energy=2000 current=7")
for s in [a] + others:
    s.status_where(lambda st: connector(st)[1]["current_a"] == 7,
                   "current 7 on every stream")
page_where('data-field="current">7.0 A<', "current 7 on the page stream")
# a stream that goes frees its place
others.pop().close()
for _ in range(100):
    again = Stream()
    if again.status == 200:
        break
    again.close()
    time.sleep(0.1)
check(again.status == 200, "the place of a closed stream stays taken")
print(f"events ok: {n} pushes for 30 meter values, cap {CAP}")

# the caller stops the gateway now: every stream must end
sys.stdout.flush()
input()
for s in [a, p, again] + others:
    while True:
        ev = s.event()
        if ev is None:
            break
print("all streams closed at shutdown")
