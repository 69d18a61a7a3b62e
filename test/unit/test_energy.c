/* The energy engine: sharing the fuse, priorities, phases, the surplus and
 * cheap modes, stale meters, the hold, the guard, the thresholds and the
 * rate limit, invalid input, and a property test over random houses. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "energy/energy.h"
#include "test/energy_sim.h"

#define L1 1u
#define L2 2u
#define L3 4u
#define ALL 7u

static em_connector_config car(int prio, unsigned wired)
{
  return (em_connector_config){.priority = prio, .min_current = 6,
                               .max_current = 16, .phase_mask = wired,
                               .draw_valid_ms = 10000};
}

static em_allocation alloc_of(const es_sim *s, size_t i)
{
  em_allocation a;
  cr_assert_eq(em_get(s->e, i, &a), EM_OK);
  return a;
}

#define expect_limit(s, i, want)                                             \
  do {                                                                       \
    double got_ = alloc_of(s, i).limit;                                      \
    cr_assert(fabs(got_ - (want)) < 1e-9, "t=%llu connector %d: %g A, want " \
              "%g A (%s)", (unsigned long long)(s)->now, i, got_,             \
              (double)(want), em_reason_name(alloc_of(s, i).reason));        \
  } while (0)
#define expect_limit_msg(s, i, want, ...)                                    \
  do {                                                                       \
    double got_ = alloc_of(s, i).limit;                                      \
    if (fabs(got_ - (want)) >= 1e-9)                                         \
      cr_log_error("connector %d: %g A, want %g A", i, got_, (double)(want)); \
    cr_assert(fabs(got_ - (want)) < 1e-9, __VA_ARGS__);                      \
  } while (0)

static void run_for(es_sim *s, uint64_t ms, uint64_t dt)
{
  for (uint64_t t = 0; t < ms; t += dt)
    es_step(s, dt);
  cr_assert_str_empty(s->fail, "%s", s->fail);
}

/* ---- sharing the fuse: one table ----------------------------------------- */

typedef struct {
  int prio;
  unsigned wired, car;
  double cap;         /* < 0 none */
  double want;
  em_reason why;
} share_car;

typedef struct {
  const char *name;
  double fuse;
  double house[EM_PHASES];
  size_t n;
  share_car cars[5];
} share_case;

