#!/usr/bin/python3
"""Expected KNX data bytes for the integration tests, encoded here
independently of the gateway's C code. Prints them as the bus monitor
shows data bytes ("41 80 00 00 "). Standard library only.

  knx_dpt.py f14 VALUE      DPT 14.xxx, 4-byte IEEE float
  knx_dpt.py f9 VALUE       DPT 9.xxx, 2-byte KNX float
  knx_dpt.py i13 VALUE      DPT 13.xxx, 4-byte signed (VALUE rounded)
  knx_dpt.py u5 VALUE       DPT 5.010, 1 byte
  knx_dpt.py text16 TEXT    DPT 16.000, 14 bytes ASCII, zero padded
  knx_dpt.py time10 ISO     DPT 10.001 of an OCPP timestamp in the local
                            time of $TZ (weekday 1 Monday .. 7 Sunday)
  knx_dpt.py time19 ISO     DPT 19.001 of the same (working day not valid,
                            summer time flag from $TZ)
"""
import datetime
import math
import os
import struct
import sys
import zoneinfo


def hexbytes(data):
    return "".join(f"{b:02X} " for b in data)


def half_away(x):
    # ties away from zero: 16000 mA is mantissa 1563 (Python's round: 1562)
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def f9(value):
    v = half_away(value * 100)
    exp = 0
    while not -2048 <= v <= 2047:
        exp += 1
        v = half_away(value * 100 / (1 << exp))
    if exp > 15:
        sys.exit(f"{value} out of range for DPT 9")
    m = v & 0x7FF
    sign = 0x80 if v < 0 else 0
    return bytes([sign | (exp << 3) | (m >> 8), m & 0xFF])


def local_time(iso):
    when = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    when = when.replace(microsecond=0)  # the gateway keeps whole seconds
    zone = zoneinfo.ZoneInfo(os.environ.get("TZ", "UTC"))
    return when.astimezone(zone)


def time10(iso):
    t = local_time(iso)
    return bytes([(t.isoweekday() << 5) | t.hour, t.minute, t.second])


def time19(iso):
    t = local_time(iso)
    no_working_day, summer = 0x20, 0x01
    flags = no_working_day | (summer if t.dst() else 0)
    return bytes([t.year - 1900, t.month, t.day,
                  (t.isoweekday() << 5) | t.hour, t.minute, t.second,
                  flags, 0x00])


def text16(text):
    raw = text.encode("ascii")[:14]
    return raw + bytes(14 - len(raw))


ENCODERS = {
    "f14": lambda a: struct.pack(">f", float(a)),
    "f9": lambda a: f9(float(a)),
    "i13": lambda a: struct.pack(">i", half_away(float(a))),
    "u5": lambda a: bytes([int(a)]),
    "text16": text16,
    "time10": time10,
    "time19": time19,
}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ENCODERS:
        sys.exit(__doc__)
    print(hexbytes(ENCODERS[sys.argv[1]](sys.argv[2])))


if __name__ == "__main__":
    main()
