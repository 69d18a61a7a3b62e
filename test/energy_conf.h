/* The [energy] keys of the meter that the configuration and gateway tests
 * share: currents on 1/0/1..1/0/3 in mA, power on 1/0/4 in kW, the tariff
 * on 1/0/5, headroom_state on 1/0/6. */
#ifndef OCPPKNX_TEST_ENERGY_CONF_H
#define OCPPKNX_TEST_ENERGY_CONF_H

#define ENERGY_METER_KEYS                                                     \
  "grid_current_l1 = 1/0/1\n"                                                 \
  "grid_current_l2 = 1/0/2\n"                                                 \
  "grid_current_l3 = 1/0/3\n"                                                 \
  "grid_current_dpt = 9.021\n"                                                \
  "grid_power = 1/0/4\n"                                                      \
  "grid_power_dpt = 9.024\n"                                                  \
  "cheap_tariff = 1/0/5\n"                                                    \
  "headroom_state = 1/0/6\n"

#endif
