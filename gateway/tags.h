/* gw_tags: a list of known idTags with names and states (tags_file).
 *
 * One line per tag, "UID = fields", the fields separated by ',':
 *
 *     04A2B3C4 = Anna
 *     0A0B0C0D = Company car, expires 2027-06-30
 *     DEADBEEF = Lost card, blocked
 *
 * A field "blocked" blocks the tag, "expires YYYY-MM-DD" makes it Expired
 * after that day (UTC), any other field is the tag's name (at most one, so
 * a name cannot contain ','). Blank lines and lines starting with '#' or
 * ';' are comments. The parser is pure: it is given the text and reports
 * every bad line through a callback; the lookup is given the time.
 */
#ifndef OCPPKNX_GW_TAGS_H
#define OCPPKNX_GW_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "gateway/errors.h"
#include "ocpp/ocpp.h"

#define GW_TAGS_MAX 10000          /* lines, and so tags, per file */
#define GW_TAG_NAME_MAX OCPP_TAG_NAME_MAX

typedef struct gw_tags gw_tags;

/* One tag of a list; strings owned by the list. */
typedef struct {
  const char *uid;          /* as written in the file */
  const char *name;         /* "" when the line gives none */
  bool blocked;
  time_t expiry;            /* last second it is valid; 0 = never expires */
  int line;
} gw_tag;

/* One bad line (line 0: the whole text) and why, for the diagnostics. */
typedef void (*gw_tags_problem_cb)(void *user_data, int line,
                                   const char *message);

/* Parses text[0..len) (it may hold NUL bytes, reported). Every problem
 * goes to on_problem (may be NULL). Returns GW_OK with *out set, GW_ECONFIG
 * when a line was bad (*out NULL), GW_EINVAL (NULL out, NULL text with
 * len > 0) or GW_ENOMEM. */
int gw_tags_parse(const char *text, size_t len, gw_tags **out,
                  gw_tags_problem_cb on_problem, void *user_data);

/* Reads and parses the file at path; a file that cannot be read is one
 * problem on line 0. Returns like gw_tags_parse. */
int gw_tags_load(const char *path, gw_tags **out,
                 gw_tags_problem_cb on_problem, void *user_data);

void gw_tags_destroy(gw_tags *tags);   /* NULL allowed */

size_t gw_tags_count(const gw_tags *tags);

/* The i-th tag in file order, or NULL past the end. */
const gw_tag *gw_tags_at(const gw_tags *tags, size_t i);

/* The tag id_tag names under match, or NULL. Tags are compared without
 * regard to case (an OCPP IdToken is case-insensitive); relaxed also drops
 * the separators ' ', ':', '-', reversed also takes a hex UID in the
 * opposite byte order. A line that matches as written wins over one that
 * matches reversed. */
const gw_tag *gw_tags_find(const gw_tags *tags, const char *id_tag,
                           ocpp_tag_match match);

/* Blocked, Expired when now is past the expiry, else Accepted. */
ocpp_auth_status gw_tag_status(const gw_tag *tag, time_t now);

/* What the list says about id_tag at now, for the OCPP server's
 * lookup_tag hook: true and *out filled when the list knows the tag. */
bool gw_tags_verdict(const gw_tags *tags, const char *id_tag,
                     ocpp_tag_match match, time_t now, ocpp_tag_verdict *out);

/* true when a tag that before accepts at now is unknown to after, blocked
 * or expired there (NULL lists are empty): a charger may still accept it
 * from its own authorization cache. */
bool gw_tags_lost(const gw_tags *before, const gw_tags *after,
                  ocpp_tag_match match, time_t now);

#endif
