/* Lenient repairs of schema violations that real chargers commit. Each rule
 * names the field it applies to; anything else stays a CALLERROR. */
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

/* Free-text identification fields: cutting them loses nothing the gateway
 * acts on. idTag and other keys stay strict. */
static const struct { const char *key; size_t max; } truncatable[] = {
  {"chargeBoxSerialNumber", 25}, {"chargePointModel", 20},
  {"chargePointSerialNumber", 25}, {"chargePointVendor", 20},
  {"firmwareVersion", 50}, {"iccid", 20}, {"imsi", 20}, {"info", 50},
  {"meterSerialNumber", 25}, {"meterType", 25}, {"vendorErrorCode", 50},
};

static int fix_length(json_t *value, path_ref *ref, char *what, size_t n)
{
  const char *s = json_string_value(value);
  if (!s || !ref->key)
    return OCPP_ENOREPAIR;
  for (size_t i = 0; i < sizeof truncatable / sizeof truncatable[0]; i++) {
    if (strcmp(ref->key, truncatable[i].key) != 0)
      continue;
    size_t keep = utf8_prefix_bytes(s, truncatable[i].max);
    if (keep == strlen(s))
      return OCPP_ENOREPAIR;
    char *cut = strndup(s, keep);
    if (!cut)
      return OCPP_ENOMEM;
    snprintf(what, n, "%s too long: cut to %zu characters", ref->key,
             truncatable[i].max);
    json_object_set_new(ref->parent, ref->key, json_string(cut));
    free(cut);
    return 0;
  }
  return OCPP_ENOREPAIR;
}

/* A sampled value whose unit, measurand, phase, location or format is not
 * an OCPP value cannot be interpreted: drop that one sample, keep the rest. */
static int fix_sample(path_ref *ref, char *what, size_t n)
{
  static const char *const sample_keys[] = {"unit", "measurand", "phase",
                                            "location", "format"};
  if (!ref->key || !ref->parent_in_array || !json_is_array(ref->grandparent))
    return OCPP_ENOREPAIR;
  if (strcmp(ref->key, "context") == 0) {
    snprintf(what, n, "sampledValue context \"%.32s\" unknown: ignored",
             text_or(json_object_get(ref->parent, "context"), ""));
    json_object_del(ref->parent, "context");
    return 0;
  }
  for (size_t i = 0; i < sizeof sample_keys / sizeof sample_keys[0]; i++) {
    if (strcmp(ref->key, sample_keys[i]) != 0)
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

static int repair_property(const char *action, json_t *payload,
                           const ocpp_schema_fault *f, char *what, size_t n)
{
  path_ref ref;
  if (resolve(payload, f->path, &ref) != 0)
    return OCPP_ENOREPAIR;
  json_t *value = target(&ref);
  if (!value)
    return OCPP_ENOREPAIR;
  if (in_sampled_value(f->path))
    return fix_sample(&ref, what, n);
  if (ref.key && strcmp(action, "StatusNotification") == 0 &&
      strcmp(ref.key, "errorCode") == 0) {
    snprintf(what, n, "errorCode \"%.32s\" unknown: taken as OtherError",
             text_or(value, "?"));
    json_object_set_new(ref.parent, "errorCode", json_string("OtherError"));
    return 0;
  }
  if (ref.key && strcmp(action, "StopTransaction") == 0 &&
      strcmp(ref.key, "reason") == 0) {
    snprintf(what, n, "reason \"%.32s\" unknown: ignored",
             text_or(value, "?"));
    json_object_del(ref.parent, "reason");
    return 0;
  }
  if (ref.key && fix_timestamp(value, &ref, what, n) == 0)
    return 0;
  return fix_length(value, &ref, what, n);
}

/* Some chargers give configuration values as numbers or booleans. */
static int repair_config_value(json_t *payload, const ocpp_schema_fault *f,
                               char *what, size_t n)
{
  path_ref ref;
  if (resolve(payload, f->path, &ref) != 0 || !ref.key ||
      strcmp(ref.key, "value") != 0 || !strstr(f->path, "configurationKey["))
    return OCPP_ENOREPAIR;
  json_t *v = json_object_get(ref.parent, "value");
  if (!v || json_is_string(v) || json_is_object(v) || json_is_array(v))
    return OCPP_ENOREPAIR;
  char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
  if (!text)
    return OCPP_ENOMEM;
  snprintf(what, n, "configuration value %s given as a %s: taken as text",
           text, json_is_boolean(v) ? "boolean" : "number");
  json_object_set_new(ref.parent, "value", json_string(text));
  free(text);
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

int ocpp_lenient_repair(const char *action, ocpp_schema_kind kind,
                        json_t *payload, const ocpp_schema_fault *fault,
                        unsigned *notes, char *what, size_t what_len)
{
  if (!action || !payload || !fault || !fault->code || !notes || !what)
    return OCPP_EINVAL;
  what[0] = '\0';
  if (kind == OCPP_SCHEMA_RESPONSE) {
    if (strcmp(action, "GetConfiguration") == 0 &&
        strcmp(fault->code, "TypeConstraintViolation") == 0)
      return repair_config_value(payload, fault, what, what_len);
    return OCPP_ENOREPAIR;
  }
  if (strcmp(fault->code, "OccurenceConstraintViolation") == 0)
    return repair_missing_meter_stop(action, payload, fault, notes, what,
                                     what_len);
  if (strcmp(fault->code, "PropertyConstraintViolation") == 0)
    return repair_property(action, payload, fault, what, what_len);
  return OCPP_ENOREPAIR;
}
