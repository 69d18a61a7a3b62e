/* gw_ets: the group addresses of an ETS project, read from the group-address
 * export ETS 5 and 6 write (CSV, 3/1 or 1/1 format, or the XML
 * GroupAddress-Export). The parsers are pure: they take the file's bytes
 * and build a read-only list of groups, each with its own name, the names
 * of the main and middle groups above it, its address and the DPT ETS
 * gives. Rows they cannot use are skipped and named in the notes. */
#ifndef OCPPKNX_GW_ETS_H
#define OCPPKNX_GW_ETS_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/conf.h"
#include "gateway/errors.h"

/* Caps: an export larger than this is not a home's project. */
#define GW_ETS_MAX_BYTES (32u * 1024u * 1024u)
#define GW_ETS_MAX_GROUPS 65536u /* one per group address */
#define GW_ETS_MAX_NAME 256u     /* bytes of one name, UTF-8; longer is cut */

typedef struct gw_ets gw_ets;

typedef struct {
  uint16_t ga;
  const char *name;  /* the group's own name, UTF-8, never NULL */
  const char *path;  /* "main group / middle group" names, UTF-8, may be "" */
  int dpt_main;      /* DPT from ETS ("DPST-9-21": 9), -1 when none */
  int dpt_sub;       /* (21), -1 when ETS gives only the main number */
  int line;          /* line of the export it came from */
} gw_ets_group;

/* Reads a CSV export: UTF-8 with or without BOM, UTF-16 (BOM) or
 * Windows-1252; ';', ',' or tab separated; the columns found by the header
 * line ("Main","Middle","Sub","Address",...,"DatapointType"; "Group name"
 * for 1/1), or in the 3/1 order without one. notes (may be NULL) gets one
 * "line N: why" per skipped row. Returns GW_OK with *out set; GW_EINVAL
 * with the reason in why when the text is no export (no address column,
 * no group) or NULL arguments; GW_ENOMEM. */
int gw_ets_parse_csv(const char *data, size_t len, gw_ets **out,
                     gw_conf_diag *notes, char *why, size_t cap);

/* Reads an XML export (<GroupAddress-Export>, nested <GroupRange>s and
 * <GroupAddress Name Address DPTs>) with expat. Returns like
 * gw_ets_parse_csv; broken XML is GW_EINVAL with expat's reason and line. */
int gw_ets_parse_xml(const char *data, size_t len, gw_ets **out,
                     gw_conf_diag *notes, char *why, size_t cap);

/* XML when the text starts with '<' (after a BOM and blanks), CSV
 * otherwise. Returns like gw_ets_parse_csv. */
int gw_ets_parse(const char *data, size_t len, gw_ets **out,
                 gw_conf_diag *notes, char *why, size_t cap);

/* Number of groups; 0 for NULL. */
size_t gw_ets_count(const gw_ets *ets);

/* Group i (in the export's order), NULL when out of range. */
const gw_ets_group *gw_ets_group_at(const gw_ets *ets, size_t i);

/* NULL is allowed. */
void gw_ets_destroy(gw_ets *ets);

/* Appends one line to notes (NULL: nothing); past GW_NOTES_MAX lines one
 * last line says that more were left out. Shared by the readers and the
 * drafted files. Returns GW_OK or GW_ENOMEM. */
#define GW_NOTES_MAX 200
int gw_notes_add(gw_conf_diag *notes, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

#endif
