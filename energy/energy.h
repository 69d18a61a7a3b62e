/* em: the energy manager's allocation engine. Several charging connectors
 * share one house connection: the engine is fed the grid measurements (A
 * per phase, W at the grid point, the cheap tariff), what each connector's
 * car draws, its mode, wish and cap, and the time in ms; it hands back per
 * connector the current limit in force, why, and whether a new one is to be
 * sent, and says when it next needs to be called.
 *
 * It knows neither OCPP nor KNX, does no I/O and reads no clock, so the
 * whole policy is tested with tables and random sequences.
 *
 * Rules it keeps (em_step):
 * - per phase p, the connectors together are given at most
 *   main_fuse - (grid current on p - what they drew on p when the grid was
 *   read); a draw not known then stays in the house load;
 * - lowering at once, raising only after raise_hold_ms of steady headroom
 *   and never sooner than rate_limit_ms after the connector's last change;
 * - higher priority first up to its wish, equal priorities share equally;
 *   a car that cannot get min_current gets 0 (paused), and is not started
 *   again within restart_guard_ms of that pause;
 * - stale grid current (stale_after_ms): safe_current for every charging
 *   connector.
 */
#ifndef OCPPKNX_EM_ENERGY_H
#define OCPPKNX_EM_ENERGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Return codes: 0 is success, every failure is negative. */
enum {
  EM_OK = 0,
  EM_EINVAL = -1,   /* NULL or out-of-range argument, non-finite number */
  EM_ENOMEM = -2,
  EM_ERANGE = -3    /* connector index out of range */
};

/* Short English text for an EM_E* code; never NULL. */
const char *em_strerror(int code);

#define EM_PHASES 3

/* The numbers are those of the KNX charge_mode object (DPT 5.010). */
typedef enum {
  EM_MODE_OFF = 0,
  EM_MODE_NOW = 1,
  EM_MODE_MINPV = 2,
  EM_MODE_PV = 3,
  EM_MODE_CHEAP = 4,
  EM_MODE_COUNT
} em_mode;

/* "off", "now", "minpv", "pv", "cheap"; NULL when out of range. */
const char *em_mode_name(em_mode m);
/* The mode named by text (exact, lower case). Returns EM_OK or EM_EINVAL. */
int em_mode_parse(const char *text, em_mode *out);

/* What decides a connector's allocation. */
typedef enum {
  EM_REASON_IDLE,      /* no session on the connector */
  EM_REASON_WISH,      /* it gets all it asks for */
  EM_REASON_OFF,       /* mode off */
  EM_REASON_FUSE,      /* a phase of the house connection is full */
  EM_REASON_PRIORITY,  /* cars of higher priority took the room */
  EM_REASON_SURPLUS,   /* pv, minpv, cheap outside the window: the surplus */
  EM_REASON_TARIFF,    /* cheap: waiting for the cheap tariff */
  EM_REASON_STALE,     /* the grid measurement is missing or stale */
  EM_REASON_CAP,       /* the cap (KNX max_current) */
  EM_REASON_GUARD,     /* paused less than restart_guard_ms ago */
  EM_REASON_COUNT
} em_reason;

/* "idle", "wish", "off", "fuse", "priority", "surplus", "tariff",
 * "stale meter", "cap", "restart guard"; NULL when out of range. */
const char *em_reason_name(em_reason r);

typedef struct {
  double main_fuse;           /* A per phase, > 0 */
  double safe_current;        /* A per charging connector when stale; 0 pauses */
  uint64_t stale_after_ms;    /* grid current older than this is stale */
  uint64_t raise_hold_ms;     /* steady headroom before raising (30 s) */
  uint64_t rate_limit_ms;     /* between two changes that raise (10 s) */
  uint64_t restart_guard_ms;  /* between a pause and the next start (5 min) */
  uint64_t pv_start_ms;       /* surplus covering min_current before pv starts (60 s) */
  uint64_t pv_stop_ms;        /* surplus short before pv pauses (5 min) */
  double change_threshold;    /* A; smaller changes are not sent (0.5) */
  double voltage;             /* V per phase, to turn the surplus into A (230) */
} em_config;

