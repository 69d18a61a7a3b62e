/* Fuzz target: the ETS CSV export reader, then drafting a charger file
 * from what it read (fuzz_ets.h). Seeds: the sample exports in test/data/ets
 * are read by the meson test as files; these are small ones in each
 * encoding and format. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_ets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t fuzz_seed(size_t index, const uint8_t **data);

static const char *const seeds[] = {
  ("\xEF\xBB\xBF\"Main\";\"Middle\";\"Sub\";\"Address\";\"Central\";\"Unfiltered\";"
   "\"Description\";\"DatapointType\";\"Security\"\r\n"
   "\"E-Mobilit\xC3\xA4t\";\"\";\"\";\"9/-/-\";\"\";\"\";\"\";\"\";\"Auto\"\r\n"
   "\"\";\"Wallbox Garage\";\"\";\"9/7/-\";\"\";\"\";\"\";\"\";\"Auto\"\r\n"
   "\"\";\"\";\"Wallbox Garage Status\";\"9/7/0\";\"\";\"\";\"\";\"DPST-5-10\";\"Auto\"\r\n"
   "\"\";\"\";\"Wallbox Garage Ladestrom\";\"9/7/42\";\"\";\"\";\"\";\"DPST-9-21\";\"Auto\"\r\n"
   "\"\";\"\";\"Ladepunkt 2 Laden Rückmeldung\";\"9/7/43\";\"\";\"\";\"\";\"DPT-1\";\"\"\r\n"),
  ("\"Group name\",\"Address\",\"Central\",\"Unfiltered\",\"Description\",\"DatapointType\"\n"
   "\"WB \"\"A\"\" Status\",\"1/2/3\",\"\",\"\",\"\",\"DPST-5-10\"\n"
   "\"WB Z\xE4hlerstand\",\"1/2/4\",\"\",\"\",\"\",\"DPST-13-13,DPST-13-10\"\n"),
  ("\"Main\"\t\"Middle\"\t\"Sub\"\t\"Address\"\n\"\"\t\"\"\t\"Online\"\t\"40705\"\n"
   "\"\"\t\"\"\t\"Power\"\t\"9/1234\"\n"),
};

size_t fuzz_seed(size_t index, const uint8_t **data)
{
  return fuzz_ets_seed(seeds, sizeof seeds / sizeof seeds[0], index, data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return fuzz_ets_run(gw_ets_parse_csv, data, size);
}
