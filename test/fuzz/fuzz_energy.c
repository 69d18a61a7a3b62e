/* Random event sequences for the energy engine, read from the input bytes:
 * a house of up to eight chargers, then events (sessions, modes, caps,
 * wishes, the tariff, house load, PV, silent meters, cars that draw less or
 * stop reporting, chargers that forget their limit) and steps. After every step the simulated house checks
 * the engine's promises (test/energy_sim.h); a broken one aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "test/energy_sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
  const uint8_t *p;
  size_t left;
} reader;

static unsigned byte(reader *r)
{
  if (!r->left)
    return 0;
  r->left--;
  return *r->p++;
}

static void event(es_sim *s, reader *r)
{
  unsigned op = byte(r), arg = byte(r);
  size_t i = (op >> 4) % s->n;
  switch (op & 0x0F) {
  case 0:
    es_session(s, i, !s->active[i], arg & 1 ? 7u : 1u << (arg % 3));
    break;
  case 1:
    em_set_mode(s->e, i, (em_mode)(arg % EM_MODE_COUNT));
    break;
  case 2:
    em_set_cap(s->e, i, arg >= 100 ? -1.0 : (double)(arg % 40));
    break;
  case 3:
    em_set_wish(s->e, i, arg % 40);
    break;
  case 4:
    em_set_cheap(s->e, arg & 1);
    break;
  case 5:
    s->pv_w = arg * 80.0;
    break;
  case 6:
    s->silent = arg & 1;
    break;
  case 7:
    s->factor[i] = arg / 255.0;
    break;
  case 8:
    es_reports(s, i, arg & 1);
    break;
  case 9: case 10: case 11:
    s->house[(op & 0x0F) - 9] = arg / 6.0;
    break;
  case 12:
    em_forget_limit(s->e, i);
    break;
  default:
    es_step(s, (uint64_t)arg * 1000 + 100);
    break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  reader r = {data, size};
  em_config cfg;
  em_config_default(&cfg);
  unsigned head = byte(&r);
  cfg.main_fuse = head & 1 ? 35 : 25;
  cfg.safe_current = head & 2 ? 0 : 6;
  cfg.stale_after_ms = 5000 + (uint64_t)byte(&r) * 500;
  size_t n = 1 + byte(&r) % ES_MAX;
  em_connector_config cc[ES_MAX];
  for (size_t i = 0; i < n; i++) {
    unsigned a = byte(&r), b = byte(&r);
    cc[i] = (em_connector_config){
      .priority = 1 + (int)(a % 10),
      .min_current = 6 + (a >> 4) % 3,
      .phase_mask = b & 0x80 ? 1u << (b % 3) : 7u,
      .draw_valid_ms = 10000,
    };
    cc[i].max_current = cc[i].min_current + b % 27;
  }
  es_sim s;
  if (es_init(&s, &cfg, cc, n) != EM_OK)
    abort();
  while (r.left > 0 && !s.fail[0])
    event(&s, &r);
  es_step(&s, 1000);
  if (s.fail[0]) {
    fprintf(stderr, "%s\n", s.fail);
    abort();
  }
  es_finish(&s);
  return 0;
}
