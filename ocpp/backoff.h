/* How long the gateway waits before it dials a backend again. Pure.
 * Internal to ocpp/. */
#ifndef OCPPKNX_OCPP_BACKOFF_H
#define OCPPKNX_OCPP_BACKOFF_H

#include <stdint.h>

#define OCPP_BACKOFF_FIRST_MS 5000u     /* after the first failure */
#define OCPP_BACKOFF_MAX_MS 300000u     /* never longer than 5 min */

/* The wait after `failures` failed attempts in a row (1 = the first):
 * 5 s, 10 s, 20 s, ... doubling up to 5 min, and 5 min from then on.
 * 0 failures is 0 (dial at once). */
uint64_t ocpp_backoff_ms(unsigned failures);

#endif
