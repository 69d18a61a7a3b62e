/* Group value APDUs as libeibclient passes them: byte 0 is the transport
 * byte plus the two high APCI bits, byte 1 the two low APCI bits and, in the
 * short form, a 6-bit value. */
#include "knx/knx.h"

#include <string.h>

enum {
  APCI_MASK = 0xC0,
  APCI_READ = 0x00,
  APCI_RESPONSE = 0x40,
  APCI_WRITE = 0x80,
  SHORT_VALUE_MASK = 0x3F,
  APCI_HIGH_MASK = 0x03,
  APDU_HEADER = 2
};

static const struct {
  knx_service svc;
  uint8_t apci;
} services[] = {
    {KNX_GROUP_READ, APCI_READ},
    {KNX_GROUP_RESPONSE, APCI_RESPONSE},
    {KNX_GROUP_WRITE, APCI_WRITE},
};

#define SERVICE_COUNT (sizeof services / sizeof services[0])

static int apci_of(knx_service svc, uint8_t *apci)
{
  for (size_t i = 0; i < SERVICE_COUNT; i++) {
    if (services[i].svc == svc) {
      *apci = services[i].apci;
      return KNX_OK;
    }
  }
  return KNX_EINVAL;
}

static int payload_is_valid(const knx_payload *p)
{
  if (p->short_form)
    return p->len == 1 && p->data[0] <= SHORT_VALUE_MASK;
  return p->len >= 1 && p->len <= sizeof p->data;
}

int knx_apdu_encode(knx_service svc, const knx_payload *p, uint8_t *apdu,
                    size_t cap, size_t *len)
{
  uint8_t apci;

  if (apdu == NULL || len == NULL || apci_of(svc, &apci) != KNX_OK)
    return KNX_EINVAL;

  if (svc == KNX_GROUP_READ) {
    if (cap < APDU_HEADER)
      return KNX_ESIZE;
    apdu[0] = 0x00;
    apdu[1] = apci;
    *len = APDU_HEADER;
    return KNX_OK;
  }

  if (p == NULL || !payload_is_valid(p))
    return KNX_EINVAL;
  size_t need = p->short_form ? APDU_HEADER : APDU_HEADER + (size_t)p->len;
  if (cap < need)
    return KNX_ESIZE;
  apdu[0] = 0x00;
  apdu[1] = (uint8_t)(apci | (p->short_form ? p->data[0] : 0));
  if (!p->short_form)
    memcpy(apdu + APDU_HEADER, p->data, p->len);
  *len = need;
  return KNX_OK;
}

int knx_apdu_decode(const uint8_t *apdu, size_t len, knx_service *svc,
                    knx_payload *p)
{
  if (apdu == NULL || svc == NULL || p == NULL)
    return KNX_EINVAL;
  if (len < APDU_HEADER || len > KNX_APDU_MAX)
    return KNX_EINVAL;
  /* The transport bits of byte 0 are not ours to judge (knxtool ignores
   * them too); only the APCI selects the service. */
  if ((apdu[0] & APCI_HIGH_MASK) != 0)
    return KNX_EUNSUPPORTED;

  uint8_t apci = apdu[1] & APCI_MASK;
  size_t i = 0;
  while (i < SERVICE_COUNT && services[i].apci != apci)
    i++;
  if (i == SERVICE_COUNT)
    return KNX_EUNSUPPORTED;

  memset(p, 0, sizeof *p);
  *svc = services[i].svc;
  if (services[i].svc == KNX_GROUP_READ)
    return len == APDU_HEADER ? KNX_OK : KNX_EINVAL;

  if (len == APDU_HEADER) {
    p->short_form = true;
    p->len = 1;
    p->data[0] = apdu[1] & SHORT_VALUE_MASK;
    return KNX_OK;
  }
  p->len = (uint8_t)(len - APDU_HEADER);
  memcpy(p->data, apdu + APDU_HEADER, p->len);
  return KNX_OK;
}
