/* ocpp: the OCPP central system (1.6J and 2.0.1), and the link to a backend.
 *
 * One ocpp_server listens for chargers (ws:// and wss://), runs the OCPP-J
 * RPC with each of them, answers their requests and turns them into events,
 * and sends the commands the application asks for. An ocpp_upstream dials
 * an OCPP backend as one of those chargers. The module knows nothing about
 * KNX. The application passes its hooks once, as a struct plus user_data.
 */
#ifndef OCPPKNX_OCPP_H
#define OCPPKNX_OCPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

/* Return codes of every function of the module, public or internal: 0 is
 * success, every failure is one of these negative codes, and each code
 * means one thing. ocpp_strerror() and ocpp_err_name() name them. */
enum {
  OCPP_OK = 0,
  OCPP_EINVAL = -1,     /* bad argument (unknown connector, NULL id, ...) */
  OCPP_ENOMEM = -2,
  OCPP_ENOTCONN = -3,   /* the charger (or the connection) is not open */
  OCPP_EUNKNOWN = -4,   /* no such charger configured */
  OCPP_EQUEUEFULL = -5, /* too many calls queued for this charger */
  OCPP_ELISTEN = -6,    /* could not bind/listen (address in use, ...) */
  OCPP_ETLS = -7,       /* TLS setup failed (certificate, key, CA) */
  OCPP_ESTATE = -8,     /* not possible in the current state (no transaction
                           to stop, TLS handshake not finished, ...) */
  OCPP_EFORMAT = -9,    /* malformed OCPP-J message (the rpc fault says
                           why and what to answer) */
  OCPP_EHTTP = -10,     /* malformed HTTP request line or header */
  OCPP_ETOOBIG = -11,   /* over a size cap (request headers, a header
                           value, an answer buffer, the write backlog) */
  OCPP_EMETHOD = -12,   /* HTTP method other than GET */
  OCPP_EVERSION = -13,  /* HTTP version other than 1.1 */
  OCPP_EIDENTITY = -14, /* no usable charge point identity in the URL */
  OCPP_EWSKEY = -15,    /* Sec-WebSocket-Key is not 16 bytes in base64 */
  OCPP_EAUTH = -16,     /* malformed Basic Auth credentials */
  OCPP_ECRYPTO = -17,   /* the crypto library failed (hash, base64) */
  OCPP_ETIME = -18,     /* not an OCPP date-time */
  OCPP_ENOENT = -19,    /* no such entry (enumeration name, measurand,
                           connector of a transaction, ...) */
  OCPP_ENOACTION = -20, /* action not in OCPP 1.6 */
  OCPP_ESCHEMA = -21,   /* payload breaks its schema (the schema fault
                           says where) */
  OCPP_ENOPATH = -22,   /* no such node in a schema or a payload */
  OCPP_ENOREPAIR = -23, /* a schema violation no lenient rule repairs */
  OCPP_ECLOSED = -24,   /* the peer closed the connection (close_notify) */
  OCPP_ETLSFAIL = -25,  /* TLS handshake or record failure */
  OCPP_EIO = -26,       /* the socket refused a write */
  OCPP_EWSPROTO = -27,  /* the peer broke the WebSocket protocol */
  OCPP_EREFUSED = -28,  /* the server answered the WebSocket upgrade with
                           a status other than 101 */
  OCPP_EUPGRADE = -29,  /* the server's 101 answer is not a valid
                           WebSocket handshake (accept key, headers,
                           subprotocol) */
  OCPP_EPENDING = -30   /* decided later: the answer follows through the
                           call named in the hook's comment */
};

/* A fixed English text for err ("invalid argument", ...); "success" for
 * OCPP_OK and "unknown error" for any other value. Never NULL. */
const char *ocpp_strerror(int err);

/* The code's name ("OCPP_EINVAL", ...); "OCPP_OK" for 0 and "unknown" for
 * any other value. Never NULL. */
const char *ocpp_err_name(int err);

/* ---- enumerations of OCPP 1.6, in the order of the specification -------- */

typedef enum {
  OCPP_CP_AVAILABLE,
  OCPP_CP_PREPARING,
  OCPP_CP_CHARGING,
  OCPP_CP_SUSPENDED_EV,
  OCPP_CP_SUSPENDED_EVSE,
  OCPP_CP_FINISHING,
  OCPP_CP_RESERVED,
  OCPP_CP_UNAVAILABLE,
  OCPP_CP_FAULTED,
  OCPP_CP_STATUS_COUNT
} ocpp_cp_status;