static const share_case share_cases[] = {
  {"two cars on 25 A share it equally", 25, {0, 0, 0}, 2,
   {{5, ALL, ALL, -1, 12.5, EM_REASON_FUSE},
    {5, ALL, ALL, -1, 12.5, EM_REASON_FUSE}}},
  {"two cars on 35 A both get their wish", 35, {2, 2, 2}, 2,
   {{5, ALL, ALL, -1, 16, EM_REASON_WISH},
    {5, ALL, ALL, -1, 16, EM_REASON_WISH}}},
  {"three cars on 25 A get a third each", 25, {0, 0, 0}, 3,
   {{5, ALL, ALL, -1, 8.3, EM_REASON_FUSE},
    {5, ALL, ALL, -1, 8.3, EM_REASON_FUSE},
    {5, ALL, ALL, -1, 8.3, EM_REASON_FUSE}}},
  {"three cars beside a 5 A house load", 25, {5, 5, 5}, 3,
   {{5, ALL, ALL, -1, 6.6, EM_REASON_FUSE},
    {5, ALL, ALL, -1, 6.6, EM_REASON_FUSE},
    {5, ALL, ALL, -1, 6.6, EM_REASON_FUSE}}},
  {"four cars where three fit: the last one pauses", 25, {2, 2, 2}, 4,
   {{5, ALL, ALL, -1, 7.6, EM_REASON_FUSE},
    {5, ALL, ALL, -1, 7.6, EM_REASON_FUSE},
    {5, ALL, ALL, -1, 7.6, EM_REASON_FUSE},
    {5, ALL, ALL, -1, 0, EM_REASON_FUSE}}},
  {"a 1-phase car on L1 beside 3-phase cars limited by L2", 25, {0, 10, 0}, 3,
   {{5, ALL, ALL, -1, 7.5, EM_REASON_FUSE},
    {5, ALL, ALL, -1, 7.5, EM_REASON_FUSE},
    {5, L1, L1, -1, 10, EM_REASON_FUSE}}},
  {"a full L2 pauses the 3-phase cars, not the 1-phase car on L1", 25,
   {0, 24, 0}, 3,
   {{5, ALL, ALL, -1, 0, EM_REASON_FUSE},
    {5, ALL, ALL, -1, 0, EM_REASON_FUSE},
    {5, L1, L1, -1, 16, EM_REASON_WISH}}},
  {"a 1-phase car in a 3-phase charger counts only on its phase", 25,
   {0, 0, 0}, 3,
   {{5, ALL, ALL, -1, 8.3, EM_REASON_FUSE},
    {5, ALL, L1, -1, 8.3, EM_REASON_FUSE},
    {5, ALL, ALL, -1, 8.3, EM_REASON_FUSE}}},
  {"the 3-phase car gets what a 1-phase car leaves on the other phases", 25,
   {0, 9, 0}, 2,
   {{5, ALL, ALL, -1, 12.5, EM_REASON_FUSE},
    {5, ALL, L1, -1, 12.5, EM_REASON_FUSE}}},
  {"higher priority first up to its wish", 25, {0, 0, 0}, 2,
   {{8, ALL, ALL, -1, 16, EM_REASON_WISH},
    {5, ALL, ALL, -1, 9, EM_REASON_PRIORITY}}},
  {"what is left after priority pauses one of two equal cars", 25, {0, 0, 0},
   3,
   {{8, ALL, ALL, -1, 16, EM_REASON_WISH},
    {5, ALL, ALL, -1, 9, EM_REASON_PRIORITY},
    {5, ALL, ALL, -1, 0, EM_REASON_PRIORITY}}},
  {"the cap lets the others have the rest", 25, {0, 0, 0}, 2,
   {{5, ALL, ALL, 7, 7, EM_REASON_CAP},
    {5, ALL, ALL, -1, 16, EM_REASON_WISH}}},
  {"a cap of 0 pauses", 25, {0, 0, 0}, 2,
   {{5, ALL, ALL, 0, 0, EM_REASON_CAP},
    {5, ALL, ALL, -1, 16, EM_REASON_WISH}}},
  {"a house load above the fuse pauses every car on that phase", 25,
   {27, 0, 0}, 2,
   {{5, ALL, ALL, -1, 0, EM_REASON_FUSE},
    {5, L2, L2, -1, 16, EM_REASON_WISH}}},
};

Test(energy, shares_the_fuse_by_table)
{
  for (size_t k = 0; k < sizeof share_cases / sizeof share_cases[0]; k++) {
    const share_case *sc = &share_cases[k];
    em_config cfg;
    em_config_default(&cfg);
    cfg.main_fuse = sc->fuse;
    em_connector_config cc[5];
    for (size_t i = 0; i < sc->n; i++)
      cc[i] = car(sc->cars[i].prio, sc->cars[i].wired);
    es_sim s;
    cr_assert_eq(es_init(&s, &cfg, cc, sc->n), EM_OK);
    memcpy(s.house, sc->house, sizeof s.house);
    for (size_t i = 0; i < sc->n; i++) {
      es_session(&s, i, true, sc->cars[i].car);
      em_set_cap(s.e, i, sc->cars[i].cap);
    }
    run_for(&s, 120000, 2000);
    for (size_t i = 0; i < sc->n; i++) {
      em_allocation a = alloc_of(&s, i);
      cr_expect(fabs(a.limit - sc->cars[i].want) < 1e-9,
                "%s: car %zu got %g A, want %g A", sc->name, i + 1, a.limit,
                sc->cars[i].want);
      cr_expect_eq(a.reason, sc->cars[i].why, "%s: car %zu is limited by %s, "
                   "want %s", sc->name, i + 1, em_reason_name(a.reason),
                   em_reason_name(sc->cars[i].why));
    }
    es_finish(&s);
  }
}

/* ---- timing ------------------------------------------------------------- */

