#!/usr/bin/env python3
"""Turns the OCPP JSON schema files into a validation table.

Usage: gen-schema-table.py [--ocpp 1.6|2.0.1] SCHEMA_DIR [OUTPUT]

For 1.6 (the default, ocpp/schema_table.inc) SCHEMA_DIR holds <Action>.json
and <Action>Response.json for the 28 OCPP 1.6 actions (extra files, such as
the Security Whitepaper ones, are ignored). For 2.0.1
(ocpp/schema_table201.inc) it holds <Action>Request.json and
<Action>Response.json for every action found there; their local "$ref"s to
"#/definitions/..." are resolved into the table.
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
    "any": "SCHEMA_ANY",
}
FORMATS = {"date-time": "SCHEMA_FORMAT_DATE_TIME", "uri": "SCHEMA_FORMAT_URI"}
# Keywords that carry no constraint.
# additionalItems only constrains arrays whose "items" is a list (tuple
# validation), which no OCPP schema uses; "default" documents what a
# missing value means and constrains nothing.
METADATA = {"$id", "id", "$schema", "title", "description", "javaType",
            "tsEnumType", "definitions", "default", "additionalItems",
            "comment", "$comment"}
CONSTRAINTS = {"type", "properties", "required", "additionalProperties",
               "enum", "maxLength", "format", "items", "multipleOf",
               "minItems", "maxItems", "minimum", "maximum"}


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
    def __init__(self, prefix="schema"):
        self.prefix = prefix
        self.definitions = {}
        self.resolving = []
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
            self.lines.append("static const char *const %s_enum_%d[] = {%s, NULL};"
                              % (self.prefix, index, body))
        return "%s_enum_%d" % (self.prefix, self.enums[key])

    def resolve(self, schema, where):
        ref = schema.get("$ref")
        if ref is None:
            return schema
        if set(schema) - {"$ref", "description"} or not isinstance(ref, str):
            raise SchemaError(where + ": $ref beside constraints")
        if not ref.startswith("#/definitions/") or ref[14:] not in self.definitions:
            raise SchemaError("%s: unresolved $ref %r" % (where, ref))
        if ref in self.resolving:
            raise SchemaError("%s: recursive $ref %r" % (where, ref))
        return self.definitions[ref[14:]]

    def node_ref(self, schema, where):
        if not isinstance(schema, dict):
            raise SchemaError(where + ": schema is not an object")
        ref = schema.get("$ref")
        schema = self.resolve(schema, where)
        if ref:
            self.resolving.append(ref)
            try:
                return self.node_ref(schema, where)
            finally:
                self.resolving.pop()
        for keyword in schema:
            if keyword not in METADATA and keyword not in CONSTRAINTS:
                raise SchemaError("%s: unsupported keyword %r" % (where, keyword))
        kind = schema.get("type")
        if kind is None and not set(schema) & CONSTRAINTS:
            kind = "any"   # 2.0.1 DataTransfer.data: any JSON value
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
        max_items = self.count(schema, "maxItems", where)
        bounds = []
        for keyword in ("minimum", "maximum"):
            value = schema.get(keyword)
            if value is None:
                bounds += ["false", "0.0"]
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SchemaError("%s: bad %s" % (where, keyword))
            else:
                bounds += ["true", c_double(value)]
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
            if not isinstance(schema["items"], dict):
                raise SchemaError(where + ": tuple items are not supported")
            items = "&" + self.node_ref(schema["items"], where + "[]")
        elif "items" in schema:
            raise SchemaError(where + ": items on a non-array")

        fields = (TYPES[kind], fmt, closed, max_length, min_items, max_items,
                  c_double(multiple_of)) + tuple(bounds) + (enum, props, n_props, items)
        if fields not in self.nodes:
            index = len(self.nodes)
            self.nodes[fields] = index
            self.lines.append(
                "static const schema_node %s_node_%d = {  /* %s */\n"
                "  %s, %s, %s, %d, %d, %d, %s, %s, %s, %s, %s, %s, %s, %d, %s};"
                % ((self.prefix, index, where.rstrip()) + fields))
        return "%s_node_%d" % (self.prefix, self.nodes[fields])

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
            self.lines.append("static const schema_prop %s_props_%d[] = {\n%s\n};"
                              % (self.prefix, index, "\n".join(rows)))
        return "%s_props_%d" % (self.prefix, self.props[key]), len(rows)


def load(folder, name):
    with open(os.path.join(folder, name + ".json"), encoding="utf-8") as handle:
        return json.load(handle)


def actions_201(folder):
    suffix = "Request.json"
    return sorted(name[:-len(suffix)] for name in os.listdir(folder)
                  if name.endswith(suffix))


def generate(folder, version="1.6"):
    v201 = version == "2.0.1"
    table = Table("schema201" if v201 else "schema")
    rows = []
    actions = actions_201(folder) if v201 else sorted(ACTIONS)
    if not actions:
        raise SchemaError(folder + ": no schemas")
    for action in actions:
        halves = []
        for file_name, label in ((action + ("Request" if v201 else ""), ".req "),
                                 (action + "Response", ".conf ")):
            schema = load(folder, file_name)
            table.definitions = schema.get("definitions", {}) if v201 else {}
            halves.append(table.node_ref(schema, action + label))
        rows.append("  {%s, &%s, &%s}," % (c_string(action), halves[0], halves[1]))
    if v201:
        header = [
            "/* Generated from the OCPP 2.0.1 JSON schemas (<Action>Request.json",
            " * and <Action>Response.json) by tools/gen-schema-table.py. Do not",
            " * edit; regenerate with: tools/gen-schema-table.py --ocpp 2.0.1",
            " * SCHEMA_DIR ocpp/schema_table201.inc",
            " * Included by ocpp/schema.c, which defines the types used here. */",
            "",
        ]
    else:
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
        "static const schema_action %s_actions[] = {" % table.prefix,
    ] + rows + ["};", ""]
    return "\n".join(header + body)


def main(argv):
    args = argv[1:]
    version = "1.6"
    if len(args) >= 2 and args[0] == "--ocpp":
        version = args[1]
        args = args[2:]
    if version not in ("1.6", "2.0.1") or len(args) not in (1, 2):
        sys.stderr.write("usage: gen-schema-table.py [--ocpp 1.6|2.0.1] SCHEMA_DIR [OUTPUT]\n")
        return 2
    try:
        text = generate(args[0], version)
    except (OSError, ValueError, SchemaError) as err:
        sys.stderr.write("gen-schema-table.py: %s\n" % err)
        return 1
    if len(args) == 2:
        with open(args[1], "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
