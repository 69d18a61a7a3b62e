/* Names and texts of the module's return codes (ocpp.h). */
#include "ocpp/ocpp.h"

#include <stddef.h>

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
  const char *name;
  const char *text;
} errors[] = {
    [-OCPP_OK] = {"OCPP_OK", "success"},
    [-OCPP_EINVAL] = {"OCPP_EINVAL", "invalid argument"},
    [-OCPP_ENOMEM] = {"OCPP_ENOMEM", "out of memory"},
    [-OCPP_ENOTCONN] = {"OCPP_ENOTCONN", "charger not connected"},
    [-OCPP_EUNKNOWN] = {"OCPP_EUNKNOWN", "unknown charger"},
    [-OCPP_EQUEUEFULL] = {"OCPP_EQUEUEFULL", "too many calls queued"},
    [-OCPP_ELISTEN] = {"OCPP_ELISTEN", "cannot listen"},
    [-OCPP_ETLS] = {"OCPP_ETLS", "TLS setup failed"},
    [-OCPP_ESTATE] = {"OCPP_ESTATE", "not possible in the current state"},
    [-OCPP_EFORMAT] = {"OCPP_EFORMAT", "malformed OCPP-J message"},
    [-OCPP_EHTTP] = {"OCPP_EHTTP", "malformed HTTP request"},
    [-OCPP_ETOOBIG] = {"OCPP_ETOOBIG", "too large"},
    [-OCPP_EMETHOD] = {"OCPP_EMETHOD", "HTTP method not allowed"},
    [-OCPP_EVERSION] = {"OCPP_EVERSION", "HTTP version not supported"},
    [-OCPP_EIDENTITY] = {"OCPP_EIDENTITY", "no charge point identity in the URL"},
    [-OCPP_EWSKEY] = {"OCPP_EWSKEY", "invalid Sec-WebSocket-Key"},
    [-OCPP_EAUTH] = {"OCPP_EAUTH", "malformed Basic Auth credentials"},
    [-OCPP_ECRYPTO] = {"OCPP_ECRYPTO", "crypto library failure"},
    [-OCPP_ETIME] = {"OCPP_ETIME", "invalid date-time"},
    [-OCPP_ENOENT] = {"OCPP_ENOENT", "no such entry"},
    [-OCPP_ENOACTION] = {"OCPP_ENOACTION", "unknown OCPP action"},
    [-OCPP_ESCHEMA] = {"OCPP_ESCHEMA", "payload fails the schema"},
    [-OCPP_ENOPATH] = {"OCPP_ENOPATH", "no such path"},
    [-OCPP_ENOREPAIR] = {"OCPP_ENOREPAIR", "schema violation cannot be repaired"},
    [-OCPP_ECLOSED] = {"OCPP_ECLOSED", "connection closed by the peer"},
    [-OCPP_ETLSFAIL] = {"OCPP_ETLSFAIL", "TLS handshake or record failure"},
    [-OCPP_EIO] = {"OCPP_EIO", "socket write failed"},
    [-OCPP_EWSPROTO] = {"OCPP_EWSPROTO", "WebSocket protocol violation"},
    [-OCPP_EREFUSED] = {"OCPP_EREFUSED", "WebSocket upgrade refused"},
    [-OCPP_EUPGRADE] = {"OCPP_EUPGRADE", "invalid WebSocket upgrade answer"},
    [-OCPP_EPENDING] = {"OCPP_EPENDING", "decided later"},
};

static bool known(int err)
{
  return err <= 0 && (size_t)(-(long)err) < COUNT_OF(errors) &&
         errors[-err].name != NULL;
}

const char *ocpp_strerror(int err)
{
  return known(err) ? errors[-err].text : "unknown error";
}

const char *ocpp_err_name(int err)
{
  return known(err) ? errors[-err].name : "unknown";
}