static void two_cars(es_sim *s, em_config *cfg)
{
  em_config_default(cfg);
  em_connector_config cc[2] = {car(5, ALL), car(5, ALL)};
  cr_assert_eq(es_init(s, cfg, cc, 2), EM_OK);
  es_session(s, 0, true, ALL);
  es_session(s, 1, true, ALL);
}

/* Two cars settled for a minute beside house amps on phase p, each at
 * want A. */
static void two_cars_settled(es_sim *s, int p, double house, double want)
{
  em_config cfg;
  two_cars(s, &cfg);
  s->house[p] = house;
  run_for(s, 60000, 1000);
  expect_limit(s, 0, want);
  expect_limit(s, 1, want);
}

Test(energy, lowers_within_one_measurement_and_raises_after_the_hold)
{
  es_sim s;
  two_cars_settled(&s, 0, 0, 12.5);
  s.house[0] = 9;           /* an oven: 16 A left for two cars */
  es_step(&s, 1000);
  expect_limit(&s, 0, 8);
  expect_limit(&s, 1, 8);
  cr_assert(alloc_of(&s, 0).send);
  uint64_t off = s.now;
  s.house[0] = 0;
  es_step(&s, 1000);
  while (s.now - off < 30000) {
    expect_limit_msg(&s, 0, 8, "raised %llu ms "
                       "after the load fell", (unsigned long long)(s.now - off));
    es_step(&s, 1000);
  }
  es_step(&s, 1000);
  expect_limit(&s, 0, 12.5);
  cr_assert_str_empty(s.fail, "%s", s.fail);
  es_finish(&s);
}

Test(energy, a_dip_during_the_hold_starts_it_again)
{
  es_sim s;
  two_cars_settled(&s, 1, 9, 8);
  s.house[1] = 0;
  run_for(&s, 20000, 1000);
  s.house[1] = 8.8;         /* headroom for 0.1 A more only: not stable */
  es_step(&s, 1000);
  s.house[1] = 0;
  run_for(&s, 29000, 1000);
  expect_limit(&s, 0, 8);
  run_for(&s, 2000, 1000);
  expect_limit(&s, 0, 12.5);
  es_finish(&s);
}

Test(energy, raises_below_half_an_ampere_are_not_sent)
{
  es_sim s;
  two_cars_settled(&s, 2, 6, 9.5);
  s.house[2] = 5.6;         /* 9.7 A each: 0.2 A more is not worth it */
  run_for(&s, 60000, 1000);
  expect_limit(&s, 0, 9.5);
  cr_assert_float_eq(alloc_of(&s, 0).target, 9.7, 1e-9);
  s.house[2] = 5;           /* 10 A each: 0.5 A more, sent after the hold */
  run_for(&s, 40000, 1000);
  expect_limit(&s, 0, 10);
  es_finish(&s);
}

Test(energy, lowerings_below_half_an_ampere_wait_unless_the_fuse_needs_them)
{
  es_sim s;
  em_config cfg;
  em_config_default(&cfg);
  em_connector_config cc[1] = {car(5, ALL)};
  cr_assert_eq(es_init(&s, &cfg, cc, 1), EM_OK);
  es_session(&s, 0, true, ALL);
  em_set_mode(s.e, 0, EM_MODE_MINPV);
  s.pv_w = 11 * 690;
  run_for(&s, 60000, 1000);
  expect_limit(&s, 0, 11);
  s.pv_w = 10.7 * 690;      /* 0.3 A less surplus: the grid covers it */
  es_step(&s, 1000);
  expect_limit(&s, 0, 11);
  cr_assert(!alloc_of(&s, 0).send);
  s.pv_w = 10.4 * 690;
  es_step(&s, 1000);
  expect_limit(&s, 0, 10.4);
  cr_assert(alloc_of(&s, 0).send);
  es_finish(&s);
}

