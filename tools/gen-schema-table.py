#!/usr/bin/env python3
"""Turns the OCPP 1.6 JSON schema files into ocpp/schema_table.inc.

Usage: gen-schema-table.py SCHEMA_DIR [OUTPUT]

SCHEMA_DIR holds <Action>.json and <Action>Response.json for the 28 OCPP 1.6
actions (extra files, such as the Security Whitepaper ones, are ignored).
OUTPUT defaults to standard output. The output depends only on the schema
content, so running it twice gives the same bytes.

Only the keywords the validator in ocpp/schema.c implements are accepted; any
other keyword stops the generator, so a schema change can never be silently
left unchecked.
"""

import json
import os
import sys

ACTIONS = [
    "Authorize", "BootNotification", "CancelReservation", "ChangeAvailability",
    "ChangeConfiguration", "ClearCache", "ClearChargingProfile",
    "DataTransfer", "DiagnosticsStatusNotification",
    "FirmwareStatusNotification", "GetCompositeSchedule", "GetConfiguration",
    "GetDiagnostics", "GetLocalListVersion", "Heartbeat", "MeterValues",
    "RemoteStartTransaction", "RemoteStopTransaction", "ReserveNow", "Reset",
    "SendLocalList", "SetChargingProfile", "StartTransaction",
    "StatusNotification", "StopTransaction", "TriggerMessage",
    "UnlockConnector", "UpdateFirmware",
    # from the OCPP 1.6 security whitepaper: chargers on security profiles
    # 1-3 report security events and retry until they are answered
    "SecurityEventNotification",
]

TYPES = {
    "object": "SCHEMA_OBJECT", "array": "SCHEMA_ARRAY",
    "string": "SCHEMA_STRING", "integer": "SCHEMA_INTEGER",
    "number": "SCHEMA_NUMBER", "boolean": "SCHEMA_BOOLEAN",
}
FORMATS = {"date-time": "SCHEMA_FORMAT_DATE_TIME", "uri": "SCHEMA_FORMAT_URI"}
# Keywords that carry no constraint.
METADATA = {"$id", "id", "$schema", "title", "description", "javaType"}
CONSTRAINTS = {"type", "properties", "required", "additionalProperties",
               "enum", "maxLength", "format", "items", "multipleOf",
               "minItems"}


class SchemaError(Exception):
    pass


def c_string(text):
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7f:
            out.append(ch)
        else:
            for byte in ch.encode("utf-8"):
                out.append("\\%03o" % byte)
    out.append('"')
    return "".join(out)


def c_double(value):
    text = repr(float(value))
    return text if ("." in text or "e" in text) else text + ".0"


