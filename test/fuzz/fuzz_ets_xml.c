/* Fuzz target: the ETS XML export reader (expat), then drafting a charger
 * file from what it read (fuzz_ets.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_ets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t fuzz_seed(size_t index, const uint8_t **data);

static const char *const seeds[] = {
  ("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\r\n"
   "<GroupAddress-Export xmlns=\"http://knx.org/xml/ga-export/01\">\r\n"
   "<GroupRange Name=\"E-Mobilit\xC3\xA4t\" RangeStart=\"18432\" RangeEnd=\"20479\">\r\n"
   "<GroupRange Name=\"Wallbox Garage\" RangeStart=\"20224\" RangeEnd=\"20479\">\r\n"
   "<GroupAddress Name=\"Wallbox Garage Status\" Address=\"9/7/0\" DPTs=\"DPST-5-10\" />\r\n"
   "<GroupAddress Name=\"Ladestrom\" Address=\"9/7/42\" DPTs=\"DPST-1-1,DPST-9-21\" />\r\n"
   "<GroupAddress Name=\"Connector 2 Status\" Address=\"9/7/43\" DPTs=\"DPT-5\" />\r\n"
   "</GroupRange></GroupRange></GroupAddress-Export>\r\n"),
  ("<?xml version=\"1.0\" encoding=\"windows-1252\"?><GroupAddress-Export>"
   "<GroupAddress Name=\"Z\xE4hler\" Address=\"1/2/3\"/><GroupAddress Name=\"&amp;&#10;x\" "
   "Address=\"40705\"/></GroupAddress-Export>"),
  ("<ga:GroupAddress-Export xmlns:ga=\"http://knx.org/xml/ga-export/01\"><ga:GroupRange "
   "Name=\"R\"><ga:GroupAddress Name=\"Online\" Address=\"9/1234\"/></ga:GroupRange>"
   "</ga:GroupAddress-Export>"),
};

size_t fuzz_seed(size_t index, const uint8_t **data)
{
  return fuzz_ets_seed(seeds, sizeof seeds / sizeof seeds[0], index, data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_ets_run(gw_ets_parse_xml, data, size);
}
