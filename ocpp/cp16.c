/* The charge point role: the gateway towards a central system. The
 * session core validates the central system's CALLs and hands them to the
 * owner's call hook (ocpp_session_config.call), which answers for the
 * charger the gateway stands for; what the gateway sends (BootNotification,
 * Heartbeat, transaction messages) goes out with ocpp_session_call(). A
 * CALL for an action OCPP 1.6 does not define is answered NotImplemented
 * without reaching the owner. */
#include "ocpp/session_impl.h"

const ocpp_role ocpp__role_cp16 = {
  .name = "charge point 1.6",
  .handlers = NULL,
};
