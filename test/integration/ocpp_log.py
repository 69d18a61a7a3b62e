#!/usr/bin/python3
"""Questions about a charger simulator's frame log (JSON lines), for the
integration tests. Standard library only.

usage: ocpp_log.py LOG check KIND KEY EXPR [--nth N | --any | --all]
       ocpp_log.py LOG get KIND KEY EXPR [--nth N]
       ocpp_log.py LOG count KIND KEY

KIND and KEY select frames:
  answer ACTION   the gateway's answers to the simulator's CALLs of ACTION
  call ACTION     the gateway's CALLs of ACTION to the simulator
  sent ACTION     the simulator's CALLs of ACTION
  id ID           the gateway's answer (CALLRESULT/CALLERROR) with that id
  event NAME      simulator events ("charging-profile", "error", ...)

EXPR is a Python expression over f (the frame or event), p (the payload of a
CALL or CALLRESULT, else None) and code (the CALLERROR code, else None).
check exits 1 and prints the frames when the expression is false for the
chosen frame (default the last one); get prints its value.
"""
import json
import sys


def load(path):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


def frames(entries, direction):
    return [e["frame"] for e in entries
            if e.get("dir") == direction and isinstance(e.get("frame"), list)]


def select(entries, kind, key):
    ins, outs = frames(entries, "in"), frames(entries, "out")
    if kind == "call":
        return [f for f in ins if len(f) >= 4 and f[0] == 2 and f[2] == key]
    if kind == "sent":
        return [f for f in outs if len(f) >= 4 and f[0] == 2 and f[2] == key]
    if kind == "id":
        return [f for f in ins if len(f) >= 2 and f[0] in (3, 4) and f[1] == key]
    if kind == "answer":
        ids = {f[1] for f in outs if len(f) >= 4 and f[0] == 2 and f[2] == key}
        return [f for f in ins if len(f) >= 2 and f[0] in (3, 4) and f[1] in ids]
    if kind == "event":
        return [e for e in entries if e.get("event") == key]
    sys.exit(f"unknown kind {kind}")


def env(f):
    if isinstance(f, dict):
        return {"f": f, "p": None, "code": None}
    if f[0] == 2:
        return {"f": f, "p": f[3], "code": None}
    if f[0] == 3:
        return {"f": f, "p": f[2], "code": None}
    return {"f": f, "p": None, "code": f[2] if len(f) > 2 else None}


def evaluate(expr, f):
    try:
        return eval(expr, {"__builtins__": __builtins__}, env(f))
    except Exception as e:  # a missing key is a failed expectation
        return f"<{type(e).__name__}: {e}>"


def main():
    args = sys.argv[1:]
    if len(args) < 4:
        sys.exit(__doc__)
    log, op, kind, key = args[:4]
    rest = args[4:]
    sel = select(load(log), kind, key)
    if op == "count":
        print(len(sel))
        return
    expr = rest[0]
    mode, nth = "nth", -1
    if "--any" in rest:
        mode = "any"
    elif "--all" in rest:
        mode = "all"
    elif "--nth" in rest:
        nth = int(rest[rest.index("--nth") + 1])
    if not sel:
        print(f"no frame of {kind} {key}", file=sys.stderr)
        sys.exit(1)
    if op == "get":
        print(evaluate(expr, sel[nth]))
        return
    if mode == "any":
        ok = any(evaluate(expr, f) is True for f in sel)
    elif mode == "all":
        ok = all(evaluate(expr, f) is True for f in sel)
    else:
        try:
            ok = evaluate(expr, sel[nth]) is True
        except IndexError:
            ok = False
    if not ok:
        print(f"expectation {expr!r} failed for {kind} {key}:", file=sys.stderr)
        for f in sel:
            print("  " + json.dumps(f), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
