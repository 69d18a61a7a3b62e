/* The seeds of a fuzz target as an array of C strings: FUZZ_SEED_TEXTS(a)
 * defines the fuzz_seed() hook of driver.c over a. */
#ifndef OCPPKNX_TEST_FUZZ_SEEDS_H
#define OCPPKNX_TEST_FUZZ_SEEDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FUZZ_SEED_TEXTS(texts)                                              \
  size_t fuzz_seed(size_t index, const uint8_t **data);                     \
  size_t fuzz_seed(size_t index, const uint8_t **data)                      \
  {                                                                         \
    *data = index < sizeof(texts) / sizeof(texts)[0]                        \
              ? (const uint8_t *)(texts)[index] : NULL;                     \
    return *data ? strlen((const char *)*data) : 0;                         \
  }

#endif
