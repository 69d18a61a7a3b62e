#!/usr/bin/python3
"""The KNX energy meter of a simulated house, for the energy manager's
integration test, and questions about what it recorded. Standard library
and knxtool only.

  energy_meter.py run KNX_URL DIR SIM...
      Every METER_PERIOD seconds (default 2) reads DIR/house
      ("L1 L2 L3 PV_W SILENT": the house's own load in A per phase, the PV
      system's output in W, 1 while the meter is silent), adds what the
      simulated chargers draw (their last MeterValues, per phase, in
      DIR/sim-SIM.log) and writes the grid current per phase (DPT 14.019,
      1/0/1..1/0/3) and the grid power (DPT 14.056, 1/0/4: + import,
      - export) with knxtool. Every 0.1 s it looks for new charging
      profiles in the simulators' logs. Each meter write and each limit
      change is one JSON line in DIR/trace.
  energy_meter.py print DIR SIM...
      The trace as a table: time, house load per phase, limit per charger.
  energy_meter.py query DIR EXPR
      Evaluates EXPR over the trace (see QUERY HELPERS) and prints it.
"""
import json
import os
import struct
import subprocess
import sys
import time

VOLTAGE = 230.0
GRID_GA = ["1/0/1", "1/0/2", "1/0/3"]
POWER_GA = "1/0/4"


def f14(value):
    return ["%02X" % b for b in struct.pack(">f", value)]


class SimLog:
    """Follows a simulator's frame log: its last per-phase draw and limit."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = ""
        self.draw = [0.0, 0.0, 0.0]
        self.limit = None

    def poll(self):
        """True when the limit changed."""
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                f.seek(self.offset)
                data = f.read()
                self.offset = f.tell()
        except FileNotFoundError:
            return False
        data = self.partial + data
        lines = data.split("\n")
        self.partial = lines.pop()
        changed = False
        for line in lines:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event") == "charging-profile" and "limit" in e:
                limit = float(e["limit"])
                if e.get("unit") == "W":
                    limit /= 3 * VOLTAGE
                limit = round(limit, 2)
                if limit != self.limit:
                    self.limit = limit
                    changed = True
            f = e.get("frame")
            if e.get("dir") == "out" and isinstance(f, list) and len(f) == 4 \
                    and f[0] == 2 and f[2] == "MeterValues":
                self.meter(f[3])
        return changed

    def meter(self, payload):
        draw = list(self.draw)
        for mv in payload.get("meterValue", []):
            for sv in mv.get("sampledValue", []):
                phase = sv.get("phase", "")
                if sv.get("measurand") == "Current.Import" and \
                        phase in ("L1", "L2", "L3"):
                    draw[int(phase[1]) - 1] = float(sv["value"])
        self.draw = draw


def read_house(path):
    try:
        parts = open(path).read().split()
        house = [float(x) for x in parts[:3]]
        return house, float(parts[3]), parts[4] == "1"
    except (OSError, IndexError, ValueError):
        return [0.0, 0.0, 0.0], 0.0, True


def run(url, d, names):
    period = float(os.environ.get("METER_PERIOD", "2"))
    sims = {n: SimLog(os.path.join(d, "sim-%s.log" % n)) for n in names}
    trace = open(os.path.join(d, "trace"), "a", buffering=1)
    next_meter = time.time()
    while True:
        now = time.time()
        for n, s in sims.items():
            if s.poll():
                trace.write(json.dumps({"t": now, "kind": "limit", "sim": n,
                                        "limit": s.limit}) + "\n")
        if now >= next_meter:
            next_meter += period
            house, pv, silent = read_house(os.path.join(d, "house"))
            grid = [house[p] + sum(s.draw[p] for s in sims.values())
                    for p in range(3)]
            power = sum(grid) * VOLTAGE - pv
            if not silent:
                for p in range(3):
                    subprocess.run(["knxtool", "groupwrite", url, GRID_GA[p]]
                                   + f14(grid[p]), check=False,
                                   stdout=subprocess.DEVNULL)
                subprocess.run(["knxtool", "groupwrite", url, POWER_GA]
                               + f14(power), check=False,
                               stdout=subprocess.DEVNULL)
            # stamped with the time before the first write: the gateway
            # cannot have seen the reading earlier
            trace.write(json.dumps({
                "t": now, "kind": "meter", "house": house, "pv": pv,
                "silent": silent, "grid": [round(g, 2) for g in grid],
                "power": round(power), "limits": {n: s.limit
                                                  for n, s in sims.items()},
                "draws": {n: s.draw for n, s in sims.items()}}) + "\n")
        time.sleep(0.1)


def load(d):
    out = []
    with open(os.path.join(d, "trace")) as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def print_trace(d, names):
    entries = load(d)
    if not entries:
        return
    t0 = entries[0]["t"]
    print("%7s  %-17s  %6s  %7s  %s" % ("t (s)", "house L1/L2/L3 A", "pv W",
                                         "grid W",
                                         "  ".join("%6s" % n for n in names)))
    for e in entries:
        if e["kind"] != "meter":
            continue
        lim = ["%6s" % ("-" if e["limits"].get(n) is None
                        else "%g" % e["limits"][n]) for n in names]
        house = "/".join("%g" % h for h in e["house"])
        note = " silent" if e["silent"] else ""
        print("%7.1f  %-17s  %6d  %7d  %s%s" % (e["t"] - t0, house, e["pv"],
                                                e["power"], "  ".join(lim),
                                                note))


# ---- QUERY HELPERS --------------------------------------------------------
# meters()             the meter entries
# limits(sim)          the limit entries of one simulator: [(t, limit)]
# first_meter(cond)    the time of the first meter entry for which
#                      cond(entry) holds, after mark
# first_limit(sim, cond, after)  the time of the first limit entry of sim
#                      with cond(limit), after the time after; None if none
# limit_at(sim, t)     the limit of sim in force at time t
# over_fuse(fuse, sims, after)  meter entries after the time after whose
#                      house load plus the limits then in force exceeds fuse
#                      on a phase, when the entry before reported the same
#                      house load (one measurement to react), as text

def make_helpers(entries):
    meters = [e for e in entries if e["kind"] == "meter"]

    def limits(sim):
        return [(e["t"], e["limit"]) for e in entries
                if e["kind"] == "limit" and e["sim"] == sim]

    def first_meter(cond, after=0):
        for e in meters:
            if e["t"] > after and cond(e):
                return e["t"]
        return None

    def first_limit(sim, cond, after=0):
        for t, lim in limits(sim):
            if t > after and cond(lim):
                return t
        return None

    def limit_at(sim, t):
        cur = None
        for lt, lim in limits(sim):
            if lt <= t:
                cur = lim
        return cur

    def over_fuse(fuse, sims, after=0):
        bad = []
        prev = None
        for e in meters:
            if e["t"] > after and prev is not None and not e["silent"] and \
                    not prev["silent"] and prev["house"] == e["house"]:
                for p in range(3):
                    s = e["house"][p] + sum(limit_at(n, e["t"]) or 0
                                            for n in sims)
                    if s > fuse + 1e-6:
                        bad.append("t=%.1f L%d: %.2f A" % (e["t"], p + 1, s))
            prev = e
        return bad

    return {"meters": lambda: meters, "limits": limits,
            "first_meter": first_meter, "first_limit": first_limit,
            "limit_at": limit_at, "over_fuse": over_fuse}


def query(d, expr):
    entries = load(d)
    print(eval(expr, make_helpers(entries)))


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) >= 3 and sys.argv[1] == "print":
        print_trace(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 4 and sys.argv[1] == "query":
        query(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
