/* Feeds arbitrary bytes to every KNX parser: the group APDU decoder, the DPT
 * decoder for each DPT, the DPT name parser and the group address parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "knx/knx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_apdu(const uint8_t *data, size_t size)
{
  knx_service svc;
  knx_payload p;
  if (knx_apdu_decode(data, size, &svc, &p) != KNX_OK)
    return;
  /* What decodes must encode back to the same bytes (header bits aside). */
  uint8_t apdu[KNX_APDU_MAX];
  size_t len;
  if (knx_apdu_encode(svc, &p, apdu, sizeof apdu, &len) != KNX_OK ||
      len != size)
    abort();
}

static void fuzz_dpts(const uint8_t *data, size_t size)
{
  /* The raw bytes as the long form, and the first byte as the short form. */
  knx_payload forms[2] = {{.short_form = false}, {.short_form = true}};
  forms[0].len = (uint8_t)(size < sizeof forms[0].data ? size
                                                       : sizeof forms[0].data);
  memcpy(forms[0].data, data, forms[0].len);
  forms[1].len = 1;
  forms[1].data[0] = size > 0 ? data[0] & 0x3F : 0;

  for (int f = 0; f < 2; f++) {
    for (int d = 0; d < KNX_DPT_COUNT; d++) {
      knx_value v;
      knx_payload again;
      if (knx_dpt_decode((knx_dpt)d, &forms[f], &v) != KNX_OK)
        continue;
      /* Every decoded value is one the encoder accepts. */
      if (knx_dpt_encode((knx_dpt)d, &v, &again) != KNX_OK)
        abort();
    }
  }
}

static void fuzz_text(const uint8_t *data, size_t size)
{
  char *text = malloc(size + 1);
  if (text == NULL)
    return;
  memcpy(text, data, size);
  text[size] = '\0';
  uint16_t ga;
  knx_dpt dpt;
  if (knx_ga_parse(text, &ga) == KNX_OK) {
    char out[KNX_GA_STRLEN];
    knx_ga_format(ga, out);
  }
  if (knx_dpt_parse(text, &dpt) == KNX_OK && knx_dpt_name(dpt)[0] == '?')
    abort();
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fuzz_apdu(data, size);
  fuzz_dpts(data, size);
  fuzz_text(data, size);
  return 0;
}
