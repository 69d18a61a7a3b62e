/* Validation of OCPP payloads against tables generated from the official
 * JSON schemas: OCPP 1.6 (schema_table.inc) and OCPP 2.0.1
 * (schema_table201.inc, its "$ref"s resolved by the generator; see
 * tools/gen-schema-table.py). The
 * walk follows the schema, not the payload, so its depth is bounded by the
 * table; array lengths are bounded by the message size cap of the caller. */
#include "ocpp/schema.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/calendar.h"

typedef enum {
  SCHEMA_OBJECT,
  SCHEMA_ARRAY,
  SCHEMA_STRING,
  SCHEMA_INTEGER,
  SCHEMA_NUMBER,
  SCHEMA_BOOLEAN,
  SCHEMA_ANY                       /* no type given: any JSON value */
} schema_type;

typedef enum {
  SCHEMA_FORMAT_NONE,
  SCHEMA_FORMAT_DATE_TIME,
  SCHEMA_FORMAT_URI
} schema_format;

typedef struct schema_prop schema_prop;

typedef struct schema_node {
  schema_type type;
  schema_format format;
  bool closed;                     /* additionalProperties: false */
  unsigned max_length;             /* 0: none */
  unsigned min_items;              /* 0: none */
  unsigned max_items;              /* 0: none */
  double multiple_of;              /* 0: none */
  bool has_minimum;
  double minimum;
  bool has_maximum;
  double maximum;
  const char *const *enum_values;  /* NULL-terminated, or NULL */
  const schema_prop *props;
  size_t n_props;
  const struct schema_node *items; /* arrays only */
} schema_node;

struct schema_prop {
  const char *name;
  bool required;
  const schema_node *node;
};

typedef struct {
  const char *action;
  const schema_node *request;
  const schema_node *response;
} schema_action;

#include "ocpp/schema_table.inc"
#include "ocpp/schema_table201.inc"

#define CODE_TYPE "TypeConstraintViolation"
#define CODE_PROPERTY "PropertyConstraintViolation"
#define CODE_OCCURENCE "OccurenceConstraintViolation"
#define CODE_FORMATION "FormationViolation"

/* Longest quoted payload value in a message, in bytes. */
#define QUOTE_MAX 40

/* ---- UTF-8 helpers ------------------------------------------------------ */

/* The fault text ends up in a CALLERROR, which must be valid UTF-8, so cuts
 * never split a multi-byte sequence. */
static size_t utf8_sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

static size_t utf8_prefix(const char *s, size_t len, size_t max) {
  size_t used = 0;
  while (used < len) {
    size_t step = utf8_sequence_length((unsigned char)s[used]);
    if (used + step > max || used + step > len) break;
    used += step;
  }
  return used;
}

static void utf8_trim_tail(char *s) {
  size_t len = strlen(s);
  s[utf8_prefix(s, len, len)] = '\0';
}

static size_t utf8_code_points(const char *s, size_t len) {
  size_t count = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) count++;
  return count;
}

/* ---- date-time (RFC 3339 section 5.6) and uri (RFC 3986) ---------------- */

typedef struct {
  const char *p;
  const char *end;
} cursor;

static bool take_digits(cursor *c, int count, int *out) {
  int value = 0;
  for (int i = 0; i < count; i++) {
    if (c->p == c->end || *c->p < '0' || *c->p > '9') return false;
    value = value * 10 + (*c->p++ - '0');
  }
  *out = value;
  return true;
}

/* RFC 3339 takes "T" and "Z" case-insensitively (ABNF literals). */
static bool take_char(cursor *c, const char *accepted) {
  if (c->p == c->end || *c->p == '\0' || !strchr(accepted, *c->p)) return false;
  c->p++;
  return true;
}

static bool take_date(cursor *c) {
  int year, month, day;
  if (!take_digits(c, 4, &year) || !take_char(c, "-") ||
      !take_digits(c, 2, &month) || !take_char(c, "-") ||
      !take_digits(c, 2, &day))
    return false;
  return cal_date_is_valid(year, month, day);
}

