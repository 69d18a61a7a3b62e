/* Lenient repairs of schema violations that real chargers commit. Each rule
 * names the field it applies to, in the version whose schemas it breaks;
 * anything else stays a CALLERROR. 2.0.1 stacks carry over the habits of
 * their 1.6 ancestors (local timestamps, long vendor strings, values as
 * the wrong JSON type), so most rules have a row in both versions. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/codec.h"
#include "ocpp/lenient.h"

/* Where a fault path points: the container and the last key or index. */
typedef struct {
  json_t *parent;       /* object or array holding the value */
  const char *key;      /* last component when parent is an object */
  size_t index;         /* last component when parent is an array */
  json_t *grandparent;  /* container of parent (an array for samples) */
  size_t parent_index;  /* parent's index in grandparent when an array */
  bool parent_in_array;
  char key_buf[64];
} path_ref;

/* Walks "a.b[2].c" from root. Returns 0 when every step but the last
 * exists, else OCPP_ENOPATH. */
static int resolve(json_t *root, const char *path, path_ref *ref)
{
  memset(ref, 0, sizeof *ref);
  json_t *cur = root, *parent = NULL;
  bool cur_in_array = false;
  size_t cur_index = 0;
  const char *p = path;
  while (*p) {
    if (*p == '.')
      p++;
    ref->grandparent = parent;
    ref->parent_in_array = cur_in_array;
    ref->parent_index = cur_index;
    parent = cur;
    if (*p == '[') {
      char *end;
      unsigned long i = strtoul(p + 1, &end, 10);
      if (*end != ']' || !json_is_array(cur))
        return OCPP_ENOPATH;
      ref->parent = cur;
      ref->key = NULL;
      ref->index = i;
      cur = json_array_get(cur, i);
      cur_in_array = true;
      cur_index = i;
      p = end + 1;
    } else {
      size_t n = strcspn(p, ".[");
      if (n == 0 || n >= sizeof ref->key_buf || !json_is_object(cur))
        return OCPP_ENOPATH;
      memcpy(ref->key_buf, p, n);
      ref->key_buf[n] = '\0';
      ref->parent = cur;
      ref->key = ref->key_buf;
      cur = json_object_get(cur, ref->key_buf);
      cur_in_array = false;
      p += n;
    }
    if (!cur && *p)
      return OCPP_ENOPATH;
  }
  return ref->parent ? 0 : OCPP_ENOPATH;
}

static json_t *target(const path_ref *ref)
{
  if (ref->key)
    return json_object_get(ref->parent, ref->key);
  return json_array_get(ref->parent, ref->index);
}

static const char *text_or(const json_t *v, const char *fallback)
{
  const char *s = json_string_value(v);
  return s ? s : fallback;
}

/* ---- the rules ---------------------------------------------------------- */

static int fix_timestamp(json_t *value, path_ref *ref, char *what, size_t n)
{
  time_t t;
  const char *s = json_string_value(value);
  if (!s || ocpp_time_parse(s, &t) != 0)
    return OCPP_ENOREPAIR;
  char fixed[OCPP_TIME_STRLEN];
  ocpp_time_format(t, fixed);
  if (strcmp(fixed, s) == 0)
    return OCPP_ENOREPAIR;
  snprintf(what, n, "%s: timestamp \"%.40s\" read as %s", ref->key, s, fixed);
  json_object_set_new(ref->parent, ref->key, json_string(fixed));
  return 0;
}

static size_t utf8_prefix_bytes(const char *s, size_t chars)
{
  size_t i = 0, count = 0;
  while (s[i] && count < chars) {
    i++;
    while ((s[i] & 0xC0) == 0x80)
      i++;
    count++;
  }
  return i;
}

/* One version's rules: which fields may be changed, and how. */
typedef struct {
  const char *action;   /* NULL: every action */
  const char *key;
  size_t max;
} cut_rule;

typedef struct {
  const char *action;
  const char *key;
  const char *replacement;  /* NULL: the optional field is dropped */
} enum_rule;

