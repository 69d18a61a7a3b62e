/* The CSV group-address export of ETS 5 and 6. In the 3/1 format each
 * main group, middle group and address has a row of its own, the name in
 * the column of its level and the address with '-' for the levels below
 * ("9/-/-", "9/7/-", "9/7/0"); every field is quoted, the separator is the
 * one chosen on export. The 1/1 format has one row per address with its
 * name. */
#include "gateway/ets_impl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FIELDS 64
#define MAX_RECORD (64u * 1024u)  /* bytes of one row; longer ones are skipped */

typedef struct {
  const char *s;
  size_t len, pos;
  int line;
  char sep;
} reader;

typedef struct {
  char *field[MAX_FIELDS];
  size_t n;
  int line;
  bool too_long;
  char buf[MAX_RECORD];
} record;

typedef struct {
  int main, middle, name, addr, dpt; /* column, -1 when absent */
} columns;

typedef struct {
  ets_builder b;
  columns col;
  char *main_name[32];
  char *middle_name[32][8];
} csv_state;

/* ---- records ------------------------------------------------------------- */

static void put(record *r, size_t *w, char c)
{
  if (*w + 1 < sizeof r->buf)
    r->buf[(*w)++] = c;
  else
    r->too_long = true;
}

static void end_field(record *r, size_t *w, size_t *start)
{
  put(r, w, '\0');
  if (r->n < MAX_FIELDS && !r->too_long)
    r->field[r->n++] = r->buf + *start;
  *start = *w;
}

/* Reads one row (quoted fields may span lines). false at the end. */
static bool next_record(reader *rd, record *r)
{
  if (rd->pos >= rd->len)
    return false;
  r->n = 0;
  r->too_long = false;
  r->line = rd->line;
  size_t w = 0, start = 0;
  bool quoted = false, at_start = true;
  while (rd->pos < rd->len) {
    char c = rd->s[rd->pos++];
    if (quoted) {
      if (c == '"' && rd->pos < rd->len && rd->s[rd->pos] == '"') {
        put(r, &w, '"');
        rd->pos++;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n')
          rd->line++;
        put(r, &w, c == '\n' || c == '\r' ? ' ' : c);
      }
      continue;
    }
    if (c == '"' && at_start) {
      quoted = true;
      at_start = false;
    } else if (c == rd->sep) {
      end_field(r, &w, &start);
      at_start = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && rd->pos < rd->len && rd->s[rd->pos] == '\n')
        rd->pos++;
      rd->line++;
      break;
    } else {
      if (c != ' ' && c != '\t')
        at_start = false;
      put(r, &w, c);
    }
  }
  end_field(r, &w, &start);
  for (size_t i = 0; i < r->n; i++)
    ets_clip(r->field[i], GW_ETS_MAX_NAME);
  return true;
}

/* The separator of the first row: the most frequent of ';', tab and ','
 * outside quotes (ETS offers these three). */
static char guess_separator(const char *s, size_t len)
{
  size_t semi = 0, tab = 0, comma = 0;
  bool quoted = false;
  for (size_t i = 0; i < len && s[i] != '\n'; i++) {
    if (s[i] == '"')
      quoted = !quoted;
    else if (!quoted)
      semi += s[i] == ';', tab += s[i] == '\t', comma += s[i] == ',';
  }
  if (tab > semi && tab >= comma)
    return '\t';
  if (comma > semi && comma > tab)
    return ',';
  return ';';
}

/* ---- the header ---------------------------------------------------------- */

static bool is_one_of(const char *field, const char *const *names)
{
  for (; *names; names++)
    if (strcasecmp(field, *names) == 0)
      return true;
  return false;
}

/* The column of each field the reader uses, from a header row; false when
 * the row is no header (it has no address column). */
static bool header_columns(const record *r, columns *c)
{
  static const char *const main_names[] = {"Main", "Main group", "Hauptgruppe", NULL};
  static const char *const middle_names[] = {"Middle", "Middle group", "Mittelgruppe", NULL};
  static const char *const name_names[] = {"Sub", "Group name", "Name", "Untergruppe",
                                           "Gruppenname", NULL};
  static const char *const addr_names[] = {"Address", "Group address", "Adresse",
                                           "Gruppenadresse", NULL};
  static const char *const dpt_names[] = {"DatapointType", "Datapoint Type", "DPT",
                                          "DPTs", "Datenpunkttyp", NULL};
  *c = (columns){-1, -1, -1, -1, -1};
  for (size_t i = 0; i < r->n; i++) {
    const char *f = r->field[i];
    int *slot = is_one_of(f, main_names) ? &c->main
                : is_one_of(f, middle_names) ? &c->middle
                : is_one_of(f, name_names) ? &c->name
                : is_one_of(f, addr_names) ? &c->addr
                : is_one_of(f, dpt_names) ? &c->dpt : NULL;
    if (slot != NULL && *slot < 0)
      *slot = (int)i;
  }
  return c->addr >= 0;
}

/* Without a header: the 3/1 order (Main;Middle;Sub;Address;Central;
 * Unfiltered;Description;DatapointType;Security) or the 1/1 order
 * (Group name;Address;Central;Unfiltered;Description;DatapointType). */
static bool positional_columns(const record *r, columns *c)
{
  uint16_t ga;
  if (r->n >= 4) {
    *c = (columns){0, 1, 2, 3, 7};
    return true;
  }
  if (r->n >= 2 && knx_ga_parse(r->field[1], &ga) == KNX_OK) {
    *c = (columns){-1, -1, 0, 1, 5};
    return true;
  }
  return false;
}

