#!/usr/bin/python3
"""Reads what the charger simulator saw (its JSON lines frame log) and the
CSV of `ocppknxd --export-sessions`, and checks one against the other.

  store_sessions.py starts SIMLOG        one line per answered StartTransaction:
                                         "ID STATUS METER_START TAG TIMESTAMP"
  store_sessions.py stops SIMLOG         one line per answered StopTransaction:
                                         "ID METER_STOP ANSWER" (ANSWER result|error)
  store_sessions.py answered SIMLOG ACTION
                                         how many ACTION calls got an answer
  store_sessions.py last-call SIMLOG ACTION
                                         payload of the last ACTION call sent
                                         (compact JSON)
  store_sessions.py answer SIMLOG MSGID  the answer to call MSGID: compact JSON
                                         of the CALLRESULT payload, or
                                         "error CODE"; nothing while unanswered
  store_sessions.py rows CSV ID          the CSV rows of transaction ID, one per
                                         line as charger,tag,start,stop,
                                         meter_start,meter_stop,energy,reason
  store_sessions.py verify SIMLOG CSV CHARGER
        every transaction the simulator saw accepted has exactly one row, no
        row of CHARGER has an id it never saw, ids are unique, and every
        session whose StopTransaction was answered has meter_stop and
        energy = meterStop - meterStart.

Exit status 0 when fine, 1 with a reason on stderr otherwise. Python 3
standard library only.
"""
import csv
import json
import sys

HEADER = ["charger_id", "connector", "transaction_id", "id_tag", "start",
          "stop", "meter_start_wh", "meter_stop_wh", "energy_wh",
          "stop_reason", "tag_name", "upstream_transaction_id"]


def frames(path):
    """(direction, frame) for every frame line of a simulator log."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            frame = entry.get("frame")
            if isinstance(frame, list) and len(frame) >= 3:
                yield entry.get("dir"), frame


def answered_calls(path, action):
    """(request payload, answer kind, answer payload) for every CALL of
    `action` the simulator sent and got an answer to, in answer order. A
    retried call may reuse its message id: the newest CALL with the id
    counts."""
    sent = {}
    for direction, frame in frames(path):
        kind, msg_id = frame[0], frame[1]
        if direction == "out" and kind == 2 and len(frame) >= 4:
            sent[msg_id] = (frame[2], frame[3])
        elif direction == "in" and kind in (3, 4) and msg_id in sent:
            name, payload = sent.pop(msg_id)
            if name == action:
                answer = frame[2] if kind == 3 else None
                yield payload, "result" if kind == 3 else "error", answer


def starts(path):
    out = []
    for req, kind, answer in answered_calls(path, "StartTransaction"):
        if kind != "result" or not isinstance(answer, dict):
            continue
        status = answer.get("idTagInfo", {}).get("status", "")
        out.append((answer.get("transactionId"), status, req.get("meterStart"),
                    req.get("idTag", ""), req.get("timestamp", "")))
    return out


def stops(path):
    return [(req.get("transactionId"), req.get("meterStop"), kind)
            for req, kind, _ in answered_calls(path, "StopTransaction")]


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != HEADER:
        raise SystemExit(f"FAIL: CSV header is {rows[0] if rows else None}")
    return [dict(zip(HEADER, r)) for r in rows[1:]]


def cmd_starts(args):
    for s in starts(args[0]):
        print(*s)


def cmd_stops(args):
    for s in stops(args[0]):
        print(*s)


def cmd_answered(args):
    print(sum(1 for _ in answered_calls(args[0], args[1])))


def compact(value):
    return json.dumps(value, separators=(",", ":"))


def cmd_last_call(args):
    last = None
    for direction, frame in frames(args[0]):
        if direction == "out" and frame[0] == 2 and len(frame) >= 4 and \
                frame[2] == args[1]:
            last = frame[3]
    if last is None:
        return 1
    print(compact(last))
    return 0


def cmd_answer(args):
    for direction, frame in frames(args[0]):
        if direction == "in" and frame[0] in (3, 4) and frame[1] == args[1]:
            print(compact(frame[2]) if frame[0] == 3 else f"error {frame[2]}")
            return 0
    return 0


def cmd_rows(args):
    for r in read_csv(args[0]):
        if r["transaction_id"] == args[1]:
            print(",".join(r[k] for k in ("charger_id", "id_tag", "start",
                                          "stop", "meter_start_wh",
                                          "meter_stop_wh", "energy_wh",
                                          "stop_reason")))


def cmd_verify(args):
    simlog, csv_path, charger = args
    problems = []
    accepted = {}
    for tx, status, meter_start, tag, ts in starts(simlog):
        if status != "Accepted":
            continue
        prev = accepted.get(tx)
        if prev is not None and prev != (meter_start, tag, ts):
            problems.append(f"transaction {tx} given to two different starts:"
                            f" {prev} and {(meter_start, tag, ts)}")
        accepted[tx] = (meter_start, tag, ts)
    answered_stop = {}
    for tx, meter_stop, kind in stops(simlog):
        if kind == "result":
            answered_stop[tx] = meter_stop
    rows = [r for r in read_csv(csv_path) if r["charger_id"] == charger]
    by_id = {}
    for r in rows:
        by_id.setdefault(r["transaction_id"], []).append(r)
    for tx_text, rs in by_id.items():
        if len(rs) != 1:
            problems.append(f"transaction {tx_text}: {len(rs)} rows")
    seen_ids = {str(tx) for tx in accepted}
    for tx_text in by_id:
        if tx_text not in seen_ids:
            problems.append(f"row for transaction {tx_text} that the charger"
                            " never saw accepted")
    for tx, (meter_start, tag, _) in sorted(accepted.items()):
        rs = by_id.get(str(tx), [])
        if len(rs) != 1:
            if not rs:
                problems.append(f"transaction {tx}: no row")
            continue
        r = rs[0]
        if r["id_tag"] != tag:
            problems.append(f"transaction {tx}: tag {r['id_tag']!r}, want {tag!r}")
        if r["meter_start_wh"] != str(meter_start):
            problems.append(f"transaction {tx}: meter_start {r['meter_start_wh']},"
                            f" want {meter_start}")
        if tx in answered_stop:
            want = answered_stop[tx] - meter_start
            if r["meter_stop_wh"] != str(answered_stop[tx]) or \
                    r["energy_wh"] != str(want) or not r["stop"]:
                problems.append(f"transaction {tx}: stop {r['stop']!r} meter_stop"
                                f" {r['meter_stop_wh']} energy {r['energy_wh']},"
                                f" want {answered_stop[tx]} / {want}")
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    print(f"# {len(accepted)} accepted transactions, {len(answered_stop)} stops"
          f" answered, {len(rows)} rows")
    return 1 if problems else 0


COMMANDS = {"starts": (cmd_starts, 1), "stops": (cmd_stops, 1),
            "answered": (cmd_answered, 2),
            "last-call": (cmd_last_call, 2), "answer": (cmd_answer, 2), "rows": (cmd_rows, 2), "verify": (cmd_verify, 3)}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS or \
            len(argv) - 2 != COMMANDS[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    return COMMANDS[argv[1]][0](argv[2:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