static bool take_time(cursor *c) {
  int hour, minute, second;
  if (!take_digits(c, 2, &hour) || !take_char(c, ":") ||
      !take_digits(c, 2, &minute) || !take_char(c, ":") ||
      !take_digits(c, 2, &second))
    return false;
  /* second 60 is a leap second, which RFC 3339 allows. */
  if (hour > 23 || minute > 59 || second > 60) return false;
  if (take_char(c, ".")) {
    int digit;
    if (!take_digits(c, 1, &digit)) return false;
    while (take_digits(c, 1, &digit)) {
    }
  }
  return true;
}

static bool take_offset(cursor *c) {
  int hour, minute;
  if (take_char(c, "Zz")) return true;
  return take_char(c, "+-") && take_digits(c, 2, &hour) &&
         take_char(c, ":") && take_digits(c, 2, &minute) && hour <= 23 &&
         minute <= 59;
}

static bool is_date_time(const char *s, size_t len) {
  cursor c = {s, s + len};
  return take_date(&c) && take_char(&c, "Tt") && take_time(&c) &&
         take_offset(&c) && c.p == c.end;
}

bool ocpp_schema_is_date_time(const char *s, size_t len) {
  return s && is_date_time(s, len);
}

static bool is_hex(char ch) {
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
         (ch >= 'A' && ch <= 'F');
}

