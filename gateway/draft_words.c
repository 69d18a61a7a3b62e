/* Which KNX object a group name stands for: the words installers use for
 * each object, German and English, looked for in the normalised name
 * (draft_normalize: lower case, a blank at each word's edge). Rows are
 * tried in order, the most specific first, and the first row whose every
 * word list has a phrase in the name wins. A row for a pair (charging,
 * max_current, ...) gives the feedback object when the name also has a
 * feedback word (Rückmeldung, Status, ...), else the command. README's
 * "Drafting a charger file from ETS" lists this table. */
#include "gateway/draft_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef const char *const words[];

static words w_error = {"fehler", "error", "störung", "stoerung", "fault", NULL};
static words w_energy = {"energie", "energy", "verbrauch", "kwh", " wh ", NULL};
static words w_live = {"live", "aktuell", "laufend", "running", "ongoing", "momentan",
                       "bisher", NULL};
static words w_session = {"ladevorgang", "ladung", "sitzung", "session", "letzte",
                          " last ", "lade", "geladen", "charged", "charging",
                          "transaktion", "transaction", NULL};
static words w_meter = {"zählerstand", "zaehlerstand", "zähler", "zaehler", "meter",
                        "energie", "energy", "kwh", NULL};
static words w_time = {"zeit", "time", "uhrzeit", "datum", "date", NULL};
static words w_begin = {"start", "beginn", " begin", NULL};
static words w_began = {"ladebeginn", " beginn", "started", NULL};
static words w_end = {"ende", " end", "stop", NULL};
static words w_ended = {"ladeende", " ende ", "ended", NULL};
static words w_current = {"strom", "current", "ampere", NULL};
static words w_actual = {" ist ", " ist", "istwert", "actual", "gemessen", "measured",
                         "aktuell", NULL};
static words w_limit_one = {"ladestrom", "stromgrenze", "strombegrenzung", "stromlimit",
                            "maximalstrom", "sollstrom", NULL};
static words w_limit = {"max", "limit", "grenze", "begrenz", "soll", "vorgabe", NULL};
static words w_fast = {"schnell", "fast", "boost", "turbo", NULL};
static words w_power = {"leistung", "power", "watt", " kw ", NULL};
static words w_unlock = {"entriegel", "unlock", NULL};
static words w_reserve = {"reservier", "reserve", "reservation", NULL};
static words w_reset = {"reset", "neustart", "zurücksetzen", "zuruecksetzen", "restart",
                        "reboot", "neu starten", NULL};
static words w_avail = {"verfügbar", "verfuegbar", "available", "availability",
                        "betriebsbereit", "operative", "freigabe", "enable", NULL};
static words w_plugged = {"gesteckt", "plugged", " plug", "stecker", "kabel", "fahrzeug",
                          "vehicle", " car ", " ev ", NULL};
static words w_online = {"online", "verbunden", "connected", "verbindung", "erreichbar",
                         "kommunikation", "communication", NULL};
static words w_tag = {"rfid", " tag ", "idtag", " karte", "badge", "benutzer", " user",
                      "token", NULL};
static words w_charging = {"laden", "ladung", "lädt", "charging", "charge", "start",
                           "stop", NULL};
static words w_status = {"status", "zustand", "state", NULL};
/* English names of the charger itself hold "charg", which is the charging
 * object's word. */
static words w_point = {"charge point", "chargepoint", "charging station", "charge station",
                        NULL};

/* Words that make a pair's row give its feedback object. */
static words w_feedback = {"rückmeldung", "rueckmeldung", " rm ", "feedback", "status",
                           "zustand", "state", " ist ", "istwert", " fb ", "anzeige",
                           "response", NULL};

/* Words before a connector's number ("Ladepunkt 2", "LP2", "Connector 2"). */
static words w_connector = {" ladepunkt", " connector", " anschluss", " steckdose",
                            " lp", " cp", " port", " outlet", " socket", " punkt",
                            " seite", " side", NULL};

typedef struct {
  gw_object obj;          /* the command of a pair, else the object */
  gw_object state;        /* its feedback object; obj when it has none */
  const char *const *all[2];
} row;

#define ONE(o, a) {o, o, {a, NULL}}
#define TWO(o, a, b) {o, o, {a, b}}
#define PAIR(o, s, a) {o, s, {a, NULL}}
#define PAIR2(o, s, a, b) {o, s, {a, b}}