Test(energy, a_small_lowering_is_sent_when_the_phase_needs_it)
{
  em_config cfg;
  em_config_default(&cfg);
  em_engine *e;
  cr_assert_eq(em_create(&cfg, &e), EM_OK);
  em_connector_config cc = car(5, ALL);
  cr_assert_eq(em_set_connectors(e, &cc, 1), EM_OK);
  em_set_session(e, 0, true, 0);
  double none[3] = {0, 0, 0};
  em_set_draw(e, 0, none, 0);
  for (int p = 0; p < 3; p++)
    em_set_grid_current(e, p, 10, 0);
  em_step(e, 0);
  em_allocation a;
  em_get(e, 0, &a);
  cr_assert_float_eq(a.limit, 15, 1e-9);
  double drawn[3] = {15, 15, 15};
  em_set_draw(e, 0, drawn, 1000);
  for (int p = 0; p < 3; p++)
    em_set_grid_current(e, p, 25.2, 1000);  /* house 10.2 A now */
  em_step(e, 1000);
  em_get(e, 0, &a);
  cr_assert_float_eq(a.limit, 14.8, 1e-9);
  cr_assert(a.send);
  em_destroy(e);
}

Test(energy, raises_at_most_every_ten_seconds_but_lowers_at_once)
{
  es_sim s;
  em_config cfg;
  em_config_default(&cfg);
  cfg.raise_hold_ms = 0;    /* only the rate limit holds it back */
  em_connector_config cc[1] = {car(5, ALL)};
  cr_assert_eq(es_init(&s, &cfg, cc, 1), EM_OK);
  es_session(&s, 0, true, ALL);
  s.house[0] = 15;
  run_for(&s, 30000, 1000);
  expect_limit(&s, 0, 10);
  uint64_t changed = s.now;
  s.house[0] = 17;
  es_step(&s, 1000);
  expect_limit(&s, 0, 8);
  changed = s.now;
  s.house[0] = 16;
  es_step(&s, 1000);
  s.house[0] = 18;          /* lowering right after a change: at once */
  es_step(&s, 1000);
  expect_limit(&s, 0, 7);
  changed = s.now;
  s.house[0] = 12;
  while (s.now - changed < 10000) {
    es_step(&s, 1000);
    if (s.now - changed < 10000)
      expect_limit(&s, 0, 7);
  }
  expect_limit(&s, 0, 13);
  cr_assert_str_empty(s.fail, "%s", s.fail);
  es_finish(&s);
}

Test(energy, a_paused_car_does_not_start_within_five_minutes)
{
  es_sim s;
  two_cars_settled(&s, 0, 0, 12.5);
  s.house[0] = 15;          /* 10 A left: one car pauses */
  es_step(&s, 1000);
  expect_limit(&s, 0, 10);
  expect_limit(&s, 1, 0);
  uint64_t paused = s.now;
  s.house[0] = 0;
  run_for(&s, 60000, 1000);
  cr_assert_eq(alloc_of(&s, 1).reason, EM_REASON_GUARD);
  while (s.now - paused < 300000) {
    expect_limit(&s, 1, 0);
    es_step(&s, 1000);
  }
  run_for(&s, 40000, 1000);
  expect_limit(&s, 1, 12.5);
  expect_limit(&s, 0, 12.5);
  es_finish(&s);
}

Test(energy, next_deadline_names_the_end_of_the_hold)
{
  es_sim s;
  em_config cfg;
  em_config_default(&cfg);
  em_connector_config cc[2] = {car(5, ALL), car(5, ALL)};
  cc[0].draw_valid_ms = cc[1].draw_valid_ms = 120000;
  cr_assert_eq(es_init(&s, &cfg, cc, 2), EM_OK);
  es_session(&s, 0, true, ALL);
  es_session(&s, 1, true, ALL);
  s.house[0] = 9;
  run_for(&s, 60000, 1000);
  s.house[0] = 0;
  es_step(&s, 1000);
  uint64_t at = em_next_deadline(s.e);
  cr_assert_eq(at, s.now + 30000);
  es_finish(&s);
}

/* ---- surplus, tariff, stale meter --------------------------------------- */

static void pv_car(es_sim *s, em_config *cfg, em_mode mode)
{
  em_config_default(cfg);
  em_connector_config cc[1] = {car(5, ALL)};
  cr_assert_eq(es_init(s, cfg, cc, 1), EM_OK);
  es_session(s, 0, true, ALL);
  em_set_mode(s->e, 0, mode);
}

