/* gw_conf: the main config file and the per-charger parameter files (INI, inih).
 *
 * The loader collects every problem as "file:line: message" instead of
 * stopping at the first, so --check-config can list them all. A loaded
 * gw_conf is read-only data owned by the caller (gw_conf_destroy).
 */
#ifndef OCPPKNX_GW_CONF_H
#define OCPPKNX_GW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/errors.h"
#include "gateway/log.h"
#include "gateway/tags.h"
#include "energy/energy.h"
#include "knx/knx.h"
#include "ocpp/ocpp.h"

/* Every KNX object of a connector (DESIGN.md). The config key of each is
 * gw_object_key(); "_state" keys are the feedback the gateway sends, bare
 * names are commands it receives (the sendonly objects have no _state
 * suffix: status, error_code, session_energy ... online). */
typedef enum {
  GW_OBJ_STATUS,
  GW_OBJ_ERROR_CODE,
  GW_OBJ_CHARGING_STATE,
  GW_OBJ_CHARGING,
  GW_OBJ_RESERVE,
  GW_OBJ_AVAILABILITY_STATE,
  GW_OBJ_AVAILABILITY,
  GW_OBJ_UNLOCK,
  GW_OBJ_SESSION_ENERGY,
  GW_OBJ_START_TIME,
  GW_OBJ_END_TIME,
  GW_OBJ_CURRENT,
  GW_OBJ_MAX_CURRENT_STATE,
  GW_OBJ_MAX_CURRENT,
  GW_OBJ_FAST_CHARGING_STATE,
  GW_OBJ_FAST_CHARGING,
  GW_OBJ_RESET,
  GW_OBJ_POWER,
  GW_OBJ_METER,
  GW_OBJ_SESSION_ENERGY_LIVE,
  GW_OBJ_LAST_TAG,
  GW_OBJ_PLUGGED,
  GW_OBJ_ONLINE,
  /* the energy manager's ([energy] in the main file) */
  GW_OBJ_CHARGE_MODE_STATE,     /* DPT 5.010: em_mode */
  GW_OBJ_CHARGE_MODE,
  GW_OBJ_ALLOCATED_CURRENT_STATE, /* current_dpt: the limit it allows */
  /* the backend link's ([upstream] in the charger file) */
  GW_OBJ_UPSTREAM_ONLINE,
  GW_OBJ_COUNT
} gw_object;

/* "status", "charging_state", ...; NULL when out of range. */
const char *gw_object_key(gw_object obj);
/* Objects only the energy manager serves ([energy] in the main file). */
bool gw_object_needs_energy(gw_object obj);

/* true for objects the gateway sends (answers reads for). */
bool gw_object_is_state(gw_object obj);

/* The DPT an object uses for charger c (time_dpt, current_dpt, power_dpt,
 * meter_dpt apply; the others are fixed by DESIGN.md's table). */
struct gw_charger_conf;
knx_dpt gw_object_dpt(const struct gw_charger_conf *c, gw_object obj);

typedef enum { GW_STOP_STOP, GW_STOP_PAUSE } gw_stop_mode;

/* What the gateway does with a billing backend's commands: relays them to
 * the charger (allow), or refuses each with its Rejected status
 * (readonly: the backend bills, the owner alone controls the charger). */
typedef enum { GW_COMMANDS_ALLOW, GW_COMMANDS_READONLY } gw_commands_mode;

#define GW_MAX_CONNECTORS 8

typedef struct {
  int id;                        /* 1..GW_MAX_CONNECTORS */
  bool has_ga[GW_OBJ_COUNT];
  uint16_t ga[GW_OBJ_COUNT];    /* valid where has_ga */
  int line[GW_OBJ_COUNT];       /* line of the key, for diagnostics */
} gw_connector_conf;

/* [upstream] of a charger file: the link to a billing backend, where the
 * gateway is this charger. url NULL: no link. */
