/* Fuzz target: the configuration loader and its checks, from memory.
 *
 * The input is a main file, then charger files, each after a line "%%":
 *
 *   [ocpp]\nlisten = ...\n%%\n[charger]\nid = A\n...\n%%\n[charger]...
 *
 * gw_conf_load_strings reads them without touching the disk. Whatever the
 * input, the loader must not crash or leak, must fail with diagnostics or
 * succeed without any, and a configuration it accepts must hold only values
 * that pass the checks it documents. Seeds: the example files in config/
 * ($OCPPKNX_CONFIG_DIR, set by meson) and a few small ones. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/conf.h"

#define MAX_CHARGER_TEXTS 16
#define MAX_DIAG_LINES 501 /* the loader's cap and its "too many" line */

/* ---- seeds --------------------------------------------------------------- */

static const char *const small_seeds[] = {
  "[ocpp]\nlisten = 127.0.0.1:8016\n%%\n[charger]\nid = A\n[connector 1]\n"
  "status = 1/2/3\ncharging = 1/2/4\n",
  "[ocpp]\ntls_listen = [::1]:8017\ntls_cert = s.crt\ntls_key = s.key\n"
  "tls_ca = ca.crt\n%%\n[charger]\nid = A\nsecurity_profile = 3\n%%\n"
  "[charger]\nid = B\nsecurity_profile = 1\npassword = secret\n",
  "[log]\nlevel = debug\n%%\n[charger]\nid = A\ntags = a, b ,c\n"
  "tag_match = relaxed\nstart_mode = any\nstop_mode = pause\n"
  "time_dpt = 19.001\n[connector 2]\nstart_time = 1/1/1\n%%\n"
  "[charger]\nid = B\n[connector 1]\nend_time = 1/1/1\nmeter = 300\n",
  "\xEF\xBB\xBF[knx]\nurl = ip:127.0.0.1:6720\n  [chargers]  \ndir = x ; y\n"
  "%%\n[charger]\nid = A/B\nphases = 2\n[connector 9]\n[connector x]\n",
};

#define MAX_SEEDS 16
static char *seeds[MAX_SEEDS];
static size_t seed_lens[MAX_SEEDS];
static size_t n_seeds;

static char *read_text(const char *path, size_t *len)
{
  FILE *fp = fopen(path, "rb");
  if (fp == NULL)
    return NULL;
  char *buf = NULL;
  size_t cap = 0;
  FILE *mem = open_memstream(&buf, &cap);
  int c;
  while (mem != NULL && (c = fgetc(fp)) != EOF)
    fputc(c, mem);
  fclose(fp);
  if (mem == NULL)
    return NULL;
  fclose(mem);
  *len = cap;
  return buf;
}

/* The text without comment lines and trailing comments, so that the seed
 * fits the plain driver's input size. */
static void append_stripped(FILE *out, const char *text)
{
  const char *p = text;
  while (*p != '\0') {
    size_t n = strcspn(p, "\n");
    const char *end = p + n;
    const char *semi = memchr(p, ';', n);
    if (semi != NULL)
      end = semi;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
      end--;
    if (end > p && *p != '#')
      fprintf(out, "%.*s\n", (int)(end - p), p);
    p += n + (p[n] == '\n');
  }
}

static void add_seed(char *text, size_t len)
{
  if (text == NULL || n_seeds == MAX_SEEDS) {
    free(text);
    return;
  }
  seeds[n_seeds] = text;
  seed_lens[n_seeds] = len;
  n_seeds++;
}

/* Seeds from config/: the main file alone, with each charger file, and
 * stripped of comments with all of them. */
static void load_config_seeds(void)
{
  const char *dir = getenv("OCPPKNX_CONFIG_DIR");
  if (dir == NULL)
    return;
  char path[4096];
  snprintf(path, sizeof path, "%s/ocppknxd.conf", dir);
  size_t main_len = 0;
  char *main_text = read_text(path, &main_len);
  if (main_text == NULL)
    return;
  char *all = NULL;
  size_t all_len = 0;
  FILE *stripped = open_memstream(&all, &all_len);
  if (stripped != NULL)
    append_stripped(stripped, main_text);
  snprintf(path, sizeof path, "%s/chargers.d", dir);
  DIR *d = opendir(path);
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n < 6 || strcmp(e->d_name + n - 5, ".conf") != 0)
      continue;
    char file[4096 + 256];
    snprintf(file, sizeof file, "%s/%s", path, e->d_name);
    size_t len = 0;
    char *text = read_text(file, &len);
    if (text == NULL)
      continue;
    char *seed = NULL;
    size_t seed_len = 0;
    FILE *out = open_memstream(&seed, &seed_len);
    if (out != NULL) {
      fwrite(main_text, 1, main_len, out);
      fputs("\n%%\n", out);
      fwrite(text, 1, len, out);
      fclose(out);
      add_seed(seed, seed_len);
    }
    if (stripped != NULL) {
      fputs("%%\n", stripped);
      append_stripped(stripped, text);
    }
    free(text);
  }
  if (d != NULL)
    closedir(d);
  if (stripped != NULL) {
    fclose(stripped);
    add_seed(all, all_len);
  }
  add_seed(main_text, main_len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  load_config_seeds();
  for (size_t i = 0; i < sizeof small_seeds / sizeof small_seeds[0]; i++)
    add_seed(strdup(small_seeds[i]), strlen(small_seeds[i]));
  return 0;
}