Test(energy, pv_starts_after_a_minute_of_surplus_and_pauses_after_five_short)
{
  es_sim s;
  em_config cfg;
  pv_car(&s, &cfg, EM_MODE_PV);
  s.house[0] = s.house[1] = s.house[2] = 1;   /* 690 W */
  es_step(&s, 1000);
  expect_limit(&s, 0, 0);
  cr_assert_eq(alloc_of(&s, 0).reason, EM_REASON_SURPLUS);
  s.pv_w = 690 + 7 * 690;   /* 7 A on three phases to spare */
  es_step(&s, 1000);
  uint64_t since = s.now;
  while (s.now - since < 60000) {
    expect_limit_msg(&s, 0, 0, "started %llu ms "
                       "into the surplus", (unsigned long long)(s.now - since));
    es_step(&s, 1000);
  }
  expect_limit(&s, 0, 7);
  cr_assert_eq(alloc_of(&s, 0).reason, EM_REASON_SURPLUS);
  run_for(&s, 20000, 1000);
  expect_limit(&s, 0, 7);
  s.pv_w = 690 + 3 * 690;   /* a cloud: 3 A, below min_current */
  es_step(&s, 1000);
  since = s.now;
  expect_limit(&s, 0, 6);
  while (s.now - since < 300000) {
    expect_limit_msg(&s, 0, 6, "paused %llu ms "
                       "into the cloud", (unsigned long long)(s.now - since));
    es_step(&s, 1000);
  }
  expect_limit(&s, 0, 0);
  cr_assert_str_empty(s.fail, "%s", s.fail);
  es_finish(&s);
}

Test(energy, pv_does_not_start_on_a_surplus_shorter_than_a_minute)
{
  es_sim s;
  em_config cfg;
  pv_car(&s, &cfg, EM_MODE_PV);
  s.pv_w = 8 * 690;
  run_for(&s, 50000, 1000);
  s.pv_w = 0;
  es_step(&s, 1000);
  s.pv_w = 8 * 690;
  run_for(&s, 50000, 1000);
  expect_limit(&s, 0, 0);
  run_for(&s, 15000, 1000);
  cr_assert(alloc_of(&s, 0).limit >= 6);
  es_finish(&s);
}

Test(energy, minpv_charges_min_current_and_more_with_surplus)
{
  es_sim s;
  em_config cfg;
  pv_car(&s, &cfg, EM_MODE_MINPV);
  es_step(&s, 1000);
  expect_limit(&s, 0, 6);
  cr_assert_eq(alloc_of(&s, 0).reason, EM_REASON_SURPLUS);
  s.pv_w = 11 * 690;
  run_for(&s, 60000, 1000);
  expect_limit(&s, 0, 11);
  s.pv_w = 40 * 690;
  run_for(&s, 60000, 1000);
  expect_limit(&s, 0, 16);
  cr_assert_eq(alloc_of(&s, 0).reason, EM_REASON_WISH);
  es_finish(&s);
}

Test(energy, cheap_charges_in_the_window_and_pauses_outside)
{
  es_sim s;
  em_config cfg;
  pv_car(&s, &cfg, EM_MODE_CHEAP);
  es_step(&s, 1000);
  expect_limit(&s, 0, 0);
  cr_assert_eq(alloc_of(&s, 0).reason, EM_REASON_TARIFF);
  em_set_cheap(s.e, true);
  run_for(&s, 40000, 1000);
  expect_limit(&s, 0, 16);
  em_set_cheap(s.e, false);
  es_step(&s, 1000);
  expect_limit(&s, 0, 0);
  cr_assert_eq(alloc_of(&s, 0).reason, EM_REASON_TARIFF);
  es_finish(&s);
}