typedef struct {
  const cut_rule *cuts;
  size_t n_cuts;
  const enum_rule *enums;
  size_t n_enums;
  const char *const *sample_keys;  /* enums that make a sample unreadable */
  size_t n_sample_keys;
} rule_set;

/* Free-text identification fields: cutting them loses nothing the gateway
 * acts on. idTag and other keys stay strict. */
static const cut_rule cuts16[] = {
  {NULL, "chargeBoxSerialNumber", 25}, {NULL, "chargePointModel", 20},
  {NULL, "chargePointSerialNumber", 25}, {NULL, "chargePointVendor", 20},
  {NULL, "firmwareVersion", 50}, {NULL, "iccid", 20}, {NULL, "imsi", 20},
  {NULL, "info", 50}, {NULL, "meterSerialNumber", 25}, {NULL, "meterType", 25},
  {NULL, "vendorErrorCode", 50},
};

static const cut_rule cuts201[] = {
  {"BootNotification", "serialNumber", 25}, {"BootNotification", "model", 20},
  {"BootNotification", "vendorName", 50},
  {"BootNotification", "firmwareVersion", 50},
  {"BootNotification", "iccid", 20}, {"BootNotification", "imsi", 20},
  {"SecurityEventNotification", "techInfo", 255},
  {"NotifyEvent", "techInfo", 500}, {"NotifyEvent", "techCode", 50},
};

/* Enum values no version knows, in fields that only inform: a stop reason
 * the charger made up does not change what the session was. */
static const enum_rule enums16[] = {
  {"StatusNotification", "errorCode", "OtherError"},
  {"StopTransaction", "reason", NULL},
};

static const enum_rule enums201[] = {
  {"TransactionEvent", "stoppedReason", NULL},
  {"BootNotification", "reason", "Unknown"},
};

static const char *const sample_keys16[] = {"unit", "measurand", "phase",
                                            "location", "format"};
static const char *const sample_keys201[] = {"measurand", "phase", "location"};

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

static const rule_set rules16 = {cuts16, COUNT(cuts16), enums16, COUNT(enums16),
                                 sample_keys16, COUNT(sample_keys16)};
static const rule_set rules201 = {cuts201, COUNT(cuts201), enums201,
                                  COUNT(enums201), sample_keys201,
                                  COUNT(sample_keys201)};

static bool rule_applies(const char *rule_action, const char *action)
{
  return !rule_action || strcmp(rule_action, action) == 0;
}

static int fix_length(const rule_set *rs, const char *action, json_t *value,
                      path_ref *ref, char *what, size_t n)
{
  const char *s = json_string_value(value);
  if (!s || !ref->key)
    return OCPP_ENOREPAIR;
  for (size_t i = 0; i < rs->n_cuts; i++) {
    const cut_rule *c = &rs->cuts[i];
    if (strcmp(ref->key, c->key) != 0 || !rule_applies(c->action, action))
      continue;
    size_t keep = utf8_prefix_bytes(s, c->max);
    if (keep == strlen(s))
      return OCPP_ENOREPAIR;
    char *cut = strndup(s, keep);
    if (!cut)
      return OCPP_ENOMEM;
    snprintf(what, n, "%s too long: cut to %zu characters", ref->key, c->max);
    json_object_set_new(ref->parent, ref->key, json_string(cut));
    free(cut);
    return 0;
  }
  return OCPP_ENOREPAIR;
}

/* A sampled value whose unit, measurand, phase, location or format is not
 * an OCPP value cannot be interpreted: drop that one sample, keep the rest. */
