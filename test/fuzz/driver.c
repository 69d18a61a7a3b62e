/* Stand-alone runner for libFuzzer-style targets, so that every target runs
 * as a plain test with any compiler.
 *
 *   fuzz_x [-runs=N] [FILE|DIR]...
 *
 * With FILE or DIR arguments each file is run once (a corpus or a crash
 * reproducer). Without them, N (default 50000, or $FUZZ_RUNS) inputs are
 * generated deterministically: the target's seeds, mutated, spliced, and
 * plain random bytes. Each input lives in its own exact-size allocation so
 * that AddressSanitizer catches reads past its end. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Optional hooks of a target. fuzz_seed returns the length of seed index
 * and sets *data, or sets *data to NULL past the last seed. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
size_t fuzz_seed(size_t index, const uint8_t **data) __attribute__((weak));

#define DEFAULT_RUNS 50000L
#define FUZZ_MAX_INPUT 4096
#define MAX_FILE (1024 * 1024)
#define MAX_SEEDS 256

/* xorshift64*: fixed seed so that a failure repeats on every run. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

static size_t below(size_t n) { return n ? (size_t)(rng() % n) : 0; }

typedef struct {
  const uint8_t *data;
  size_t len;
} seed;

static seed seeds[MAX_SEEDS];
static size_t n_seeds;

static void load_seeds(void) {
  if (!fuzz_seed) return;
  for (size_t i = 0; i < MAX_SEEDS; i++) {
    const uint8_t *data = NULL;
    size_t len = fuzz_seed(i, &data);
    if (!data) break;
    seeds[n_seeds].data = data;
    seeds[n_seeds].len = len;
    n_seeds++;
  }
}

/* Bytes that matter to text protocols: structure, escapes, line ends. */
static const char interesting[] = "\"[]{},:\\\r\n%/?=+- .0123456789eEZT\0\xff";

static void run_one(const uint8_t *data, size_t len) {
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy) abort();
  if (len) memcpy(copy, data, len);
  LLVMFuzzerTestOneInput(copy, len);
  free(copy);
}

/* One random edit of buf[0..*len) within FUZZ_MAX_INPUT. */
static void mutate_once(uint8_t *buf, size_t *len) {
  size_t n = *len;
  switch (below(9)) {
  case 0: /* flip a bit */
    if (n) buf[below(n)] ^= (uint8_t)(1u << below(8));
    break;
  case 1: /* random byte */
    if (n) buf[below(n)] = (uint8_t)rng();
    break;
  case 2: /* interesting byte */
    if (n) buf[below(n)] = (uint8_t)interesting[below(sizeof interesting - 1)];
    break;
  case 3: /* insert a byte */
    if (n < FUZZ_MAX_INPUT) {
      size_t at = below(n + 1);
      memmove(buf + at + 1, buf + at, n - at);
      buf[at] = below(2) ? (uint8_t)rng()
                         : (uint8_t)interesting[below(sizeof interesting - 1)];
      *len = n + 1;
    }
    break;
  case 4: /* delete a range */
    if (n) {
      size_t at = below(n);
      size_t k = 1 + below(n - at < 16 ? n - at : 16);
      memmove(buf + at, buf + at + k, n - at - k);
      *len = n - k;
    }
    break;
  case 5: /* duplicate a range */
    if (n) {
      size_t at = below(n);
      size_t k = 1 + below(n - at < 64 ? n - at : 64);
      if (n + k <= FUZZ_MAX_INPUT) {
        size_t to = below(n + 1);
        uint8_t tmp[64];
        memcpy(tmp, buf + at, k);
        memmove(buf + to + k, buf + to, n - to);
        memcpy(buf + to, tmp, k);
        *len = n + k;
      }
    }
    break;
  case 6: /* truncate */
    *len = below(n + 1);
    break;
  case 7: /* splice in part of another seed */
    if (n_seeds) {
      const seed *s = &seeds[below(n_seeds)];
      size_t from = below(s->len + 1);
      size_t k = below(s->len - from + 1);
      size_t at = below(n + 1);
      if (n + k <= FUZZ_MAX_INPUT) {
        memmove(buf + at + k, buf + at, n - at);
        memcpy(buf + at, s->data + from, k);
        *len = n + k;
      }
    }
    break;
  default: /* swap two bytes */
    if (n > 1) {
      size_t a = below(n), b = below(n);
      uint8_t t = buf[a];
      buf[a] = buf[b];
      buf[b] = t;
    }
    break;
  }
}

static void run_generated(long runs) {
  static uint8_t buf[FUZZ_MAX_INPUT];
  for (size_t i = 0; i < n_seeds; i++) run_one(seeds[i].data, seeds[i].len);
  for (long r = 0; r < runs; r++) {
    size_t len = 0;
    if (n_seeds == 0 || below(10) == 0) {
      len = below(256);
      for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)rng();
    } else {
      const seed *s = &seeds[below(n_seeds)];
      len = s->len < FUZZ_MAX_INPUT ? s->len : FUZZ_MAX_INPUT;
      memcpy(buf, s->data, len);
      size_t edits = 1 + below(8);
      for (size_t e = 0; e < edits; e++) mutate_once(buf, &len);
    }
    run_one(buf, len);
  }
}

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "fuzz: cannot open %s\n", path);
    return -1;
  }
  uint8_t *data = malloc(MAX_FILE);
  if (!data) abort();
  size_t len = fread(data, 1, MAX_FILE, f);
  fclose(f);
  run_one(data, len);
  free(data);
  return 0;
}

static int run_path(const char *path, long *count) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "fuzz: cannot stat %s\n", path);
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) {
    (*count)++;
    return run_file(path);
  }
  DIR *dir = opendir(path);
  if (!dir) return -1;
  int rc = 0;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    if (de->d_name[0] == '.') continue;
    char full[4096];
    snprintf(full, sizeof full, "%s/%s", path, de->d_name);
    if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
      (*count)++;
      if (run_file(full) != 0) rc = -1;
    }
  }
  closedir(dir);
  return rc;
}

int main(int argc, char **argv) {
  long runs = DEFAULT_RUNS;
  const char *env = getenv("FUZZ_RUNS");
  if (env) runs = strtol(env, NULL, 10);
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);

  int rc = 0;
  long files = 0;
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "-runs=", 6) == 0) {
      runs = strtol(argv[i] + 6, NULL, 10);
    } else if (argv[i][0] == '-') {
      continue; /* other libFuzzer flags mean nothing here */
    } else if (run_path(argv[i], &files) != 0) {
      rc = 1;
    }
  }
  if (files == 0) {
    load_seeds();
    run_generated(runs < 0 ? 0 : runs);
    fprintf(stderr, "fuzz: %zu seeds, %ld generated inputs\n", n_seeds, runs);
  } else {
    fprintf(stderr, "fuzz: %ld files\n", files);
  }
  return rc;
}