Test(energy, a_silent_meter_gives_safe_current_to_charging_cars)
{
  es_sim s;
  em_config cfg;
  em_config_default(&cfg);
  cfg.safe_current = 7;
  em_connector_config cc[3] = {car(5, ALL), car(5, ALL), car(4, ALL)};
  cr_assert_eq(es_init(&s, &cfg, cc, 3), EM_OK);
  es_session(&s, 0, true, ALL);
  es_session(&s, 1, true, ALL);
  es_session(&s, 2, true, ALL);
  s.house[0] = 9;           /* 16 A: two cars, the third one waits */
  run_for(&s, 60000, 1000);
  expect_limit(&s, 0, 8);
  expect_limit(&s, 2, 0);
  s.silent = true;
  uint64_t since = s.now;
  while (s.now - since <= 60000) {
    expect_limit(&s, 0, 8);
    es_step(&s, 1000);
  }
  es_step(&s, 1000);
  expect_limit(&s, 0, 7);
  expect_limit(&s, 1, 7);
  expect_limit(&s, 2, 0);   /* a paused car is not started blind */
  cr_assert_eq(alloc_of(&s, 0).reason, EM_REASON_STALE);
  em_summary sum;
  em_get_summary(s.e, &sum);
  cr_assert(sum.stale);
  s.silent = false;
  run_for(&s, 40000, 1000);
  expect_limit(&s, 0, 8);
  expect_limit(&s, 2, 0);
  es_finish(&s);
}

Test(energy, no_meter_yet_is_stale)
{
  es_sim s;
  em_config cfg;
  two_cars(&s, &cfg);
  s.silent = true;
  es_step(&s, 1000);
  expect_limit(&s, 0, 6);
  cr_assert_eq(alloc_of(&s, 0).reason, EM_REASON_STALE);
  es_finish(&s);
}

Test(energy, an_unknown_draw_stays_in_the_base_load)
{
  es_sim s;
  two_cars_settled(&s, 0, 0, 12.5);
  es_reports(&s, 1, false);     /* its meter values stop: 12.5 A unexplained */
  run_for(&s, 11000, 1000);
  em_summary sum;
  em_get_summary(s.e, &sum);
  cr_assert_float_eq(sum.base_load[0], 12.5, 1e-9);
  cr_assert(alloc_of(&s, 0).limit + alloc_of(&s, 1).limit <= 12.5 + 1e-9);
  es_finish(&s);
}

Test(energy, a_raise_on_a_silent_meter_does_not_raise_again)
{
  em_config cfg;
  em_config_default(&cfg);
  cfg.stale_after_ms = 120000;
  em_engine *e;
  cr_assert_eq(em_create(&cfg, &e), EM_OK);
  em_connector_config cc = car(5, ALL);
  cc.max_current = 32;
  cr_assert_eq(em_set_connectors(e, &cc, 1), EM_OK);
  em_set_session(e, 0, true, 0);
  em_allocation a;
  double drawn[3];
  uint64_t t = 0;
  for (; t <= 2000; t += 1000) {
    double limit = t == 0 ? 0 : 10;
    for (int p = 0; p < 3; p++)
      drawn[p] = limit;
    em_set_draw(e, 0, drawn, t);
    /* 15 A of house load, 5 A from t = 2 s: the last reading */
    for (int p = 0; p < 3; p++)
      em_set_grid_current(e, p, (t < 2000 ? 15 : 5) + limit, t);
    em_step(e, t);
    em_get(e, 0, &a);
  }
  cr_assert_float_eq(a.limit, 10, 1e-9);
  for (; t <= 110000; t += 1000) {
    for (int p = 0; p < 3; p++)
      drawn[p] = a.limit;
    em_set_draw(e, 0, drawn, t);
    em_step(e, t);
    em_get(e, 0, &a);
  }
  /* raised once to what the last reading allowed, not on its own draw */
  cr_assert_float_eq(a.limit, 20, 1e-9);
  em_destroy(e);
}

Test(energy, a_forgotten_limit_is_sent_again_even_a_pause)
{
  es_sim s;
  two_cars_settled(&s, 0, 0, 12.5);
  cr_assert_eq(em_forget_limit(s.e, 0), EM_OK);
  es_step(&s, 1000);
  expect_limit(&s, 0, 12.5);
  cr_assert(alloc_of(&s, 0).send);
  cr_assert(!alloc_of(&s, 1).send);
  s.house[0] = 15;          /* one car pauses */
  es_step(&s, 1000);
  expect_limit(&s, 1, 0);
  s.house[0] = 0;
  es_step(&s, 1000);
  cr_assert_eq(em_forget_limit(s.e, 1), EM_OK);
  es_step(&s, 1000);
  expect_limit(&s, 1, 0);   /* still in its restart guard: 0 again */
  cr_assert(alloc_of(&s, 1).send);
  cr_assert_eq(em_forget_limit(s.e, 2), EM_ERANGE);
  es_finish(&s);
}