typedef struct {
  char *url;                     /* ws://... or wss://...; "{id}" = identity */
  char *identity;                /* default: the charger's id */
  int security_profile;          /* 0..3, default 0 */
  char *password;                /* profiles 1 and 2 */
  char *tls_ca;                  /* resolved against the main file's dir;
                                    NULL: the system's CA store */
  char *tls_cert, *tls_key;      /* profile 3 */
  char **tags;                   /* the backend's idTags (its authorization,
                                    its billing), matched as tag_match
                                    says; default {"*"}; the others stay
                                    local and never reach the backend */
  size_t n_tags;
  gw_commands_mode commands;     /* default allow */
  int line;                      /* of the [upstream] header, 0 if none */
} gw_upstream_conf;

typedef struct gw_charger_conf {
  char *file;                    /* path of the parameter file */
  char *id;
  char *name;                    /* defaults to id */
  int security_profile;          /* 0..3 */
  char *password;                /* NULL when not set; the daemon puts a
                                    rotated one from the store in force */
  char *previous_password;       /* not read from the file: the daemon's
                                    rotation in progress (rotate.h) */
  double normal_current;         /* A, default 10 */
  double fast_current;           /* A, default 16 */
  double current_hysteresis;     /* A, default 0.2 */
  double power_hysteresis;       /* W, default 100 */
  double energy_hysteresis;      /* Wh, default 100 (meter, live energy) */
  double voltage;                /* V per phase, default 230 */
  int phases;                    /* 1 or 3, default 3 */
  knx_dpt time_dpt;              /* 10.001 (default) or 19.001 */
  knx_dpt current_dpt;           /* 14.019 (default) or 9.021 */
  knx_dpt power_dpt;             /* 14.056 (default) or 9.024 */
  knx_dpt meter_dpt;             /* 13.013 (default) or 13.010 */
  ocpp_start_mode start_mode;     /* default tag */
  char **tags;                   /* default {"*"} */
  size_t n_tags;
  ocpp_tag_match tag_match;       /* default exact */
  ocpp_version ocpp_version;      /* default auto */
  char *remote_tag;              /* default "KNX" */
  gw_stop_mode stop_mode;       /* default stop */
  int reservation_minutes;       /* ReserveNow expiry, default 30 */
  char *tags_file;               /* resolved against this file; NULL: the
                                    main file's, if any */
  gw_tags *tag_list;             /* the list this charger uses (its own
                                    tags_file, else the main file's), read
                                    with the charger file; NULL when there
                                    is none or the load came from memory */
  /* the energy manager's, used when the main file has [energy] */
  int priority;                  /* 1..10, default 5 */
  double min_current;            /* A, default 6: below it the car pauses */
  em_mode mode;                  /* default now */
  char **tag_mode_tags;          /* tag_modes: a session started with */
  em_mode *tag_mode_modes;       /* tag_mode_tags[i] gets mode [i] */
  size_t n_tag_modes;
  gw_connector_conf *connectors; /* owned, sorted by id */
  size_t n_connectors;           /* sections found; a file without any gets
                                    connector 1 without objects, so >= 1 */
  gw_upstream_conf upstream;
} gw_charger_conf;

/* A group address that may be absent. */
typedef struct {
  bool set;
  uint16_t ga;
} gw_ga_opt;

/* [energy] in the main file: absent (enabled false), nothing changes. */
typedef struct {
  bool enabled;
  double main_fuse;              /* A per phase, default 25 */
  gw_ga_opt grid_current[3];     /* L1..L3, required when enabled */
  knx_dpt grid_current_dpt;      /* 14.019 (default) or 9.021 */
  gw_ga_opt grid_power;          /* W, + import / - export */
  knx_dpt grid_power_dpt;        /* 14.056 (default) or 9.024 */
  gw_ga_opt cheap_tariff;        /* DPT 1.001 */
  gw_ga_opt headroom_state;      /* grid_current_dpt */
  double safe_current;           /* A, default 6; 0 pauses */
  int stale_after;               /* s, default 60 */
  /* For tests only: every hold, delay and guard runs this many times
   * faster (default 1). Not documented for installers. */
  double test_time_scale;
} gw_energy_conf;