typedef enum {
  OCPP_ERR_NO_ERROR,
  OCPP_ERR_CONNECTOR_LOCK_FAILURE,
  OCPP_ERR_EV_COMMUNICATION_ERROR,
  OCPP_ERR_GROUND_FAILURE,
  OCPP_ERR_HIGH_TEMPERATURE,
  OCPP_ERR_INTERNAL_ERROR,
  OCPP_ERR_LOCAL_LIST_CONFLICT,
  OCPP_ERR_OTHER_ERROR,
  OCPP_ERR_OVER_CURRENT_FAILURE,
  OCPP_ERR_OVER_VOLTAGE,
  OCPP_ERR_POWER_METER_FAILURE,
  OCPP_ERR_POWER_SWITCH_FAILURE,
  OCPP_ERR_READER_FAILURE,
  OCPP_ERR_RESET_FAILURE,
  OCPP_ERR_UNDER_VOLTAGE,
  OCPP_ERR_WEAK_SIGNAL,
  OCPP_ERR_COUNT
} ocpp_cp_error;

typedef enum {
  OCPP_AUTH_ACCEPTED,
  OCPP_AUTH_BLOCKED,
  OCPP_AUTH_EXPIRED,
  OCPP_AUTH_INVALID,
  OCPP_AUTH_CONCURRENT_TX
} ocpp_auth_status;

/* "Available", "NoError", "Accepted"...; NULL when out of range. */
const char *ocpp_cp_status_name(ocpp_cp_status s);
const char *ocpp_cp_error_name(ocpp_cp_error e);
const char *ocpp_auth_status_name(ocpp_auth_status a);

/* ---- configuration ------------------------------------------------------ */

typedef enum { OCPP_START_AUTO, OCPP_START_TAG, OCPP_START_ANY } ocpp_start_mode;

/* How idTags are compared with the allowed list: exactly, or ignoring case
 * and the separators ' ', ':', '-' (readers print the same UID differently);
 * reversed is relaxed and also takes a hex UID in the opposite byte order
 * (04A2B3C4 = C4B3A204), as some readers send Mifare UIDs little-endian. */
typedef enum { OCPP_TAG_EXACT, OCPP_TAG_RELAXED, OCPP_TAG_REVERSED } ocpp_tag_match;

/* The OCPP versions a charger may speak, as subprotocols of the WebSocket
 * handshake: auto takes ocpp1.6 when the charger offers both (the more
 * mature stacks today) and ocpp2.0.1 when it offers only that. */
typedef enum { OCPP_VERSION_AUTO, OCPP_VERSION_16, OCPP_VERSION_201 } ocpp_version;

/* true when id_tag is listed under match; an empty or NULL tag matches
 * nothing, and neither does a tag of only separators. */
bool ocpp_tags_equal(ocpp_tag_match match, const char *listed,
                     const char *id_tag);

#define OCPP_TAG_NAME_MAX 64      /* bytes of a tag's name from the owner */

typedef struct {
  const char *id;             /* charge point identity, as in the URL */
  const char *name;           /* for logs and the status page; may be NULL */
  int security_profile;       /* 0..3 */
  const char *password;       /* Basic Auth, profiles 1 and 2; may be NULL */
  const char *previous_password; /* accepted as well until the charger
                                    connects with password (a rotation in
                                    progress); may be NULL */
  ocpp_start_mode start_mode;
  const char *const *tags;    /* allowed idTags; "*" allows all */
  size_t n_tags;
  ocpp_tag_match tag_match;
  const char *remote_tag;     /* idTag of RemoteStart and ReserveNow */
  int n_connectors;           /* connectors configured (>= 1) */
  double voltage;             /* V per phase, to turn A into W (230) */
  int phases;                 /* 1 or 3, to turn A into W */
  ocpp_version version;       /* subprotocols the charger may use: auto takes
                                 ocpp1.6 when both are offered, ocpp2.0.1 when
                                 only that */
} ocpp_charger_options;

typedef struct {
  const char *listen;         /* "0.0.0.0:8016", "[::1]:8016"; NULL/"" off */
  const char *tls_listen;     /* NULL/"" off */
  const char *tls_cert;       /* PEM paths, used when tls_listen is set */
  const char *tls_key;
  const char *tls_ca;         /* may be NULL when no charger uses profile 3 */
  int heartbeat_interval;     /* s, sent in BootNotification.conf */
  int call_timeout;           /* s to wait for a charger's answer */
  bool accept_unknown;        /* accept identities without options */
  bool trace;                 /* report every frame through on_log */
  size_t max_message_size;    /* bytes; 0 = default 65536 */
  int meter_sample_interval;  /* s for MeterValueSampleInterval; 0 = 60 */
  const char *http_password;  /* Basic Auth (user "admin") asked of every
                                 plain GET; NULL/"" leaves them open */
  int max_streams;            /* event streams open at once; 0 = 16. One
                                 more is answered 503 */
  int stream_keepalive_ms;    /* a comment line on an idle stream after;
                                 0 = 25000 */
} ocpp_server_options;

