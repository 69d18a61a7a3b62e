/* The charger record's connector table (charger.h): sized to what the
 * charger has, since a thousand records with room for sixteen connectors
 * each would be most of the daemon's memory. */
#include <stdlib.h>

#include "ocpp/charger.h"

static const ocpp_connector_state unknown_connector = {
  .status = OCPP_CP_AVAILABLE,
  .error = OCPP_ERR_NO_ERROR,
  .tx_seq_no = -1,
  .connector_status = -1,
  .charging_state = -1,
};

ocpp_connector_state *ocpp__cp_connector(ocpp_cp *cp, int connector)
{
  if (connector < 0 || connector > OCPP_MAX_CONNECTORS)
    return NULL;
  if (connector >= cp->n_conn_state) {
    ocpp_connector_state *grown =
        realloc(cp->conn_state, (size_t)(connector + 1) * sizeof *grown);
    if (!grown)
      return NULL;
    for (int i = cp->n_conn_state; i <= connector; i++)
      grown[i] = unknown_connector;
    cp->conn_state = grown;
    cp->n_conn_state = connector + 1;
  }
  return &cp->conn_state[connector];
}

const ocpp_connector_state *ocpp__cp_connector_peek(const ocpp_cp *cp,
                                                    int connector)
{
  if (connector < 0 || connector > OCPP_MAX_CONNECTORS)
    return NULL;
  if (connector >= cp->n_conn_state)
    return &unknown_connector;
  return &cp->conn_state[connector];
}
