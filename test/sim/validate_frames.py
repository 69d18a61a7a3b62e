#!/usr/bin/python3
"""Validate the OCPP-J frames of a JSON-lines log against OCPP 1.6 or 2.0.1
schemas.

usage: validate_frames.py LOGFILE SCHEMA_DIR [--schemas201 DIR]
                          [--ocpp 1.6|2.0.1] [--dir out|in] [--skip-raw]

The log has lines {"t":..,"dir":"out"|"in","frame":[...]} (as written by
ocpp-charger-sim --log and fake_csms.py --log); other lines are ignored.
SCHEMA_DIR holds the schemas of one version: OCPP 1.6 (<Action>.json for a
request, as test/data/ocpp16/schemas) or OCPP 2.0.1 (<Action>Request.json,
as test/data/ocpp201/schemas); --schemas201 adds a 2.0.1 folder beside a 1.6
one. The schema set of a frame is that of the subprotocol of its connection:
a "connected" line names it ("protocol", or the simulator's "detail");
before any, or on a connection without a subprotocol, the set of SCHEMA_DIR
applies. --ocpp names the version of the whole log instead.

A CALL [2,id,Action,payload] is checked against the request schema of
Action, a CALLRESULT [3,id,payload] against <Action>Response.json, where
Action is that of the latest CALL with the same id sent in the other
direction, and a CALLERROR against the OCPP-J error frame shape. The 2.0.1
schemas are draft-07 with "$ref": "#/definitions/..."; those resolve inside
each file. Lines with "raw" (text that was not JSON) count as invalid unless
--skip-raw is given.

Exit status: 0 when every selected frame is valid, 1 when some are not (each
is listed on stdout), 2 on usage errors. Needs the jsonschema module
(Debian: python3-jsonschema).
"""

import argparse
import json
import os
import re
import sys

import jsonschema

ERROR_CODES = {
    "NotImplemented", "NotSupported", "InternalError", "ProtocolError",
    "SecurityError", "FormationViolation", "PropertyConstraintViolation",
    "OccurenceConstraintViolation", "OccurrenceConstraintViolation",
    "TypeConstraintViolation", "GenericError",
}

DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def format_checker():
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("date-time")
    def is_date_time(value):
        return not isinstance(value, str) or bool(DATE_TIME.match(value))

    return checker


PROTOCOLS = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1"}


def folder_version(folder):
    """The OCPP version of a schema folder, from its file names."""
    if os.path.exists(os.path.join(folder, "BootNotificationRequest.json")):
        return "2.0.1"
    if os.path.exists(os.path.join(folder, "BootNotification.json")):
        return "1.6"
    return None


class Schemas:
    def __init__(self, folder, version):
        self.folder = folder
        self.version = version
        # 1.6 names a request file <Action>.json, 2.0.1 <Action>Request.json
        self.request_suffix = "Request" if version == "2.0.1" else ""
        self.cache = {}
        self.checker = format_checker()

    def validator(self, name):
        if name not in self.cache:
            path = os.path.join(self.folder, name + ".json")
            if not re.match(r"^[A-Za-z]+$", name) or not os.path.exists(path):
                self.cache[name] = None
            else:
                with open(path, encoding="utf-8") as f:
                    schema = json.load(f)
                # local "$ref"s resolve against the schema itself, its $id
                # (urn:<Action>.req) being the base
                cls = jsonschema.validators.validator_for(schema)
                cls.check_schema(schema)
                self.cache[name] = cls(schema, format_checker=self.checker)
        return self.cache[name]

    def check(self, name, payload):
        v = self.validator(name)
        if v is None:
            return ["no schema %s.json (OCPP %s)" % (name, self.version)]
        return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(root)",
                            e.message)
                for e in sorted(v.iter_errors(payload), key=lambda e: list(e.path))]

    def check_call(self, action, payload):
        return self.check(action + self.request_suffix, payload)


class SchemaSets:
    """The schema set of each OCPP version given, and the one in use."""

    def __init__(self, sets, default, forced):
        self.sets = sets
        self.default = forced or default
        self.forced = forced
        self.current = self.default

    def on_connected(self, entry):
        if self.forced:
            return
        proto = entry.get("protocol", entry.get("detail"))
        self.current = PROTOCOLS.get(proto, self.default)

    def active(self):
        return self.sets.get(self.current)