size_t fuzz_seed(size_t index, const uint8_t **data);

size_t fuzz_seed(size_t index, const uint8_t **data)
{
  if (index >= n_seeds) {
    *data = NULL;
    return 0;
  }
  *data = (const uint8_t *)seeds[index];
  return seed_lens[index];
}

/* ---- invariants ---------------------------------------------------------- */

static void check(int ok)
{
  if (!ok)
    abort();
}

static bool is_listen(const char *s)
{
  return s != NULL && (s[0] == '\0' || ocpp_listen_parse(s, NULL) == OCPP_OK);
}

static bool dpt_in(knx_dpt d, knx_dpt a, knx_dpt b)
{
  return d == a || d == b;
}

static void check_main(const gw_conf *c)
{
  check(c->file != NULL && c->knx_url != NULL && c->knx_url[0] != '\0');
  check(c->store_dir != NULL && c->store_dir[0] != '\0');
  check(c->chargers_dir != NULL && c->chargers_dir[0] != '\0');
  check(is_listen(c->listen) && is_listen(c->tls_listen));
  if (c->tls_listen[0] != '\0')
    check(c->tls_cert != NULL && c->tls_key != NULL);
  const char *paths[] = {c->tls_cert, c->tls_key, c->tls_ca};
  for (size_t i = 0; i < 3; i++)
    check(paths[i] == NULL || paths[i][0] != '\0');
  check(c->heartbeat_interval >= 10 && c->heartbeat_interval <= 86400);
  check(c->call_timeout >= 1 && c->call_timeout <= 600);
  check(c->meter_sample_interval >= 1 && c->meter_sample_interval <= 86400);
  check(c->max_message_size >= 4096 && c->max_message_size <= 16777216);
  check(c->max_telegrams_per_second >= 1 && c->max_telegrams_per_second <= 1000);
  switch (c->log_level) {
  case GW_LOG_ERROR: case GW_LOG_WARN: case GW_LOG_INFO: case GW_LOG_DEBUG:
    break;
  default:
    check(0);
  }
}

static void check_charger(const gw_conf *m, const gw_charger_conf *c)
{
  check(c->file != NULL && c->id != NULL && c->id[0] != '\0');
  check(strlen(c->id) <= 48 && strchr(c->id, '/') == NULL);
  check(c->name != NULL && c->name[0] != '\0');
  check(c->remote_tag != NULL && c->remote_tag[0] != '\0');
  int p = c->security_profile;
  check(p >= 0 && p <= 3);
  if (p == 1 || p == 2)
    check(c->password != NULL);
  if (p == 2 || p == 3)
    check(m->tls_listen[0] != '\0');
  if (p == 3)
    check(m->tls_ca != NULL);
  check(c->normal_current >= 6 && c->fast_current <= 80);
  check(c->normal_current <= c->fast_current);
  check(c->current_hysteresis >= 0 && c->current_hysteresis <= 80);
  check(c->power_hysteresis >= 0 && c->energy_hysteresis >= 0);
  check(c->voltage >= 100 && c->voltage <= 500);
  check(c->phases == 1 || c->phases == 3);
  check(dpt_in(c->time_dpt, KNX_DPT_10_001, KNX_DPT_19_001));
  check(dpt_in(c->current_dpt, KNX_DPT_14_019, KNX_DPT_9_021));
  check(dpt_in(c->power_dpt, KNX_DPT_14_056, KNX_DPT_9_024));
  check(dpt_in(c->meter_dpt, KNX_DPT_13_013, KNX_DPT_13_010));
  check(c->start_mode == OCPP_START_AUTO || c->start_mode == OCPP_START_TAG ||
        c->start_mode == OCPP_START_ANY);
  check(c->tag_match == OCPP_TAG_EXACT || c->tag_match == OCPP_TAG_RELAXED);
  check(c->stop_mode == GW_STOP_STOP || c->stop_mode == GW_STOP_PAUSE);
  check(c->reservation_minutes >= 1 && c->reservation_minutes <= 1440);
  check(c->tags != NULL && c->n_tags >= 1);
  for (size_t i = 0; i < c->n_tags; i++)
    check(c->tags[i] != NULL && c->tags[i][0] != '\0' && strlen(c->tags[i]) <= 20);
  check(c->n_connectors >= 1 && c->n_connectors <= GW_MAX_CONNECTORS);
  for (size_t k = 0; k < c->n_connectors; k++) {
    const gw_connector_conf *cn = &c->connectors[k];
    check(cn->id >= 1 && cn->id <= GW_MAX_CONNECTORS);
    if (k > 0)
      check(cn->id > c->connectors[k - 1].id);
    for (gw_object obj = 0; obj < GW_OBJ_COUNT; obj++)
      check(!cn->has_ga[obj] || cn->ga[obj] != 0);
  }
}

