/* From an ETS export to the plan of one charger's file: the groups whose
 * names contain the charger's text, each classified by its words
 * (draft_words.c), one group per object and connector; two groups for one
 * object take neither. The DPT ETS gives is checked against the object's,
 * and where the object's DPT is a setting (current_dpt, ...) the setting
 * follows ETS. */
#include "gateway/draft_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The setting that chooses an object's DPT, with its alternatives (the
 * default first). */
typedef enum { SET_NONE, SET_TIME, SET_CURRENT, SET_POWER, SET_METER, SET_COUNT } dpt_setting;

static const char *const setting_key[SET_COUNT] = {
  "", "time_dpt", "current_dpt", "power_dpt", "meter_dpt"};

static const knx_dpt setting_dpts[SET_COUNT][2] = {
  {KNX_DPT_COUNT, KNX_DPT_COUNT},
  {KNX_DPT_10_001, KNX_DPT_19_001},
  {KNX_DPT_14_019, KNX_DPT_9_021},
  {KNX_DPT_14_056, KNX_DPT_9_024},
  {KNX_DPT_13_013, KNX_DPT_13_010},
};

static dpt_setting setting_of(gw_object obj)
{
  switch (obj) {
  case GW_OBJ_START_TIME: case GW_OBJ_END_TIME: return SET_TIME;
  case GW_OBJ_CURRENT: case GW_OBJ_MAX_CURRENT: case GW_OBJ_MAX_CURRENT_STATE:
    return SET_CURRENT;
  case GW_OBJ_POWER: return SET_POWER;
  case GW_OBJ_METER: return SET_METER;
  default: return SET_NONE;
  }
}

typedef struct {
  const gw_ets_group *first;   /* the group found for the object */
  size_t count;                /* groups found for it */
} slot;

typedef struct {
  gw_draft_plan *plan;
  gw_conf_diag *notes;
  slot slots[GW_MAX_CONNECTORS][GW_OBJ_COUNT];
  unsigned votes[SET_COUNT][2];
} matcher;

static const char *ga_text(uint16_t ga, char out[KNX_GA_STRLEN])
{
  knx_ga_format(ga, out);
  return out;
}

/* ---- picking the groups -------------------------------------------------- */

static bool belongs(const gw_ets_group *g, const char *norm_match)
{
  if (norm_match[0] == '\0')
    return true;
  char full[2 * GW_ETS_MAX_NAME + 8], norm[DRAFT_NORM_MAX];
  snprintf(full, sizeof full, "%s / %s", g->path, g->name);
  draft_normalize(full, norm, sizeof norm);
  return strstr(norm, norm_match) != NULL;
}

static int take_group(matcher *m, const gw_ets_group *g, const char *match)
{
  char a[KNX_GA_STRLEN], b[KNX_GA_STRLEN];
  gw_object obj;
  int conn;
  if (gw_draft_classify(g->name, match, &obj, &conn) != GW_OK)
    return gw_notes_add(m->notes, "not used: \"%s\" (%s) names no object",
                        g->name, ga_text(g->ga, a));
  /* The name's own connector, else one its main or middle group names. */
  if (draft_connector_of(g->name) == 0) {
    int of_path = draft_connector_of(g->path);
    conn = of_path ? of_path : 1;
  }
  slot *s = &m->slots[conn - 1][obj];
  if (s->count++ == 0) {
    s->first = g;
    return GW_OK;
  }
  if (s->count == 2)
    return gw_notes_add(m->notes,
                        "ambiguous: connector %d %s: \"%s\" (%s) and \"%s\" (%s): neither is taken",
                        conn, gw_object_key(obj), s->first->name, ga_text(s->first->ga, a),
                        g->name, ga_text(g->ga, b));
  return gw_notes_add(m->notes, "ambiguous: connector %d %s: also \"%s\" (%s)", conn,
                      gw_object_key(obj), g->name, ga_text(g->ga, a));
}

/* ---- DPTs ---------------------------------------------------------------- */

static bool dpt_is(knx_dpt dpt, const gw_ets_group *g)
{
  int main_no, sub_no;
  if (sscanf(knx_dpt_name(dpt), "%d.%d", &main_no, &sub_no) != 2)
    return false;
  return g->dpt_main == main_no && (g->dpt_sub < 0 || g->dpt_sub == sub_no);
}

static int check_dpt(matcher *m, const gw_ets_group *g, gw_object obj)
{
  if (g->dpt_main < 0)
    return GW_OK;
  dpt_setting set = setting_of(obj);
  knx_dpt alt[2] = {gw_object_dpt(NULL, obj), KNX_DPT_COUNT};
  if (set != SET_NONE)
    alt[0] = setting_dpts[set][0], alt[1] = setting_dpts[set][1];
  for (int i = 0; i < 2; i++) {
    if (alt[i] != KNX_DPT_COUNT && dpt_is(alt[i], g)) {
      m->votes[set][i]++;
      return GW_OK;
    }
  }
  char ets_dpt[16], a[KNX_GA_STRLEN];
  if (g->dpt_sub >= 0)
    snprintf(ets_dpt, sizeof ets_dpt, "%d.%03d", g->dpt_main, g->dpt_sub % 1000);
  else
    snprintf(ets_dpt, sizeof ets_dpt, "%d", g->dpt_main);
  return gw_notes_add(m->notes, "DPT: ETS gives %s for \"%s\" (%s), %s is %s%s%s", ets_dpt,
                      g->name, ga_text(g->ga, a), gw_object_key(obj), knx_dpt_name(alt[0]),
                      alt[1] != KNX_DPT_COUNT ? " or " : "",
                      alt[1] != KNX_DPT_COUNT ? knx_dpt_name(alt[1]) : "");
}

