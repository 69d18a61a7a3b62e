/* Internal to the drafted charger files (draft_words.c, draft_match.c,
 * draft.c). draft.h is the API. */
#ifndef OCPPKNX_GW_DRAFT_IMPL_H
#define OCPPKNX_GW_DRAFT_IMPL_H

#include <stddef.h>

#include "gateway/draft.h"

#define DRAFT_NORM_MAX (4 * GW_ETS_MAX_NAME)

/* s lowercased (ASCII and the German capitals Ä Ö Ü), every run of blanks
 * and of the separators _ - . / # : ( ) , ; into one blank, with one blank
 * at each end, so that a word's edge can be written as a blank. */
void draft_normalize(const char *s, char *out, size_t cap);

/* The connector number (1..8) text names after a connector word
 * ("Ladepunkt 2", "LP2", "Connector 2"), 0 when it names none. */
int draft_connector_of(const char *text);

#endif