/* Two objects share an address only when both are state objects of one
 * DPT (DESIGN.md). */
static void check_addresses(const gw_conf *m)
{
  for (size_t i = 0; i < m->n_chargers; i++)
    for (size_t k = 0; k < m->n_chargers; k++) {
      const gw_charger_conf *a = &m->chargers[i], *b = &m->chargers[k];
      for (size_t x = 0; x < a->n_connectors; x++)
        for (size_t y = 0; y < b->n_connectors; y++)
          for (gw_object p = 0; p < GW_OBJ_COUNT; p++)
            for (gw_object q = 0; q < GW_OBJ_COUNT; q++) {
              const gw_connector_conf *ca = &a->connectors[x], *cb = &b->connectors[y];
              if ((i == k && x == y && p == q) || !ca->has_ga[p] ||
                  !cb->has_ga[q] || ca->ga[p] != cb->ga[q])
                continue;
              check(gw_object_is_state(p) && gw_object_is_state(q));
              check(gw_object_dpt(a, p) == gw_object_dpt(b, q));
            }
    }
  for (size_t i = 0; i < m->n_chargers; i++)
    for (size_t k = 0; k < i; k++)
      check(strcmp(m->chargers[i].id, m->chargers[k].id) != 0);
}

/* ---- the target ---------------------------------------------------------- */

/* Splits at lines "%%": parts[0] the main file, the rest charger files. */
static size_t split(const char *data, size_t size, gw_conf_text *parts,
                    size_t cap)
{
  size_t n = 0, start = 0;
  for (size_t pos = 0; pos <= size && n < cap;) {
    size_t eol = pos;
    while (eol < size && data[eol] != '\n')
      eol++;
    bool marker = eol - pos == 2 && data[pos] == '%' && data[pos + 1] == '%';
    if (marker || eol >= size) {
      size_t end = marker ? pos : size;
      parts[n++] = (gw_conf_text){data + start, end - start};
      start = eol + 1;
    }
    if (eol >= size)
      break;
    pos = eol + 1;
  }
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  gw_conf_text parts[1 + MAX_CHARGER_TEXTS];
  size_t n = split((const char *)data, size, parts, sizeof parts / sizeof parts[0]);
  if (n == 0)
    return 0;
  gw_conf_diag diag = {0};
  gw_conf *cfg = (gw_conf *)1;
  int rc = gw_conf_load_strings(&parts[0], parts + 1, n - 1, &cfg, &diag);
  check(rc == GW_OK || rc == GW_ECONFIG || rc == GW_ENOMEM);
  check(diag.n <= MAX_DIAG_LINES);
  for (size_t i = 0; i < diag.n; i++)
    check(diag.lines[i] != NULL && diag.lines[i][0] != '\0' &&
          strchr(diag.lines[i], '\n') == NULL);
  if (rc == GW_OK) {
    check(cfg != NULL && diag.n == 0);
    check(cfg->n_chargers == n - 1);
    check_main(cfg);
    for (size_t i = 0; i < cfg->n_chargers; i++)
      check_charger(cfg, &cfg->chargers[i]);
    check_addresses(cfg);
  } else {
    check(cfg == NULL);
    if (rc == GW_ECONFIG)
      check(diag.n > 0);
  }
  gw_conf_destroy(cfg);
  gw_conf_diag_finish(&diag);
  return 0;
}