static knx_dpt *setting_field(gw_draft_plan *p, dpt_setting s)
{
  switch (s) {
  case SET_TIME: return &p->time_dpt;
  case SET_CURRENT: return &p->current_dpt;
  case SET_POWER: return &p->power_dpt;
  case SET_METER: return &p->meter_dpt;
  default: return NULL;
  }
}

static int apply_votes(matcher *m)
{
  for (int s = SET_TIME; s < SET_COUNT; s++) {
    if (m->votes[s][0] && m->votes[s][1]) {
      int rc = gw_notes_add(m->notes, "DPT: ETS gives both %s and %s for the objects of %s: "
                            "left at %s", knx_dpt_name(setting_dpts[s][0]),
                            knx_dpt_name(setting_dpts[s][1]), setting_key[s],
                            knx_dpt_name(setting_dpts[s][0]));
      if (rc != GW_OK)
        return rc;
    } else if (m->votes[s][1]) {
      *setting_field(m->plan, (dpt_setting)s) = setting_dpts[s][1];
    }
  }
  return GW_OK;
}

/* ---- the plan ------------------------------------------------------------ */

static int report_missing(matcher *m, int c)
{
  char list[512] = "";
  size_t w = 0;
  for (int o = 0; o < GW_OBJ_COUNT; o++) {
    /* the energy manager's objects and upstream_online serve sections a
     * draft has not ([energy], [upstream]) */
    if (m->plan->has[c][o] || gw_object_needs_energy(o) ||
        o == GW_OBJ_UPSTREAM_ONLINE)
      continue;
    int n = snprintf(list + w, sizeof list - w, "%s%s", w ? ", " : "", gw_object_key(o));
    if (n > 0 && (size_t)n < sizeof list - w)
      w += (size_t)n;
  }
  return w ? gw_notes_add(m->notes, "not found: connector %d: %s", c + 1, list) : GW_OK;
}

static int settle(matcher *m)
{
  gw_draft_plan *p = m->plan;
  int rc = GW_OK;
  for (int c = 0; c < GW_MAX_CONNECTORS && rc == GW_OK; c++) {
    for (int o = 0; o < GW_OBJ_COUNT && rc == GW_OK; o++) {
      const slot *s = &m->slots[c][o];
      if (s->count != 1)
        continue;
      p->has[c][o] = p->used[c] = true;
      p->ga[c][o] = s->first->ga;
      p->name[c][o] = s->first->name;
      rc = check_dpt(m, s->first, (gw_object)o);
    }
  }
  bool any = false;
  for (int c = 0; c < GW_MAX_CONNECTORS; c++)
    any = any || p->used[c];
  if (!any)
    p->used[0] = true;
  for (int c = 0; c < GW_MAX_CONNECTORS && rc == GW_OK; c++)
    if (p->used[c])
      rc = report_missing(m, c);
  return rc == GW_OK ? apply_votes(m) : rc;
}

static void plan_init(gw_draft_plan *p)
{
  memset(p, 0, sizeof *p);
  p->time_dpt = setting_dpts[SET_TIME][0];
  p->current_dpt = setting_dpts[SET_CURRENT][0];
  p->power_dpt = setting_dpts[SET_POWER][0];
  p->meter_dpt = setting_dpts[SET_METER][0];
}

int gw_draft_match(const gw_ets *ets, const char *match, gw_draft_plan *plan,
                   gw_conf_diag *notes)
{
  if (ets == NULL || plan == NULL)
    return GW_EINVAL;
  plan_init(plan);
  matcher *m = calloc(1, sizeof *m);
  if (m == NULL)
    return GW_ENOMEM;
  m->plan = plan;
  m->notes = notes;
  /* Without its edge blanks, so that "garage" finds "wallbox garage 1". */
  char norm[DRAFT_NORM_MAX];
  draft_normalize(match ? match : "", norm, sizeof norm);
  size_t n = strlen(norm);
  if (n >= 2)
    norm[n - 1] = '\0';
  const char *core = n >= 2 ? norm + 1 : "";
  int rc = GW_OK;
  size_t taken = 0;
  for (size_t i = 0; i < gw_ets_count(ets) && rc == GW_OK; i++) {
    const gw_ets_group *g = gw_ets_group_at(ets, i);
    if (belongs(g, core)) {
      taken++;
      rc = take_group(m, g, match);
    }
  }
  /* Most likely a typo in the match: say so before the list of every
   * object not found. */
  if (rc == GW_OK && taken == 0 && core[0] != '\0')
    rc = gw_notes_add(notes, "no group of the export has \"%s\" in its name", match);
  if (rc == GW_OK)
    rc = settle(m);
  free(m);
  return rc;
}