class Table:
    def __init__(self):
        self.enums = {}     # tuple of values -> index
        self.nodes = {}     # structural key -> index
        self.props = {}     # tuple of property rows -> index
        self.lines = []     # C definitions, children before parents

    def enum_ref(self, values, where):
        if not values or not all(isinstance(v, str) for v in values):
            raise SchemaError(where + ": only non-empty string enums are supported")
        key = tuple(values)
        if key not in self.enums:
            index = len(self.enums)
            self.enums[key] = index
            body = ", ".join(c_string(v) for v in values)
            self.lines.append("static const char *const schema_enum_%d[] = {%s, NULL};"
                              % (index, body))
        return "schema_enum_%d" % self.enums[key]

    def node_ref(self, schema, where):
        if not isinstance(schema, dict):
            raise SchemaError(where + ": schema is not an object")
        for keyword in schema:
            if keyword not in METADATA and keyword not in CONSTRAINTS:
                raise SchemaError("%s: unsupported keyword %r" % (where, keyword))
        kind = schema.get("type")
        if kind not in TYPES:
            raise SchemaError("%s: unsupported type %r" % (where, kind))

        enum = "NULL"
        if "enum" in schema:
            if kind != "string":
                raise SchemaError(where + ": enum on a non-string")
            enum = self.enum_ref(schema["enum"], where)

        fmt = "SCHEMA_FORMAT_NONE"
        if "format" in schema:
            if schema["format"] not in FORMATS:
                raise SchemaError("%s: unsupported format %r" % (where, schema["format"]))
            fmt = FORMATS[schema["format"]]

        max_length = self.count(schema, "maxLength", where)
        min_items = self.count(schema, "minItems", where)
        multiple_of = schema.get("multipleOf", 0)
        if not isinstance(multiple_of, (int, float)) or multiple_of < 0:
            raise SchemaError(where + ": bad multipleOf")

        closed = "false"
        props = "NULL"
        n_props = 0
        if kind == "object":
            extra = schema.get("additionalProperties", True)
            if not isinstance(extra, bool):
                raise SchemaError(where + ": additionalProperties must be a boolean")
            closed = "false" if extra else "true"
            props, n_props = self.props_ref(schema, where)
        elif "properties" in schema or "required" in schema:
            raise SchemaError(where + ": properties on a non-object")
        # additionalProperties on a non-object is a no-op in JSON Schema.

        items = "NULL"
        if kind == "array":
            if "items" not in schema:
                raise SchemaError(where + ": array without items")
            items = "&" + self.node_ref(schema["items"], where + "[]")
        elif "items" in schema:
            raise SchemaError(where + ": items on a non-array")

        fields = (TYPES[kind], fmt, closed, max_length, min_items,
                  c_double(multiple_of), enum, props, n_props, items)
        if fields not in self.nodes:
            index = len(self.nodes)
            self.nodes[fields] = index
            self.lines.append(
                "static const schema_node schema_node_%d = {  /* %s */\n"
                "  %s, %s, %s, %d, %d, %s, %s, %s, %d, %s};"
                % ((index, where.rstrip()) + fields))
        return "schema_node_%d" % self.nodes[fields]

    @staticmethod
    def count(schema, keyword, where):
        value = schema.get(keyword, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535:
            raise SchemaError("%s: bad %s" % (where, keyword))
        return value

    def props_ref(self, schema, where):
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        for name in required:
            if name not in properties:
                raise SchemaError("%s: required %r is not a property" % (where, name))
        if not properties:
            return "NULL", 0
        rows = []
        for name, sub in properties.items():
            path = where + name if where.endswith(" ") else where + "." + name
            child = self.node_ref(sub, path)
            rows.append("  {%s, %s, &%s}," % (c_string(name),
                                              "true" if name in required else "false",
                                              child))
        key = tuple(rows)
        if key not in self.props:
            index = len(self.props)
            self.props[key] = index
            self.lines.append("static const schema_prop schema_props_%d[] = {\n%s\n};"
                              % (index, "\n".join(rows)))
        return "schema_props_%d" % self.props[key], len(rows)


def load(folder, name):
    with open(os.path.join(folder, name + ".json"), encoding="utf-8") as handle:
        return json.load(handle)


def generate(folder):
    table = Table()
    rows = []
    for action in sorted(ACTIONS):
        request = table.node_ref(load(folder, action), action + ".req ")
        response = table.node_ref(load(folder, action + "Response"), action + ".conf ")
        rows.append("  {%s, &%s, &%s}," % (c_string(action), request, response))
    header = [
        "/* Generated from the OCPP 1.6 JSON schemas (<Action>.json and",
        " * <Action>Response.json) by tools/gen-schema-table.py. Do not edit;",
        " * regenerate with: tools/gen-schema-table.py SCHEMA_DIR ocpp/schema_table.inc",
        " * Included by ocpp/schema.c, which defines the types used here. */",
        "",
    ]
    body = table.lines + [
        "",
        "/* Sorted by name for bsearch. */",
        "static const schema_action schema_actions[] = {",
    ] + rows + ["};", ""]
    return "\n".join(header + body)


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write("usage: gen-schema-table.py SCHEMA_DIR [OUTPUT]\n")
        return 2
    try:
        text = generate(argv[1])
    except (OSError, ValueError, SchemaError) as err:
        sys.stderr.write("gen-schema-table.py: %s\n" % err)
        return 1
    if len(argv) == 3:
        with open(argv[2], "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
