/* The one parser of listen addresses, used by the server when it binds and
 * by the configuration check, so both accept the same text. */
#include <stdlib.h>
#include <string.h>

#include "ocpp/ocpp.h"

static int parse_port(const char *text, int *port)
{
  size_t digits = strspn(text, "0123456789");
  if (digits == 0 || digits > 5 || text[digits] != '\0')
    return OCPP_EINVAL;
  long n = strtol(text, NULL, 10);
  if (n < 1 || n > 65535)
    return OCPP_EINVAL;
  *port = (int)n;
  return OCPP_OK;
}

int ocpp_listen_parse(const char *spec, struct sockaddr_storage *out)
{
  char host[64];
  const char *colon = spec ? strrchr(spec, ':') : NULL;
  int port;
  if (!colon || colon == spec || parse_port(colon + 1, &port) != OCPP_OK)
    return OCPP_EINVAL;
  size_t hl = (size_t)(colon - spec);
  if (hl >= sizeof host)
    return OCPP_EINVAL;
  memcpy(host, spec, hl);
  host[hl] = '\0';
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  int rc;
  if (host[0] == '[') {
    if (hl < 3 || host[hl - 1] != ']')
      return OCPP_EINVAL;
    host[hl - 1] = '\0';
    rc = uv_ip6_addr(host + 1, port, (struct sockaddr_in6 *)&ss);
  } else {
    rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
  }
  if (rc != 0)
    return OCPP_EINVAL;
  if (out)
    *out = ss;
  return OCPP_OK;
}
