/* bench_meter: OCPP load on a running ocppknxd, with the daemon's own cost.
 *
 *   bench_meter -u HOST:PORT -p PID [-c chargers] [-n calls] [-i prefix]
 *               [-f first] [-s step_s] [-w pace_ms] [-a amps] [-H hold_s]
 *               [-I idle_s] [-S settle_ms] [-x] [-o] [-k in_flight] [-L]
 *
 * Every charger (identity PREFIX0001 ... from index FIRST) connects over
 * ws:// from its own source address 127.10.x.y (-o: all from 127.10.0.1,
 * as a building behind one NAT address; -k: at most IN_FLIGHT connects and
 * handshakes at once, the next one starts when one is upgraded or fails),
 * boots, reports Preparing, starts a transaction
 * and reports Charging (-x: boot only). When all are there the daemon's
 * utime + stime (/proc/PID/stat) is read, CALLS MeterValues with three
 * sampled values (energy register, current, power) are sent, spread over
 * the chargers, each charger waiting for the answer to its last call, and
 * the daemon's CPU time is read again. -L sends the larger frame of a
 * three-phase meter (energy register, current and voltage L1-L3, power:
 * about 930 bytes) instead of three values. Calls the gateway makes are answered
 * as a compliant charger would.
 *
 * -s gives the simulated seconds between a charger's meter values (their
 * timestamps and energy advance by it; 0 = wall clock, 10 s of energy per
 * value), -w a pause in milliseconds between a charger's answer and its
 * next value (the chargers' first values spread over one pause), -a the
 * charging current. After the calls (or when all are ready with -n 0) the
 * daemon's VmRSS is printed after SETTLE ms; -I counts its context switches
 * over IDLE seconds; -H keeps every connection open HOLD more seconds.
 *
 * Output: one "key value" line per number, for scripts. Exit status 0 when
 * every charger got through and every call was answered, 1 otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>
#include <wslay/wslay.h>

enum {
  BM_MAX_CHARGERS = 5000,
  BM_MAX_CALLS = 10000000,
  BM_HEAD_MAX = 4096,
  BM_MSG_MAX = 4096,
  BM_ID_MAX = 48,
  BM_WATCHDOG_MS = 60000
};

typedef enum {
  ST_CONNECTING,
  ST_HANDSHAKE,
  ST_SETUP,   /* boot, status, start transaction */
  ST_READY,   /* waiting for the others */
  ST_METER,
  ST_DONE,
  ST_FAILED
} bm_state;

/* The calls a charger makes before the measured ones, in order. */
typedef enum {
  STEP_BOOT,
  STEP_PREPARING,
  STEP_START,
  STEP_CHARGING,
  STEP_COUNT
} bm_step;

typedef struct bm_charger bm_charger;
typedef struct bm_bench bm_bench;

struct bm_charger {
  bm_bench *b;
  int index;
  char id[BM_ID_MAX + 1];
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  uv_timer_t pace;
  bm_state state;
  bool in_flight;          /* counted in bm_bench.in_flight */
  char head[BM_HEAD_MAX];
  size_t head_len;
  wslay_event_context_ptr ws;
  const uint8_t *in;
  size_t in_len;
  uint8_t held[14];       /* a frame header waiting for its payload */
  size_t held_len;
  int step;
  unsigned seq;
  char pending[32];       /* id of our call in flight, "" none */
  uint64_t sent_ns;
  long tx_id;
  double energy_wh;
  double sim_time;        /* seconds since the epoch of the last value */
};