/* ---- rows ---------------------------------------------------------------- */

static const char *field(const record *r, int col)
{
  return col >= 0 && (size_t)col < r->n ? r->field[col] : "";
}

typedef enum { ROW_BAD, ROW_MAIN, ROW_MIDDLE, ROW_GROUP } row_kind;

/* "9/-/-" and "9/-" name a main group, "9/7/-" a middle group. */
static row_kind classify(const char *addr, unsigned *m, unsigned *mid, uint16_t *ga)
{
  if (knx_ga_parse(addr, ga) == KNX_OK)
    return ROW_GROUP;
  char tail[8];
  int used = 0;
  if (sscanf(addr, "%2u/%n", m, &used) == 1 && *m < 32) {
    const char *rest = addr + used;
    if (strcmp(rest, "-/-") == 0 || strcmp(rest, "-") == 0)
      return ROW_MAIN;
    if (sscanf(rest, "%1u/%7s", mid, tail) == 2 && *mid < 8 && strcmp(tail, "-") == 0 &&
        isdigit((unsigned char)rest[0]) && rest[1] == '/')
      return ROW_MIDDLE;
  }
  return ROW_BAD;
}

static int set_name(char **slot, const char *name)
{
  char *copy = strdup(name);
  if (copy == NULL)
    return GW_ENOMEM;
  free(*slot);
  *slot = copy;
  return GW_OK;
}

/* "main / middle" above a group: the row's own columns, else the names
 * of the range rows before it. */
static void group_path(const csv_state *st, const record *r, const char *addr,
                       uint16_t ga, char *out, size_t cap)
{
  const char *main = field(r, st->col.main), *middle = field(r, st->col.middle);
  size_t slashes = 0;
  for (const char *c = addr; *c; c++)
    slashes += *c == '/';
  if (!*main && slashes >= 1 && st->main_name[ga >> 11])
    main = st->main_name[ga >> 11];
  if (!*middle && slashes == 2 && st->middle_name[ga >> 11][(ga >> 8) & 7])
    middle = st->middle_name[ga >> 11][(ga >> 8) & 7];
  snprintf(out, cap, "%s%s%s", main, *main && *middle ? " / " : "", middle);
}

static int take_row(csv_state *st, const record *r)
{
  if (r->too_long)
    return ets_note(&st->b, r->line, "row longer than %u bytes, skipped", MAX_RECORD);
  size_t blank = 0;
  for (size_t i = 0; i < r->n; i++)
    blank += r->field[i][0] == '\0';
  if (blank == r->n)
    return GW_OK;
  if ((size_t)st->col.addr >= r->n)
    return ets_note(&st->b, r->line, "%zu fields, no address: skipped", r->n);
  const char *addr = field(r, st->col.addr);
  const char *name = field(r, st->col.name);
  unsigned m = 0, mid = 0;
  uint16_t ga = 0;
  switch (classify(addr, &m, &mid, &ga)) {
  case ROW_MAIN:
    return set_name(&st->main_name[m], *field(r, st->col.main) ? field(r, st->col.main) : name);
  case ROW_MIDDLE:
    return set_name(&st->middle_name[m][mid],
                    *field(r, st->col.middle) ? field(r, st->col.middle) : name);
  case ROW_BAD:
    return ets_note(&st->b, r->line, "\"%.40s\" is not a group address: skipped", addr);
  case ROW_GROUP:
    break;
  }
  if (!*name)
    return ets_note(&st->b, r->line, "%s has no name: skipped", addr);
  char path[2 * GW_ETS_MAX_NAME + 8];
  group_path(st, r, addr, ga, path, sizeof path);
  return ets_add(&st->b, ga, name, path, field(r, st->col.dpt), r->line);
}

/* ---- the file ------------------------------------------------------------ */

static void free_names(csv_state *st)
{
  for (int m = 0; m < 32; m++) {
    free(st->main_name[m]);
    for (int n = 0; n < 8; n++)
      free(st->middle_name[m][n]);
  }
}

static int read_rows(csv_state *st, reader *rd, record *r, char *why, size_t cap)
{
  if (!next_record(rd, r)) {
    snprintf(why, cap, "the file is empty");
    return GW_EINVAL;
  }
  bool header = header_columns(r, &st->col);
  if (!header && !positional_columns(r, &st->col)) {
    snprintf(why, cap, "line %d: no \"Address\" column: not an ETS group address export",
             r->line);
    return GW_EINVAL;
  }
  int rc = header ? GW_OK : take_row(st, r);
  while (rc == GW_OK && next_record(rd, r))
    rc = take_row(st, r);
  if (rc == GW_EINVAL)
    snprintf(why, cap, "more than %u group addresses", GW_ETS_MAX_GROUPS);
  return rc;
}

static int read_csv(const char *data, size_t len, ets_builder *b, char *why, size_t cap)
{
  char *text = NULL;
  size_t text_len = 0;
  csv_state *st = calloc(1, sizeof *st);
  record *r = malloc(sizeof *r);
  int rc = GW_ENOMEM;
  if (st != NULL && r != NULL && ets_to_utf8(data, len, &text, &text_len) == GW_OK) {
    st->b = *b;
    reader rd = {text, text_len, 0, 1, guess_separator(text, text_len)};
    rc = read_rows(st, &rd, r, why, cap);
    free_names(st);
  }
  free(st);
  free(r);
  free(text);
  return rc;
}

int gw_ets_parse_csv(const char *data, size_t len, gw_ets **out,
                     gw_conf_diag *notes, char *why, size_t cap)
{
  return ets_run(read_csv, data, len, out, notes, why, cap);
}