/* ---- events (charger -> application) ------------------------------------ */

typedef enum {
  OCPP_EV_ONLINE,       /* WebSocket open, charger known */
  OCPP_EV_OFFLINE,      /* connection gone (not sent when replaced) */
  OCPP_EV_BOOT,         /* BootNotification (or stored info) */
  OCPP_EV_STATUS,       /* StatusNotification for one connector (0 = all) */
  OCPP_EV_TX_STARTED,   /* StartTransaction accepted, or a transaction
                           recovered from MeterValues after a restart */
  OCPP_EV_TX_STOPPED,   /* StopTransaction */
  OCPP_EV_METER,        /* MeterValues (one event per meterValue element) */
  OCPP_EV_TAG,          /* an idTag was presented (Authorize/Start) */
  OCPP_EV_REFUSED,      /* a connection was refused at the handshake */
  OCPP_EV_PASSWORD_CONFIRMED /* the charger authenticated with its password
                                while a previous one was still accepted:
                                from now on only this one is */
} ocpp_event_type;

typedef struct {
  ocpp_event_type type;
  const char *charger_id;
  int connector;            /* 0 when the event is not about a connector */
  time_t timestamp;         /* charger's time if it sent one, else now */
  union {
    struct {
      const char *vendor, *model, *serial, *firmware; /* "" when absent */
    } boot;
    struct {
      ocpp_cp_status status;
      ocpp_cp_error error;
      const char *info;          /* "" when absent */
      const char *vendor_error;  /* "" when absent */
    } status;
    struct {
      int32_t transaction_id;
      const char *id_tag;
      const char *tag_name;      /* the owner's name of the tag; "" none */
      double meter_start_wh;
      bool recovered;            /* learnt from MeterValues, not Start */
      const char *charger_tx_id; /* OCPP 2.0.1: the transactionId the charger
                                    chose (a string); "" for OCPP 1.6 */
    } tx_started;
    struct {
      int32_t transaction_id;    /* as sent, may be 0 or -1 */
      const char *id_tag;        /* "" when absent */
      bool has_meter_stop;
      double meter_stop_wh;
      bool has_meter_start;      /* known from StartTransaction, or from
                                    the store after a restart */
      double meter_start_wh;
      const char *reason;        /* "Local", "EVDisconnected", ...; "" */
      bool duplicate;            /* this id was already stopped: the charger
                                    is retrying; nothing new to record */
      /* meterStop - meterStart when both are known and stop >= start */
      bool has_session_energy; double session_energy_wh;
      const char *charger_tx_id; /* OCPP 2.0.1: the transactionId the charger
                                    chose (a string); "" for OCPP 1.6 */
    } tx_stopped;
    struct {
      int32_t transaction_id;    /* 0 when the sample is outside a tx */
      const char *context;       /* "Sample.Periodic", ... */
      bool has_energy;  double energy_wh;    /* Energy.Active.Import.Register */
      bool has_current; double current_a;    /* highest phase current, or
                                                the value without phase */
      double current_phase_a[3];             /* L1..L3, NaN if absent */
      bool has_power;   double power_w;      /* Power.Active.Import */
      bool has_voltage; double voltage_v;
      bool has_offered; double offered_a;    /* Current.Offered */
      /* energy of the running transaction so far: the register minus its
       * meterStart, from the server's record of the transaction */
      bool has_session_energy; double session_energy_wh;
      const char *charger_tx_id; /* OCPP 2.0.1: the transactionId the charger
                                    chose (a string); "" for OCPP 1.6 */
    } meter;
    struct {
      const char *id_tag;
      const char *name;          /* the owner's name of the tag; "" none */
      ocpp_auth_status result;
    } tag;
    struct {
      const char *identity;      /* as requested, may be "" */
      const char *address;       /* "192.0.2.7:51234" */
      int http_status;           /* 404, 401, 400 ... */
      const char *reason;        /* "unknown identity", ... */
    } refused;
  };
} ocpp_event;

