/* The MeterValues fast path (meter_fast.h): yajl's SAX callbacks drive a
 * state machine that follows MeterValues.req of the OCPP 1.6 schemas as
 * ocpp/schema.c checks it, and feeds each sampledValue to the same sample
 * builder as ocpp_meter_parse (codec.c). Any callback the state does not
 * expect cancels the parse: the frame then goes the general way. */
#include "ocpp/meter_fast.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "ocpp/schema.h"

/* ---- the schema's enumerations (checked against the table by the tests) */

typedef struct {
  const char *text;
  size_t len;
} word;

#define W(s) {s, sizeof s - 1}
#define WORDS_END {NULL, 0}

static const word enum_context[] = {
    W("Interruption.Begin"), W("Interruption.End"), W("Sample.Clock"),
    W("Sample.Periodic"), W("Transaction.Begin"), W("Transaction.End"),
    W("Trigger"), W("Other"), WORDS_END};
static const word enum_format[] = {W("Raw"), W("SignedData"), WORDS_END};
static const word enum_measurand[] = {
    W("Energy.Active.Export.Register"), W("Energy.Active.Import.Register"),
    W("Energy.Reactive.Export.Register"), W("Energy.Reactive.Import.Register"),
    W("Energy.Active.Export.Interval"), W("Energy.Active.Import.Interval"),
    W("Energy.Reactive.Export.Interval"), W("Energy.Reactive.Import.Interval"),
    W("Power.Active.Export"), W("Power.Active.Import"), W("Power.Offered"),
    W("Power.Reactive.Export"), W("Power.Reactive.Import"), W("Power.Factor"),
    W("Current.Import"), W("Current.Export"), W("Current.Offered"),
    W("Voltage"), W("Frequency"), W("Temperature"), W("SoC"), W("RPM"),
    WORDS_END};
static const word enum_phase[] = {
    W("L1"), W("L2"), W("L3"), W("N"), W("L1-N"), W("L2-N"), W("L3-N"),
    W("L1-L2"), W("L2-L3"), W("L3-L1"), WORDS_END};
static const word enum_location[] = {W("Cable"), W("EV"), W("Inlet"),
                                     W("Outlet"), W("Body"), WORDS_END};
static const word enum_unit[] = {
    W("Wh"), W("kWh"), W("varh"), W("kvarh"), W("W"), W("kW"), W("VA"),
    W("kVA"), W("var"), W("kvar"), W("A"), W("V"), W("K"), W("Celcius"),
    W("Celsius"), W("Fahrenheit"), W("Percent"), WORDS_END};

/* The static text equal to s[0..len), or NULL. */
static const char *enum_find(const word *values, const char *s, size_t len) {
  for (; values->text; values++)
    if (values->len == len && memcmp(values->text, s, len) == 0)
      return values->text;
  return NULL;
}

/* ---- the members ------------------------------------------------------- */

/* A sampledValue's properties, in the order of its schema. */
enum {
  SV_VALUE,
  SV_CONTEXT,
  SV_FORMAT,
  SV_MEASURAND,
  SV_PHASE,
  SV_LOCATION,
  SV_UNIT,
  SV_COUNT
};

static const struct {
  const char *name;
  size_t len;
  const word *values;         /* NULL: any string (value) */
} sv_props[SV_COUNT] = {
    [SV_VALUE] = {"value", 5, NULL},
    [SV_CONTEXT] = {"context", 7, enum_context},
    [SV_FORMAT] = {"format", 6, enum_format},
    [SV_MEASURAND] = {"measurand", 9, enum_measurand},
    [SV_PHASE] = {"phase", 5, enum_phase},
    [SV_LOCATION] = {"location", 8, enum_location},
    [SV_UNIT] = {"unit", 4, enum_unit},
};

static bool key_is(const unsigned char *key, size_t len, const char *name,
                   size_t name_len) {
  return len == name_len && memcmp(key, name, len) == 0;
}

/* ---- the state machine -------------------------------------------------- */

typedef enum {
  S_START,        /* [ */
  S_TYPE,         /* 2 */
  S_ID,           /* "id" */
  S_ACTION,       /* "MeterValues" */
  S_PAYLOAD,      /* { */
  S_P_KEY,        /* a payload key or } */
  S_P_CONNECTOR,
  S_P_TX,
  S_P_VALUES,     /* [ of meterValue */
  S_MV_ITEM,      /* { of a meterValue element or ] */
  S_MV_KEY,       /* its key or } */
  S_MV_TIMESTAMP,
  S_MV_SAMPLES,   /* [ of sampledValue */
  S_SV_ITEM,      /* { of a sampledValue or ] */
  S_SV_KEY,       /* its key or } */
  S_SV_MEMBER,    /* the string of member sv_key */
  S_END,          /* ] of the frame */
  S_DONE
} state;