static bool is_alpha(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_uri_char(char ch) {
  /* unreserved, gen-delims and sub-delims of RFC 3986 */
  return is_alpha(ch) || (ch >= '0' && ch <= '9') ||
         (ch != '\0' && strchr("-._~:/?#[]@!$&'()*+,;=", ch) != NULL);
}

/* An absolute URI: a scheme, ':' and only characters a URI may hold, with
 * well-formed percent escapes. The parts after the scheme are not parsed. */
static bool is_uri(const char *s, size_t len) {
  size_t i = 0;
  if (len == 0 || !is_alpha(s[0])) return false;
  while (i < len && (is_alpha(s[i]) || (s[i] >= '0' && s[i] <= '9') ||
                     s[i] == '+' || s[i] == '-' || s[i] == '.'))
    i++;
  if (i == len || s[i] != ':') return false;
  for (i++; i < len; i++) {
    if (s[i] == '%') {
      if (i + 2 >= len || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
    } else if (!is_uri_char(s[i])) {
      return false;
    }
  }
  return true;
}

/* ---- the walk ----------------------------------------------------------- */

/* The walk keeps its position as a stack of segments; the path text is
 * only formatted when a fault is reported, so valid payloads (the hot
 * path) never pay for it. */
#define WALK_DEPTH 16

typedef struct {
  const char *name;   /* NULL for an array index */
  size_t name_len;
  size_t index;
} walk_seg;

typedef struct {
  ocpp_schema_fault *fault;
  walk_seg seg[WALK_DEPTH];
  size_t depth;       /* segments below WALK_DEPTH are not kept */
  char path[256];
  size_t len;
} walk;

static size_t walk_push_seg(walk *w, walk_seg seg) {
  size_t saved = w->depth;
  if (w->depth < WALK_DEPTH) w->seg[w->depth] = seg;
  w->depth++;
  return saved;
}

static size_t walk_push_name(walk *w, const char *name, size_t name_len) {
  return walk_push_seg(w, (walk_seg){name, name_len, 0});
}

static size_t walk_push_index(walk *w, size_t index) {
  return walk_push_seg(w, (walk_seg){NULL, 0, index});
}

static void walk_pop(walk *w, size_t saved) { w->depth = saved; }

/* Appends to the path text; a path longer than the buffer is cut, it only
 * serves the fault text. */
static void path_append(walk *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void path_append(walk *w, const char *fmt, ...) {
  size_t room = sizeof w->path - w->len;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(w->path + w->len, room, fmt, ap);
  va_end(ap);
  if (n > 0) w->len = (size_t)n < room ? w->len + (size_t)n : sizeof w->path - 1;
}

static void walk_format_path(walk *w) {
  w->len = 0;
  w->path[0] = '\0';
  size_t kept = w->depth < WALK_DEPTH ? w->depth : WALK_DEPTH;
  for (size_t i = 0; i < kept; i++) {
    const walk_seg *seg = &w->seg[i];
    if (!seg->name) {
      path_append(w, "[%zu]", seg->index);
      continue;
    }
    int shown = (int)utf8_prefix(seg->name, seg->name_len, 64);
    path_append(w, w->len == 0 ? "%.*s" : ".%.*s", shown, seg->name);
  }
}

/* The last path segment names the offending value in the message. */
static const char *walk_label(const walk *w) {
  const char *dot = strrchr(w->path, '.');
  if (w->len == 0) return "payload";
  return dot ? dot + 1 : w->path;
}

static int walk_fail(walk *w, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int walk_fail(walk *w, const char *code, const char *fmt, ...) {
  ocpp_schema_fault *f = w->fault;
  walk_format_path(w);
  const char *label = walk_label(w);
  int shown = (int)utf8_prefix(label, strlen(label), 60);
  int n = snprintf(f->message, sizeof f->message, "%.*s: ", shown, label);
  if (n > 0 && (size_t)n < sizeof f->message) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->message + n, sizeof f->message - (size_t)n, fmt, ap);
    va_end(ap);
  }
  size_t kept = utf8_prefix(w->path, w->len, sizeof f->path - 1);
  memcpy(f->path, w->path, kept);
  f->path[kept] = '\0';
  utf8_trim_tail(f->message);
  f->code = code;
  return OCPP_ESCHEMA;
}

static bool is_object(const json_t *v) { return json_is_object(v); }
static bool is_array(const json_t *v) { return json_is_array(v); }
static bool is_string(const json_t *v) { return json_is_string(v); }
/* Reals are refused even when whole (1.0): the OCA files are draft-04, and
 * readers of the payload take integers with json_integer_value. */
static bool is_integer(const json_t *v) { return json_is_integer(v); }
static bool is_number(const json_t *v) { return json_is_number(v); }
static bool is_boolean(const json_t *v) { return json_is_boolean(v); }
static bool is_anything(const json_t *v) { return v != NULL; }

static int check_node(walk *w, const schema_node *node, const json_t *value);
static int check_object(walk *w, const schema_node *node, const json_t *value);
static int check_array(walk *w, const schema_node *node, const json_t *value);
static int check_string(walk *w, const schema_node *node, const json_t *value);
static int check_number(walk *w, const schema_node *node, const json_t *value);

static int check_nothing(walk *w, const schema_node *node,
                         const json_t *value) {
  (void)w;
  (void)node;
  (void)value;
  return 0;
}

static const struct {
  const char *name;
  bool (*is)(const json_t *value);
  int (*check)(walk *w, const schema_node *node, const json_t *value);
} schema_types[] = {
  [SCHEMA_OBJECT] = {"object", is_object, check_object},
  [SCHEMA_ARRAY] = {"array", is_array, check_array},
  [SCHEMA_STRING] = {"string", is_string, check_string},
  [SCHEMA_INTEGER] = {"integer", is_integer, check_number},
  [SCHEMA_NUMBER] = {"number", is_number, check_number},
  [SCHEMA_BOOLEAN] = {"boolean", is_boolean, check_nothing},
  [SCHEMA_ANY] = {"any", is_anything, check_nothing},
};

static const char *json_kind(const json_t *value) {
  static const char *const kinds[] = {
    [JSON_OBJECT] = "object",   [JSON_ARRAY] = "array",
    [JSON_STRING] = "string",   [JSON_INTEGER] = "integer",
    [JSON_REAL] = "number",     [JSON_TRUE] = "boolean",
    [JSON_FALSE] = "boolean",   [JSON_NULL] = "null",
  };
  return kinds[json_typeof(value)];
}

static const schema_prop *find_prop(const schema_node *node, const char *name,
                                    size_t name_len) {
  for (size_t i = 0; i < node->n_props; i++) {
    const schema_prop *prop = &node->props[i];
    if (strlen(prop->name) == name_len && memcmp(prop->name, name, name_len) == 0)
      return prop;
  }
  return NULL;
}

static int check_node(walk *w, const schema_node *node, const json_t *value) {
  if (!schema_types[node->type].is(value))
    return walk_fail(w, CODE_TYPE, "expected %s, got %s",
                     schema_types[node->type].name, json_kind(value));
  return schema_types[node->type].check(w, node, value);
}

static int check_object(walk *w, const schema_node *node, const json_t *value) {
  size_t known = 0;
  for (size_t i = 0; i < node->n_props; i++) {
    const schema_prop *prop = &node->props[i];
    const json_t *member = json_object_get(value, prop->name);
    known += member != NULL;
    if (!member && !prop->required) continue;
    size_t saved = walk_push_name(w, prop->name, strlen(prop->name));
    int rc = member ? check_node(w, prop->node, member)
                    : walk_fail(w, CODE_OCCURENCE, "required property is missing");
    if (rc != 0) return rc;
    walk_pop(w, saved);
  }
  /* every member was one of the schema's: nothing else to look for */
  if (!node->closed || known == json_object_size(value)) return 0;
  /* The iteration API wants a mutable object; it is only read here. */
  json_t *object = (json_t *)value;
  const char *key;
  size_t key_len;
  json_t *member;
  json_object_keylen_foreach(object, key, key_len, member) {
    if (find_prop(node, key, key_len)) continue;
    walk_push_name(w, key, key_len);
    return walk_fail(w, CODE_PROPERTY, "property is not allowed");
  }
  return 0;
}

static int check_array(walk *w, const schema_node *node, const json_t *value) {
  size_t count = json_array_size(value);
  if (count < node->min_items)
    return walk_fail(w, CODE_PROPERTY, "%zu items, at least %u required",
                     count, node->min_items);
  if (node->max_items && count > node->max_items)
    return walk_fail(w, CODE_OCCURENCE, "%zu items, at most %u allowed",
                     count, node->max_items);
  for (size_t i = 0; i < count; i++) {
    size_t saved = walk_push_index(w, i);
    int rc = check_node(w, node->items, json_array_get(value, i));
    if (rc != 0) return rc;
    walk_pop(w, saved);
  }
  return 0;
}

static bool enum_contains(const char *const *values, const char *s, size_t len) {
  for (; *values; values++)
    if (strlen(*values) == len && memcmp(*values, s, len) == 0) return true;
  return false;
}

static int check_string(walk *w, const schema_node *node, const json_t *value) {
  const char *s = json_string_value(value);
  size_t len = json_string_length(value);
  int shown = (int)utf8_prefix(s, len, QUOTE_MAX);
  const char *more = (size_t)shown < len ? "..." : "";

  if (node->enum_values && !enum_contains(node->enum_values, s, len))
    return walk_fail(w, CODE_PROPERTY, "\"%.*s%s\" is not one of the allowed values",
                     shown, s, more);
  if (node->max_length) {
    size_t chars = utf8_code_points(s, len);
    if (chars > node->max_length)
      return walk_fail(w, CODE_PROPERTY, "%zu characters, at most %u allowed",
                       chars, node->max_length);
  }
  if (node->format == SCHEMA_FORMAT_DATE_TIME && !is_date_time(s, len))
    return walk_fail(w, CODE_PROPERTY, "\"%.*s%s\" is not an RFC 3339 date-time",
                     shown, s, more);
  if (node->format == SCHEMA_FORMAT_URI && !is_uri(s, len))
    return walk_fail(w, CODE_PROPERTY, "\"%.*s%s\" is not a URI", shown, s, more);
  return 0;
}

/* Decimal steps such as 0.1 have no exact binary form, so the quotient is
 * compared with a relative tolerance instead of fmod() == 0. */
static bool is_multiple(double value, double step) {
  double quotient = value / step;
  return fabs(quotient - nearbyint(quotient)) <= 1e-9 * fmax(1.0, fabs(quotient));
}

static int check_number(walk *w, const schema_node *node, const json_t *value) {
  double number = json_number_value(value);
  if (node->has_minimum && number < node->minimum)
    return walk_fail(w, CODE_PROPERTY, "%g is below the minimum %g", number,
                     node->minimum);
  if (node->has_maximum && number > node->maximum)
    return walk_fail(w, CODE_PROPERTY, "%g is above the maximum %g", number,
                     node->maximum);
  if (node->multiple_of > 0 && !is_multiple(json_number_value(value), node->multiple_of))
    return walk_fail(w, CODE_PROPERTY, "%g is not a multiple of %g",
                     json_number_value(value), node->multiple_of);
  return 0;
}

/* ---- lookup and public functions ---------------------------------------- */

static int compare_action(const void *key, const void *entry) {
  return strcmp(key, ((const schema_action *)entry)->action);
}

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

static const schema_node *find_schema(ocpp_version version, const char *action,
                                      ocpp_schema_kind kind) {
  if (!action) return NULL;
  const schema_action *table = schema_actions;
  size_t n = COUNT(schema_actions);
  if (version == OCPP_VERSION_201) {
    table = schema201_actions;
    n = COUNT(schema201_actions);
  }
  const schema_action *entry =
      bsearch(action, table, n, sizeof table[0], compare_action);
  if (!entry) return NULL;
  return kind == OCPP_SCHEMA_RESPONSE ? entry->response : entry->request;
}

bool ocpp_schema_known_action(const char *action) {
  return ocpp_schema_known_action_in(OCPP_VERSION_16, action);
}

bool ocpp_schema_known_action_in(ocpp_version version, const char *action) {
  return find_schema(version, action, OCPP_SCHEMA_REQUEST) != NULL;
}

int ocpp_schema_validate(const char *action, ocpp_schema_kind kind,
                         const json_t *payload, ocpp_schema_fault *fault) {
  return ocpp_schema_validate_in(OCPP_VERSION_16, action, kind, payload, fault);
}

int ocpp_schema_validate_in(ocpp_version version, const char *action,
                            ocpp_schema_kind kind, const json_t *payload,
                            ocpp_schema_fault *fault) {
  ocpp_schema_fault scratch;
  walk w = {.fault = fault ? fault : &scratch, .depth = 0};
  if (!action) return OCPP_EINVAL;
  const schema_node *root = find_schema(version, action, kind);
  if (!root) return OCPP_ENOACTION;
  if (!payload) return walk_fail(&w, CODE_FORMATION, "no payload");
  return check_node(&w, root, payload);
}

/* Moves node along one path segment: "name" or "name[]" (repeatable). */
static const char *describe_step(const char *path, const schema_node **node,
                                 bool *required) {
  size_t name_len = strcspn(path, ".[");
  if ((*node)->type != SCHEMA_OBJECT) return NULL;
  const schema_prop *prop = find_prop(*node, path, name_len);
  if (!prop) return NULL;
  *node = prop->node;
  *required = prop->required;
  path += name_len;
  while (strncmp(path, "[]", 2) == 0) {
    if ((*node)->type != SCHEMA_ARRAY) return NULL;
    *node = (*node)->items;
    *required = false;
    path += 2;
  }
  if (*path == '.') return path[1] ? path + 1 : NULL;
  return *path == '\0' ? path : NULL;
}

int ocpp_schema_describe(const char *action, ocpp_schema_kind kind,
                         const char *path, ocpp_schema_node_info *info) {
  return ocpp_schema_describe_in(OCPP_VERSION_16, action, kind, path, info);
}

int ocpp_schema_describe_in(ocpp_version version, const char *action,
                            ocpp_schema_kind kind, const char *path,
                            ocpp_schema_node_info *info) {
  static const char *const formats[] = {
    [SCHEMA_FORMAT_NONE] = NULL,
    [SCHEMA_FORMAT_DATE_TIME] = "date-time",
    [SCHEMA_FORMAT_URI] = "uri",
  };
  if (!action || !path || !info) return OCPP_EINVAL;
  const schema_node *node = find_schema(version, action, kind);
  bool required = false;
  if (!node) return OCPP_ENOACTION;
  while (*path) {
    path = describe_step(path, &node, &required);
    if (!path) return OCPP_ENOPATH;
  }
  *info = (ocpp_schema_node_info){
    .type = schema_types[node->type].name,
    .format = formats[node->format],
    .enum_values = node->enum_values,
    .max_length = node->max_length,
    .min_items = node->min_items,
    .max_items = node->max_items,
    .has_minimum = node->has_minimum,
    .minimum = node->minimum,
    .has_maximum = node->has_maximum,
    .maximum = node->maximum,
    .multiple_of = node->multiple_of,
    .closed = node->closed,
    .required = required,
    .property_count = node->n_props,
  };
  return 0;
}
