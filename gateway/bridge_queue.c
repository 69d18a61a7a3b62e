/* The way out to the bus: telegrams wait here for the rate limit, so the
 * rest of the bridge can publish whenever it likes. A KNX TP line carries
 * only ~40-50 telegrams/s and interfaces have small buffers: writes are
 * coalesced per group address, answers to reads go first, and the pace is
 * even. */
#include "gateway/bridge_impl.h"

#include <stdlib.h>

enum {
  GW_WRITE_QUEUE_CAP = 4096,   /* writes waiting for the rate limit */
  GW_RESPONSE_QUEUE_CAP = 256, /* answers to GroupValue_Read */
  GW_TPS_MAX = 1000,
  GW_US_PER_S = 1000000,
  GW_US_PER_MS = 1000
};

static int queue_init(gw_queue *q, size_t cap)
{
  q->items = calloc(cap, sizeof *q->items);
  q->cap = cap;
  q->head = 0;
  q->len = 0;
  return q->items ? GW_OK : GW_ENOMEM;
}

static gw_telegram *queue_at(gw_queue *q, size_t i)
{
  return &q->items[(q->head + i) % q->cap];
}

static gw_telegram queue_pop(gw_queue *q)
{
  gw_telegram t = q->items[q->head];
  q->head = (q->head + 1) % q->cap;
  q->len--;
  return t;
}

static void queue_push(gw_queue *q, uint16_t ga, knx_service svc,
                       const knx_payload *p)
{
  gw_telegram *t = queue_at(q, q->len);
  t->ga = ga;
  t->svc = svc;
  t->p = *p;
  q->len++;
}

static void queue_clear(gw_queue *q)
{
  q->head = 0;
  q->len = 0;
}

static void queue_make_room(gw_bridge *b, gw_queue *q, const char *what)
{
  if (q->len < q->cap)
    return;
  queue_pop(q);
  if (!b->overflow_logged) {
    gw__log(b, GW_LOG_WARN, NULL,
            "KNX %s queue full (%zu): dropping the oldest telegrams", what,
            q->cap);
    b->overflow_logged = true;
  }
}

/* Only the newest value for a group address waits; it keeps the place of
 * the first one so a busy address cannot starve the others. */
void gw__queue_write(gw_bridge *b, uint16_t ga, const knx_payload *p)
{
  if (b->link_down)
    return;
  gw_queue *q = &b->writes;
  for (size_t i = 0; i < q->len; i++) {
    gw_telegram *t = queue_at(q, i);
    if (t->ga == ga) {
      t->p = *p;
      return;
    }
  }
  queue_make_room(b, q, "write");
  queue_push(q, ga, KNX_GROUP_WRITE, p);
}

void gw__queue_response(gw_bridge *b, uint16_t ga, const knx_payload *p)
{
  if (b->link_down)
    return;
  queue_make_room(b, &b->responses, "response");
  queue_push(&b->responses, ga, KNX_GROUP_RESPONSE, p);
}

int gw__queues_init(gw_bridge *b, int max_telegrams_per_second)
{
  int tps = max_telegrams_per_second;
  uint64_t rate =
      (uint64_t)(tps < 1 ? 1 : tps > GW_TPS_MAX ? GW_TPS_MAX : tps);
  b->interval_us = (GW_US_PER_S + rate - 1) / rate;
  int rc = queue_init(&b->writes, GW_WRITE_QUEUE_CAP);
  if (rc == GW_OK)
    rc = queue_init(&b->responses, GW_RESPONSE_QUEUE_CAP);
  return rc;
}

void gw__queues_free(gw_bridge *b)
{
  free(b->writes.items);
  free(b->responses.items);
}

void gw__queues_clear(gw_bridge *b)
{
  queue_clear(&b->writes);
  queue_clear(&b->responses);
}

/* Even spacing, no burst: a bucket that fills up during a quiet spell lets
 * rate telegrams go at once and rate more within the same second, and
 * clumps overflow the small buffers of KNX interfaces. Spaced telegrams
 * never put more than rate into any second; the first one after a quiet
 * spell still goes at once. */
static bool pace_allows(gw_bridge *b, uint64_t now_ms)
{
  uint64_t now_us = now_ms * GW_US_PER_MS;
  if (!b->sent_once || now_us >= b->next_us)
    return true;
  /* The clock went back: start over rather than wait for the old time. */
  return now_us + b->interval_us < b->next_us;
}

static void pace_note(gw_bridge *b, uint64_t now_ms)
{
  b->sent_once = true;
  b->next_us = now_ms * GW_US_PER_MS + b->interval_us;
}

uint64_t gw_bridge_pump(gw_bridge *b, uint64_t now_ms)
{
  if (!b)
    return 0;
  b->now_ms = now_ms;
  /* A failed send also takes its slot: the work per call stays bounded
   * even while the link is failing. */
  while ((b->responses.len || b->writes.len) && pace_allows(b, now_ms)) {
    gw_queue *q = b->responses.len ? &b->responses : &b->writes;
    gw_telegram t = queue_pop(q);
    pace_note(b, now_ms);
    if (b->ops.knx_send(b->user_data, t.ga, t.svc, &t.p) == 0)
      b->sent++;
  }
  if (!b->responses.len && !b->writes.len) {
    b->overflow_logged = false;
    return 0;
  }
  return (b->next_us + GW_US_PER_MS - 1) / GW_US_PER_MS;
}

uint64_t gw_bridge_telegrams_sent(const gw_bridge *b)
{
  return b ? b->sent : 0;
}
