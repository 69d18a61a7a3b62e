#!/usr/bin/python3
"""A KNX panel for the integration tests, on knxd's client protocol
(the protocol of libeibclient, spoken directly). Standard library only.

  knx_bus.py monitor URL
      prints every group telegram as knxtool groupsocketlisten does, each
      line prefixed with the wall-clock time it was read ("%.6f "), flushed
      line by line
  knx_bus.py read URL GA [TIMEOUT_S]
      sends GroupValue_Read to GA and prints the data of the first
      GroupValue_Response on GA in knxtool's notation ("01" for the 6-bit
      form, "41 80 00 00 " for data bytes); exit 2 when none came in time
  knx_bus.py write URL GA HEX...
      GroupValue_Write with data bytes (00 80 HEX...)
"""
import select
import socket
import struct
import sys
import time

# knxd's client protocol (eibclient): every message is a 2-byte length,
# a 2-byte type and data. The Python module knxd ships is Python 2 only.
EIB_OPEN_GROUPCON = 0x26
EIB_GROUP_PACKET = 0x27


def ga_parse(text):
    parts = [int(p) for p in text.split("/")]
    if len(parts) == 3:
        return (parts[0] << 11) | (parts[1] << 8) | parts[2]
    if len(parts) == 2:
        return (parts[0] << 11) | parts[1]
    return parts[0]


def ga_text(ga):
    return f"{ga >> 11}/{(ga >> 8) & 7}/{ga & 0xFF}"


def ia_text(ia):
    return f"{ia >> 12}.{(ia >> 8) & 0x0F}.{ia & 0xFF}"


def data_text(apdu):
    if len(apdu) == 2:
        return f"{apdu[1] & 0x3F:02X}"
    return "".join(f"{b:02X} " for b in apdu[2:])


SERVICES = {0x00: "Read", 0x40: "Response", 0x80: "Write"}


class Conn:
    def __init__(self, url):
        if not url.startswith("local:"):
            sys.exit(f"only local: URLs are supported, not {url}")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(url[6:])
        except OSError as e:
            sys.exit(f"cannot connect to {url}: {e}")
        self.buf = b""
        self.send(struct.pack(">HHB", EIB_OPEN_GROUPCON, 0, 0))
        msg = self.message(5.0)
        if msg is None or msg[:2] != struct.pack(">H", EIB_OPEN_GROUPCON):
            sys.exit(f"knxd refused the group socket on {url}")

    def send(self, body):
        self.sock.sendall(struct.pack(">H", len(body)) + body)

    def message(self, timeout):
        """The body of the next message, None on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if len(self.buf) >= 2:
                n = struct.unpack(">H", self.buf[:2])[0]
                if len(self.buf) >= 2 + n:
                    body, self.buf = self.buf[2:2 + n], self.buf[2 + n:]
                    return body
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                return None
            chunk = self.sock.recv(4096)
            if not chunk:
                sys.exit("knxd connection lost")
            self.buf += chunk

    def send_group(self, ga, apdu):
        self.send(struct.pack(">HH", EIB_GROUP_PACKET, ga) + bytes(apdu))


def connect(url):
    return Conn(url)


def receive(con, timeout):
    """(src, dst, apdu) of the next group telegram, None on timeout."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        body = con.message(left)
        if body is None:
            return None
        if len(body) < 8 or struct.unpack(">H", body[:2])[0] != EIB_GROUP_PACKET:
            continue
        src, dst = struct.unpack(">HH", body[2:6])
        apdu = body[6:]
        if (apdu[0] & 0x03) == 0 and (apdu[1] & 0xC0) in SERVICES:
            return src, dst, apdu


def monitor(url):
    con = connect(url)
    while True:
        src, dst, apdu = receive(con, None)
        svc = SERVICES[apdu[1] & 0xC0]
        line = f"{time.time():.6f} {svc} from {ia_text(src)} to {ga_text(dst)}"
        if svc != "Read":
            line += ": " + data_text(apdu)
        print(line, flush=True)


def read(url, ga_arg, timeout):
    con = connect(url)
    ga = ga_parse(ga_arg)
    con.send_group(ga, [0x00, 0x00])
    deadline = time.monotonic() + timeout
    while True:
        got = receive(con, max(0.0, deadline - time.monotonic()))
        if got is None:
            sys.exit(2)
        _, dst, apdu = got
        if dst == ga and (apdu[1] & 0xC0) == 0x40:
            print(data_text(apdu))
            return


def write(url, ga_arg, data):
    con = connect(url)
    con.send_group(ga_parse(ga_arg), [0x00, 0x80] + data)


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "monitor":
        monitor(a[1])
    elif len(a) in (3, 4) and a[0] == "read":
        read(a[1], a[2], float(a[3]) if len(a) == 4 else 5.0)
    elif len(a) >= 4 and a[0] == "write":
        write(a[1], a[2], [int(x, 16) for x in a[3:]])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    try:
        main()
    except (KeyboardInterrupt, BrokenPipeError):
        pass