struct bm_bench {
  uv_loop_t *loop;
  struct sockaddr_in server;
  char prefix[32];
  int first;
  int n_chargers;
  long calls;
  double step_s;
  uint64_t pace_ms;
  double amps;
  bool no_start;
  bool one_address;        /* -o */
  int max_in_flight;       /* -k, 0 = all at once */
  bool large_frame;        /* -L */
  int next_start;          /* chargers started so far */
  int in_flight;           /* connecting or in the handshake */
  int n_refused;           /* upgrade refused or closed in the handshake */
  uint64_t start_ns;       /* first connect */
  double hold_s, idle_s;
  uint64_t settle_ms;
  int pid;
  bm_charger *chargers;
  int n_ready, n_failed;
  long sent, answered;
  double *rtt_us;          /* round trip of every measured call */
  double cpu0, wall0, wall1, cpu1;
  uv_timer_t phase_timer;
  uv_timer_t watchdog;
  int phase;               /* see after_ready() */
  bool failed;
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the daemon's numbers from /proc ----------------------------------- */

/* utime + stime in seconds, -1 when the process is gone */
static double proc_cpu_s(int pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  /* the command name may hold spaces: fields count from its ')' */
  const char *p = strrchr(buf, ')');
  if (!p)
    return -1;
  unsigned long utime = 0, stime = 0;
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
             &utime, &stime) != 2)
    return -1;
  return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* a "Key:   value" number of /proc/PID/status, -1 when missing */
static long proc_status(int pid, const char *key) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  long v = -1;
  size_t kl = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
      v = strtol(line + kl + 1, NULL, 10);
      break;
    }
  }
  fclose(f);
  return v;
}

/* ---- sending ------------------------------------------------------------ */

typedef struct {
  uv_write_t req;
  char data[];
} bm_write;

static void on_written(uv_write_t *req, int status) {
  (void)status;
  free(req);
}

/* A frame leaves in one write, as a charger's TCP stack sends it: wslay's
 * header (WSLAY_MSG_MORE) is held until its payload comes. */
static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data,
                          size_t len, int flags, void *user_data) {
  bm_charger *c = user_data;
  if ((flags & WSLAY_MSG_MORE) && c->held_len == 0 &&
      len <= sizeof c->held) {
    memcpy(c->held, data, len);
    c->held_len = len;
    return (ssize_t)len;
  }
  uv_buf_t bufs[2] = {uv_buf_init((char *)c->held, (unsigned)c->held_len),
                      uv_buf_init((char *)data, (unsigned)len)};
  size_t total = c->held_len + len;
  c->held_len = 0;
  int n = uv_try_write((uv_stream_t *)&c->tcp, bufs, 2);
  if (n == UV_EAGAIN)
    n = 0;
  if (n < 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  if ((size_t)n < total) {
    bm_write *w = malloc(sizeof *w + total - (size_t)n);
    if (!w) {
      wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
      return -1;
    }
    size_t off = 0;
    for (int i = 0; i < 2; i++) {
      size_t skip = (size_t)n > bufs[i].len ? bufs[i].len : (size_t)n;
      memcpy(w->data + off, bufs[i].base + skip, bufs[i].len - skip);
      off += bufs[i].len - skip;
      n -= (int)skip;
    }
    uv_buf_t rest = uv_buf_init(w->data, (unsigned)off);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &rest, 1, on_written) != 0) {
      free(w);
      wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
      return -1;
    }
  }
  return (ssize_t)len;
}

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf,
                          size_t len, int flags, void *user_data) {
  bm_charger *c = user_data;
  (void)flags;
  if (c->in_len == 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  if (len > c->in_len)
    len = c->in_len;
  memcpy(buf, c->in, len);
  c->in += len;
  c->in_len -= len;
  return (ssize_t)len;
}

static int ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf,
                         size_t len, void *user_data) {
  (void)ctx;
  (void)user_data;
  /* masking only defeats proxy cache poisoning; any key is valid here */
  for (size_t i = 0; i < len; i++)
    buf[i] = (uint8_t)(0x5a + i);
  return 0;
}

static void charger_fail(bm_charger *c, const char *why);

static void send_text(bm_charger *c, const char *text, size_t len) {
  struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};
  if (wslay_event_queue_msg(c->ws, &msg) != 0 || wslay_event_send(c->ws) != 0)
    charger_fail(c, "send failed");
}

