/* Internal to the configuration loader (conf_values.c, conf_read.c,
 * conf_check.c): the key tables' row type, the reader's per-file state and
 * the diagnostics collector. Not for other modules; conf.h is the API. */
#ifndef OCPPKNX_GW_CONF_IMPL_H
#define OCPPKNX_GW_CONF_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "gateway/conf.h"
#include "gateway/errors.h"

#define MAX_DIAG_LINES 500      /* diagnostics kept; later ones are counted */
#define MAX_LINES_PER_FILE 5000
#define MAX_CHARGER_FILES 1000
#define MAX_TAGS 1000
#define MAX_ROWS 40             /* keys of the largest table */
#define MAX_SECTIONS 8
#define ID_TOKEN_MAX 20         /* OCPP 1.6 IdToken */

/* ---- diagnostics (conf_check.c) ------------------------------------------ */

typedef struct {
  gw_conf_diag *diag;
  size_t problems;
  bool oom;
} reporter;

/* Adds "file:line: message" ("file: message" for line 0); sets r->oom when
 * the line cannot be kept. */
void conf_report(reporter *r, const char *file, int line, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

/* ---- values (conf_values.c) ---------------------------------------------- */

/* A parser stores the value at field, or returns GW_ECONFIG with the reason
 * in why (the caller adds "file:line: key: "), or GW_ENOMEM. */
struct key_row;
typedef int (*value_parser)(const struct key_row *row, const char *value,
                            void *field, char *why, size_t cap);

typedef struct key_row {
  const char *section;
  const char *key;
  value_parser parse;
  size_t offset;
  double min, max;          /* numbers: range; strings: length */
  const knx_dpt *dpts;      /* DPT keys: the allowed ones, KNX_DPT_COUNT ends */
} key_row;

int conf_parse_string(const key_row *row, const char *value, void *field,
                      char *why, size_t cap);
int conf_parse_listen(const key_row *row, const char *value, void *field,
                      char *why, size_t cap);
int conf_parse_bool(const key_row *row, const char *value, void *field,
                    char *why, size_t cap);
int conf_parse_int(const key_row *row, const char *value, void *field,
                   char *why, size_t cap);
int conf_parse_double(const key_row *row, const char *value, void *field,
                      char *why, size_t cap);
int conf_parse_phases(const key_row *row, const char *value, void *field,
                      char *why, size_t cap);
int conf_parse_dpt(const key_row *row, const char *value, void *field,
                   char *why, size_t cap);
int conf_parse_id(const key_row *row, const char *value, void *field,
                  char *why, size_t cap);
/* field is gw_charger_conf.tags; sets n_tags beside it. */
int conf_parse_tags(const key_row *row, const char *value, void *field,
                    char *why, size_t cap);
/* field is gw_upstream_conf.tags; sets n_tags beside it. */
int conf_parse_upstream_tags(const key_row *row, const char *value,
                             void *field, char *why, size_t cap);
/* field is a gw_log_level, ocpp_start_mode, gw_stop_mode, ocpp_tag_match,
 * ocpp_version. */
int conf_parse_log_level(const key_row *row, const char *value, void *field,
                         char *why, size_t cap);
int conf_parse_start_mode(const key_row *row, const char *value, void *field,
                          char *why, size_t cap);
int conf_parse_stop_mode(const key_row *row, const char *value, void *field,
                         char *why, size_t cap);
int conf_parse_commands(const key_row *row, const char *value, void *field,
                        char *why, size_t cap);
int conf_parse_tag_match(const key_row *row, const char *value, void *field,
                         char *why, size_t cap);
int conf_parse_ocpp_version(const key_row *row, const char *value,
                            void *field, char *why, size_t cap);
/* field is an em_mode; row may be NULL. */
int conf_parse_charge_mode(const key_row *row, const char *value, void *field,
                           char *why, size_t cap);
/* field is gw_charger_conf.tag_mode_tags; sets the modes and the count
 * beside it. "TAG:mode, ..." */
int conf_parse_tag_modes(const key_row *row, const char *value, void *field,
                         char *why, size_t cap);
/* field is a gw_ga_opt. */
int conf_parse_ga(const key_row *row, const char *value, void *field,
                  char *why, size_t cap);
/* A group address other than 0/0/0, or GW_ECONFIG with the reason. */
int conf_ga_check(const char *value, uint16_t *ga, char *why, size_t cap);

/* Why text is not a group address, for the diagnostic. */
void conf_ga_problem(const char *text, char *why, size_t cap);

/* The object of a connector key ("status", ...), or -1. */
int conf_object_by_key(const char *key);

/* Trims blanks at both ends, in place. */
char *conf_trim(char *s);

/* The directory of path ("." without a slash); malloc'd, NULL on ENOMEM. */
char *conf_dir_of(const char *path);

/* rel against dir; an absolute rel or dir "." leaves rel as it is. */
char *conf_join_path(const char *dir, const char *rel);

/* Frees n strings and the array. */
void conf_free_strings(char **v, size_t n);

/* ---- reading (conf_read.c) ----------------------------------------------- */

typedef struct {
  const char *const *sections;
  size_t n_sections;
  const key_row *rows;
  size_t n_rows;
  bool connectors;              /* [connector N] allowed */
} file_schema;

typedef enum { SECT_NONE, SECT_SKIP, SECT_TABLE, SECT_CONNECTOR } sect_kind;

typedef struct {
  reporter *rep;
  const char *file;
  const char *text;             /* the file's contents, when loaded from memory */
  size_t text_len;
  FILE *fp;
  char *buf;
  size_t buf_cap;
  int line;
  const file_schema *schema;
  void *target;                 /* gw_conf or gw_charger_conf */
  sect_kind kind;
  const char *section;          /* current table section */
  gw_connector_conf *conn;      /* current connector section */
  int section_line[MAX_SECTIONS];
  int connector_line[GW_MAX_CONNECTORS + 1];
  int key_line[MAX_ROWS];
} parse_ctx;

/* The line of key in the file ctx read; 0 when it was not given. */
/* conf_lines.c: the row of key in section (NULL: any section, for keys
 * used once), -1 when none; the line key was read on, 0 when absent. */
int conf_row_index(const file_schema *s, const char *section, const char *key);
int conf_line_of(const parse_ctx *ctx, const char *key);
/* ... of key in section, for keys that more than one section has */
int conf_line_in(const parse_ctx *ctx, const char *section, const char *key);

/* ---- checks (conf_check.c) ----------------------------------------------- */

/* Settings of one charger that only make sense together, and against the
 * main file (TLS listener for profiles 2 and 3). */
void conf_check_charger(const parse_ctx *ctx, const gw_charger_conf *c,
                        const gw_conf *m);

/* [energy]: what it needs when given (the meter's group addresses). */
void conf_check_energy(const parse_ctx *ctx, const gw_conf *m,
                       int section_line);

/* Two charger files with one id; id_lines[i] is the line of charger i's id. */
void conf_check_duplicate_ids(reporter *r, const gw_charger_conf *c,
                              const int *id_lines, size_t n);

/* One group address used by objects that cannot share it. Returns GW_OK or
 * GW_ENOMEM. */
int conf_check_ga_conflicts(reporter *r, const gw_charger_conf *chargers,
                            size_t n);

/* With a TLS listener: the certificate and key are given and, with
 * read_files, the files are readable and what the listener will load. */
void conf_check_tls(reporter *r, const parse_ctx *ctx, const gw_conf *m,
                    bool read_files);

/* [upstream] read from a file: its tls_ca, tls_cert and tls_key are
 * readable and what the link will load. */
void conf_check_upstream_files(const parse_ctx *ctx, const gw_charger_conf *c);

#endif