static int fix_sample(const rule_set *rs, path_ref *ref, char *what, size_t n)
{
  if (!ref->key || !ref->parent_in_array || !json_is_array(ref->grandparent))
    return OCPP_ENOREPAIR;
  if (strcmp(ref->key, "context") == 0) {
    snprintf(what, n, "sampledValue context \"%.32s\" unknown: ignored",
             text_or(json_object_get(ref->parent, "context"), ""));
    json_object_del(ref->parent, "context");
    return 0;
  }
  for (size_t i = 0; i < rs->n_sample_keys; i++) {
    if (strcmp(ref->key, rs->sample_keys[i]) != 0)
      continue;
    const char *bad = json_string_value(json_object_get(ref->parent, ref->key));
    snprintf(what, n, "sampledValue with %s \"%.32s\" skipped", ref->key,
             bad ? bad : "?");
    json_array_remove(ref->grandparent, ref->parent_index);
    return 0;
  }
  return OCPP_ENOREPAIR;
}

static bool in_sampled_value(const char *path)
{
  return strstr(path, "sampledValue[") != NULL;
}

static int fix_enum(const rule_set *rs, const char *action, json_t *value,
                    path_ref *ref, char *what, size_t n)
{
  for (size_t i = 0; ref->key && i < rs->n_enums; i++) {
    const enum_rule *e = &rs->enums[i];
    if (strcmp(action, e->action) != 0 || strcmp(ref->key, e->key) != 0)
      continue;
    if (!e->replacement) {
      snprintf(what, n, "%s \"%.32s\" unknown: ignored", e->key,
               text_or(value, "?"));
      json_object_del(ref->parent, e->key);
      return 0;
    }
    snprintf(what, n, "%s \"%.32s\" unknown: taken as %s", e->key,
             text_or(value, "?"), e->replacement);
    json_object_set_new(ref->parent, e->key, json_string(e->replacement));
    return 0;
  }
  return OCPP_ENOREPAIR;
}

static int repair_property(const rule_set *rs, const char *action,
                           json_t *payload, const ocpp_schema_fault *f,
                           char *what, size_t n)
{
  path_ref ref;
  if (resolve(payload, f->path, &ref) != 0)
    return OCPP_ENOREPAIR;
  json_t *value = target(&ref);
  if (!value)
    return OCPP_ENOREPAIR;
  if (in_sampled_value(f->path))
    return fix_sample(rs, &ref, what, n);
  if (fix_enum(rs, action, value, &ref, what, n) == 0)
    return 0;
  if (ref.key && fix_timestamp(value, &ref, what, n) == 0)
    return 0;
  return fix_length(rs, action, value, &ref, what, n);
}

/* Some chargers give configuration values as numbers or booleans:
 * configurationKey[i].value of a 1.6 GetConfiguration answer,
 * getVariableResult[i].attributeValue of a 2.0.1 GetVariables answer and
 * variableAttribute[i].value of a NotifyReport. */
static int repair_config_value(json_t *payload, const ocpp_schema_fault *f,
                               const char *array, const char *key,
                               char *what, size_t n)
{
  path_ref ref;
  if (resolve(payload, f->path, &ref) != 0 || !ref.key ||
      strcmp(ref.key, key) != 0 || !strstr(f->path, array))
    return OCPP_ENOREPAIR;
  json_t *v = json_object_get(ref.parent, key);
  if (!v || json_is_string(v) || json_is_object(v) || json_is_array(v) ||
      json_is_null(v))
    return OCPP_ENOREPAIR;
  char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
  if (!text)
    return OCPP_ENOMEM;
  snprintf(what, n, "configuration value %s given as a %s: taken as text",
           text, json_is_boolean(v) ? "boolean" : "number");
  json_object_set_new(ref.parent, key, json_string(text));
  free(text);
  return 0;
}

/* A 2.0.1 sampled value is a number; stacks grown from 1.6 send the 1.6
 * string. A string that is, from end to end, a finite decimal number is
 * that number (no hex, no "inf", no units or spaces). */