static void iso_time(double t, char *out, size_t cap) {
  time_t s = (time_t)t;
  struct tm tm;
  gmtime_r(&s, &tm);
  strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static double wall_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sends CALL action with the JSON payload text; remembers its id. */
static void send_call(bm_charger *c, const char *action, const char *payload) {
  char msg[BM_MSG_MAX];
  snprintf(c->pending, sizeof c->pending, "b%u", ++c->seq);
  int n = snprintf(msg, sizeof msg, "[2,\"%s\",\"%s\",%s]", c->pending, action,
                   payload);
  if (n < 0 || (size_t)n >= sizeof msg) {
    charger_fail(c, "call too long");
    return;
  }
  c->sent_ns = now_ns();
  send_text(c, msg, (size_t)n);
}

static void send_status(bm_charger *c, const char *status) {
  char p[256], ts[32];
  iso_time(wall_s(), ts, sizeof ts);
  snprintf(p, sizeof p,
           "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"%s\","
           "\"timestamp\":\"%s\"}",
           status, ts);
  send_call(c, "StatusNotification", p);
}

static void send_setup_step(bm_charger *c) {
  char p[512], ts[32];
  switch ((bm_step)c->step) {
  case STEP_BOOT:
    send_call(c, "BootNotification",
              "{\"chargePointVendor\":\"Bench\",\"chargePointModel\":\"Load\","
              "\"firmwareVersion\":\"1.0\"}");
    break;
  case STEP_PREPARING:
    send_status(c, "Preparing");
    break;
  case STEP_START:
    iso_time(wall_s(), ts, sizeof ts);
    snprintf(p, sizeof p,
             "{\"connectorId\":1,\"idTag\":\"BENCH%04d\",\"meterStart\":%.0f,"
             "\"timestamp\":\"%s\"}",
             c->index, c->energy_wh, ts);
    send_call(c, "StartTransaction", p);
    break;
  case STEP_CHARGING:
    send_status(c, "Charging");
    break;
  case STEP_COUNT:
    break;
  }
}

static void meter_payload_large(char *p, size_t cap, long tx, const char *ts,
                                double wh, double amps, double watts) {
  static const char *const fmt =
      "{\"connectorId\":1,\"transactionId\":%ld,\"meterValue\":[{"
      "\"timestamp\":\"%s\",\"sampledValue\":["
      "{\"value\":\"%.1f\",\"context\":\"Sample.Periodic\","
      "\"measurand\":\"Energy.Active.Import.Register\",\"location\":\"Outlet\","
      "\"unit\":\"Wh\"},"
      "{\"value\":\"%.2f\",\"context\":\"Sample.Periodic\","
      "\"measurand\":\"Current.Import\",\"phase\":\"L1\",\"location\":\"Outlet\","
      "\"unit\":\"A\"},"
      "{\"value\":\"%.2f\",\"context\":\"Sample.Periodic\","
      "\"measurand\":\"Current.Import\",\"phase\":\"L2\",\"location\":\"Outlet\","
      "\"unit\":\"A\"},"
      "{\"value\":\"%.2f\",\"context\":\"Sample.Periodic\","
      "\"measurand\":\"Current.Import\",\"phase\":\"L3\",\"location\":\"Outlet\","
      "\"unit\":\"A\"},"
      "{\"value\":\"230.1\",\"context\":\"Sample.Periodic\","
      "\"measurand\":\"Voltage\",\"phase\":\"L1-N\",\"location\":\"Outlet\","
      "\"unit\":\"V\"},"
      "{\"value\":\"%.0f\",\"context\":\"Sample.Periodic\","
      "\"measurand\":\"Power.Active.Import\",\"location\":\"Outlet\","
      "\"unit\":\"W\"}]}]}";
  snprintf(p, cap, fmt, tx, ts, wh, amps, amps - 0.1, amps + 0.1, watts);
}

/* One meter value: the energy grows with the current over the step, the
 * current and power wobble a little as real meters do. */
static void send_meter(bm_charger *c) {
  bm_bench *b = c->b;
  double step = b->step_s > 0 ? b->step_s : 10.0;
  c->sim_time = b->step_s > 0 ? c->sim_time + b->step_s : wall_s();
  double wobble = ((double)(c->seq % 5) - 2.0) * 0.02;
  double amps = b->amps + wobble;
  double watts = amps * 230.0 * 3.0;
  c->energy_wh += watts * step / 3600.0;
  char p[BM_MSG_MAX], ts[32];
  iso_time(c->sim_time, ts, sizeof ts);
  if (b->large_frame)
    meter_payload_large(p, sizeof p, c->tx_id, ts, c->energy_wh, amps, watts);
  else
    snprintf(p, sizeof p,
             "{\"connectorId\":1,\"transactionId\":%ld,\"meterValue\":[{"
             "\"timestamp\":\"%s\",\"sampledValue\":["
             "{\"value\":\"%.1f\",\"context\":\"Sample.Periodic\","
             "\"measurand\":\"Energy.Active.Import.Register\",\"unit\":\"Wh\"},"
             "{\"value\":\"%.2f\",\"context\":\"Sample.Periodic\","
             "\"measurand\":\"Current.Import\",\"unit\":\"A\"},"
             "{\"value\":\"%.0f\",\"context\":\"Sample.Periodic\","
             "\"measurand\":\"Power.Active.Import\",\"unit\":\"W\"}]}]}",
             c->tx_id, ts, c->energy_wh, amps, watts);
  b->sent++;
  send_call(c, "MeterValues", p);
}

/* ---- the phases --------------------------------------------------------- */

static void close_all(bm_bench *b);

static void print_rtt(bm_bench *b);

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, c = *(const double *)y;
  return (a > c) - (a < c);
}