/* What the owner's tag list says about an idTag (lookup_tag). */
typedef struct {
  ocpp_auth_status status;   /* ACCEPTED, BLOCKED or EXPIRED */
  time_t expiry;             /* sent as idTagInfo.expiryDate; 0 = none */
  char name[OCPP_TAG_NAME_MAX + 1]; /* "" when the tag has no name */
} ocpp_tag_verdict;

/* Storage the server needs before it may answer a charger. All are called
 * synchronously; the answer leaves only after they return. */
typedef struct {
  /* Allocates a new transaction id (unique forever) and records the start
   * durably. Returns 0 and sets *transaction_id, or a negative value when no
   * id can be given; the server then answers the CALL with InternalError so
   * the charger retries later. */
  int (*begin_transaction)(void *user_data, const char *charger_id,
                           int connector, const char *id_tag,
                           double meter_start_wh, time_t start,
                           const char *charger_tx_id, /* NULL for 1.6 */
                           int32_t *transaction_id);
  /* Looks up a transaction that this process did not see start (after a
   * restart). Return 0 and fill connector/meter_start_wh, or negative when
   * unknown. May be NULL. */
  int (*find_transaction)(void *user_data, const char *charger_id,
                          int32_t transaction_id, int *connector,
                          double *meter_start_wh, bool *stopped);
  /* The owner's list of known tags, asked on Authorize and
   * StartTransaction with the session's time: return true and fill *out
   * when the list knows id_tag (its verdict answers, whatever start_mode
   * and tags say), false to leave the decision to those. May be NULL. */
  bool (*lookup_tag)(void *user_data, const char *charger_id,
                     const char *id_tag, time_t now, ocpp_tag_verdict *out);
  /* OCPP 2.0.1: the gateway's transaction for the charger's transactionId
   * (after a restart, or an offline event replayed). Return 0 and fill
   * *transaction_id, connector, meter_start_wh (NAN when unknown), *stopped;
   * negative when unknown. May be NULL. */
  int (*find_charger_transaction)(void *user_data, const char *charger_id,
                                  const char *charger_tx_id,
                                  int32_t *transaction_id, int *connector,
                                  double *meter_start_wh, bool *stopped);
} ocpp_store_hooks;

#define OCPP_STREAM_CHANNELS 8

/* The application's answer to a plain HTTP GET. */
typedef struct {
  int status;                 /* 200, 400, 404, 503 ... */
  const char *content_type;   /* static string; NULL is text/plain */
  char extra_headers[256];    /* "Name: value\r\n" lines, or "" */
  char *body;                 /* malloc'd, freed by the transport; may be
                                 NULL */
  size_t body_len;            /* bytes of body */
  bool stream;                /* keep the response open as a stream of
                                 server-sent events; body is not sent */
  unsigned stream_channel;    /* with stream: the broadcasts it gets
                                 (< OCPP_STREAM_CHANNELS), so that each
                                 listener gets only its kind */
} ocpp_http_answer;

typedef enum { OCPP_LOG_ERROR, OCPP_LOG_WARN, OCPP_LOG_INFO, OCPP_LOG_DEBUG } ocpp_log_level;

typedef struct {
  /* Every event, synchronously: a TX_STOPPED must be durable when this
   * returns, since the answer to the charger goes out right after. */
  void (*on_event)(void *user_data, const ocpp_event *ev);
  /* One line per event; charger_id may be NULL. Passwords never appear. */
  void (*on_log)(void *user_data, ocpp_log_level level, const char *charger_id,
                 const char *message);
  /* Answers a plain HTTP GET on the listeners (status page). path is the
   * request target, query included. Fill *answer (the transport set
   * status 200, the rest empty) and return 0, or return a negative value
   * for 404. With answer->stream the response stays open as a
   * text/event-stream (see ocpp_server_stream_broadcast). Called only
   * once http_password, when set, was given. May be NULL. */
  int (*http_get)(void *user_data, const char *path, ocpp_http_answer *answer);
  ocpp_store_hooks store;
  /* Decides an idTag a charger presents (Authorize, StartTransaction)
   * instead of its start_mode and tags; tags that the store's lookup_tag
   * knows are the owner's tag list's and never get here. Return OCPP_OK
   * with *status to decide now, OCPP_ENOENT to leave it to the charger's
   * options, or OCPP_EPENDING to decide later with
   * ocpp_server_authorized(srv, charger_id, token, ...): the charger's
   * CALL is answered then (or never, when it disconnects first). May be
   * NULL. */
  int (*authorize)(void *user_data, const char *charger_id, const char *id_tag,
                   uint32_t token, ocpp_auth_status *status);
} ocpp_callbacks;

/* ---- listen addresses --------------------------------------------------- */

