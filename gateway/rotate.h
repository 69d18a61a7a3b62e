/* Password rotation for Basic Auth chargers (security profiles 1 and 2).
 *
 * A rotation makes a random password (20 bytes from getrandom(), 40 hex
 * characters), stores it durably with the old one as "previous", lets the
 * OCPP server accept both and sends ChangeConfiguration AuthorizationKey.
 * Accepted: both stay accepted until the charger connects with the new one
 * (OCPP_EV_PASSWORD_CONFIRMED, gw_rotate_confirmed), then only the new one.
 * Rejected (or NotSupported, or an error answer): everything goes back to
 * the old password. No answer (timeout, connection lost): both stay
 * accepted, since the charger may have taken it. Stored passwords win over
 * the charger files (gw_rotate_apply_stored). Passwords are never logged
 * and never in an answer.
 */
#ifndef OCPPKNX_GW_ROTATE_H
#define OCPPKNX_GW_ROTATE_H

#include <stddef.h>

#include "gateway/conf.h"
#include "gateway/control.h"
#include "gateway/store.h"
#include "ocpp/ocpp.h"

typedef struct gw_rotation gw_rotation;

/* What rotations work on; the owner keeps it alive while rotations run
 * (each ends with its OCPP command's callback, which the server's destroy
 * calls too). ocpp may be set to NULL once the server is gone. */
typedef struct {
  gw_conf *cfg;           /* chargers hold the passwords in force */
  gw_store *store;
  ocpp_server *ocpp;
  gw_rotation *running;   /* owned: the rotations waiting for an answer */
} gw_rotate_env;

/* Starts a rotation for charger_id and answers req (at once when it
 * cannot start, else when the charger has answered). */
void gw_rotate_password(gw_rotate_env *env, const char *charger_id,
                        gw_control_request *req);

/* The charger connected with its new password: the store forgets the
 * previous one. Returns GW_OK or the store's error. */
int gw_rotate_confirmed(gw_rotate_env *env, const char *charger_id);

/* Puts the stored passwords in force in chargers[0..n) (password and
 * previous_password), over what the charger files say. Returns GW_OK,
 * GW_ENOMEM or GW_EIO (the store cannot be read: nothing is in force
 * that the store does not confirm, so the caller must not go on). */
int gw_rotate_apply_stored(gw_store *store, gw_charger_conf *chargers,
                           size_t n);

/* The new password text: 40 lower-case hex characters from 20 random
 * bytes. Returns GW_OK or GW_EIO (no randomness). */
int gw_rotate_make_password(char out[41]);

#endif