static void finish_calls(bm_bench *b) {
  b->cpu1 = proc_cpu_s(b->pid);
  b->wall1 = (double)now_ns() / 1e9;
  double cpu = b->cpu1 - b->cpu0, wall = b->wall1 - b->wall0;
  printf("calls %ld\n", b->answered);
  printf("wall_s %.3f\n", wall);
  printf("calls_per_s %.0f\n", wall > 0 ? (double)b->answered / wall : 0);
  printf("daemon_cpu_s %.2f\n", cpu);
  printf("daemon_cpu_s_per_10k %.3f\n",
         b->answered ? cpu * 10000.0 / (double)b->answered : 0);
  print_rtt(b);
  fflush(stdout);
}

static void print_rtt(bm_bench *b) {
  if (b->answered == 0)
    return;
  qsort(b->rtt_us, (size_t)b->answered, sizeof *b->rtt_us, cmp_double);
  long n = b->answered;
  printf("rtt_p50_us %.0f\n", b->rtt_us[n / 2]);
  printf("rtt_p99_us %.0f\n", b->rtt_us[(n * 99) / 100]);
}

/* after_ready: 0 measure calls, 1 settle, 2 memory + idle start, 3 idle end,
 * 4 hold, 5 done */
static void next_phase(bm_bench *b);

static void on_phase_timer(uv_timer_t *t) {
  next_phase(t->data);
}

static void meter_next(bm_charger *c);

static void on_pace(uv_timer_t *t) {
  bm_charger *c = t->data;
  if (c->state == ST_METER)
    send_meter(c);
}

static void meter_next(bm_charger *c) {
  bm_bench *b = c->b;
  if (b->sent >= b->calls) {
    c->state = ST_DONE;
    return;
  }
  c->state = ST_METER;
  if (b->pace_ms)
    uv_timer_start(&c->pace, on_pace, b->pace_ms, 0);
  else
    send_meter(c);
}

/* Paced chargers start spread evenly over one pace: real chargers are not
 * in step, and a load that starts in step stays in step, so it would
 * measure bursts of every charger at once instead of the offered rate. */
static void meter_first(bm_charger *c) {
  bm_bench *b = c->b;
  if (!b->pace_ms) {
    meter_next(c);
    return;
  }
  c->state = ST_METER;
  uint64_t slot = (uint64_t)(c - b->chargers);
  uint64_t offset = b->pace_ms * slot / (uint64_t)b->n_chargers;
  uv_timer_start(&c->pace, on_pace, offset, 0);
}

static long ctx0;