/* Parses "0.0.0.0:8016", "127.0.0.1:8016" or "[::1]:8016" (an IP literal,
 * port 1..65535). Returns OCPP_OK and fills out (may be NULL to only
 * check), or OCPP_EINVAL. The server binds with it and the configuration
 * check validates with it, so both accept the same text. */
int ocpp_listen_parse(const char *spec, struct sockaddr_storage *out);

/* ---- TLS files ---------------------------------------------------------- */

typedef enum { OCPP_TLS_FILE_CERT, OCPP_TLS_FILE_KEY, OCPP_TLS_FILE_CA } ocpp_tls_file;

/* One problem ocpp_tls_check_files found in `file`; message names the path
 * ("\"/etc/ocppknx/s.crt\" expired on 2001-01-01 00:00 UTC"). */
typedef void (*ocpp_tls_problem_cb)(void *user_data, ocpp_tls_file file,
                                    const char *message);

/* The TLS file check for the configuration: reads the PEM certificate, the
 * key and the CA file as the wss:// listener will load them and reports
 * every problem through on_problem (may be NULL), in this order: files that
 * cannot be read or are not regular files, a certificate that does not
 * parse or is not valid now (not yet, or expired), a key that does not
 * parse or does not belong to the certificate, a CA file that does not
 * parse. A NULL path is not checked. Runs the TLS library's process-wide
 * set-up and tear-down itself (counted by wolfSSL, so a running listener
 * is not disturbed). Returns OCPP_OK when nothing was found, OCPP_ETLS
 * when something was (or the TLS library cannot start: reported for
 * OCPP_TLS_FILE_CERT), OCPP_ENOMEM. */
int ocpp_tls_check_files(const char *cert_path, const char *key_path,
                         const char *ca_path, ocpp_tls_problem_cb on_problem,
                         void *user_data);

/* ---- TLS material ------------------------------------------------------- */

/* true when the PEM private key in key_path belongs to the certificate in
 * cert_path: a signature made with the key verifies with the certificate's
 * public key (wolfSSL's own pair check does not compare EC keys). Used by
 * the server when it loads them and by configuration checks. */
bool ocpp_tls_key_matches_cert(const char *cert_path, const char *key_path);

/* ---- commands (application -> charger) ---------------------------------- */

typedef enum {
  OCPP_RESULT_ACCEPTED,
  OCPP_RESULT_REJECTED,
  OCPP_RESULT_NOT_SUPPORTED,
  OCPP_RESULT_TIMEOUT,      /* no answer within call_timeout */
  OCPP_RESULT_OFFLINE,      /* connection lost before the answer */
  OCPP_RESULT_ERROR,        /* CALLERROR or an answer that fails the schema */
  OCPP_RESULT_REBOOT_REQUIRED /* accepted, in force after the charger's next
                                 reboot (ChangeConfiguration, SetVariables) */
} ocpp_result;

const char *ocpp_result_name(ocpp_result r);

/* Called once for every command that was queued (never when the command
 * function returned an error). */
typedef void (*ocpp_command_cb)(void *user_data, ocpp_result result);

typedef struct ocpp_server ocpp_server;

/* Creates the server and starts listening. chargers/n_chargers: the known
 * chargers (copied). Returns 0, OCPP_EINVAL, OCPP_ENOMEM, OCPP_ELISTEN or
 * OCPP_ETLS; on failure *out is NULL and no callback is called. An optional
 * error text goes to err (may be NULL). */
int ocpp_server_create(uv_loop_t *loop, const ocpp_server_options *opts,
                       const ocpp_charger_options *chargers, size_t n_chargers,
                       const ocpp_callbacks *cb, void *user_data,
                       ocpp_server **out, char *err, size_t err_len);

/* Replaces the set of known chargers (SIGHUP). Connected chargers that are
 * no longer known are disconnected. Returns 0, OCPP_EINVAL or OCPP_ENOMEM. */
int ocpp_server_set_chargers(ocpp_server *srv,
                             const ocpp_charger_options *chargers, size_t n);

/* Sets the Basic Auth passwords of the known charger charger_id (copied):
 * password from now on and, while previous is not NULL, previous as well,
 * until the charger connects with password (OCPP_EV_PASSWORD_CONFIRMED).
 * Connections are not touched. Returns OCPP_OK, OCPP_EINVAL (NULL id or
 * password), OCPP_EUNKNOWN or OCPP_ENOMEM (nothing changed). */
int ocpp_server_set_password(ocpp_server *srv, const char *charger_id,
                             const char *password, const char *previous);

