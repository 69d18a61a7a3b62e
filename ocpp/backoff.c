/* Reconnect delays: doubling, capped, so a backend that is down for hours
 * gets one attempt every five minutes and one that comes back after a
 * blip is reached within seconds. */
#include "ocpp/backoff.h"

uint64_t ocpp_backoff_ms(unsigned failures)
{
  if (failures == 0)
    return 0;
  uint64_t ms = OCPP_BACKOFF_FIRST_MS;
  for (unsigned i = 1; i < failures && ms < OCPP_BACKOFF_MAX_MS; i++)
    ms *= 2;
  return ms < OCPP_BACKOFF_MAX_MS ? ms : OCPP_BACKOFF_MAX_MS;
}