static void next_phase(bm_bench *b) {
  b->phase++;
  switch (b->phase) {
  case 1: /* all ready: the measured calls */
    printf("chargers_ready %d\n", b->n_ready);
    fflush(stdout);
    if (b->calls > 0) {
      b->cpu0 = proc_cpu_s(b->pid);
      b->wall0 = (double)now_ns() / 1e9;
      for (int i = 0; i < b->n_chargers; i++)
        meter_first(&b->chargers[i]);
      return; /* the last answer calls next_phase */
    }
    next_phase(b);
    return;
  case 2:
    if (b->calls > 0)
      finish_calls(b);
    uv_timer_start(&b->phase_timer, on_phase_timer, b->settle_ms, 0);
    return;
  case 3:
    printf("daemon_vmrss_kib %ld\n", proc_status(b->pid, "VmRSS"));
    printf("daemon_vmhwm_kib %ld\n", proc_status(b->pid, "VmHWM"));
    fflush(stdout);
    if (b->idle_s > 0) {
      ctx0 = proc_status(b->pid, "voluntary_ctxt_switches") +
             proc_status(b->pid, "nonvoluntary_ctxt_switches");
      uv_timer_start(&b->phase_timer, on_phase_timer,
                     (uint64_t)(b->idle_s * 1000), 0);
      return;
    }
    next_phase(b);
    return;
  case 4:
    if (b->idle_s > 0) {
      long c1 = proc_status(b->pid, "voluntary_ctxt_switches") +
                proc_status(b->pid, "nonvoluntary_ctxt_switches");
      printf("idle_s %.0f\n", b->idle_s);
      printf("daemon_ctxt_switches %ld\n", c1 - ctx0);
      fflush(stdout);
    }
    uv_timer_start(&b->phase_timer, on_phase_timer,
                   (uint64_t)(b->hold_s * 1000), 0);
    return;
  default:
    close_all(b);
    return;
  }
}

static void charger_ready(bm_charger *c) {
  bm_bench *b = c->b;
  c->state = ST_READY;
  if (++b->n_ready + b->n_failed == b->n_chargers) {
    uv_timer_stop(&b->watchdog);
    printf("ready_s %.3f\n", (double)(now_ns() - b->start_ns) / 1e9);
    printf("chargers_refused %d\n", b->n_refused);
    if (b->n_failed) {
      b->failed = true;
      close_all(b);
      return;
    }
    next_phase(b);
  }
}

/* ---- receiving ---------------------------------------------------------- */

/* What a compliant charger answers to the gateway's calls. */
static const struct {
  const char *action;
  const char *answer;
} answers[] = {
    {"GetConfiguration",
     "{\"configurationKey\":[{\"key\":\"NumberOfConnectors\","
     "\"readonly\":true,\"value\":\"1\"}]}"},
    {"ClearCache", "{\"status\":\"Accepted\"}"},
    {"DataTransfer", "{\"status\":\"Accepted\"}"},
};

static void answer_call(bm_charger *c, const char *id, const char *action) {
  const char *payload = "{\"status\":\"Accepted\"}";
  for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++)
    if (strcmp(answers[i].action, action) == 0)
      payload = answers[i].answer;
  char msg[BM_MSG_MAX];
  int n = snprintf(msg, sizeof msg, "[3,\"%s\",%s]", id, payload);
  if (n > 0 && (size_t)n < sizeof msg)
    send_text(c, msg, (size_t)n);
}

static void on_answer(bm_charger *c, json_t *payload) {
  bm_bench *b = c->b;
  c->pending[0] = 0;
  if (c->state == ST_METER) {
    if (b->answered < b->calls)
      b->rtt_us[b->answered] = (double)(now_ns() - c->sent_ns) / 1e3;
    if (++b->answered == b->calls) {
      next_phase(b);
      return;
    }
    meter_next(c);
    return;
  }
  if (c->state != ST_SETUP)
    return;
  if (c->step == STEP_START) {
    json_t *tx = json_object_get(payload, "transactionId");
    if (!json_is_integer(tx)) {
      charger_fail(c, "StartTransaction answer without transactionId");
      return;
    }
    c->tx_id = (long)json_integer_value(tx);
  }
  c->step++;
  if (c->step == STEP_COUNT || (b->no_start && c->step > STEP_BOOT)) {
    charger_ready(c);
    return;
  }
  send_setup_step(c);
}