/* Status of every known or connected charger and the refused identities,
 * as a new JSON object (caller owns it):
 * {"chargers":[{id,name,online,vendor,model,serial,firmware,ocpp_version
 *   ("1.6", "2.0.1"; null before the first connection),evse_count (the
 *   EVSEs a 2.0.1 charger's device model report listed; null: none),
 *   last_seen,
 *   connected_since,limit_a, connectors:[{id,status,error_code,
 *   transaction_id,current_a,power_w,energy_wh,session_energy_wh,id_tag,
 *   transaction_start}]}], "refused":[{identity,address,time,http_status,
 *   reason}]}. limit_a: the last current limit the charger accepted
 *   (null: none); id_tag and transaction_start are null without a
 *   running transaction. */
json_t *ocpp_server_status(const ocpp_server *srv);

/* Sends one server-sent event to every open stream of channel (the
 * answer's stream_channel): "event: NAME" (when event is not NULL or "")
 * and one "data:" line per line of data. A stream whose peer does not
 * read is dropped (write backlog cap). Returns the number of streams it
 * went to, OCPP_EINVAL (NULL srv or data, a newline in event) or
 * OCPP_ENOMEM. */
int ocpp_server_stream_broadcast(ocpp_server *srv, unsigned channel,
                                 const char *event, const char *data);

/* Event streams open now: of channel, or of all with OCPP_ALL_CHANNELS. */
#define OCPP_ALL_CHANNELS (~0u)
size_t ocpp_server_stream_count(const ocpp_server *srv, unsigned channel);

bool ocpp_server_is_online(const ocpp_server *srv, const char *charger_id);

/* A connector's transaction as the charger record holds it: the one owner
 * of transaction state, so the application asks instead of keeping a
 * copy. Events report changes; this answers "what runs now". */
typedef struct {
  int32_t transaction_id;      /* 0 when none runs */
  bool has_meter_start;
  double meter_start_wh;
  bool has_energy;             /* last Energy.Active.Import.Register seen, */
  double energy_wh;            /* kept after the transaction ends */
} ocpp_transaction_info;

/* Fills *out for connector (1..16) of charger_id. Returns OCPP_OK,
 * OCPP_EINVAL (NULL argument, connector out of range) or OCPP_EUNKNOWN. */
int ocpp_server_transaction(const ocpp_server *srv, const char *charger_id,
                            int connector, ocpp_transaction_info *out);

/* The decision of an authorize hook that returned OCPP_EPENDING: the
 * charger's Authorize or StartTransaction is answered with status now.
 * Returns OCPP_OK, OCPP_EINVAL, OCPP_EUNKNOWN (no such charger) or
 * OCPP_ENOENT (no such decision waits: the charger disconnected). */
int ocpp_server_authorized(ocpp_server *srv, const char *charger_id,
                           uint32_t token, ocpp_auth_status status);

/* Closes every connection (WebSocket close 1001) and the listeners; then
 * frees the server and calls on_closed(user_data). NULL srv is a no-op. */
void ocpp_server_destroy(ocpp_server *srv, void (*on_closed)(void *user_data));

/* One entry point for every command. The fields each kind reads, and what
 * its result means: */
typedef enum {
  OCPP_CMD_REMOTE_START,        /* connector, id_tag */
  OCPP_CMD_REMOTE_STOP,         /* connector: stops the transaction running
                                   there (OCPP_ESTATE if none) */
  OCPP_CMD_CHANGE_AVAILABILITY, /* connector (0 = whole charger), operative.
                                   When a charger rejects connector 0 and has
                                   one connector, the call is repeated for
                                   connector 1. "Scheduled" is ACCEPTED. */
  OCPP_CMD_UNLOCK,              /* connector. Unlocked = ACCEPTED,
                                   UnlockFailed = REJECTED, NotSupported =
                                   NOT_SUPPORTED. */
  OCPP_CMD_RESERVE,             /* connector, id_tag, expiry_s: ReserveNow.
                                   Occupied/Faulted/Unavailable/Rejected =
                                   REJECTED. */
  OCPP_CMD_CANCEL_RESERVATION,  /* connector: the reservation this server
                                   made there */
  OCPP_CMD_CURRENT_LIMIT,       /* connector (0 = whole charger), amps, with
                                   SetChargingProfile: ChargePointMaxProfile
                                   first, then TxDefaultProfile, then
                                   TxProfile for a running transaction; stack
                                   level within ChargeProfileMaxStackLevel;
                                   in W (voltage x phases) for chargers that
                                   only take W. amps = 0 pauses charging. */
  OCPP_CMD_RESET,               /* hard */
  OCPP_CMD_TRIGGER,             /* connector (0 = none given), message: the
                                   MessageTrigger name ("StatusNotification",
                                   "MeterValues", "BootNotification", ...) */
  OCPP_CMD_CHANGE_CONFIGURATION, /* key (1..50 bytes), value (0..500):
                                   ChangeConfiguration. RebootRequired is
                                   REBOOT_REQUIRED, NotSupported
                                   NOT_SUPPORTED.
                                   The value of AuthorizationKey is never
                                   logged, not even by the frame trace. */
  OCPP_CMD_CLEAR_CACHE,         /* no fields: ClearCache, so that the
                                   charger's own authorization cache forgets
                                   the tags it accepted. Rejected =
                                   REJECTED. */
  OCPP_CMD_LIFT_LIMIT,          /* connector (0 = whole charger), amps: takes
                                   back the limit OCPP_CMD_CURRENT_LIMIT set,
                                   with ClearChargingProfile of the profile it
                                   sent, so the charger's own maximum applies
                                   again; "Unknown" (the profile is gone
                                   already) is ACCEPTED. A charger that
                                   refuses ClearChargingProfile, or one that
                                   was never limited, gets
                                   OCPP_CMD_CURRENT_LIMIT at amps instead, and
                                   that is the result. */
  OCPP_CMD_COUNT
} ocpp_command_kind;

