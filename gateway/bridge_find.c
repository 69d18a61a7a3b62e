/* Finding a charger by id, a connector by number and its transaction:
 * what every other bridge file asks, below all of them. */
#include "gateway/bridge_impl.h"

#include <string.h>

gw_charger *gw__charger_find(gw_charger **list, size_t n, const char *id)
{
  if (!id)
    return NULL;
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(id, list[mid]->id);
    if (c == 0)
      return list[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

gw_connector *gw__connector_find(gw_charger *ch, int id)
{
  for (size_t i = 0; i < ch->n_conn; i++) {
    if (ch->conn[i].id == id)
      return &ch->conn[i];
  }
  return NULL;
}

bool gw__connector_tx(const gw_bridge *b, const gw_charger *ch,
                      const gw_connector *cn, ocpp_transaction_info *out)
{
  memset(out, 0, sizeof *out);
  return b->ops.transaction &&
         b->ops.transaction(b->user_data, ch->id, cn->id, out) == 0;
}

bool gw__tx_running(const gw_bridge *b, const gw_charger *ch,
                    const gw_connector *cn)
{
  ocpp_transaction_info tx;
  return gw__connector_tx(b, ch, cn, &tx) && tx.transaction_id != 0;
}