/* Longest value text and timestamp kept; longer ones decline. */
#define VALUE_MAX 63
#define TIMESTAMP_MAX 63

/* yajl's few allocations (handle, lexer, buffers, its stack of states)
 * come from here; a frame that needs more falls back to malloc. */
#define ARENA_SIZE 4096
#define ARENA_ALIGN 16

typedef struct {
  alignas(ARENA_ALIGN) unsigned char bytes[ARENA_SIZE];
  size_t used;
} arena;

typedef struct {
  state st;
  yajl_handle h;
  size_t end;                 /* offset just past the frame's last ] */
  ocpp_meter_fast *out;
  unsigned payload_seen;      /* bits: connectorId, transactionId, meterValue */
  unsigned mv_seen;           /* bits: timestamp, sampledValue */
  unsigned sv_seen;           /* bits: 1 << SV_* */
  int sv_key;
  bool ts_ok;                 /* the timestamp parsed (ocpp_time_parse) */
  time_t ts;
  ocpp_meter_acc acc;
  ocpp_sampled_value sv;
  char value[VALUE_MAX + 1];
  arena mem;
} parser;

enum { P_CONNECTOR = 1, P_TX = 2, P_VALUES = 4 };
enum { MV_TIMESTAMP = 1, MV_SAMPLES = 2 };

/* Printable ASCII only (the frame was checked for backslashes and bytes of
 * 0x80 and above); tab, CR and LF inside a string are not JSON. */
static bool printable(const unsigned char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (s[i] < 0x20) return false;
  return true;
}

/* -?(0|[1-9][0-9]*) of at most 18 digits: a json_int_t, as jansson reads
 * it. Reals (with '.', 'e') are not integers for the schema. */
