/* The backend link on a real libuv loop over 127.0.0.1, against the
 * module's own central system as the backend: ws:// and wss://, security
 * profiles 0-3, a server certificate that does not verify, a refused
 * upgrade, CALLs both ways, the redial after the backend went away, and
 * destroy in every state leaving no handle. Certificates come from the
 * certs/ tool the installer uses. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "ocpp/ocpp.h"

#include "loopback.h"

#define WAIT_MS 5000
#define PASSWORD "pw-Xq7-backend"

typedef struct {
  uv_loop_t loop;
  ocpp_server *srv;
  int port, tls_port;
  char listen[32], tls_listen[32];
  bool srv_closed;
  /* what the backend saw */
  int boots;
  char boot_vendor[32], boot_serial[32];
  int online;
  /* what the upstream saw */
  ocpp_upstream *up;
  int link_up, link_down;
  bool up_closed;
  char calls[8][32];          /* the backend's CALLs, in order */
  int n_calls;
  char log[8192];
  /* one call's end */
  bool done, answered;
  char done_status[32], done_error[32];
} fixture;

static fixture fx;
static char root[64];          /* the test's directory */
static char pki[96];           /* the backend's CA, server and client */
static char path_buf[6][160];

static const char *pki_file(int slot, const char *dir, const char *name)
{
  snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", dir, name);
  return path_buf[slot];
}

/* ---- the backend -------------------------------------------------------- */

static void on_event(void *ud, const ocpp_event *ev)
{
  fixture *f = ud;
  if (ev->type == OCPP_EV_BOOT) {
    f->boots++;
    snprintf(f->boot_vendor, sizeof f->boot_vendor, "%s", ev->boot.vendor);
    snprintf(f->boot_serial, sizeof f->boot_serial, "%s", ev->boot.serial);
  } else if (ev->type == OCPP_EV_ONLINE) {
    f->online++;
  }
}

static void on_srv_closed(void *ud)
{
  ((fixture *)ud)->srv_closed = true;
}

static const char *const all_tags[] = {"*"};

static ocpp_charger_options charger(const char *id, int profile)
{
  return (ocpp_charger_options){
    .id = id, .security_profile = profile,
    .password = profile == 1 || profile == 2 ? PASSWORD : NULL,
    .start_mode = OCPP_START_TAG, .tags = all_tags, .n_tags = 1,
    .remote_tag = "KNX", .n_connectors = 1, .voltage = 230, .phases = 3,
  };
}

static void start_backend(void)
{
  ocpp_charger_options cps[] = {charger("CP0", 0), charger("CP1", 1),
                                charger("CP2", 2), charger("CP3", 3)};
  ocpp_server_options o = {
    .listen = fx.listen, .tls_listen = fx.tls_listen,
    .tls_cert = pki_file(0, pki, "server.crt"),
    .tls_key = pki_file(1, pki, "server.key"),
    .tls_ca = pki_file(2, pki, "ca.crt"),
    .heartbeat_interval = 60, .call_timeout = 5,
  };
  ocpp_callbacks cb = {.on_event = on_event};
  char err[256];
  fx.srv_closed = false;
  cr_assert_eq(ocpp_server_create(&fx.loop, &o, cps, 4, &cb, &fx, &fx.srv, err,
                                  sizeof err), OCPP_OK, "%s", err);
}

