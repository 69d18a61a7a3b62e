/* The TLS engine of the ocpp module, driven through memory: a wolfSSL
 * client in the test talks to ocpp_tls without any socket. */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocpp/ocpp.h"
#include "ocpp/tls.h"

/* EC P-256, valid 2020-2120: a CA, the server, client "CP7" under the CA,
 * and a client "CP7" under another CA. */
static const char ca_crt[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBOTCB4aADAgECAhQU2ftcYSNtnhZg29C3pRjoQcVicjAKBggqhkjOPQQDAjAS\n"
  "MRAwDgYDVQQDDAd0ZXN0IENBMCAXDTIwMDEwMTAwMDAwMFoYDzIxMjAwMTAxMDAw\n"
  "MDAwWjASMRAwDgYDVQQDDAd0ZXN0IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD\n"
  "QgAEwGgqQcF/RpaXP6ivIYnQoEZ8lY5poO9x+NPBe+C03fKlfb8tb4DAXxf9O4tp\n"
  "UHf6eoIeHOkS0UO/ApVb34ZeCKMTMBEwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjO\n"
  "PQQDAgNHADBEAiBCKF9AKe436nBCzZQ9iP9u3nImLyUfPuRBI+YpnhePHgIgM4kP\n"
  "WtogziHsgbyLYPGTP/6T6O8AvZRZeeC7sCTqdiM=\n"
  "-----END CERTIFICATE-----\n"
  ;

static const char server_crt[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBOTCB4KADAgECAhQH8sdx0/CW94ENjodaK3559FfwMTAKBggqhkjOPQQDAjAS\n"
  "MRAwDgYDVQQDDAd0ZXN0IENBMCAXDTIwMDEwMTAwMDAwMFoYDzIxMjAwMTAxMDAw\n"
  "MDAwWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjOPQMB\n"
  "BwNCAAQlyCSjsXzrjXtl3bQhEycWZVwce5zMN0IVxprCKvV3EPmdfsXQg4ZJWIU8\n"
  "WcnW9Idh/R5ANpz4Y2dvkTCmJYfXoxAwDjAMBgNVHRMBAf8EAjAAMAoGCCqGSM49\n"
  "BAMCA0gAMEUCIAtmVOdf03a1zY9ReeIqGEZfkSku+DYihpZAeXyjoxUgAiEA0Q/+\n"
  "FsvxReu5Y5KTmcprNRBE4qQpcygjtidshEIrLhw=\n"
  "-----END CERTIFICATE-----\n"
  ;

static const char server_key[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgrArF7MbXlmZqt8KR\n"
  "zLqFuVzbGpSiCsyyuuVDc+vXJrChRANCAAQlyCSjsXzrjXtl3bQhEycWZVwce5zM\n"
  "N0IVxprCKvV3EPmdfsXQg4ZJWIU8WcnW9Idh/R5ANpz4Y2dvkTCmJYfX\n"
  "-----END PRIVATE KEY-----\n"
  ;

static const char client_crt[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBMzCB2qADAgECAhRO8gfSDqcG30aappWCcdV7MKoSXzAKBggqhkjOPQQDAjAS\n"
  "MRAwDgYDVQQDDAd0ZXN0IENBMCAXDTIwMDEwMTAwMDAwMFoYDzIxMjAwMTAxMDAw\n"
  "MDAwWjAOMQwwCgYDVQQDDANDUDcwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAT5\n"
  "pvbBkhNsgwWW6CACVoRxOFaZLk4Y66OjACc/FIet2e3nVdYTIGJiy+b3BM6gK+e3\n"
  "YaYNhMrGdi1wLi+uqktNoxAwDjAMBgNVHRMBAf8EAjAAMAoGCCqGSM49BAMCA0gA\n"
  "MEUCIQDkqdgODWEwbtik7l61Nh2aMJvAdJUAwz/PhC+PwC2PGAIgd3o6ctSidg9Z\n"
  "tkBQIE+VD5jX5ILUHny3FrYWEuFzu9Q=\n"
  "-----END CERTIFICATE-----\n"
  ;

static const char client_key[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgeIiFBxupr/NtBhwC\n"
  "0QNd1bQ64mPcg/czTTwlVKoHR2ehRANCAAT5pvbBkhNsgwWW6CACVoRxOFaZLk4Y\n"
  "66OjACc/FIet2e3nVdYTIGJiy+b3BM6gK+e3YaYNhMrGdi1wLi+uqktN\n"
  "-----END PRIVATE KEY-----\n"
  ;

static const char other_client_crt[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBMzCB26ADAgECAhRrKWFJZwLzOpJ6u7K8O2mEAfRbsDAKBggqhkjOPQQDAjAT\n"
  "MREwDwYDVQQDDAhvdGhlciBDQTAgFw0yMDAxMDEwMDAwMDBaGA8yMTIwMDEwMTAw\n"
  "MDAwMFowDjEMMAoGA1UEAwwDQ1A3MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
  "+ezXxypzW06QRXOVgFYfc1WqY+4hctolhjCdwn2vDbDkxLA5oF0gIA91vM4q/d8S\n"
  "DRMtaFK2EaINZRHqPlywCKMQMA4wDAYDVR0TAQH/BAIwADAKBggqhkjOPQQDAgNH\n"
  "ADBEAiA15NJ/PgRSPXF7qlFJIakIfpc4kFjoECpr9scAIiz0zQIgHHt3HRbXnni9\n"
  "y7OJnlY5MFeOHwebuta932NVcjl0Rm4=\n"
  "-----END CERTIFICATE-----\n"
  ;

static const char other_client_key[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg8lfR5/9uN3qMFi03\n"
  "1MW2BbElnoNVdnWMmpXn3zvn3RihRANCAAT57NfHKnNbTpBFc5WAVh9zVapj7iFy\n"
  "2iWGMJ3Cfa8NsOTEsDmgXSAgD3W8zir93xINEy1oUrYRog1lEeo+XLAI\n"
  "-----END PRIVATE KEY-----\n"
  ;

/* EC P-256 "box" with one key: expired in 2001, valid only from 2090. */
static const char expired_crt[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBLTCB1KADAgECAhRiklYiZYlT41VO1HKce2QRGatjGDAKBggqhkjOPQQDAjAO\n"
  "MQwwCgYDVQQDDANib3gwHhcNMDAwMTAxMDAwMDAwWhcNMDEwMTAxMDAwMDAwWjAO\n"
  "MQwwCgYDVQQDDANib3gwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAR9MZDZCFjV\n"
  "4PuF+zPOWyqR2MMNNOYuO9K+H47H0+buzG0sQJLO+OsFhAJ36wsxfk+7LAyqR1t6\n"
  "5227tr+tTuXroxAwDjAMBgNVHRMBAf8EAjAAMAoGCCqGSM49BAMCA0gAMEUCIQCv\n"
  "SAPFS8vMCBQARnJwZahmUj5oyKm0w+pwyS5SqdWv0wIgYfi1dqF4M6lXYTguBRJW\n"
  "4nfkIy3+jx4jYZJzH8XT9lw=\n"
  "-----END CERTIFICATE-----\n"
  ;

static const char future_crt[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBMTCB2KADAgECAhQFkrEchssV1MfZwaQLfkRcEZwXCjAKBggqhkjOPQQDAjAO\n"
  "MQwwCgYDVQQDDANib3gwIhgPMjA5MDAxMDEwMDAwMDBaGA8yMTAwMDEwMTAwMDAw\n"
  "MFowDjEMMAoGA1UEAwwDYm94MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfTGQ\n"
  "2QhY1eD7hfszzlsqkdjDDTTmLjvSvh+Ox9Pm7sxtLECSzvjrBYQCd+sLMX5PuywM\n"
  "qkdbeudtu7a/rU7l66MQMA4wDAYDVR0TAQH/BAIwADAKBggqhkjOPQQDAgNIADBF\n"
  "AiEAjXD8p3CFz7K78nSdgGKqlS24m1XWnWYm8f/uhKSoUToCIAcr+PsJP5LahwYb\n"
  "N6GdqGPV5tJMdys3lD31SPE7qQ40\n"
  "-----END CERTIFICATE-----\n"
  ;

static const char box_key[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg82sJm0jdm/bP9cAx\n"
  "EapD41LJFK4XoXw+mkyiqwm5sguhRANCAAR9MZDZCFjV4PuF+zPOWyqR2MMNNOYu\n"
  "O9K+H47H0+buzG0sQJLO+OsFhAJ36wsxfk+7LAyqR1t65227tr+tTuXr\n"
  "-----END PRIVATE KEY-----\n"
  ;

static char dir[PATH_MAX];

static const char *path_of(const char *name)
{
  static char buf[4][PATH_MAX + 64];
  static int which;
  which = (which + 1) % 4;
  snprintf(buf[which], sizeof buf[which], "%s/%s", dir, name);
  return buf[which];
}

static void write_file(const char *name, const char *text)
{
  FILE *fp = fopen(path_of(name), "w");
  cr_assert_not_null(fp);
  fputs(text, fp);
  fclose(fp);
}

/* ---- a memory pipe between the test's client and the engine ---- */

typedef struct {
  unsigned char data[256 * 1024];
  size_t len;
} pipe_buf;

static pipe_buf to_server, to_client;
static char plain[4096];
static size_t plain_len;
static int handshakes;
static bool stop_after_plain;
static ocpp_tls_ctx *ctx;
static ocpp_tls *srv;
static WOLFSSL_CTX *cctx;
static WOLFSSL *cli;

static void put(pipe_buf *p, const void *data, size_t len)
{
  cr_assert_leq(p->len + len, sizeof p->data);
  memcpy(p->data + p->len, data, len);
  p->len += len;
}

static int srv_send(void *user_data, const void *data, size_t len)
{
  (void)user_data;
  put(&to_client, data, len);
  return 0;
}

static void srv_handshake(void *user_data)
{
  (void)user_data;
  handshakes++;
}

static bool srv_plain(void *user_data, const char *data, size_t len)
{
  (void)user_data;
  cr_assert_leq(plain_len + len, sizeof plain);
  memcpy(plain + plain_len, data, len);
  plain_len += len;
  return !stop_after_plain;
}

static const ocpp_tls_io io = {srv_send, srv_handshake, srv_plain};

static int cli_recv(WOLFSSL *ssl, char *buf, int sz, void *c)
{
  (void)ssl;
  (void)c;
  if (to_client.len == 0)
    return WOLFSSL_CBIO_ERR_WANT_READ;
  size_t n = (size_t)sz < to_client.len ? (size_t)sz : to_client.len;
  memcpy(buf, to_client.data, n);
  memmove(to_client.data, to_client.data + n, to_client.len - n);
  to_client.len -= n;
  return (int)n;
}

static int cli_send(WOLFSSL *ssl, char *buf, int sz, void *c)
{
  (void)ssl;
  (void)c;
  put(&to_server, buf, (size_t)sz);
  return sz;
}

/* Hands what the client wrote to the engine. */
static int pump_server(void)
{
  pipe_buf copy = to_server;
  to_server.len = 0;
  return ocpp_tls_input(srv, copy.data, copy.len);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void setup(void)
{
  snprintf(dir, sizeof dir, "/tmp/ocpp-tls-test-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  write_file("ca.crt", ca_crt);
  write_file("server.crt", server_crt);
  write_file("server.key", server_key);
  write_file("client.crt", client_crt);
  write_file("client.key", client_key);
  write_file("other.crt", other_client_crt);
  write_file("other.key", other_client_key);
  to_server.len = to_client.len = 0;
  plain_len = 0;
  handshakes = 0;
  stop_after_plain = false;
  ctx = NULL;
  srv = NULL;
  cctx = NULL;
  cli = NULL;
  wolfSSL_Init();
}

static void teardown(void)
{
  wolfSSL_free(cli);
  wolfSSL_CTX_free(cctx);
  ocpp_tls_destroy(srv);
  ocpp_tls_ctx_destroy(ctx);
  wolfSSL_Cleanup();
  nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(ocpp_tls, .init = setup, .fini = teardown);

static void make_server(bool with_ca)
{
  char err[256];
  int rc = ocpp_tls_ctx_create(path_of("server.crt"), path_of("server.key"),
                               with_ca ? path_of("ca.crt") : NULL, &ctx, err,
                               sizeof err);
  cr_assert_eq(rc, OCPP_OK, "%s", err);
  cr_assert_eq(ocpp_tls_create(ctx, &io, NULL, &srv), OCPP_OK);
}

/* A client with the given version range and suites, and maybe a cert. */
static void make_client(int version, const char *ciphers, const char *cert,
                        const char *key)
{
  WOLFSSL_METHOD *m = version == 11   ? wolfTLSv1_1_client_method()
                      : version == 12 ? wolfTLSv1_2_client_method()
                      : version == 13 ? wolfTLSv1_3_client_method()
                                      : wolfSSLv23_client_method();
  cctx = wolfSSL_CTX_new(m);
  cr_assert_not_null(cctx);
  cr_assert_eq(wolfSSL_CTX_load_verify_locations(cctx, path_of("ca.crt"), NULL),
               WOLFSSL_SUCCESS);
  if (ciphers)
    cr_assert_eq(wolfSSL_CTX_set_cipher_list(cctx, ciphers), WOLFSSL_SUCCESS);
  if (cert) {
    cr_assert_eq(wolfSSL_CTX_use_certificate_file(cctx, path_of(cert),
                                                  WOLFSSL_FILETYPE_PEM),
                 WOLFSSL_SUCCESS);
    cr_assert_eq(wolfSSL_CTX_use_PrivateKey_file(cctx, path_of(key),
                                                 WOLFSSL_FILETYPE_PEM),
                 WOLFSSL_SUCCESS);
  }
  wolfSSL_CTX_SetIORecv(cctx, cli_recv);
  wolfSSL_CTX_SetIOSend(cctx, cli_send);
  cli = wolfSSL_new(cctx);
  cr_assert_not_null(cli);
}

/* Runs the handshake; returns the engine's last result. */
static int handshake(void)
{
  int rc = OCPP_OK;
  for (int i = 0; i < 20; i++) {
    int r = wolfSSL_connect(cli);
    if (r != WOLFSSL_SUCCESS &&
        wolfSSL_get_error(cli, r) != WOLFSSL_ERROR_WANT_READ)
      return pump_server() == OCPP_OK ? rc : OCPP_ETLSFAIL;
    rc = pump_server();
    if (rc != OCPP_OK || (r == WOLFSSL_SUCCESS && ocpp_tls_handshake_done(srv)))
      return rc;
  }
  return rc;
}

/* ---- context ---- */

Test(ocpp_tls, context_loads_certificate_key_and_ca)
{
  make_server(true);
  cr_assert_not(ocpp_tls_handshake_done(srv));
}

Test(ocpp_tls, missing_certificate_file_is_a_tls_error_naming_it)
{
  char err[256];
  int rc = ocpp_tls_ctx_create(path_of("none.crt"), path_of("server.key"), NULL,
                               &ctx, err, sizeof err);
  cr_assert_eq(rc, OCPP_ETLS);
  cr_assert_null(ctx);
  cr_assert_not_null(strstr(err, "tls_cert"), "%s", err);
  cr_assert_not_null(strstr(err, "none.crt"), "%s", err);
}

Test(ocpp_tls, key_of_another_certificate_is_refused)
{
  char err[256];
  int rc = ocpp_tls_ctx_create(path_of("server.crt"), path_of("client.key"),
                               NULL, &ctx, err, sizeof err);
  cr_assert_eq(rc, OCPP_ETLS);
  cr_assert_not_null(strstr(err, "does not belong"), "%s", err);
}

Test(ocpp_tls, unreadable_ca_is_refused)
{
  char err[256];
  write_file("bad.crt", "not a certificate\n");
  int rc = ocpp_tls_ctx_create(path_of("server.crt"), path_of("server.key"),
                               path_of("bad.crt"), &ctx, err, sizeof err);
  cr_assert_eq(rc, OCPP_ETLS);
  cr_assert_not_null(strstr(err, "tls_ca"), "%s", err);
}

Test(ocpp_tls, missing_arguments_are_invalid)
{
  cr_assert_eq(ocpp_tls_ctx_create(NULL, path_of("server.key"), NULL, &ctx,
                                   NULL, 0), OCPP_EINVAL);
  cr_assert_eq(ocpp_tls_ctx_create(path_of("server.crt"), path_of("server.key"),
                                   NULL, NULL, NULL, 0), OCPP_EINVAL);
  make_server(false);
  ocpp_tls *t = NULL;
  cr_assert_eq(ocpp_tls_create(ctx, NULL, NULL, &t), OCPP_EINVAL);
  cr_assert_null(t);
  ocpp_tls_destroy(NULL);
  ocpp_tls_ctx_destroy(NULL);
}

/* ---- file check ---- */

typedef struct {
  ocpp_tls_file file;
  char message[512];
} tls_problem;

static tls_problem problems[8];
static size_t n_problems;

static void collect(void *user_data, ocpp_tls_file file, const char *message)
{
  cr_assert_eq(user_data, problems);
  cr_assert_lt(n_problems, sizeof problems / sizeof problems[0]);
  problems[n_problems].file = file;
  snprintf(problems[n_problems].message, sizeof problems[n_problems].message,
           "%s", message);
  n_problems++;
}

static int check_files(const char *cert, const char *key, const char *ca)
{
  n_problems = 0;
  return ocpp_tls_check_files(cert ? path_of(cert) : NULL,
                              key ? path_of(key) : NULL,
                              ca ? path_of(ca) : NULL, collect, problems);
}

static void expect_problem(size_t i, ocpp_tls_file file, const char *text)
{
  cr_assert_gt(n_problems, i);
  cr_assert_eq(problems[i].file, file, "%s", problems[i].message);
  cr_assert_not_null(strstr(problems[i].message, text), "%s",
                     problems[i].message);
}

Test(ocpp_tls, check_accepts_certificate_key_and_ca)
{
  cr_assert_eq(check_files("server.crt", "server.key", "ca.crt"), OCPP_OK);
  cr_assert_eq(n_problems, 0);
}

Test(ocpp_tls, check_reports_a_missing_file_by_its_path)
{
  cr_assert_eq(check_files("none.crt", "server.key", NULL), OCPP_ETLS);
  cr_assert_eq(n_problems, 1);
  expect_problem(0, OCPP_TLS_FILE_CERT, "cannot read \"");
  expect_problem(0, OCPP_TLS_FILE_CERT, "none.crt\": No such file or directory");
}

Test(ocpp_tls, check_reports_a_directory_as_not_a_regular_file)
{
  n_problems = 0;
  cr_assert_eq(ocpp_tls_check_files(dir, path_of("server.key"), NULL, collect,
                                    problems), OCPP_ETLS);
  expect_problem(0, OCPP_TLS_FILE_CERT, "is not a regular file");
}

Test(ocpp_tls, check_reports_a_key_that_does_not_match_the_certificate)
{
  cr_assert_eq(check_files("server.crt", "client.key", NULL), OCPP_ETLS);
  cr_assert_eq(n_problems, 1);
  expect_problem(0, OCPP_TLS_FILE_KEY, "client.key\" does not match the certificate \"");
}

Test(ocpp_tls, check_reports_garbage_pem_in_each_file)
{
  write_file("bad.crt", "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
  write_file("bad.key", "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n");
  write_file("bad.ca", "garbage\n");
  cr_assert_eq(check_files("bad.crt", "bad.key", "bad.ca"), OCPP_ETLS);
  cr_assert_eq(n_problems, 3);
  expect_problem(0, OCPP_TLS_FILE_CERT, "bad.crt\" holds no PEM certificate");
  expect_problem(1, OCPP_TLS_FILE_KEY, "bad.key\" holds no PEM private key");
  expect_problem(2, OCPP_TLS_FILE_CA, "bad.ca\" holds no PEM CA certificate");
}

Test(ocpp_tls, check_reports_a_key_given_as_certificate)
{
  cr_assert_eq(check_files("server.key", "server.key", NULL), OCPP_ETLS);
  cr_assert_eq(n_problems, 1);
  expect_problem(0, OCPP_TLS_FILE_CERT, "holds no PEM certificate");
}

Test(ocpp_tls, check_reports_the_dates_of_a_certificate_not_valid_now)
{
  write_file("expired.crt", expired_crt);
  write_file("future.crt", future_crt);
  write_file("box.key", box_key);
  cr_assert_eq(check_files("expired.crt", "box.key", NULL), OCPP_ETLS);
  cr_assert_eq(n_problems, 1);
  expect_problem(0, OCPP_TLS_FILE_CERT, "expired.crt\" expired on 2001-01-01 00:00 UTC");
  cr_assert_eq(check_files("future.crt", "box.key", NULL), OCPP_ETLS);
  cr_assert_eq(n_problems, 1);
  expect_problem(0, OCPP_TLS_FILE_CERT,
                 "future.crt\" is not valid before 2090-01-01 00:00 UTC");
}

Test(ocpp_tls, check_skips_paths_not_given_and_works_without_a_callback)
{
  cr_assert_eq(check_files(NULL, NULL, NULL), OCPP_OK);
  cr_assert_eq(ocpp_tls_check_files(path_of("none.crt"), NULL, NULL, NULL, NULL),
               OCPP_ETLS);
}

Test(ocpp_tls, check_leaves_a_running_context_usable)
{
  make_server(false);
  cr_assert_eq(check_files("server.crt", "server.key", NULL), OCPP_OK);
  make_client(13, NULL, NULL, NULL);
  cr_assert_eq(handshake(), OCPP_OK);
  cr_assert(ocpp_tls_handshake_done(srv));
}

/* ---- handshake and records ---- */

Test(ocpp_tls, tls13_handshake_and_data_both_ways)
{
  make_server(false);
  make_client(0, NULL, NULL, NULL);
  cr_assert_eq(handshake(), OCPP_OK);
  cr_assert(ocpp_tls_handshake_done(srv));
  cr_assert_eq(handshakes, 1);
  cr_assert_str_eq(ocpp_tls_version(srv), "TLSv1.3");
  cr_assert_eq(wolfSSL_write(cli, "GET / HTTP/1.1\r\n", 16), 16);
  cr_assert_eq(pump_server(), OCPP_OK);
  cr_assert_eq(plain_len, 16);
  cr_assert_eq(memcmp(plain, "GET / HTTP/1.1\r\n", 16), 0);
  cr_assert_eq(ocpp_tls_write(srv, "HTTP/1.1 101", 12), OCPP_OK);
  char buf[64];
  int n = wolfSSL_read(cli, buf, sizeof buf);
  while (n <= 0 && wolfSSL_get_error(cli, n) == WOLFSSL_ERROR_WANT_READ &&
         to_client.len)
    n = wolfSSL_read(cli, buf, sizeof buf);
  cr_assert_eq(n, 12);
  cr_assert_eq(memcmp(buf, "HTTP/1.1 101", 12), 0);
}

Test(ocpp_tls, tls12_with_ecdhe_aead_is_accepted)
{
  make_server(false);
  make_client(12, "ECDHE-ECDSA-CHACHA20-POLY1305", NULL, NULL);
  cr_assert_eq(handshake(), OCPP_OK);
  cr_assert_str_eq(ocpp_tls_version(srv), "TLSv1.2");
  cr_assert_str_eq(ocpp_tls_cipher(srv), "ECDHE-ECDSA-CHACHA20-POLY1305");
}

Test(ocpp_tls, tls11_client_is_refused_with_a_reason)
{
  make_server(false);
  make_client(11, NULL, NULL, NULL);
  cr_assert_eq(handshake(), OCPP_ETLSFAIL);
  cr_assert_not(ocpp_tls_handshake_done(srv));
  cr_assert_neq(ocpp_tls_reason(srv)[0], '\0');
  cr_assert_eq(handshakes, 0);
}

Test(ocpp_tls, cbc_suite_is_refused)
{
  make_server(false);
  make_client(12, "ECDHE-ECDSA-AES128-SHA256", NULL, NULL);
  cr_assert_eq(handshake(), OCPP_ETLSFAIL);
  cr_assert_not_null(strstr(ocpp_tls_reason(srv), "cipher"), "%s",
                     ocpp_tls_reason(srv));
}

Test(ocpp_tls, plain_http_on_the_tls_port_fails)
{
  make_server(false);
  static const char req[] = "GET /ocpp/CP1 HTTP/1.1\r\nHost: x\r\n\r\n";
  cr_assert_eq(ocpp_tls_input(srv, req, sizeof req - 1), OCPP_ETLSFAIL);
  cr_assert_eq(ocpp_tls_input(srv, req, sizeof req - 1), OCPP_ETLSFAIL);
  cr_assert_eq(plain_len, 0);
}

Test(ocpp_tls, write_before_the_handshake_is_refused)
{
  make_server(false);
  cr_assert_eq(ocpp_tls_write(srv, "x", 1), OCPP_ESTATE);
  cr_assert_eq(to_client.len, 0);
}

/* ---- client certificates (security profile 3) ---- */

Test(ocpp_tls, no_client_certificate_is_accepted_but_reported)
{
  make_server(true);
  make_client(0, NULL, NULL, NULL);
  cr_assert_eq(handshake(), OCPP_OK);
  cr_assert_not(ocpp_tls_peer(srv)->has_cert);
  cr_assert_not(ocpp_tls_peer(srv)->verified);
  cr_assert_str_eq(ocpp_tls_peer(srv)->cn, "");
}

Test(ocpp_tls, client_certificate_from_the_ca_is_verified_with_its_cn)
{
  make_server(true);
  make_client(0, NULL, "client.crt", "client.key");
  cr_assert_eq(handshake(), OCPP_OK);
  cr_assert(ocpp_tls_peer(srv)->has_cert);
  cr_assert(ocpp_tls_peer(srv)->verified);
  cr_assert_str_eq(ocpp_tls_peer(srv)->cn, "CP7");
}

Test(ocpp_tls, client_certificate_from_another_ca_is_not_verified)
{
  make_server(true);
  make_client(0, NULL, "other.crt", "other.key");
  cr_assert_eq(handshake(), OCPP_OK);
  cr_assert(ocpp_tls_peer(srv)->has_cert);
  cr_assert_not(ocpp_tls_peer(srv)->verified);
  cr_assert_neq(ocpp_tls_peer(srv)->verify_error[0], '\0');
}

Test(ocpp_tls, client_certificate_over_tls12_is_verified)
{
  make_server(true);
  make_client(12, NULL, "client.crt", "client.key");
  cr_assert_eq(handshake(), OCPP_OK);
  cr_assert(ocpp_tls_peer(srv)->verified);
  cr_assert_str_eq(ocpp_tls_peer(srv)->cn, "CP7");
}

Test(ocpp_tls, without_a_ca_no_client_certificate_is_asked_for)
{
  make_server(false);
  make_client(0, NULL, "client.crt", "client.key");
  cr_assert_eq(handshake(), OCPP_OK);
  cr_assert_not(ocpp_tls_peer(srv)->has_cert);
}

/* ---- closing ---- */

Test(ocpp_tls, close_notify_reaches_the_client)
{
  make_server(false);
  make_client(0, NULL, NULL, NULL);
  cr_assert_eq(handshake(), OCPP_OK);
  char buf[16];
  wolfSSL_read(cli, buf, sizeof buf); /* takes the session tickets */
  ocpp_tls_close_notify(srv);
  ocpp_tls_close_notify(srv); /* once only */
  int n = wolfSSL_read(cli, buf, sizeof buf);
  cr_assert_eq(n, 0);
  cr_assert_eq(wolfSSL_get_error(cli, n), WOLFSSL_ERROR_ZERO_RETURN);
  cr_assert_eq(to_client.len, 0);
}

Test(ocpp_tls, client_close_notify_ends_the_input)
{
  make_server(false);
  make_client(0, NULL, NULL, NULL);
  cr_assert_eq(handshake(), OCPP_OK);
  wolfSSL_shutdown(cli);
  cr_assert_eq(pump_server(), OCPP_ECLOSED);
  cr_assert_eq(ocpp_tls_input(srv, "x", 1), OCPP_ECLOSED);
}

Test(ocpp_tls, on_plain_can_stop_the_input)
{
  make_server(false);
  make_client(0, NULL, NULL, NULL);
  cr_assert_eq(handshake(), OCPP_OK);
  stop_after_plain = true;
  cr_assert_eq(wolfSSL_write(cli, "one", 3), 3);
  cr_assert_eq(wolfSSL_write(cli, "two", 3), 3);
  cr_assert_eq(pump_server(), OCPP_OK);
  cr_assert_eq(plain_len, 3);
  cr_assert_eq(memcmp(plain, "one", 3), 0);
}