static void on_text(bm_charger *c, const uint8_t *msg, size_t len) {
  json_error_t err;
  json_t *m = json_loadb((const char *)msg, len, 0, &err);
  if (!json_is_array(m)) {
    json_decref(m);
    charger_fail(c, "not a JSON array");
    return;
  }
  json_int_t type = json_integer_value(json_array_get(m, 0));
  const char *id = json_string_value(json_array_get(m, 1));
  if (!id) {
    charger_fail(c, "message without id");
  } else if (type == 2) {
    const char *action = json_string_value(json_array_get(m, 2));
    answer_call(c, id, action ? action : "");
  } else if (type == 3 && strcmp(id, c->pending) == 0) {
    on_answer(c, json_array_get(m, 2));
  } else if (type == 4 && strcmp(id, c->pending) == 0) {
    fprintf(stderr, "%s: CALLERROR %.*s\n", c->id, (int)len, (const char *)msg);
    charger_fail(c, "call refused");
  }
  json_decref(m);
}

static void ws_msg_cb(wslay_event_context_ptr ctx,
                      const struct wslay_event_on_msg_recv_arg *arg,
                      void *user_data) {
  (void)ctx;
  bm_charger *c = user_data;
  if (arg->opcode == WSLAY_TEXT_FRAME)
    on_text(c, arg->msg, arg->msg_length);
  else if (arg->opcode == WSLAY_CONNECTION_CLOSE && c->state != ST_DONE)
    charger_fail(c, "closed by the gateway");
}

static const struct wslay_event_callbacks ws_callbacks = {
    .recv_callback = ws_recv_cb,
    .send_callback = ws_send_cb,
    .genmask_callback = ws_genmask_cb,
    .on_msg_recv_callback = ws_msg_cb,
};

static void feed_ws(bm_charger *c, const uint8_t *data, size_t len) {
  c->in = data;
  c->in_len = len;
  if (wslay_event_recv(c->ws) != 0) {
    charger_fail(c, "WebSocket error");
    return;
  }
  if (wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0)
    charger_fail(c, "WebSocket send error");
}

static void handshake_over(bm_charger *c);

static void on_head(bm_charger *c, const char *data, size_t len) {
  if (c->head_len + len >= sizeof c->head) {
    charger_fail(c, "handshake answer too long");
    return;
  }
  memcpy(c->head + c->head_len, data, len);
  c->head_len += len;
  c->head[c->head_len] = 0;
  char *end = strstr(c->head, "\r\n\r\n");
  if (!end)
    return;
  if (strncmp(c->head, "HTTP/1.1 101", 12) != 0) {
    fprintf(stderr, "%s: %.*s\n", c->id, (int)strcspn(c->head, "\r"), c->head);
    charger_fail(c, "upgrade refused");
    return;
  }
  if (wslay_event_context_client_init(&c->ws, &ws_callbacks, c) != 0) {
    charger_fail(c, "wslay");
    return;
  }
  c->state = ST_SETUP;
  c->step = STEP_BOOT;
  handshake_over(c);
  send_setup_step(c);
  size_t used = (size_t)(end + 4 - c->head);
  if (used < c->head_len)
    feed_ws(c, (const uint8_t *)c->head + used, c->head_len - used);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  static char slab[65536];
  (void)h;
  (void)suggested;
  *buf = uv_buf_init(slab, sizeof slab);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  bm_charger *c = s->data;
  if (n < 0) {
    if (c->state != ST_DONE)
      charger_fail(c, uv_strerror((int)n));
    return;
  }
  if (c->state == ST_HANDSHAKE)
    on_head(c, buf->base, (size_t)n);
  else if (c->ws && c->state != ST_FAILED)
    feed_ws(c, (const uint8_t *)buf->base, (size_t)n);
}