/* ---- invalid input ------------------------------------------------------- */

Test(energy, refuses_invalid_input)
{
  em_engine *e = (em_engine *)1;
  cr_assert_eq(em_create(NULL, &e), EM_EINVAL);
  cr_assert_null(e);
  cr_assert_eq(em_create(NULL, NULL), EM_EINVAL);
  em_config cfg;
  em_config_default(&cfg);
  cfg.main_fuse = 0;
  cr_assert_eq(em_create(&cfg, &e), EM_EINVAL);
  cfg.main_fuse = NAN;
  cr_assert_eq(em_create(&cfg, &e), EM_EINVAL);
  em_config_default(&cfg);
  cfg.safe_current = -1;
  cr_assert_eq(em_create(&cfg, &e), EM_EINVAL);
  em_config_default(&cfg);
  cr_assert_eq(em_create(&cfg, &e), EM_OK);

  em_connector_config bad[] = {
    {.priority = 0, .min_current = 6, .max_current = 16, .phase_mask = 7},
    {.priority = 11, .min_current = 6, .max_current = 16, .phase_mask = 7},
    {.priority = 5, .min_current = 0, .max_current = 16, .phase_mask = 7},
    {.priority = 5, .min_current = 6, .max_current = 5, .phase_mask = 7},
    {.priority = 5, .min_current = 6, .max_current = 16, .phase_mask = 0},
    {.priority = 5, .min_current = 6, .max_current = 16, .phase_mask = 8},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(em_set_connectors(e, &bad[i], 1), EM_EINVAL, "row %zu", i);
  cr_assert_eq(em_set_connectors(e, NULL, 1), EM_EINVAL);
  cr_assert_eq(em_connector_count(e), 0);
  em_connector_config cc = car(5, ALL);
  cr_assert_eq(em_set_connectors(e, &cc, 1), EM_OK);

  cr_assert_eq(em_set_session(e, 1, true, 0), EM_ERANGE);
  cr_assert_eq(em_set_mode(e, 1, EM_MODE_PV), EM_ERANGE);
  cr_assert_eq(em_set_mode(e, 0, EM_MODE_COUNT), EM_EINVAL);
  cr_assert_eq(em_set_wish(e, 0, -1), EM_EINVAL);
  cr_assert_eq(em_set_wish(e, 0, INFINITY), EM_EINVAL);
  cr_assert_eq(em_set_cap(e, 0, NAN), EM_EINVAL);
  double neg[3] = {1, -1, 0}, inf[3] = {1, INFINITY, 0};
  cr_assert_eq(em_set_draw(e, 0, neg, 0), EM_EINVAL);
  cr_assert_eq(em_set_draw(e, 0, inf, 0), EM_EINVAL);
  cr_assert_eq(em_set_draw(e, 0, NULL, 0), EM_EINVAL);
  cr_assert_eq(em_set_grid_current(e, 3, 1, 0), EM_EINVAL);
  cr_assert_eq(em_set_grid_current(e, -1, 1, 0), EM_EINVAL);
  cr_assert_eq(em_set_grid_current(e, 0, NAN, 0), EM_EINVAL);
  cr_assert_eq(em_set_grid_power(e, INFINITY, 0), EM_EINVAL);
  em_allocation a;
  cr_assert_eq(em_get(e, 1, &a), EM_ERANGE);
  cr_assert_eq(em_get(e, 0, NULL), EM_EINVAL);
  cr_assert_eq(em_get_summary(e, NULL), EM_EINVAL);
  cr_assert_eq(em_step(NULL, 0), EM_EINVAL);
  cr_assert_eq(em_next_deadline(NULL), 0);
  em_destroy(e);
  em_destroy(NULL);
}

Test(energy, names_codes_modes_and_reasons)
{
  cr_assert_str_eq(em_strerror(EM_ERANGE), "connector out of range");
  cr_assert_str_eq(em_strerror(-99), "unknown error");
  cr_assert_str_eq(em_mode_name(EM_MODE_MINPV), "minpv");
  cr_assert_null(em_mode_name(EM_MODE_COUNT));
  em_mode m;
  cr_assert_eq(em_mode_parse("cheap", &m), EM_OK);
  cr_assert_eq(m, EM_MODE_CHEAP);
  cr_assert_eq(em_mode_parse("PV", &m), EM_EINVAL);
  cr_assert_eq(em_mode_parse("", &m), EM_EINVAL);
  cr_assert_eq(em_mode_parse(NULL, &m), EM_EINVAL);
  cr_assert_str_eq(em_reason_name(EM_REASON_STALE), "stale meter");
  cr_assert_null(em_reason_name(EM_REASON_COUNT));
}

/* ---- property test ------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

static double uniform(double lo, double hi)
{
  return lo + (hi - lo) * (double)(rng() >> 11) / (double)(1ull << 53);
}

static size_t below(size_t n)
{
  return (size_t)(rng() % n);
}

static void random_house(es_sim *s)
{
  size_t n = 1 + below(ES_MAX);
  em_config cfg;
  em_config_default(&cfg);
  cfg.main_fuse = below(2) ? 25 : 35;
  cfg.safe_current = below(3) == 0 ? 0 : 6;
  cfg.stale_after_ms = 20000 + below(60000);
  em_connector_config cc[ES_MAX];
  for (size_t i = 0; i < n; i++) {
    cc[i] = car(1 + (int)below(10), below(3) ? ALL : 1u << below(3));
    cc[i].min_current = 6 + (double)below(3);
    cc[i].max_current = cc[i].min_current + (double)below(27);
  }
  cr_assert_eq(es_init(s, &cfg, cc, n), EM_OK);
}

static void random_event(es_sim *s)
{
  size_t i = below(s->n);
  switch (below(12)) {
  case 0:
    es_session(s, i, !s->active[i], below(2) ? ALL : 1u << below(3));
    break;
  case 1:
    em_set_mode(s->e, i, (em_mode)below(EM_MODE_COUNT));
    break;
  case 2:
    em_set_cap(s->e, i, below(3) ? -1 : (double)below(20));
    break;
  case 3:
    em_set_wish(s->e, i, below(2) ? 10 : 32);
    break;
  case 4:
    em_set_cheap(s->e, below(2));
    break;
  case 5:
    s->pv_w = uniform(0, 15000);
    break;
  case 6:
    s->silent = below(8) == 0;
    break;
  case 7:
    s->factor[i] = below(2) ? 1 : uniform(0, 1);
    break;
  case 8:
    es_reports(s, i, below(6) != 0);
    break;
  default: {
    int p = (int)below(EM_PHASES);
    double h = s->house[p] + uniform(-8, 8);
    s->house[p] = h < 0 ? 0 : h > 40 ? 40 : h;
    break;
  }
  }
}

Test(energy, random_houses_keep_the_fuse_the_minimum_and_the_guard)
{
  rng_state = 0x5EED0F11E5ull;
  size_t steps = 0;
  uint64_t checked = 0, tight = 0;
  for (int run = 0; run < 3000; run++) {
    es_sim s;
    random_house(&s);
    for (int k = 0; k < 200; k++) {
      for (size_t ev = below(3); ev > 0; ev--)
        random_event(&s);
      es_step(&s, 200 + below(20000));
      steps++;
      cr_assert_str_empty(s.fail, "run %d step %d: %s", run, k, s.fail);
    }
    checked += s.checked;
    tight += s.tight;
    es_finish(&s);
  }
  cr_assert_eq(steps, 600000);
  /* the houses must press against the fuse often for this to mean much */
  cr_assert_gt(checked, steps / 2);
  cr_assert_gt(tight, checked / 10, "%llu of %llu steps near the fuse",
               (unsigned long long)tight, (unsigned long long)checked);
  cr_log_info("%llu steps checked against the fuse, %llu within 1 A of it",
              (unsigned long long)checked, (unsigned long long)tight);
}
