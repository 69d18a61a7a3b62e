#!/usr/bin/python3
"""What a billing backend got of the charger's transactions, for the
integration tests. Standard library only.

usage: upstream_queue.py BACKEND_LOG SIM_LOG UPSTREAM_ID [--queued N] ACTION...

The backend's transaction CALLs (StartTransaction, MeterValues,
StopTransaction) must be exactly ACTION..., in that order, each once, and
match the last such CALLs of the simulator one by one: the same idTag,
meter readings and timestamps (to the second: the charger's time, not the
time of delivery), with UPSTREAM_ID as transactionId of MeterValues and
StopTransaction. Prints the counts and one summary: messages queued (N,
else as many as ACTION...), delivered, duplicates, out of order (against
the charger's order) and whether every timestamp is the charger's; exit
status 1 with a reason otherwise.
"""
import json
import sys

TX = ("StartTransaction", "MeterValues", "StopTransaction")


def calls(path, direction):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            fr = e.get("frame")
            if (e.get("dir") == direction and isinstance(fr, list)
                    and len(fr) >= 4 and fr[0] == 2 and fr[2] in TX):
                out.append((fr[2], fr[3]))
    return out


def stamp(p):
    t = p.get("timestamp") or p["meterValue"][0]["timestamp"]
    return t[:19]


def energy(p):
    for mv in p.get("meterValue", []):
        for sv in mv.get("sampledValue", []):
            if sv.get("measurand", "Energy.Active.Import.Register") == \
                    "Energy.Active.Import.Register":
                return float(sv["value"])
    return None


def key(action, p):
    """What makes a message the charger's: its action, time and reading."""
    reading = p.get("meterStart", p.get("meterStop"))
    return (action, stamp(p), energy(p) if action == "MeterValues" else reading)


def summary(got, sent, queued):
    """queued, delivered, duplicates, out of order, timestamps kept."""
    keys = [key(a, p) for a, p in sent]
    seen, dups, order = set(), 0, []
    for a, p in got:
        k = key(a, p)
        if k in seen:
            dups += 1
        seen.add(k)
        if k in keys:
            order.append(keys.index(k))
    late = sum(1 for x, y in zip(order, order[1:]) if y < x)
    kept = len(order) == len(got)
    return (f"queued {queued}, delivered {len(got)}, duplicates {dups}, "
            f"out of order {late}, timestamps kept {'yes' if kept else 'no'}")


def main():
    args = sys.argv[1:]
    queued = None
    if len(args) > 4 and args[3] == "--queued":
        queued = int(args[4])
        del args[3:5]
    blog, slog, upid, want = args[0], args[1], int(args[2]), args[3:]
    got = calls(blog, "in")
    sent = [c for c in calls(slog, "out")][-len(want):]
    counts = {a: sum(1 for g in got if g[0] == a) for a in TX}
    print("backend got: " + ", ".join(f"{a} {counts[a]}" for a in TX)
          + "; " + summary(got, sent, len(want) if queued is None else queued))
    if queued is not None and queued != len(got):
        sys.exit(f"{queued} messages were queued, the backend got {len(got)}")
    if [g[0] for g in got] != want:
        sys.exit(f"backend got {[g[0] for g in got]}, not {want}")
    for (action, p), (s_action, s) in zip(got, sent):
        if action != s_action:
            sys.exit(f"{action} does not match the charger's {s_action}")
        if stamp(p) != stamp(s):
            sys.exit(f"{action}: timestamp {stamp(p)}, the charger's {stamp(s)}")
        if action == "StartTransaction":
            if (p["idTag"], p["meterStart"], p["connectorId"]) != \
                    (s["idTag"], s["meterStart"], s["connectorId"]):
                sys.exit(f"StartTransaction {p} is not the charger's {s}")
            continue
        if p["transactionId"] != upid:
            sys.exit(f"{action}: transactionId {p['transactionId']}, not the backend's {upid}")
        if action == "MeterValues" and energy(p) != energy(s):
            sys.exit(f"MeterValues: {energy(p)} Wh, the charger's {energy(s)}")
        if action == "StopTransaction" and p["meterStop"] != s["meterStop"]:
            sys.exit(f"StopTransaction: meterStop {p['meterStop']}, the charger's {s['meterStop']}")


main()