static void on_connect(uv_connect_t *req, int status) {
  bm_charger *c = req->data;
  if (status < 0) {
    charger_fail(c, uv_strerror(status));
    return;
  }
  char *req_text = malloc(BM_HEAD_MAX);
  if (!req_text) {
    charger_fail(c, "out of memory");
    return;
  }
  int n = snprintf(req_text, BM_HEAD_MAX,
                   "GET /ocpp/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n",
                   c->id);
  bm_write *w = malloc(sizeof *w + (size_t)n);
  if (!w) {
    free(req_text);
    charger_fail(c, "out of memory");
    return;
  }
  memcpy(w->data, req_text, (size_t)n);
  free(req_text);
  uv_buf_t buf = uv_buf_init(w->data, (unsigned)n);
  c->state = ST_HANDSHAKE;
  /* wslay hands header and payload over separately: no Nagle delay */
  uv_tcp_nodelay(&c->tcp, 1);
  if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) != 0) {
    free(w);
    charger_fail(c, "write");
    return;
  }
  uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
}

static void charger_fail(bm_charger *c, const char *why) {
  bm_bench *b = c->b;
  if (c->state == ST_FAILED)
    return;
  fprintf(stderr, "%s: %s\n", c->id, why);
  bool was_setup = c->state < ST_READY;
  if (c->state <= ST_HANDSHAKE)
    b->n_refused++;
  c->state = ST_FAILED;
  handshake_over(c);
  uv_read_stop((uv_stream_t *)&c->tcp);
  if (was_setup) {
    b->n_failed++;
    if (b->n_ready + b->n_failed == b->n_chargers) {
      b->failed = true;
      close_all(b);
    }
    return;
  }
  b->failed = true;
  close_all(b);
}

static int charger_start(bm_bench *b, bm_charger *c, int index) {
  c->b = b;
  c->index = index;
  c->state = ST_CONNECTING;
  c->in_flight = true;
  b->in_flight++;
  c->energy_wh = 1000.0 * index;
  c->sim_time = wall_s();
  snprintf(c->id, sizeof c->id, "%s%04d", b->prefix, index);
  uv_tcp_init(b->loop, &c->tcp);
  uv_timer_init(b->loop, &c->pace);
  c->tcp.data = c;
  c->pace.data = c;
  c->connect_req.data = c;
  /* one source address per charger: the gateway limits per address */
  char src[32];
  if (b->one_address)
    snprintf(src, sizeof src, "127.10.0.1");
  else
    snprintf(src, sizeof src, "127.10.%d.%d", index / 250, index % 250 + 1);
  struct sockaddr_in sa;
  uv_ip4_addr(src, 0, &sa);
  int rc = uv_tcp_bind(&c->tcp, (const struct sockaddr *)&sa, 0);
  if (rc == 0)
    rc = uv_tcp_connect(&c->connect_req, &c->tcp,
                        (const struct sockaddr *)&b->server, on_connect);
  return rc;
}

static void close_all(bm_bench *b) {
  uv_stop(b->loop);
}

/* Starts chargers until IN_FLIGHT are connecting or in the handshake. */
static void start_more(bm_bench *b) {
  while (b->next_start < b->n_chargers &&
         (b->max_in_flight == 0 || b->in_flight < b->max_in_flight)) {
    int i = b->next_start++;
    int rc = charger_start(b, &b->chargers[i], b->first + i + 1);
    if (rc != 0) {
      fprintf(stderr, "charger %d: %s\n", i, uv_strerror(rc));
      b->failed = true;
      close_all(b);
      return;
    }
  }
}

static void handshake_over(bm_charger *c) {
  if (!c->in_flight)
    return;
  c->in_flight = false;
  c->b->in_flight--;
  start_more(c->b);
}

static void on_watchdog(uv_timer_t *t) {
  bm_bench *b = t->data;
  fprintf(stderr, "only %d of %d chargers ready after %d s\n", b->n_ready,
          b->n_chargers, BM_WATCHDOG_MS / 1000);
  b->failed = true;
  close_all(b);
}