typedef struct {
  ocpp_command_kind kind;
  int connector;
  const char *id_tag;           /* NULL or "" = the charger's remote_tag */
  const char *message;          /* MessageTrigger name */
  const char *key, *value;      /* ChangeConfiguration */
  bool operative;
  bool hard;
  double amps;
  int expiry_s;
} ocpp_command;

/* "RemoteStart", "SetCurrentLimit", ...; NULL when out of range. */
const char *ocpp_command_name(ocpp_command_kind kind);

/* Queues cmd for charger_id (cmd is copied). Returns 0 when queued (cb
 * follows exactly once), or OCPP_EUNKNOWN, OCPP_ENOTCONN, OCPP_EINVAL,
 * OCPP_ESTATE, OCPP_EQUEUEFULL or OCPP_ENOMEM, in which case cb is never
 * called. cb may be NULL. */
int ocpp_server_command(ocpp_server *srv, const char *charger_id,
                        const ocpp_command *cmd, ocpp_command_cb cb,
                        void *user_data);

/* The limit in A that OCPP_CMD_CURRENT_LIMIT puts in the profile for amps:
 * a multiple of 0.1 that strict schema checkers accept, never above the
 * nearest tenth of amps. */
double ocpp_limit_as_sent(double amps);

/* ---- the link to a backend (the gateway as a charge point) --------------- */

/* One OCPP 1.6J connection to a central system (a billing backend) on
 * behalf of one charger: the gateway is that charge point there. It dials,
 * verifies the server, upgrades to WebSocket and redials with backoff
 * (5 s doubling to 5 min) whenever the link is lost. What goes over it is
 * the application's: it sends CALLs with ocpp_upstream_call() and answers
 * the backend's CALLs in on_call. */
typedef struct ocpp_upstream ocpp_upstream;

typedef struct {
  const char *url;            /* ws://... or wss://...; "{id}" = identity */
  const char *identity;       /* towards the backend */
  const char *log_id;         /* charger id in the logs; NULL = identity */
  int security_profile;       /* 0..3: 1 and 2 Basic Auth (user =
                                 identity), 2 and 3 need wss://, 3 a client
                                 certificate */
  const char *password;       /* profiles 1 and 2 */
  const char *tls_ca;         /* PEM CA for the server; NULL = system store */
  const char *tls_cert;       /* PEM client certificate, profile 3 */
  const char *tls_key;
  int call_timeout;           /* s to wait for the backend's answer; 0 = 30 */
  bool trace;                 /* report every frame through on_log */
  size_t max_message_size;    /* bytes; 0 = 65536 */
} ocpp_upstream_options;

/* The end of one ocpp_upstream_call: answered with the validated
 * CALLRESULT payload, or not, and error_code says why ("Offline",
 * "Timeout", a CALLERROR code, "FormationViolation"). */
typedef void (*ocpp_upstream_done)(void *user_data, bool answered,
                                   const json_t *payload,
                                   const char *error_code);

