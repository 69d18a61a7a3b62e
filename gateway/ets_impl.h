/* Internal to the ETS export readers (ets.c, ets_text.c, ets_csv.c,
 * ets_xml.c): the group list they build and what they share. ets.h is the
 * API. */
#ifndef OCPPKNX_GW_ETS_IMPL_H
#define OCPPKNX_GW_ETS_IMPL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/ets.h"

struct gw_ets {
  gw_ets_group *groups;
  size_t n, cap;
  bool seen[65536];         /* addresses taken, to report duplicates */
};

typedef struct {
  gw_ets *ets;
  gw_conf_diag *notes;      /* may be NULL */
} ets_builder;

/* A reader: fills b->ets from data, or returns a code with why set. */
typedef int (*ets_reader)(const char *data, size_t len, ets_builder *b, char *why,
                          size_t cap);

/* The frame of every gw_ets_parse_*: checks the arguments and the size,
 * runs read on a new list and hands it out when read succeeds. */
int ets_run(ets_reader read, const char *data, size_t len, gw_ets **out,
            gw_conf_diag *notes, char *why, size_t cap);

/* Adds a group; name and path are cut at GW_ETS_MAX_NAME bytes (on a
 * UTF-8 boundary), dpts is ETS's DPT text ("DPST-9-21", "DPT-14", a comma
 * list whose last entry is the group's own), NULL or "" for none. A second
 * group on one address, and one on 0/0/0 (the broadcast address, which no
 * object may use), are skipped with a note. Returns GW_OK, GW_ENOMEM, or
 * GW_EINVAL past GW_ETS_MAX_GROUPS. */
int ets_add(ets_builder *b, uint16_t ga, const char *name, const char *path,
            const char *dpts, int line);

/* One "line N: ..." note (line 0: no prefix). Returns GW_OK or GW_ENOMEM. */
int ets_note(ets_builder *b, int line, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* ETS's DPT text → main and sub number (-1 when absent). Returns GW_OK or
 * GW_EINVAL. */
int ets_parse_dpt(const char *text, int *dpt_main, int *dpt_sub);

/* data[0..len) as UTF-8 with the encoding ETS chose: a UTF-8 BOM is
 * dropped, UTF-16 (BOM, or a NUL pattern) is converted, text that is not
 * valid UTF-8 is taken as Windows-1252. NUL bytes become blanks. *out is
 * malloc'd and NUL-terminated. Returns GW_OK or GW_ENOMEM. */
int ets_to_utf8(const char *data, size_t len, char **out, size_t *out_len);

/* The Unicode code points of Windows-1252's bytes 0x80..0x9F (0 where the
 * code page has no character). */
extern const uint16_t ets_cp1252_high[32];

/* Cuts s in place to at most max bytes without splitting a UTF-8 sequence,
 * and trims blanks at both ends. Returns s. */
char *ets_clip(char *s, size_t max);

#endif
