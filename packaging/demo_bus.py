#!/usr/bin/python3
"""KNX bus monitor of the demo: every group telegram, decoded with the
gateway's configuration. Standard library only.

  demo_bus.py URL CHARGERS_DIR SOURCE_ROOT

prints one line per telegram, flushed:

  Write    9/7/40   Garage/1 current                       16.00 A         from 0.0.3

(group address, charger name / connector, object name, value with its
unit, sender). Which object has which DPT comes from the object table of
SOURCE_ROOT/gateway/conf_values.c, the DPT choices of a charger (time_dpt,
current_dpt, ...) from its file in CHARGERS_DIR. Telegrams to addresses the
configuration does not name are shown with their raw data bytes.
"""
import configparser
import datetime
import glob
import os
import re
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "test", "integration"))
import knx_bus  # noqa: E402  (the knxd client protocol, shared with the tests)

STATUS = ["Available", "Preparing", "Charging", "SuspendedEV", "SuspendedEVSE",
          "Finishing", "Reserved", "Unavailable", "Faulted"]
ERROR_CODES = ["NoError", "ConnectorLockFailure", "EVCommunicationError",
               "GroundFailure", "HighTemperature", "InternalError",
               "LocalListConflict", "OtherError", "OverCurrentFailure",
               "OverVoltage", "PowerMeterFailure", "PowerSwitchFailure",
               "ReaderFailure", "ResetFailure", "UnderVoltage", "WeakSignal"]
ENUMS = {"status": STATUS, "error_code": ERROR_CODES}

# the words of DPT 1.xxx for 0 and 1
BOOL_WORDS = {"1.001": ("off", "on"), "1.002": ("false", "true"),
              "1.003": ("disable", "enable"), "1.010": ("stop", "start"),
              "1.011": ("inactive", "active"), "1.015": ("no action", "reset")}
UNITS = {"9.021": "mA", "9.024": "kW", "13.010": "Wh", "13.013": "kWh",
         "14.019": "A", "14.056": "W"}
# which charger key chooses the DPT of an object of that kind
DPT_KEYS = {"DPT_TIME": "time_dpt", "DPT_CURRENT": "current_dpt",
            "DPT_POWER": "power_dpt", "DPT_METER": "meter_dpt"}


def object_table(source_root):
    """{object name: (kind, default DPT)} from the C table, e.g.
    [GW_OBJ_CURRENT] = {"current", true, DPT_CURRENT, KNX_DPT_14_019},"""
    path = os.path.join(source_root, "gateway", "conf_values.c")
    row = re.compile(r'\[GW_OBJ_\w+\] = \{"(\w+)", \w+, (DPT_\w+), KNX_DPT_(\d+)_(\d+)\}')
    with open(path) as f:
        return {m[1]: (m[2], f"{int(m[3])}.{m[4]}") for m in row.finditer(f.read())}


def address_map(chargers_dir, objects):
    """{group address: (label, object, DPT)} for every charger file."""
    out = {}
    for path in sorted(glob.glob(os.path.join(chargers_dir, "*.conf"))):
        ini = configparser.ConfigParser(inline_comment_prefixes=(";",),
                                        comment_prefixes=(";",), strict=False,
                                        interpolation=None)
        ini.read(path)
        charger = ini["charger"] if ini.has_section("charger") else {}
        name = charger.get("name") or charger.get("id") or os.path.basename(path)
        for section in ini.sections():
            m = re.fullmatch(r"connector (\d+)", section)
            if not m:
                continue
            for obj, ga in ini[section].items():
                if obj not in objects or not ga:
                    continue
                kind, dpt = objects[obj]
                if kind in DPT_KEYS:
                    dpt = charger.get(DPT_KEYS[kind], dpt)
                out[knx_bus.ga_parse(ga)] = (f"{name}/{m[1]}", obj, dpt)
    return out


def knx_float16(raw):
    v = (raw[0] << 8) | raw[1]
    mantissa = v & 0x07FF
    if v & 0x8000:
        mantissa -= 2048
    return mantissa * (1 << ((v >> 11) & 0x0F)) * 0.01


def time_text(raw):
    days = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    day = days[raw[0] >> 5]
    return f"{day} {raw[0] & 0x1F:02d}:{raw[1]:02d}:{raw[2]:02d}".strip()


def datetime_text(raw):
    try:
        when = datetime.datetime(1900 + raw[0], raw[1], raw[2], raw[3] & 0x1F,
                                 raw[4], raw[5])
    except ValueError:
        return None
    return when.strftime("%Y-%m-%d %H:%M:%S")


def value_text(obj, dpt, apdu):
    """The value in words with its unit; None when the data does not fit."""
    data = bytes(apdu[2:])
    main = dpt.split(".")[0]
    unit = UNITS.get(dpt, "")
    if main == "1" and len(apdu) == 2:
        words = BOOL_WORDS.get(dpt, ("0", "1"))
        return f"{apdu[1] & 1} ({words[apdu[1] & 1]})"
    if main == "5" and len(data) == 1:
        names = ENUMS.get(obj, [])
        return f"{data[0]} ({names[data[0]]})" if data[0] < len(names) else str(data[0])
    if main == "9" and len(data) == 2:
        return f"{knx_float16(data):.2f} {unit}"
    if main == "13" and len(data) == 4:
        return f"{struct.unpack('>i', data)[0]} {unit}"
    if main == "14" and len(data) == 4:
        return f"{struct.unpack('>f', data)[0]:.2f} {unit}"
    if main == "10" and len(data) == 3:
        return time_text(data)
    if main == "19" and len(data) == 8:
        return datetime_text(data)
    if main == "16" and len(data) == 14:
        return '"' + data.rstrip(b"\0").decode("ascii", "replace") + '"'
    return None


def describe(addresses, src, dst, apdu):
    svc = knx_bus.SERVICES[apdu[1] & 0xC0]
    ga = knx_bus.ga_text(dst)
    sender = f"from {knx_bus.ia_text(src)}"
    if dst not in addresses:
        raw = "" if svc == "Read" else knx_bus.data_text(apdu).strip()
        return f"{svc:<8} {ga:<8} {'(not configured)':<38} {raw:<15} {sender}"
    label, obj, dpt = addresses[dst]
    what = f"{label} {obj}"
    if svc == "Read":
        return f"{svc:<8} {ga:<8} {what:<38} {'':<15} {sender}"
    value = value_text(obj, dpt, apdu)
    if value is None:
        value = f"{knx_bus.data_text(apdu).strip()} (not DPT {dpt})"
    return f"{svc:<8} {ga:<8} {what:<38} {value:<15} {sender}"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    url, chargers_dir, source_root = sys.argv[1:]
    addresses = address_map(chargers_dir, object_table(source_root))
    con = knx_bus.connect(url)
    print(f"bus monitor: {len(addresses)} group addresses of the configuration",
          flush=True)
    while True:
        src, dst, apdu = knx_bus.receive(con, None)
        print(describe(addresses, src, dst, apdu), flush=True)


if __name__ == "__main__":
    try:
        main()
    except (KeyboardInterrupt, BrokenPipeError):
        pass