static bool read_integer(const char *s, size_t len, int64_t *out) {
  size_t i = 0;
  bool neg = false;
  if (i < len && s[i] == '-') {
    neg = true;
    i++;
  }
  size_t digits = len - i;
  if (digits == 0 || digits > 18 || (s[i] == '0' && digits > 1)) return false;
  int64_t v = 0;
  for (; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = neg ? -v : v;
  return true;
}

static int on_number(void *ctx, const char *s, size_t len) {
  parser *p = ctx;
  switch (p->st) {
  case S_TYPE:
    if (len != 1 || s[0] != '2') return 0;
    p->st = S_ID;
    return 1;
  case S_P_CONNECTOR:
    if (!read_integer(s, len, &p->out->connector_id)) return 0;
    p->st = S_P_KEY;
    return 1;
  case S_P_TX:
    if (!read_integer(s, len, &p->out->transaction_id)) return 0;
    p->out->has_transaction_id = true;
    p->st = S_P_KEY;
    return 1;
  default:
    return 0;
  }
}

static bool take_timestamp(parser *p, const unsigned char *s, size_t len) {
  char text[TIMESTAMP_MAX + 1];
  if (len > TIMESTAMP_MAX || !ocpp_schema_is_date_time((const char *)s, len))
    return false;
  memcpy(text, s, len);
  text[len] = '\0';
  p->ts_ok = ocpp_time_parse(text, &p->ts) == 0;
  return true;
}

static bool take_member(parser *p, const unsigned char *s, size_t len) {
  if (p->sv_key == SV_VALUE) {
    if (len > VALUE_MAX || !printable(s, len)) return false;
    memcpy(p->value, s, len);
    p->value[len] = '\0';
    p->sv.value = p->value;
    return true;
  }
  const char *v = enum_find(sv_props[p->sv_key].values, (const char *)s, len);
  if (!v) return false;
  switch (p->sv_key) {
  case SV_CONTEXT: p->sv.context = v; break;
  case SV_FORMAT: p->sv.format = v; break;
  case SV_MEASURAND: p->sv.measurand = v; break;
  case SV_PHASE: p->sv.phase = v; break;
  case SV_LOCATION: p->sv.location = v; break;
  default: p->sv.unit = v; break;
  }
  return true;
}

static int on_string(void *ctx, const unsigned char *s, size_t len) {
  parser *p = ctx;
  switch (p->st) {
  case S_ID:
    if (len > OCPP_RPC_ID_MAX || !printable(s, len)) return 0;
    memcpy(p->out->id, s, len);
    p->out->id[len] = '\0';
    p->out->id_len = len;
    p->st = S_ACTION;
    return 1;
  case S_ACTION:
    if (!key_is(s, len, "MeterValues", 11)) return 0;
    p->st = S_PAYLOAD;
    return 1;
  case S_MV_TIMESTAMP:
    if (!take_timestamp(p, s, len)) return 0;
    p->st = S_MV_KEY;
    return 1;
  case S_SV_MEMBER:
    if (!take_member(p, s, len)) return 0;
    p->st = S_SV_KEY;
    return 1;
  default:
    return 0;
  }
}

/* Sets *bit for a key seen once in this object; false for a duplicate. */
static bool first_time(unsigned *seen, unsigned bit) {
  if (*seen & bit) return false;
  *seen |= bit;
  return true;
}

static int payload_key(parser *p, const unsigned char *k, size_t len) {
  if (key_is(k, len, "connectorId", 11)) {
    p->st = S_P_CONNECTOR;
    return first_time(&p->payload_seen, P_CONNECTOR);
  }
  if (key_is(k, len, "transactionId", 13)) {
    p->st = S_P_TX;
    return first_time(&p->payload_seen, P_TX);
  }
  if (key_is(k, len, "meterValue", 10)) {
    p->st = S_P_VALUES;
    return first_time(&p->payload_seen, P_VALUES);
  }
  return 0;
}

static int meter_value_key(parser *p, const unsigned char *k, size_t len) {
  if (key_is(k, len, "timestamp", 9)) {
    p->st = S_MV_TIMESTAMP;
    return first_time(&p->mv_seen, MV_TIMESTAMP);
  }
  if (key_is(k, len, "sampledValue", 12)) {
    p->st = S_MV_SAMPLES;
    return first_time(&p->mv_seen, MV_SAMPLES);
  }
  return 0;
}

static int sampled_value_key(parser *p, const unsigned char *k, size_t len) {
  for (int i = 0; i < SV_COUNT; i++)
    if (key_is(k, len, sv_props[i].name, sv_props[i].len)) {
      p->sv_key = i;
      p->st = S_SV_MEMBER;
      return first_time(&p->sv_seen, 1u << i);
    }
  return 0;
}

static int on_map_key(void *ctx, const unsigned char *k, size_t len) {
  parser *p = ctx;
  switch (p->st) {
  case S_P_KEY: return payload_key(p, k, len);
  case S_MV_KEY: return meter_value_key(p, k, len);
  case S_SV_KEY: return sampled_value_key(p, k, len);
  default: return 0;
  }
}

static int on_start_map(void *ctx) {
  parser *p = ctx;
  switch (p->st) {
  case S_PAYLOAD:
    p->st = S_P_KEY;
    return 1;
  case S_MV_ITEM: {
    if (p->out->n_values == OCPP_METER_FAST_MAX) return 0;
    ocpp_meter_item *item = &p->out->values[p->out->n_values];
    ocpp_meter_begin(&p->acc, &item->sample);
    p->mv_seen = 0;
    p->ts_ok = false;
    p->st = S_MV_KEY;
    return 1;
  }
  case S_SV_ITEM:
    memset(&p->sv, 0, sizeof p->sv);
    p->sv_seen = 0;
    p->st = S_SV_KEY;
    return 1;
  default:
    return 0;
  }
}

/* The end of a meterValue element: what ocpp_meter_parse returns for it. */
static void finish_meter_value(parser *p) {
  ocpp_meter_item *item = &p->out->values[p->out->n_values++];
  item->ok = p->ts_ok;
  if (item->ok) {
    ocpp_meter_end(&p->acc, &item->sample);
    item->sample.timestamp = p->ts;
  } else {
    ocpp_meter_begin(&p->acc, &item->sample);
  }
}

static int on_end_map(void *ctx) {
  parser *p = ctx;
  switch (p->st) {
  case S_P_KEY:
    if ((p->payload_seen & (P_CONNECTOR | P_VALUES)) != (P_CONNECTOR | P_VALUES))
      return 0;
    p->st = S_END;
    return 1;
  case S_MV_KEY:
    if (p->mv_seen != (MV_TIMESTAMP | MV_SAMPLES)) return 0;
    finish_meter_value(p);
    p->st = S_MV_ITEM;
    return 1;
  case S_SV_KEY:
    if (!(p->sv_seen & (1u << SV_VALUE))) return 0;
    ocpp_meter_add(&p->acc, &p->sv, &p->out->values[p->out->n_values].sample);
    p->st = S_SV_ITEM;
    return 1;
  default:
    return 0;
  }
}

static int on_start_array(void *ctx) {
  parser *p = ctx;
  switch (p->st) {
  case S_START: p->st = S_TYPE; return 1;
  case S_P_VALUES: p->st = S_MV_ITEM; return 1;
  case S_MV_SAMPLES: p->st = S_SV_ITEM; return 1;
  default: return 0;
  }
}

static int on_end_array(void *ctx) {
  parser *p = ctx;
  switch (p->st) {
  case S_MV_ITEM: p->st = S_P_KEY; return 1;
  case S_SV_ITEM: p->st = S_MV_KEY; return 1;
  case S_END:
    /* yajl counts the bytes of the token whose callback runs */
    p->end = yajl_get_bytes_consumed(p->h);
    p->st = S_DONE;
    return 1;
  default: return 0;
  }
}

/* No member of MeterValues is null or a boolean. yajl skips an event
 * that has no callback, so these must be there to refuse. */
static int on_null(void *ctx) {
  (void)ctx;
  return 0;
}

static int on_boolean(void *ctx, int value) {
  (void)ctx;
  (void)value;
  return 0;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

/* ---- yajl's memory ------------------------------------------------------ */

/* Each block starts with its size, so that realloc can copy. */
typedef struct {
  alignas(ARENA_ALIGN) size_t size;
} block_head;

static bool in_arena(const arena *a, const void *ptr) {
  uintptr_t p = (uintptr_t)ptr, lo = (uintptr_t)a->bytes;
  return p >= lo && p < lo + sizeof a->bytes;
}

static void *arena_malloc(void *ctx, size_t size) {
  arena *a = ctx;
  size_t need = sizeof(block_head) +
                ((size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1));
  if (size > ARENA_SIZE || need > sizeof a->bytes - a->used) return malloc(size);
  block_head *h = (block_head *)(void *)(a->bytes + a->used);
  h->size = size;
  a->used += need;
  return h + 1;
}

static void arena_free(void *ctx, void *ptr) {
  if (!in_arena(ctx, ptr)) free(ptr);
}

static void *arena_realloc(void *ctx, void *ptr, size_t size) {
  if (!ptr) return arena_malloc(ctx, size);
  if (!in_arena(ctx, ptr)) return realloc(ptr, size);
  size_t old = ((block_head *)ptr - 1)->size;
  if (size <= old) return ptr;
  void *moved = arena_malloc(ctx, size);
  if (moved) memcpy(moved, ptr, old);
  return moved;
}

/* ---- the frame ---------------------------------------------------------- */

/* What the state machine relies on: no escapes (strings are the frame's own
 * bytes), ASCII only (no UTF-8 to check), whitespace only as JSON has it
 * (yajl also skips \v and \f). Eight bytes at a time; a word with a
 * byte below 0x20, at or above 0x80 or a backslash is looked at closely. */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static bool plain_byte(unsigned char c) {
  return c < 0x80 && c != '\\' &&
         (c >= 0x20 || c == '\t' || c == '\n' || c == '\r');
}

static bool plain_ascii(const unsigned char *s, size_t len) {
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, s + i, sizeof w);
    uint64_t bs = w ^ (ONES * '\\');
    uint64_t odd = (w | ((w - ONES * 0x20) & ~w) | ((bs - ONES) & ~bs)) & HIGHS;
    if (odd)
      for (size_t k = 0; k < 8; k++)
        if (!plain_byte(s[i + k])) return false;
  }
  for (; i < len; i++)
    if (!plain_byte(s[i])) return false;
  return true;
}

/* After the frame only whitespace may follow. yajl takes an unfinished
 * token there (a string, a number, a literal) for one that goes on in the
 * next chunk, even in yajl_complete_parse, so it is checked here. */
static bool blank(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return false;
  return true;
}

bool ocpp_meter_fast_parse(const char *text, size_t len, ocpp_meter_fast *out) {
  if (!text || !out || !plain_ascii((const unsigned char *)text, len))
    return false;
  parser p;
  p.st = S_START;
  p.out = out;
  p.payload_seen = 0;
  p.mem.used = 0;
  out->id[0] = '\0';
  out->id_len = 0;
  out->connector_id = 0;
  out->has_transaction_id = false;
  out->transaction_id = 0;
  out->n_values = 0;
  yajl_alloc_funcs funcs = {arena_malloc, arena_realloc, arena_free, &p.mem};
  p.h = yajl_alloc(&callbacks, &funcs, &p);
  if (!p.h) return false;
  bool ok = yajl_parse(p.h, (const unsigned char *)text, len) == yajl_status_ok &&
            p.st == S_DONE && blank(text + p.end, len - p.end);
  yajl_free(p.h);
  return ok;
}