def check_error_frame(frame):
    if len(frame) != 5:
        return ["CALLERROR must have 5 elements"]
    problems = []
    if frame[2] not in ERROR_CODES:
        problems.append("unknown error code %r" % (frame[2],))
    if not isinstance(frame[3], str):
        problems.append("errorDescription is not a string")
    if not isinstance(frame[4], dict):
        problems.append("errorDetails is not an object")
    return problems


def validate(lines, schemas, direction, skip_raw):
    calls = {"in": {}, "out": {}}  # direction -> id -> action
    bad = []
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            bad.append((lineno, "log line is not JSON"))
            continue
        if entry.get("event") == "connected":
            schemas.on_connected(entry)
        d = entry.get("dir")
        if d not in ("in", "out"):
            continue
        selected = direction is None or d == direction
        if "frame" not in entry:
            if selected and not skip_raw:
                bad.append((lineno, "%s frame is not JSON: %.80r" % (d, entry.get("raw"))))
            continue
        frame = entry["frame"]
        problems = []
        current = schemas.active()
        if current is None:
            if selected:
                bad.append((lineno, "%s frame: no OCPP %s schemas given" %
                            (d, schemas.current)))
            continue
        if (not isinstance(frame, list) or len(frame) < 3 or
                frame[0] not in (2, 3, 4) or not isinstance(frame[1], str)):
            problems = ["not an OCPP-J frame"]
        elif frame[0] == 2:
            if len(frame) != 4 or not isinstance(frame[2], str):
                problems = ["CALL must be [2, id, action, payload]"]
            else:
                calls[d][frame[1]] = frame[2]
                problems = current.check_call(frame[2], frame[3])
                problems = ["%s: %s" % (frame[2], p) for p in problems]
        elif frame[0] == 3:
            other = "in" if d == "out" else "out"
            action = calls[other].get(frame[1])
            if len(frame) != 3:
                problems = ["CALLRESULT must be [3, id, payload]"]
            elif action is None:
                problems = ["CALLRESULT for unknown id %r" % frame[1]]
            else:
                problems = ["%sResponse: %s" % (action, p)
                            for p in current.check(action + "Response", frame[2])]
        else:
            problems = check_error_frame(frame)
        if selected:
            for p in problems:
                bad.append((lineno, "%s %s" % (d, p)))
    return bad


def main():
    ap = argparse.ArgumentParser(description="validate OCPP-J frames in a log")
    ap.add_argument("log")
    ap.add_argument("schema_dir")
    ap.add_argument("--schemas201", metavar="DIR",
                    help="OCPP 2.0.1 schemas beside a 1.6 SCHEMA_DIR")
    ap.add_argument("--ocpp", choices=["1.6", "2.0.1"],
                    help="the version of the whole log")
    ap.add_argument("--dir", choices=["in", "out"])
    ap.add_argument("--skip-raw", action="store_true")
    args = ap.parse_args()
    sets = {}
    for folder in [args.schema_dir] + ([args.schemas201] if args.schemas201 else []):
        version = folder_version(folder) if os.path.isdir(folder) else None
        if version is None:
            print("no OCPP schema folder %s" % folder, file=sys.stderr)
            return 2
        if version in sets:
            print("two OCPP %s schema folders given" % version, file=sys.stderr)
            return 2
        sets[version] = Schemas(folder, version)
    if args.schemas201 and folder_version(args.schemas201) != "2.0.1":
        print("%s holds no OCPP 2.0.1 schemas" % args.schemas201, file=sys.stderr)
        return 2
    if args.ocpp and args.ocpp not in sets:
        print("no OCPP %s schemas given" % args.ocpp, file=sys.stderr)
        return 2
    with open(args.log, encoding="utf-8") as f:
        lines = f.readlines()
    schemas = SchemaSets(sets, folder_version(args.schema_dir), args.ocpp)
    bad = validate(lines, schemas, args.dir, args.skip_raw)
    for lineno, msg in bad:
        print("%s:%d: %s" % (args.log, lineno, msg))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
