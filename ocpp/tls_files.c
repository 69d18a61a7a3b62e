/* The TLS files of the wss:// listener, checked before the daemon starts
 * (--check-config and the start itself): readable, parsed the way
 * ocpp_tls_ctx_create loads them, the key belonging to the certificate and
 * the certificate valid now. Every problem is reported, not only the first. */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ocpp/ocpp.h"

typedef struct {
  ocpp_tls_problem_cb cb;
  void *user_data;
  size_t problems;
} problem_list;

__attribute__((format(printf, 3, 4)))
static void problem(problem_list *p, ocpp_tls_file file, const char *fmt, ...)
{
  p->problems++;
  if (p->cb == NULL)
    return;
  char msg[2 * 4096 + 128]; /* two paths and the words around them */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  p->cb(p->user_data, file, msg);
}

/* Reports a path that cannot be opened for reading or is not a file. */
static void check_readable(problem_list *p, ocpp_tls_file file, const char *path)
{
  FILE *fp = fopen(path, "r");
  if (fp == NULL) {
    problem(p, file, "cannot read \"%s\": %s", path, strerror(errno));
    return;
  }
  struct stat st;
  if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode))
    problem(p, file, "\"%s\" is not a regular file", path);
  fclose(fp);
}

/* check_readable has already reported the others. */
static bool readable_file(const char *path)
{
  struct stat st;
  return path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
         access(path, R_OK) == 0;
}

static void format_asn1_time(const WOLFSSL_ASN1_TIME *t, char *out, size_t cap)
{
  struct tm tm;
  if (t == NULL || wolfSSL_ASN1_TIME_to_tm(t, &tm) != WOLFSSL_SUCCESS ||
      strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm) == 0)
    snprintf(out, cap, "an unreadable date");
}

/* Returns true when the certificate loaded (dates are reported either way). */
static bool check_cert(problem_list *p, const char *path)
{
  WOLFSSL_X509 *x = wolfSSL_X509_load_certificate_file(path, WOLFSSL_FILETYPE_PEM);
  if (x == NULL) {
    problem(p, OCPP_TLS_FILE_CERT, "\"%s\" holds no PEM certificate", path);
    return false;
  }
  char when[64];
  WOLFSSL_ASN1_TIME *not_before = wolfSSL_X509_get_notBefore(x);
  WOLFSSL_ASN1_TIME *not_after = wolfSSL_X509_get_notAfter(x);
  if (not_before != NULL && wolfSSL_X509_cmp_current_time(not_before) > 0) {
    format_asn1_time(not_before, when, sizeof when);
    problem(p, OCPP_TLS_FILE_CERT, "\"%s\" is not valid before %s", path, when);
  }
  if (not_after != NULL && wolfSSL_X509_cmp_current_time(not_after) < 0) {
    format_asn1_time(not_after, when, sizeof when);
    problem(p, OCPP_TLS_FILE_CERT, "\"%s\" expired on %s", path, when);
  }
  wolfSSL_X509_free(x);
  return true;
}

static void check_contents(problem_list *p, WOLFSSL_CTX *tls, const char *cert,
                           const char *key, const char *ca)
{
  bool cert_ok = readable_file(cert) && check_cert(p, cert);
  bool key_ok = false;
  if (readable_file(key)) {
    key_ok = wolfSSL_CTX_use_PrivateKey_file(tls, key, WOLFSSL_FILETYPE_PEM) ==
             WOLFSSL_SUCCESS;
    if (!key_ok)
      problem(p, OCPP_TLS_FILE_KEY, "\"%s\" holds no PEM private key", key);
  }
  if (cert_ok && key_ok && !ocpp_tls_key_matches_cert(cert, key))
    problem(p, OCPP_TLS_FILE_KEY, "\"%s\" does not match the certificate \"%s\"",
            key, cert);
  if (readable_file(ca) &&
      wolfSSL_CTX_load_verify_locations(tls, ca, NULL) != WOLFSSL_SUCCESS)
    problem(p, OCPP_TLS_FILE_CA, "\"%s\" holds no PEM CA certificate", ca);
}

int ocpp_tls_check_files(const char *cert_path, const char *key_path,
                         const char *ca_path, ocpp_tls_problem_cb on_problem,
                         void *user_data)
{
  problem_list p = {.cb = on_problem, .user_data = user_data};
  const char *paths[] = {
    [OCPP_TLS_FILE_CERT] = cert_path,
    [OCPP_TLS_FILE_KEY] = key_path,
    [OCPP_TLS_FILE_CA] = ca_path,
  };
  static const ocpp_tls_file files[] = {OCPP_TLS_FILE_CERT, OCPP_TLS_FILE_KEY,
                                        OCPP_TLS_FILE_CA};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    if (paths[files[i]] != NULL)
      check_readable(&p, files[i], paths[files[i]]);
  }
  if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
    problem(&p, OCPP_TLS_FILE_CERT, "the TLS library cannot start");
    return OCPP_ETLS;
  }
  int rc = OCPP_OK;
  WOLFSSL_CTX *tls = wolfSSL_CTX_new(wolfSSLv23_server_method());
  if (tls == NULL)
    rc = OCPP_ENOMEM;
  else
    check_contents(&p, tls, cert_path, key_path, ca_path);
  wolfSSL_CTX_free(tls);
  wolfSSL_Cleanup();
  if (rc == OCPP_OK && p.problems > 0)
    rc = OCPP_ETLS;
  return rc;
}