typedef struct {
  char *file;                    /* path of the main file */
  /* [ocpp] */
  char *listen;                  /* default "0.0.0.0:8016"; "" disables */
  char *tls_listen;              /* default ""; "" disables */
  char *tls_cert, *tls_key, *tls_ca; /* resolved against the file's dir;
                                        NULL when not set (or set to "") */
  int heartbeat_interval;        /* default 300 */
  int call_timeout;              /* default 30 */
  bool accept_unknown;           /* default false */
  int meter_sample_interval;     /* default 60 */
  int max_message_size;          /* default 65536 */
  /* [knx] */
  char *knx_url;                 /* default "local:/run/knx" */
  int max_telegrams_per_second;  /* default 20, 1..1000 */
  /* [store] */
  char *store_dir;               /* default /var/lib/ocppknx, resolved */
  /* [log] */
  gw_log_level log_level;       /* default info */
  bool trace_ocpp;               /* default false */
  gw_energy_conf energy;
  /* [chargers] */
  char *chargers_dir;            /* default "chargers.d", resolved */
  char *tags_file;               /* default tag list of every charger,
                                    resolved; NULL when not set */
  /* [status] */
  char *status_password;         /* Basic Auth of the status page (user
                                    "admin"); NULL: open, tags masked */
  gw_charger_conf *chargers;
  size_t n_chargers;
} gw_conf;

/* Diagnostics: each entry is one "file:line: message" (line 0 for file-wide
 * problems: "file: message"). */
typedef struct {
  char **lines;
  size_t n;
} gw_conf_diag;

/* Frees the lines; the struct can be used again. NULL is allowed. */
void gw_conf_diag_finish(gw_conf_diag *d);

/* Loads the main file and every "*.conf" in chargers_dir (sorted by name;
 * names starting with '.' are skipped).
 * Checks every value (types, ranges, enums, group addresses, DPT choices,
 * duplicate charger ids, one group address used by two objects with
 * different DPTs or twice as a command, profile 1/2 without password, TLS
 * files that cannot be read when a listener or a profile needs them).
 * Returns GW_OK with *out set; GW_ECONFIG with every problem in diag and
 * *out NULL; GW_EINVAL for a NULL path or out; GW_ENOMEM. diag may be NULL;
 * lines are appended to it. */
int gw_conf_load(const char *path, gw_conf **out, gw_conf_diag *diag);

/* The contents of one file, for gw_conf_load_strings; NULL text is empty. */
typedef struct {
  const char *text;
  size_t len;                    /* may hold NUL bytes (reported as such) */
} gw_conf_text;

/* Like gw_conf_load, from memory: main is the main file ("main.conf" in the
 * diagnostics, paths relative to "."), chargers[0..n_chargers) the charger
 * files ("1.conf", ... in chargers_dir). Reads nothing from the disk, so
 * the TLS files are not checked (that they are given still is). Returns
 * like gw_conf_load; GW_EINVAL for NULL main or out, or NULL chargers with
 * n_chargers > 0. */
int gw_conf_load_strings(const gw_conf_text *main,
                         const gw_conf_text *chargers, size_t n_chargers,
                         gw_conf **out, gw_conf_diag *diag);

/* Loads only the charger files again (SIGHUP), with the same checks against
 * the main file. Returns like gw_conf_load; on failure *chargers is NULL and *n
 * is 0. */
int gw_conf_load_chargers(const gw_conf *main, gw_charger_conf **chargers,
                          size_t *n, gw_conf_diag *diag);

void gw_conf_chargers_free(gw_charger_conf *chargers, size_t n);

/* Frees everything; NULL is allowed. */
void gw_conf_destroy(gw_conf *cfg);

#endif
