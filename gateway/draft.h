/* Drafted charger parameter files: every key a charger file knows, with
 * its comment, and the group address of each KNX object filled in from an
 * ETS group-address export where the names tell which object a group is.
 * Pure: text in, text out; nothing is read or written here. */
#ifndef OCPPKNX_GW_DRAFT_H
#define OCPPKNX_GW_DRAFT_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/conf.h"
#include "gateway/ets.h"

/* Which group became which object, per connector (index 0 is connector 1),
 * and the DPT settings the export asks for. */
typedef struct {
  bool used[GW_MAX_CONNECTORS];             /* a [connector N] section to write */
  bool has[GW_MAX_CONNECTORS][GW_OBJ_COUNT];
  uint16_t ga[GW_MAX_CONNECTORS][GW_OBJ_COUNT];
  const char *name[GW_MAX_CONNECTORS][GW_OBJ_COUNT]; /* the group's name, in the gw_ets */
  knx_dpt time_dpt, current_dpt, power_dpt, meter_dpt;
} gw_draft_plan;

/* The object and connector (1..8, 1 when the name gives none) a group name
 * stands for, by the words of the table in draft_words.c; charger is the
 * text that picks the charger (may be NULL), left out of the name before
 * the words are looked for. Returns GW_OK, GW_ENOTFOUND (no object's
 * words), GW_EINVAL (NULL name or out). */
int gw_draft_classify(const char *name, const char *charger, gw_object *obj,
                      int *connector);

/* Fills plan from the groups of ets whose "path / name" contains match
 * (case-insensitive; NULL or "" takes every group). notes (may be NULL)
 * gets one line per object no group was found for, per group name two
 * groups share (neither is taken), per group under match that stands for
 * no object, and per DPT from ETS that is not the object's. Returns GW_OK,
 * GW_EINVAL (NULL ets or plan), GW_ENOMEM. */
int gw_draft_match(const gw_ets *ets, const char *match, gw_draft_plan *plan,
                   gw_conf_diag *notes);

/* The whole parameter file for charger id, as --check-config accepts it:
 * [charger] with every key (the defaults, password commented out; name is
 * match when it can be a name, else the id) and one [connector N] section
 * per connector with every object key; the objects without a group
 * address are commented out. ets may be NULL: then every object is
 * commented out and connector 1 is written. With ets, matching and notes
 * are as for gw_draft_match. *out is malloc'd, the caller frees it.
 * Returns GW_OK; GW_EINVAL when id cannot be a charger identity in a file
 * (empty, over 48 bytes, '/', a control character, blanks at either end,
 * a comment mark) or out is NULL; GW_ENOMEM. */
int gw_draft_charger(const char *id, const gw_ets *ets, const char *match,
                     char **out, gw_conf_diag *notes);

#endif
