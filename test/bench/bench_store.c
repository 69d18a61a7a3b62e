/* bench_store: cost of the session store on the hot paths.
 *
 *   bench_store [-n starts] [-m readings] [-c chargers] [-f flush_every]
 *               [-d dir]
 *
 * Measures gw_store_begin, gw_store_end (each a durable commit) and
 * gw_store_meter with a gw_store_flush every flush_every readings (readings
 * spread round-robin over the chargers, as MeterValues from many chargers
 * arrive). Reports wall time per call in microseconds and CPU time
 * (user + system, getrusage) per call and per 10,000 calls. Without -d the
 * database lives in a fresh directory under $TMPDIR (or /tmp), removed at
 * the end; put it on the disk the daemon will use for realistic fsyncs.
 */
#include "gateway/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHARGERS 100000
#define MAX_CALLS 100000000L

typedef struct {
  double wall, cpu;
} sample;

static sample now(void) {
  struct timespec ts;
  struct rusage ru;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  getrusage(RUSAGE_SELF, &ru);
  sample s = {
    .wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9,
    .cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
  };
  return s;
}

static void report(const char *what, sample a, sample b, long calls) {
  double wall = b.wall - a.wall, cpu = b.cpu - a.cpu;
  printf("%-28s %9ld calls  %10.2f us/call  %12.9f CPU-s/call"
         "  %8.4f CPU-s/10k calls\n",
         what, calls, wall * 1e6 / (double)calls, cpu / (double)calls,
         cpu * 1e4 / (double)calls);
}

static long parse_count(const char *s, long max) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
    return -1;
  return v;
}

static void remove_db(const char *dir) {
  static const char *const names[] = {"ocppknx.db-wal", "ocppknx.db-shm",
                                      "ocppknx.db"};
  char path[4200];
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    unlink(path);
  }
  rmdir(dir);
}

static int run(gw_store *st, long starts, long readings, long chargers,
               long flush_every) {
  int32_t *ids = calloc((size_t)starts, sizeof *ids);
  int32_t *running = calloc((size_t)chargers, sizeof *running);
  char name[32];
  int rc = 1;
  if (ids == NULL || running == NULL)
    goto out;

  sample a = now();
  for (long i = 0; i < starts; i++) {
    snprintf(name, sizeof name, "CP%ld", i % chargers);
    if (gw_store_begin(st, name, 1, "TAG", (double)i, (time_t)(1000 + i),
                       &ids[i]) != 0)
      goto fail;
  }
  sample b = now();
  report("gw_store_begin", a, b, starts);

  a = now();
  for (long i = 0; i < starts; i++) {
    snprintf(name, sizeof name, "CP%ld", i % chargers);
    if (gw_store_end(st, name, ids[i], "TAG", true, (double)i + 500,
                     (time_t)(2000 + i), "Local", NULL, NULL, NULL) != 0)
      goto fail;
  }
  b = now();
  report("gw_store_end", a, b, starts);

  for (long c = 0; c < chargers; c++) {
    snprintf(name, sizeof name, "CP%ld", c);
    if (gw_store_begin(st, name, 1, "TAG", 0, 5000, &running[c]) != 0)
      goto fail;
  }
  char (*names)[32] = calloc((size_t)chargers, sizeof *names);
  if (names == NULL)
    goto out;
  for (long c = 0; c < chargers; c++)
    snprintf(names[c], sizeof names[c], "CP%ld", c);
  a = now();
  for (long i = 0; i < readings; i++) {
    long c = i % chargers;
    if (gw_store_meter(st, names[c], 1, running[c], (double)i,
                       (time_t)(5000 + i / chargers)) != 0 ||
        ((i + 1) % flush_every == 0 && gw_store_flush(st) != 0)) {
      free(names);
      goto fail;
    }
  }
  if (gw_store_flush(st) != 0) {
    free(names);
    goto fail;
  }
  b = now();
  free(names);
  char label[64];
  snprintf(label, sizeof label, "gw_store_meter+flush/%ld", flush_every);
  report(label, a, b, readings);
  rc = 0;
  goto out;
fail:
  fprintf(stderr, "bench_store: %s\n", gw_store_last_error(st));
out:
  free(ids);
  free(running);
  return rc;
}

int main(int argc, char **argv) {
  long starts = 1000, readings = 100000, chargers = 100, flush_every = 100;
  const char *dir = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "n:m:c:f:d:")) != -1) {
    long *target = opt == 'n' ? &starts : opt == 'm' ? &readings
                 : opt == 'c' ? &chargers : opt == 'f' ? &flush_every : NULL;
    if (opt == 'd') {
      dir = optarg;
    } else if (target == NULL ||
               (*target = parse_count(optarg,
                                      opt == 'c' ? MAX_CHARGERS : MAX_CALLS)) < 0) {
      fprintf(stderr, "usage: %s [-n starts] [-m readings] [-c chargers]"
              " [-f flush_every] [-d dir]\n", argv[0]);
      return 2;
    }
  }
  char tmpl[4096];
  bool own_dir = dir == NULL;
  if (own_dir) {
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpl, sizeof tmpl, "%s/bench-store-XXXXXX", tmp ? tmp : "/tmp");
    dir = mkdtemp(tmpl);
    if (dir == NULL) {
      perror("bench_store: mkdtemp");
      return 1;
    }
  }
  gw_store *st = NULL;
  int rc = gw_store_open(dir, &st);
  if (rc != 0) {
    fprintf(stderr, "bench_store: cannot open store in %s (%d)\n", dir, rc);
    if (own_dir)
      remove_db(dir);
    return 1;
  }
  printf("store in %s: %ld starts/stops, %ld readings over %ld chargers\n",
         dir, starts, readings, chargers);
  rc = run(st, starts, readings, chargers, flush_every);
  gw_store_close(st);
  if (own_dir)
    remove_db(dir);
  return rc;
}