static int repair_sample_number(json_t *payload, const ocpp_schema_fault *f,
                                char *what, size_t n)
{
  path_ref ref;
  if (resolve(payload, f->path, &ref) != 0 || !ref.key ||
      strcmp(ref.key, "value") != 0 || !in_sampled_value(f->path))
    return OCPP_ENOREPAIR;
  const char *text = json_string_value(json_object_get(ref.parent, "value"));
  if (!text || !*text || strlen(text) > 32)
    return OCPP_ENOREPAIR;
  char *end;
  double v = strtod(text, &end);
  if (*end != '\0' || !isfinite(v) || isspace((unsigned char)text[0]) ||
      strpbrk(text, "xXpP"))
    return OCPP_ENOREPAIR;
  snprintf(what, n, "sampledValue value \"%s\" given as text: taken as a "
           "number", text);
  json_object_set_new(ref.parent, "value", json_real(v));
  return 0;
}

static int repair_missing_meter_stop(const char *action, json_t *payload,
                                     const ocpp_schema_fault *f,
                                     unsigned *notes, char *what, size_t n)
{
  if (strcmp(action, "StopTransaction") != 0 ||
      (!strstr(f->path, "meterStop") && !strstr(f->message, "meterStop")) ||
      json_object_get(payload, "meterStop"))
    return OCPP_ENOREPAIR;
  json_object_set_new(payload, "meterStop", json_integer(0));
  *notes |= OCPP_LENIENT_NO_METER_STOP;
  snprintf(what, n, "meterStop missing: energy taken from the meter values");
  return 0;
}

static int repair16(const char *action, ocpp_schema_kind kind,
                    json_t *payload, const ocpp_schema_fault *fault,
                    unsigned *notes, char *what, size_t what_len)
{
  bool type = strcmp(fault->code, "TypeConstraintViolation") == 0;
  if (kind == OCPP_SCHEMA_RESPONSE) {
    if (strcmp(action, "GetConfiguration") == 0 && type)
      return repair_config_value(payload, fault, "configurationKey[", "value",
                                 what, what_len);
    return OCPP_ENOREPAIR;
  }
  if (strcmp(fault->code, "OccurenceConstraintViolation") == 0)
    return repair_missing_meter_stop(action, payload, fault, notes, what,
                                     what_len);
  if (strcmp(fault->code, "PropertyConstraintViolation") == 0)
    return repair_property(&rules16, action, payload, fault, what, what_len);
  return OCPP_ENOREPAIR;
}

static int repair201(const char *action, ocpp_schema_kind kind,
                     json_t *payload, const ocpp_schema_fault *fault,
                     char *what, size_t what_len)
{
  bool type = strcmp(fault->code, "TypeConstraintViolation") == 0;
  if (kind == OCPP_SCHEMA_RESPONSE) {
    if (strcmp(action, "GetVariables") == 0 && type)
      return repair_config_value(payload, fault, "getVariableResult[",
                                 "attributeValue", what, what_len);
    return OCPP_ENOREPAIR;
  }
  if (type && strcmp(action, "NotifyReport") == 0)
    return repair_config_value(payload, fault, "variableAttribute[", "value",
                               what, what_len);
  if (type && (strcmp(action, "MeterValues") == 0 ||
               strcmp(action, "TransactionEvent") == 0))
    return repair_sample_number(payload, fault, what, what_len);
  if (strcmp(fault->code, "PropertyConstraintViolation") == 0)
    return repair_property(&rules201, action, payload, fault, what, what_len);
  return OCPP_ENOREPAIR;
}

int ocpp_lenient_repair_in(ocpp_version version, const char *action,
                           ocpp_schema_kind kind, json_t *payload,
                           const ocpp_schema_fault *fault, unsigned *notes,
                           char *what, size_t what_len)
{
  if (!action || !payload || !fault || !fault->code || !notes || !what)
    return OCPP_EINVAL;
  what[0] = '\0';
  if (version == OCPP_VERSION_201)
    return repair201(action, kind, payload, fault, what, what_len);
  return repair16(action, kind, payload, fault, notes, what, what_len);
}

int ocpp_lenient_repair(const char *action, ocpp_schema_kind kind,
                        json_t *payload, const ocpp_schema_fault *fault,
                        unsigned *notes, char *what, size_t what_len)
{
  return ocpp_lenient_repair_in(OCPP_VERSION_16, action, kind, payload, fault,
                                notes, what, what_len);
}