static void run_until(const bool *flag, int ms)
{
  uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
  while (!*flag && uv_hrtime() < end) {
    uv_run(&fx.loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
}

static void run_for(int ms)
{
  bool never = false;
  run_until(&never, ms);
}

static void stop_backend(void)
{
  ocpp_server_destroy(fx.srv, on_srv_closed);
  fx.srv = NULL;
  run_until(&fx.srv_closed, WAIT_MS);
  cr_assert(fx.srv_closed);
}

static void make_pki(void)
{
  const char *tool = getenv("OCPPKNX_CERTS");
  cr_assert(tool, "OCPPKNX_CERTS is not set");
  cr_assert_lt(strlen(tool), 512);
  snprintf(root, sizeof root, "/tmp/ocpp-upstream-XXXXXX");
  cr_assert(mkdtemp(root));
  snprintf(pki, sizeof pki, "%s/pki", root);
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "exec >/dev/null; '%s' ca '%s' && '%s' server '%s' localhost 127.0.0.1 &&"
           " '%s' client '%s' CP3 && '%s' ca '%s/other' &&"
           " '%s' server '%s/other' 127.0.0.1",
           tool, pki, tool, pki, tool, pki, tool, root, tool, root);
  cr_assert_eq(system(cmd), 0, "ocppknx-certs failed");
}

static void setup(void)
{
  memset(&fx, 0, sizeof fx);
  signal(SIGPIPE, SIG_IGN); /* as the daemon does: a closed peer is an error code */
  make_pki();
  cr_assert_eq(uv_loop_init(&fx.loop), 0);
  fx.port = free_port();
  fx.tls_port = free_port();
  snprintf(fx.listen, sizeof fx.listen, "127.0.0.1:%d", fx.port);
  snprintf(fx.tls_listen, sizeof fx.tls_listen, "127.0.0.1:%d", fx.tls_port);
  start_backend();
}

static void on_up_closed(void *ud)
{
  ((fixture *)ud)->up_closed = true;
}

static void teardown(void)
{
  if (fx.up) {
    ocpp_upstream_destroy(fx.up, on_up_closed, &fx);
    run_until(&fx.up_closed, WAIT_MS);
    cr_assert(fx.up_closed, "upstream not closed");
  }
  if (fx.srv)
    stop_backend();
  uv_run(&fx.loop, UV_RUN_DEFAULT);
  cr_assert_eq(uv_loop_close(&fx.loop), 0, "a handle was left open");
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  cr_assert_eq(system(cmd), 0);
}

TestSuite(upstream, .init = setup, .fini = teardown, .timeout = 60);

/* ---- the link ------------------------------------------------------------ */

static bool link_is_up;
static bool boot_known = true;  /* open_upstream gives the identity */

static void on_link(void *ud, bool open)
{
  fixture *f = ud;
  if (open)
    f->link_up++;
  else
    f->link_down++;
  link_is_up = open;
}

static void on_log(void *ud, ocpp_log_level level, const char *id,
                   const char *message)
{
  fixture *f = ud;
  size_t n = strlen(f->log);
  snprintf(f->log + n, sizeof f->log - n, "%d %s: %s\n", (int)level,
           id ? id : "-", message);
}

static bool defer_unlock;       /* on_call answers UnlockConnector later */
static uint32_t unlock_token;

static json_t *on_call(void *ud, const char *action, const json_t *payload,
                       const char **error_code)
{
  fixture *f = ud;
  (void)payload;
  (void)error_code;
  if (f->n_calls < 8)
    snprintf(f->calls[f->n_calls++], sizeof f->calls[0], "%s", action);
  if (defer_unlock && strcmp(action, "UnlockConnector") == 0) {
    unlock_token = ocpp_upstream_defer(f->up);
    return NULL;
  }
  if (strcmp(action, "GetConfiguration") == 0)
    return json_pack("{s:[]}", "configurationKey");
  *error_code = "NotSupported";
  return NULL;
}

static const ocpp_upstream_callbacks up_cb = {
  .on_link = on_link, .on_log = on_log, .on_call = on_call,
};

static int open_upstream(const char *scheme, int port, const char *id,
                         int profile, const char *password, const char *ca,
                         bool client_cert)
{
  char url[128];
  snprintf(url, sizeof url, "%s://127.0.0.1:%d/ocpp/{id}", scheme, port);
  ocpp_upstream_options o = {
    .url = url, .identity = id, .log_id = "garage",
    .security_profile = profile, .password = password, .tls_ca = ca,
    .tls_cert = client_cert ? pki_file(3, pki, "CP3.crt") : NULL,
    .tls_key = client_cert ? pki_file(4, pki, "CP3.key") : NULL,
    .call_timeout = 5,
  };
  char err[256];
  link_is_up = false;
  int rc = ocpp_upstream_create(&fx.loop, &o, &up_cb, &fx, &fx.up, err, sizeof err);
  if (rc == OCPP_OK && boot_known)
    cr_assert_eq(ocpp_upstream_set_boot(fx.up, "Zaptec", "Go", "ZCS000143", "2.1.0"),
                 OCPP_OK);
  if (rc == OCPP_OK)
    run_until(&link_is_up, WAIT_MS);
  return rc;
}

static void on_done(void *ud, bool answered, const json_t *payload,
                    const char *error_code)
{
  fixture *f = ud;
  f->done = true;
  f->answered = answered;
  snprintf(f->done_status, sizeof f->done_status, "%s",
           answered ? json_string_value(json_object_get(payload, "status")) : "");
  snprintf(f->done_error, sizeof f->done_error, "%s", error_code ? error_code : "");
}

/* The link registered with the charger's identity, and a CALL of ours
 * is answered. */
static void boot_and_check(void)
{
  cr_assert_eq(fx.boots, 1);
  cr_assert_str_eq(fx.boot_vendor, "Zaptec");
  cr_assert_str_eq(fx.boot_serial, "ZCS000143");
  ocpp_upstream_info info;
  ocpp_upstream_info_get(fx.up, &info);
  cr_assert(info.open && info.registered);
  json_t *p = json_pack("{s:i,s:s,s:s}", "connectorId", 1, "errorCode",
                        "NoError", "status", "Available");
  fx.done = false;
  cr_assert_eq(ocpp_upstream_call(fx.up, "StatusNotification", p, on_done, &fx),
               OCPP_OK);
  run_until(&fx.done, WAIT_MS);
  cr_assert(fx.done && fx.answered, "no answer: %s", fx.done_error);
}

Test(upstream, ws_link_opens_and_boot_reaches_the_backend)
{
  cr_assert_eq(open_upstream("ws", fx.port, "CP0", 0, NULL, NULL, false), OCPP_OK);
  cr_assert_eq(fx.link_up, 1, "log:\n%s", fx.log);
  cr_assert_eq(fx.online, 1);
  ocpp_upstream_info info;
  ocpp_upstream_info_get(fx.up, &info);
  cr_assert(info.open);
  cr_assert_str_eq(info.last_error, "");
  cr_assert(strstr(fx.log, "garage: backend connected: ws://127.0.0.1:"));
  boot_and_check();
}

Test(upstream, without_the_chargers_identity_the_link_waits_unregistered)
{
  boot_known = false;
  cr_assert_eq(open_upstream("ws", fx.port, "CP0", 0, NULL, NULL, false), OCPP_OK);
  boot_known = true;
  bool online = false;
  for (int i = 0; i < 100 && !online; i++) {
    run_for(10);
    online = fx.online == 1;
  }
  cr_assert(online, "log:\n%s", fx.log);
  run_for(100);
  ocpp_upstream_info info;
  ocpp_upstream_info_get(fx.up, &info);
  cr_assert(info.open);
  cr_assert_not(info.registered);
  cr_assert_eq(fx.boots, 0);
  cr_assert_eq(fx.link_up, 0);
  cr_assert_eq(ocpp_upstream_call(fx.up, "Heartbeat", json_object(), on_done, &fx),
               OCPP_ENOTCONN);
  cr_assert_eq(ocpp_upstream_set_boot(fx.up, "Zaptec", "Go", "ZCS000143", "2.1.0"),
               OCPP_OK);
  run_until(&link_is_up, WAIT_MS);
  cr_assert_eq(fx.link_up, 1);
  boot_and_check();
}

Test(upstream, backend_calls_reach_the_owner_and_are_answered)
{
  cr_assert_eq(open_upstream("ws", fx.port, "CP0", 0, NULL, NULL, false), OCPP_OK);
  boot_and_check();
  /* the central system asks for the configuration after a boot */
  bool got = false;
  for (int i = 0; i < 50 && !got; i++) {
    run_for(20);
    got = fx.n_calls > 0;
  }
  cr_assert(got, "no CALL from the backend");
  cr_assert_str_eq(fx.calls[0], "GetConfiguration");
}

static bool unlock_done;
static ocpp_result unlock_result;

static void on_unlock_result(void *ud, ocpp_result result)
{
  (void)ud;
  unlock_done = true;
  unlock_result = result;
}

/* The backend (our own central system) unlocks connector 1 of the link's
 * identity; the owner defers the answer. */
static void backend_unlocks(void)
{
  cr_assert_eq(open_upstream("ws", fx.port, "CP0", 0, NULL, NULL, false), OCPP_OK);
  boot_and_check();
  defer_unlock = true;
  unlock_done = false;
  unlock_token = 0;
  ocpp_command cmd = {.kind = OCPP_CMD_UNLOCK, .connector = 1};
  cr_assert_eq(ocpp_server_command(fx.srv, "CP0", &cmd, on_unlock_result, NULL),
               OCPP_OK);
  for (int i = 0; i < 100 && !unlock_token; i++)
    run_for(10);
  cr_assert_neq(unlock_token, 0, "not deferred; log:\n%s", fx.log);
  run_for(100);
  cr_assert_not(unlock_done, "answered before the owner decided");
}

Test(upstream, a_deferred_backend_call_is_answered_later_on_the_wire)
{
  backend_unlocks();
  cr_assert_eq(ocpp_upstream_answer(fx.up, unlock_token,
                                    json_pack("{s:s}", "status", "Unlocked"),
                                    NULL), OCPP_OK);
  run_until(&unlock_done, WAIT_MS);
  cr_assert(unlock_done);
  cr_assert_eq(unlock_result, OCPP_RESULT_ACCEPTED);
  /* answered once: the token is spent */
  cr_assert_eq(ocpp_upstream_answer(fx.up, unlock_token, json_object(), NULL),
               OCPP_ENOENT);
  defer_unlock = false;
}

Test(upstream, a_deferred_backend_call_can_end_in_a_callerror)
{
  backend_unlocks();
  cr_assert_eq(ocpp_upstream_answer(fx.up, unlock_token, NULL, "NotSupported"),
               OCPP_OK);
  run_until(&unlock_done, WAIT_MS);
  cr_assert(unlock_done);
  cr_assert_eq(unlock_result, OCPP_RESULT_NOT_SUPPORTED);
  defer_unlock = false;
}

Test(upstream, deferred_backend_calls_are_dropped_with_the_link)
{
  backend_unlocks();
  stop_backend();
  for (int i = 0; i < 100 && link_is_up; i++)
    run_for(10);
  cr_assert_not(link_is_up);
  cr_assert_eq(ocpp_upstream_answer(fx.up, unlock_token,
                                    json_pack("{s:s}", "status", "Unlocked"),
                                    NULL), OCPP_ENOENT);
  defer_unlock = false;
}

Test(upstream, profile_1_sends_basic_auth)
{
  cr_assert_eq(open_upstream("ws", fx.port, "CP1", 1, PASSWORD, NULL, false), OCPP_OK);
  cr_assert_eq(fx.link_up, 1, "log:\n%s", fx.log);
  boot_and_check();
  cr_assert_null(strstr(fx.log, PASSWORD), "the password reached the log");
}

Test(upstream, wrong_password_is_refused_and_kept_as_last_error)
{
  cr_assert_eq(open_upstream("ws", fx.port, "CP1", 1, "not-it", NULL, false), OCPP_OK);
  cr_assert_eq(fx.link_up, 0);
  ocpp_upstream_info info;
  ocpp_upstream_info_get(fx.up, &info);
  cr_assert_not(info.open);
  cr_assert_eq(info.failures, 1);
  cr_assert_str_eq(info.last_error, "upgrade refused: HTTP 401 Unauthorized");
  cr_assert(strstr(fx.log, "garage: backend not connected: upgrade refused: HTTP 401"
                           " Unauthorized; next attempt in 5 s"), "log:\n%s", fx.log);
  cr_assert_eq(ocpp_upstream_call(fx.up, "Heartbeat", json_object(), on_done, &fx),
               OCPP_ENOTCONN);
}

Test(upstream, profile_2_verifies_the_server_and_sends_basic_auth)
{
  cr_assert_eq(open_upstream("wss", fx.tls_port, "CP2", 2, PASSWORD,
                             pki_file(5, pki, "ca.crt"), false), OCPP_OK);
  cr_assert_eq(fx.link_up, 1, "log:\n%s", fx.log);
  boot_and_check();
}

Test(upstream, profile_3_presents_the_client_certificate)
{
  cr_assert_eq(open_upstream("wss", fx.tls_port, "CP3", 3, NULL,
                             pki_file(5, pki, "ca.crt"), true), OCPP_OK);
  cr_assert_eq(fx.link_up, 1, "log:\n%s", fx.log);
  boot_and_check();
}

Test(upstream, profile_3_without_the_certificate_is_refused_by_the_backend)
{
  /* a profile 0 link over wss:// to an identity the backend wants on 3 */
  cr_assert_eq(open_upstream("wss", fx.tls_port, "CP3", 0, NULL,
                             pki_file(5, pki, "ca.crt"), false), OCPP_OK);
  cr_assert_eq(fx.link_up, 0);
  ocpp_upstream_info info;
  ocpp_upstream_info_get(fx.up, &info);
  cr_assert_str_eq(info.last_error, "upgrade refused: HTTP 403 Forbidden");
}

Test(upstream, server_certificate_of_another_ca_is_not_connected_and_logged)
{
  char other[128];
  snprintf(other, sizeof other, "%s/other/ca.crt", root);
  cr_assert_eq(open_upstream("wss", fx.tls_port, "CP2", 2, PASSWORD, other, false),
               OCPP_OK);
  run_for(300);
  cr_assert_eq(fx.link_up, 0);
  cr_assert_eq(fx.online, 0);
  ocpp_upstream_info info;
  ocpp_upstream_info_get(fx.up, &info);
  cr_assert_not(info.open);
  cr_assert(strncmp(info.last_error, "TLS handshake failed: ", 22) == 0, "%s",
            info.last_error);
  cr_assert(strstr(fx.log, "1 garage: backend not connected: TLS handshake failed: "),
            "log:\n%s", fx.log);
}

Test(upstream, system_store_does_not_trust_a_private_ca)
{
  cr_assert_eq(open_upstream("wss", fx.tls_port, "CP2", 2, PASSWORD, NULL, false),
               OCPP_OK);
  run_for(300);
  cr_assert_eq(fx.link_up, 0);
  ocpp_upstream_info info;
  ocpp_upstream_info_get(fx.up, &info);
  cr_assert(strncmp(info.last_error, "TLS handshake failed: ", 22) == 0, "%s",
            info.last_error);
}

Test(upstream, link_comes_back_after_the_backend_restarts)
{
  cr_assert_eq(open_upstream("ws", fx.port, "CP0", 0, NULL, NULL, false), OCPP_OK);
  cr_assert_eq(fx.link_up, 1);
  /* a call in flight when the backend goes ends Offline */
  fx.done = false;
  cr_assert_eq(ocpp_upstream_call(fx.up, "Heartbeat", json_object(), on_done, &fx),
               OCPP_OK);
  stop_backend();
  run_until(&fx.done, WAIT_MS);
  cr_assert(fx.done);
  cr_assert_not(fx.answered);
  cr_assert_str_eq(fx.done_error, "Offline");
  fx.boots = 0;
  bool down = false;
  for (int i = 0; i < 100 && !down; i++) {
    run_for(10);
    down = fx.link_down == 1;
  }
  cr_assert(down, "link not reported down; log:\n%s", fx.log);
  ocpp_upstream_info info;
  ocpp_upstream_info_get(fx.up, &info);
  cr_assert_not(info.open);
  cr_assert_neq(info.last_error[0], '\0');
  start_backend();
  link_is_up = false;
  run_until(&link_is_up, 12000); /* the first redial is due after 5 s */
  cr_assert_eq(fx.link_up, 2, "log:\n%s", fx.log);
  ocpp_upstream_info_get(fx.up, &info);
  cr_assert(info.open);
  cr_assert_eq(info.failures, 0);
  boot_and_check();
}

Test(upstream, destroy_while_dialing_a_closed_port_leaves_no_handle)
{
  int port = free_port();
  cr_assert_eq(open_upstream("ws", port, "CP0", 0, NULL, NULL, false), OCPP_OK);
  cr_assert_eq(fx.link_up, 0);
  ocpp_upstream_info info;
  ocpp_upstream_info_get(fx.up, &info);
  cr_assert(strstr(info.last_error, "connection refused"), "%s", info.last_error);
}

Test(upstream, destroy_right_after_create_leaves_no_handle)
{
  ocpp_upstream_options o = {.url = "ws://localhost:1/{id}", .identity = "CP0"};
  cr_assert_eq(ocpp_upstream_create(&fx.loop, &o, &up_cb, &fx, &fx.up, NULL, 0),
               OCPP_OK);
  /* teardown destroys it while the name lookup runs */
}

/* ---- options ------------------------------------------------------------- */

static int create_with(const char *url, int profile, const char *password,
                       const char *cert, char *err, size_t cap)
{
  ocpp_upstream_options o = {
    .url = url, .identity = "CP1", .security_profile = profile,
    .password = password, .tls_cert = cert, .tls_key = cert,
  };
  ocpp_upstream *up = NULL;
  int rc = ocpp_upstream_create(&fx.loop, &o, &up_cb, &fx, &up, err, cap);
  cr_assert_null(up);
  return rc;
}

Test(upstream, invalid_options_are_einval_with_the_reason)
{
  char err[128];
  cr_assert_eq(create_with("http://h/", 0, NULL, NULL, err, sizeof err), OCPP_EINVAL);
  cr_assert_str_eq(err, "url: not a ws:// or wss:// URL");
  cr_assert_eq(create_with("ws://h/", 2, "pw", NULL, err, sizeof err), OCPP_EINVAL);
  cr_assert_str_eq(err, "security_profile 2 and 3 need a wss:// url");
  cr_assert_eq(create_with("ws://h/", 1, NULL, NULL, err, sizeof err), OCPP_EINVAL);
  cr_assert_str_eq(err, "security_profile 1 and 2 need a password");
  cr_assert_eq(create_with("wss://h/", 3, NULL, NULL, err, sizeof err), OCPP_EINVAL);
  cr_assert_str_eq(err, "security_profile 3 needs tls_cert and tls_key");
  cr_assert_eq(create_with("wss://h/", 4, NULL, NULL, err, sizeof err), OCPP_EINVAL);
  cr_assert_eq(create_with("wss://h/", 3, NULL, "/nonexistent.pem", err, sizeof err),
               OCPP_ETLS);
  cr_assert(strstr(err, "/nonexistent.pem"), "%s", err);
  cr_assert_eq(ocpp_upstream_create(&fx.loop, NULL, &up_cb, &fx, &fx.up, NULL, 0),
               OCPP_EINVAL);
}

Test(upstream, call_with_null_arguments_is_einval)
{
  cr_assert_eq(ocpp_upstream_call(NULL, "Heartbeat", json_object(), NULL, NULL),
               OCPP_EINVAL);
  ocpp_upstream_info info;
  ocpp_upstream_info_get(NULL, &info);
  cr_assert_not(info.open);
  ocpp_upstream_destroy(NULL, NULL, NULL);
}