/* Fills c with the defaults named above; main_fuse 25, safe_current 6,
 * stale_after 60 s. */
void em_config_default(em_config *c);

typedef struct {
  int priority;               /* 1..10, higher first */
  double min_current;         /* A, > 0: below it the car is paused */
  double max_current;         /* A, >= min_current: what the charger takes */
  unsigned phase_mask;        /* bit p: wired to phase p (1..7) */
  uint64_t draw_valid_ms;     /* a measured draw older than this is unknown */
} em_connector_config;

typedef struct em_engine em_engine;

/* Returns EM_OK with *out set, EM_EINVAL (NULL argument, a value out of
 * range) or EM_ENOMEM. The engine starts with no connectors. */
int em_create(const em_config *c, em_engine **out);

/* NULL is allowed. */
void em_destroy(em_engine *e);

/* Sets the connectors 0..n-1. Connectors that stay (index < both counts)
 * keep their state; new ones start idle in mode now. Returns EM_OK,
 * EM_EINVAL or EM_ENOMEM (the old set stays). */
int em_set_connectors(em_engine *e, const em_connector_config *c, size_t n);

size_t em_connector_count(const em_engine *e);

/* ---- measurements (any time; em_step uses the latest) ------------------- */

/* Grid current on phase (0..2), A, incl. the chargers. */
int em_set_grid_current(em_engine *e, int phase, double amps, uint64_t now_ms);
/* Grid power, W, + import / - export. */
int em_set_grid_power(em_engine *e, double watts, uint64_t now_ms);
int em_set_cheap(em_engine *e, bool cheap);

/* ---- connectors (index 0..count-1; EM_ERANGE otherwise) ----------------- */

/* A session starts (the limit in force is unknown until the next
 * em_step sends one) or ends. */
int em_set_session(em_engine *e, size_t i, bool active, uint64_t now_ms);
int em_set_mode(em_engine *e, size_t i, em_mode mode);
/* What the car should get when nothing limits it (A, >= 0). */
int em_set_wish(em_engine *e, size_t i, double amps);
/* A cap on top (A, >= 0), or a negative value for none. */
int em_set_cap(em_engine *e, size_t i, double amps);
/* The charger may have lost the limit in force (it rebooted): the next
 * em_step hands it out again (send), changed or not. */
int em_forget_limit(em_engine *e, size_t i);
/* Measured draw per phase (A; NaN: that phase not measured). */
int em_set_draw(em_engine *e, size_t i, const double amps[EM_PHASES],
                uint64_t now_ms);

/* ---- allocation ---------------------------------------------------------- */

/* Recomputes every allocation for now_ms. Returns EM_OK or EM_EINVAL. */
int em_step(em_engine *e, uint64_t now_ms);

typedef struct {
  bool active;               /* a session runs */
  em_mode mode;
  double limit;              /* A in force (0 paused); < 0 not known yet */
  double target;             /* A the rules give now (limit follows it) */
  em_reason reason;          /* why target is what it is */
  bool send;                 /* limit changed in the last em_step: send it */
  unsigned phases;           /* phases it is counted on (bit mask) */
} em_allocation;

int em_get(const em_engine *e, size_t i, em_allocation *out);

/* What the last em_step saw, for the status page. */
typedef struct {
  bool stale;                     /* grid current missing or stale */
  bool has_power;
  double grid_current[EM_PHASES]; /* A, as measured */
  double grid_power;              /* W */
  double base_load[EM_PHASES];    /* A, grid minus the connectors' draw */
  double budget[EM_PHASES];       /* A the connectors may draw together */
  double headroom;                /* A still free on the tightest phase */
  double surplus_w;               /* W the pv modes may use */
  bool cheap;
} em_summary;

int em_get_summary(const em_engine *e, em_summary *out);

/* When em_step should run next (a hold, a guard or a staleness ending), or
 * 0 when nothing is due without new input. */
uint64_t em_next_deadline(const em_engine *e);

#endif