typedef struct {
  /* The backend accepted the BootNotification (up true: from now on
   * ocpp_upstream_call works), or the link it was accepted on is gone
   * (false; every call in flight has finished Offline before). */
  void (*on_link)(void *user_data, bool up);
  /* One line per event; passwords never appear. */
  void (*on_log)(void *user_data, ocpp_log_level level, const char *charger_id,
                 const char *message);
  /* A CALL of the backend, validated against its schema: return a new
   * answer payload (taken), or NULL and set *error_code for a CALLERROR.
   * NULL hook: every CALL is answered NotImplemented. To answer later
   * (after the charger answered), take a token with ocpp_upstream_defer()
   * and return NULL with *error_code left NULL; ocpp_upstream_answer()
   * follows. */
  json_t *(*on_call)(void *user_data, const char *action,
                     const json_t *payload, const char **error_code);
} ocpp_upstream_callbacks;

/* The link as the status page shows it. Strings live until the next call
 * into the upstream. */
typedef struct {
  bool open;                  /* WebSocket up */
  bool registered;            /* ... and the BootNotification accepted */
  const char *last_error;     /* why the last attempt or link failed; "" */
  time_t since;               /* when open last changed; 0 = never */
  unsigned failures;          /* failed attempts in a row */
  int pending;                /* calls queued or in flight */
  int heartbeat_interval;     /* s; 0 before the first BootNotification
                                 answer */
} ocpp_upstream_info;

/* The checks ocpp_upstream_create makes on opt (URL, identity, profile and
 * the settings it needs), without reading a file or starting anything: for
 * configuration checks. Returns OCPP_OK, or OCPP_EINVAL with the reason in
 * err (may be NULL). */
int ocpp_upstream_check_options(const ocpp_upstream_options *opt, char *err,
                                size_t err_len);

/* Checks the options and starts dialing. Returns OCPP_OK, OCPP_EINVAL
 * (NULL argument, bad URL or identity, profile out of range, a profile
 * that needs wss:// on ws://, profile 1/2 without password, profile 3
 * without tls_cert/tls_key), OCPP_ETLS (certificate files) or OCPP_ENOMEM,
 * with the cause in err (may be NULL); on failure *out is NULL and no
 * callback is called. */
int ocpp_upstream_create(uv_loop_t *loop, const ocpp_upstream_options *opt,
                         const ocpp_upstream_callbacks *cb, void *user_data,
                         ocpp_upstream **out, char *err, size_t err_len);

/* The charger's identity for the BootNotification (copied; NULL or ""
 * fields are left out). The link registers only once it is known; it is
 * sent on every connection (at once when one is open and waiting for it).
 * Returns OCPP_OK or OCPP_EINVAL. */
int ocpp_upstream_set_boot(ocpp_upstream *up, const char *vendor,
                           const char *model, const char *serial,
                           const char *firmware);

/* Sends a CALL (payload taken, also on failure); done follows exactly once
 * when OCPP_OK is returned, never otherwise. Returns OCPP_OK, OCPP_EINVAL,
 * OCPP_ENOTCONN (not registered: link down, or the BootNotification not
 * accepted yet), OCPP_EQUEUEFULL or OCPP_ENOMEM. */
int ocpp_upstream_call(ocpp_upstream *up, const char *action, json_t *payload,
                       ocpp_upstream_done done, void *user_data);

/* The heartbeat interval (1..86400 s) from now on, until the backend's
 * next BootNotification answer sets its own: its ChangeConfiguration of
 * HeartbeatInterval. Returns OCPP_OK or OCPP_EINVAL. */
int ocpp_upstream_set_heartbeat(ocpp_upstream *up, int seconds);

/* Only inside on_call: the backend's CALL is answered later. Returns the
 * token for ocpp_upstream_answer(), or 0 when it cannot wait (16 wait
 * already): answer it now. Waiting CALLs are dropped with the link. */
uint32_t ocpp_upstream_defer(ocpp_upstream *up);

/* The answer to the CALL deferred with token: payload (taken; validated
 * against the action's schema like every answer), or with payload NULL a
 * CALLERROR error_code (NULL: InternalError). Returns OCPP_OK, OCPP_EINVAL
 * or OCPP_ENOENT (no such CALL waits: the link closed since). */
int ocpp_upstream_answer(ocpp_upstream *up, uint32_t token, json_t *payload,
                         const char *error_code);

void ocpp_upstream_info_get(const ocpp_upstream *up, ocpp_upstream_info *out);

/* Ends the link (WebSocket close 1001 when open; calls in flight finish
 * Offline, on_link is not called) and frees once libuv has closed its
 * handles, then on_closed(data) (may be NULL). NULL up is a no-op. */
void ocpp_upstream_destroy(ocpp_upstream *up, void (*on_closed)(void *data),
                           void *data);

#endif