static const row rows[] = {
  ONE(GW_OBJ_ERROR_CODE, w_error),
  TWO(GW_OBJ_SESSION_ENERGY_LIVE, w_energy, w_live),
  TWO(GW_OBJ_SESSION_ENERGY, w_energy, w_session),
  ONE(GW_OBJ_METER, w_meter),
  TWO(GW_OBJ_START_TIME, w_time, w_begin),
  ONE(GW_OBJ_START_TIME, w_began),
  TWO(GW_OBJ_END_TIME, w_time, w_end),
  ONE(GW_OBJ_END_TIME, w_ended),
  TWO(GW_OBJ_CURRENT, w_current, w_actual),
  PAIR(GW_OBJ_MAX_CURRENT, GW_OBJ_MAX_CURRENT_STATE, w_limit_one),
  PAIR2(GW_OBJ_MAX_CURRENT, GW_OBJ_MAX_CURRENT_STATE, w_limit, w_current),
  PAIR(GW_OBJ_FAST_CHARGING, GW_OBJ_FAST_CHARGING_STATE, w_fast),
  ONE(GW_OBJ_CURRENT, w_current),
  ONE(GW_OBJ_POWER, w_power),
  ONE(GW_OBJ_UNLOCK, w_unlock),
  ONE(GW_OBJ_RESERVE, w_reserve),
  ONE(GW_OBJ_RESET, w_reset),
  PAIR(GW_OBJ_AVAILABILITY, GW_OBJ_AVAILABILITY_STATE, w_avail),
  ONE(GW_OBJ_PLUGGED, w_plugged),
  ONE(GW_OBJ_ONLINE, w_online),
  ONE(GW_OBJ_LAST_TAG, w_tag),
  TWO(GW_OBJ_STATUS, w_point, w_status),
  PAIR(GW_OBJ_CHARGING, GW_OBJ_CHARGING_STATE, w_charging),
  ONE(GW_OBJ_STATUS, w_status),
};

/* ---- normalising --------------------------------------------------------- */

static bool is_separator(unsigned char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '_' || c == '-' ||
         c == '.' || c == '/' || c == '#' || c == ':' || c == '(' || c == ')' ||
         c == ',' || c == ';' || c == '"' || c == '\'' || c == '[' || c == ']';
}

void draft_normalize(const char *s, char *out, size_t cap)
{
  size_t w = 0;
  if (cap < 3) {
    if (cap)
      out[0] = '\0';
    return;
  }
  out[w++] = ' ';
  for (const unsigned char *p = (const unsigned char *)s; *p && w + 3 < cap; p++) {
    if (is_separator(*p)) {
      if (out[w - 1] != ' ')
        out[w++] = ' ';
    } else if (p[0] == 0xC3 && (p[1] == 0x84 || p[1] == 0x96 || p[1] == 0x9C)) {
      out[w++] = (char)0xC3; /* Ä Ö Ü → ä ö ü */
      out[w++] = (char)(p[1] + 0x20);
      p++;
    } else {
      out[w++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    }
  }
  if (out[w - 1] != ' ')
    out[w++] = ' ';
  out[w] = '\0';
}

/* ---- looking for words --------------------------------------------------- */

static bool has_any(const char *norm, const char *const *list)
{
  for (; *list; list++)
    if (strstr(norm, *list) != NULL)
      return true;
  return false;
}

static void blank_out(char *from, size_t n)
{
  memset(from, ' ', n);
}

/* Removes every occurrence of needle (normalised, without its edge
 * blanks) that starts a word from norm; inside a word it would leave half
 * a word behind. */
static void remove_text(char *norm, const char *needle)
{
  size_t n = strlen(needle);
  while (n > 2 && needle[0] == ' ' && needle[n - 1] == ' ') {
    needle++;
    n -= 2;
  }
  if (n == 0 || needle[0] == ' ')
    return;
  for (char *at = strstr(norm, needle); at; at = strstr(at + 1, needle))
    if (at > norm && at[-1] == ' ')
      blank_out(at, n);
}

/* A connector word followed by 1..8 ("ladepunkt 2", "lp2", "connector nr 3");
 * blanks it out of norm. 0 when there is none. */
static int take_connector(char *norm)
{
  for (const char *const *w = w_connector; *w; w++) {
    size_t wl = strlen(*w);
    for (char *at = strstr(norm, *w); at; at = strstr(at + 1, *w)) {
      char *p = at + wl;
      while (*p == ' ')
        p++;
      if (strncmp(p, "nr ", 3) == 0)
        p += 3;
      if (*p >= '1' && *p <= '8' && p[1] == ' ') {
        int n = *p - '0';
        blank_out(at + 1, (size_t)(p + 1 - (at + 1)));
        return n;
      }
    }
  }
  return 0;
}

int draft_connector_of(const char *text)
{
  char norm[DRAFT_NORM_MAX];
  draft_normalize(text, norm, sizeof norm);
  return take_connector(norm);
}

int gw_draft_classify(const char *name, const char *charger, gw_object *obj,
                      int *connector)
{
  if (name == NULL || obj == NULL || connector == NULL)
    return GW_EINVAL;
  char norm[DRAFT_NORM_MAX], strip[DRAFT_NORM_MAX];
  draft_normalize(name, norm, sizeof norm);
  if (charger != NULL && *charger) {
    draft_normalize(charger, strip, sizeof strip);
    remove_text(norm, strip);
  }
  int c = take_connector(norm);
  *connector = c ? c : 1;
  /* The blanking left runs of blanks; words are matched on single ones. */
  draft_normalize(norm, strip, sizeof strip);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const row *r = &rows[i];
    if (!has_any(strip, r->all[0]) || (r->all[1] && !has_any(strip, r->all[1])))
      continue;
    *obj = r->state != r->obj && has_any(strip, w_feedback) ? r->state : r->obj;
    return GW_OK;
  }
  return GW_ENOTFOUND;
}