/* ---- main --------------------------------------------------------------- */

static void usage(void) {
  fprintf(stderr,
          "usage: bench_meter -u HOST:PORT -p PID [-c chargers] [-n calls]\n"
          "       [-i prefix] [-f first] [-s step_s] [-w pace_ms] [-a amps]\n"
          "       [-H hold_s] [-I idle_s] [-S settle_ms] [-x] [-o]\n"
          "       [-k in_flight] [-L]\n");
}

static void raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

static int parse_args(bm_bench *b, int argc, char **argv) {
  const char *url = NULL;
  int opt;
  snprintf(b->prefix, sizeof b->prefix, "BENCH");
  b->n_chargers = 100;
  b->amps = 16.0;
  b->settle_ms = 2000;
  while ((opt = getopt(argc, argv, "u:p:c:n:i:f:s:w:a:H:I:S:xok:L")) != -1) {
    switch (opt) {
    case 'u': url = optarg; break;
    case 'p': b->pid = atoi(optarg); break;
    case 'c': b->n_chargers = atoi(optarg); break;
    case 'n': b->calls = atol(optarg); break;
    case 'i': snprintf(b->prefix, sizeof b->prefix, "%s", optarg); break;
    case 'f': b->first = atoi(optarg); break;
    case 's': b->step_s = atof(optarg); break;
    case 'w': b->pace_ms = (uint64_t)atol(optarg); break;
    case 'a': b->amps = atof(optarg); break;
    case 'H': b->hold_s = atof(optarg); break;
    case 'I': b->idle_s = atof(optarg); break;
    case 'S': b->settle_ms = (uint64_t)atol(optarg); break;
    case 'x': b->no_start = true; break;
    case 'o': b->one_address = true; break;
    case 'k': b->max_in_flight = atoi(optarg); break;
    case 'L': b->large_frame = true; break;
    default: return -1;
    }
  }
  if (!url || b->pid <= 0 || b->n_chargers < 1 ||
      b->n_chargers > BM_MAX_CHARGERS || b->calls < 0 ||
      b->calls > BM_MAX_CALLS || b->first < 0 || b->hold_s < 0 || b->max_in_flight < 0 ||
      b->idle_s < 0 || (b->no_start && b->calls > 0))
    return -1;
  char host[64];
  const char *colon = strrchr(url, ':');
  if (!colon || (size_t)(colon - url) >= sizeof host)
    return -1;
  memcpy(host, url, (size_t)(colon - url));
  host[colon - url] = 0;
  if (uv_ip4_addr(host, atoi(colon + 1), &b->server) != 0)
    return -1;
  return 0;
}

int main(int argc, char **argv) {
  bm_bench b = {0};
  if (parse_args(&b, argc, argv) != 0) {
    usage();
    return 2;
  }
  if (proc_cpu_s(b.pid) < 0) {
    fprintf(stderr, "no process %d\n", b.pid);
    return 2;
  }
  raise_nofile();
  b.loop = uv_default_loop();
  b.chargers = calloc((size_t)b.n_chargers, sizeof *b.chargers);
  b.rtt_us = calloc((size_t)b.calls + 1, sizeof *b.rtt_us);
  if (!b.chargers || !b.rtt_us)
    return 2;
  uv_timer_init(b.loop, &b.phase_timer);
  uv_timer_init(b.loop, &b.watchdog);
  b.phase_timer.data = &b;
  b.watchdog.data = &b;
  uv_timer_start(&b.watchdog, on_watchdog, BM_WATCHDOG_MS, 0);
  b.start_ns = now_ns();
  start_more(&b);
  uv_run(b.loop, UV_RUN_DEFAULT);
  /* the process ends here: the kernel closes every connection at once */
  printf("result %s\n", b.failed ? "FAILED" : "ok");
  free(b.rtt_us);
  for (int i = 0; i < b.n_chargers; i++)
    if (b.chargers[i].ws)
      wslay_event_context_free(b.chargers[i].ws);
  free(b.chargers);
  return b.failed ? 1 : 0;
}
