/* wolfSSL behind memory callbacks: wolfSSL never touches a socket. Input
 * is lent for the length of one ocpp_tls_input call (the recv callback
 * reads from it and says WANT_READ when it is used up); output leaves at
 * once through io.send, which always takes everything, so wolfSSL never
 * sees WANT_WRITE. */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/openssl/evp.h>
#include <wolfssl/openssl/pem.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/ocpp.h"
#include "ocpp/tls.h"

/* ECDHE only (forward secrecy), AEAD only; TLS 1.3 suites are all AEAD.
 * Both ECDSA and RSA server keys are served. */
static const char cipher_list[] =
  "TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:"
  "TLS13-CHACHA20-POLY1305-SHA256:"
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
  "ECDHE-ECDSA-CHACHA20-POLY1305:"
  "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
  "ECDHE-RSA-CHACHA20-POLY1305";

#define TLS_READ_CHUNK 16384   /* one TLS record of plaintext at most */

struct ocpp_tls_ctx {
  WOLFSSL_CTX *ctx;
  bool client_certs;           /* a CA was given: ask for client certs */
  bool client;                 /* the gateway dials out (a backend) */
};

struct ocpp_tls {
  WOLFSSL *ssl;
  ocpp_tls_io io;
  void *user_data;
  const unsigned char *in;     /* lent by ocpp_tls_input */
  size_t in_len;
  bool handshake_done;
  bool failed;
  bool closed;
  bool close_sent;
  bool chain_bad;              /* the verify callback saw a failure */
  bool client;
  bool host_is_ip;             /* client: the server must name this IP */
  char host[OCPP_TLS_HOST_MAX + 1];
  ocpp_tls_peer_info peer;
  char reason[OCPP_TLS_REASON_MAX];
};

/* ---- I/O callbacks ------------------------------------------------------ */

static int tls_recv_cb(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
  (void)ssl;
  ocpp_tls *t = ctx;
  if (t->in_len == 0)
    return WOLFSSL_CBIO_ERR_WANT_READ;
  size_t n = (size_t)sz < t->in_len ? (size_t)sz : t->in_len;
  memcpy(buf, t->in, n);
  t->in += n;
  t->in_len -= n;
  return (int)n;
}

static int tls_send_cb(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
  (void)ssl;
  ocpp_tls *t = ctx;
  if (sz <= 0)
    return 0;
  if (t->io.send(t->user_data, buf, (size_t)sz) != 0)
    return WOLFSSL_CBIO_ERR_CONN_CLOSE;
  return sz;
}

/* Never fails the handshake itself: whether a client certificate is needed
 * depends on the charger's security profile, known only after the HTTP
 * request. The outcome is kept for that check. */
static int tls_verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
  ocpp_tls *t = store ? store->userCtx : NULL;
  if (t && !preverify) {
    t->chain_bad = true;
    snprintf(t->peer.verify_error, sizeof t->peer.verify_error, "%s",
             wolfSSL_X509_verify_cert_error_string(store->error));
  }
  return 1;
}

/* ---- context ------------------------------------------------------------ */

/* wolfSSL_CTX_check_private_key does not compare an EC key with the
 * certificate, so the pair is tested the way TLS uses it: a signature made
 * with the key must verify with the certificate's public key. */
bool ocpp_tls_key_matches_cert(const char *cert_path, const char *key_path)
{
  static const unsigned char probe[] = "ocppknx key check";
  unsigned char sig[1024];
  size_t sig_len = sizeof sig;
  bool ok = false;
  WOLFSSL_X509 *x = wolfSSL_X509_load_certificate_file(cert_path, WOLFSSL_FILETYPE_PEM);
  WOLFSSL_EVP_PKEY *pub = x ? wolfSSL_X509_get_pubkey(x) : NULL;
  FILE *fp = fopen(key_path, "r");
  WOLFSSL_EVP_PKEY *priv = fp ? wolfSSL_PEM_read_PrivateKey(fp, NULL, NULL, NULL) : NULL;
  WOLFSSL_EVP_MD_CTX *sign = wolfSSL_EVP_MD_CTX_new();
  WOLFSSL_EVP_MD_CTX *verify = wolfSSL_EVP_MD_CTX_new();
  if (pub && priv && sign && verify &&
      wolfSSL_EVP_DigestSignInit(sign, NULL, wolfSSL_EVP_sha256(), NULL, priv) == 1 &&
      wolfSSL_EVP_DigestSignUpdate(sign, probe, sizeof probe) == 1 &&
      wolfSSL_EVP_DigestSignFinal(sign, sig, &sig_len) == 1 &&
      wolfSSL_EVP_DigestVerifyInit(verify, NULL, wolfSSL_EVP_sha256(), NULL, pub) == 1 &&
      wolfSSL_EVP_DigestVerifyUpdate(verify, probe, sizeof probe) == 1)
    ok = wolfSSL_EVP_DigestVerifyFinal(verify, sig, sig_len) == 1;
  wolfSSL_EVP_MD_CTX_free(verify);
  wolfSSL_EVP_MD_CTX_free(sign);
  wolfSSL_EVP_PKEY_free(priv);
  if (fp)
    fclose(fp);
  wolfSSL_EVP_PKEY_free(pub);
  wolfSSL_X509_free(x);
  return ok;
}

static int ctx_fail(ocpp_tls_ctx *c, char *err, size_t err_len,
                    const char *fmt, const char *path)
{
  snprintf(err, err_len, fmt, path);
  ocpp_tls_ctx_destroy(c);
  return OCPP_ETLS;
}

/* wolfSSL's set-up and a context restricted to our versions and suites;
 * on failure everything is undone and err says why. */
static int ctx_new(bool client, ocpp_tls_ctx **out, char *err, size_t err_len)
{
  *out = NULL;
  if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
    snprintf(err, err_len, "wolfSSL_Init failed");
    return OCPP_ETLS;
  }
  ocpp_tls_ctx *c = calloc(1, sizeof *c);
  if (!c) {
    wolfSSL_Cleanup();
    return OCPP_ENOMEM;
  }
  c->client = client;
  c->ctx = wolfSSL_CTX_new(client ? wolfSSLv23_client_method()
                                  : wolfSSLv23_server_method());
  if (!c->ctx)
    return ctx_fail(c, err, err_len, "%s", "cannot create a TLS context");
  if (wolfSSL_CTX_SetMinVersion(c->ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS ||
      wolfSSL_CTX_set_cipher_list(c->ctx, cipher_list) != WOLFSSL_SUCCESS)
    return ctx_fail(c, err, err_len, "%s", "cannot restrict TLS versions or ciphers");
  wolfSSL_CTX_SetIORecv(c->ctx, tls_recv_cb);
  wolfSSL_CTX_SetIOSend(c->ctx, tls_send_cb);
  *out = c;
  return OCPP_OK;
}

/* The certificate chain and its key (the server's, or a client's for
 * profile 3). */
#define CA_FAILED "tls_ca: cannot load a PEM certificate from \"%s\""

/* The CA file that peers' certificates must chain to, for both ends. */
static int ctx_load_ca(ocpp_tls_ctx *c, const char *ca)
{
  return wolfSSL_CTX_load_verify_locations(c->ctx, ca, NULL) == WOLFSSL_SUCCESS
             ? OCPP_OK : OCPP_ETLS;
}

static int ctx_load_pair(ocpp_tls_ctx *c, const char *cert, const char *key,
                         char *err, size_t err_len)
{
  if (wolfSSL_CTX_use_certificate_chain_file(c->ctx, cert) != WOLFSSL_SUCCESS)
    return ctx_fail(c, err, err_len,
                    "tls_cert: cannot load a PEM certificate from \"%s\"", cert);
  if (wolfSSL_CTX_use_PrivateKey_file(c->ctx, key, WOLFSSL_FILETYPE_PEM) !=
      WOLFSSL_SUCCESS)
    return ctx_fail(c, err, err_len,
                    "tls_key: cannot load a PEM private key from \"%s\"", key);
  if (wolfSSL_CTX_check_private_key(c->ctx) != WOLFSSL_SUCCESS ||
      !ocpp_tls_key_matches_cert(cert, key))
    return ctx_fail(c, err, err_len,
                    "tls_key: \"%s\" does not belong to the certificate", key);
  return OCPP_OK;
}

/* The start of both context constructors: err may be NULL (then a scratch
 * buffer takes the text), *out is NULL from here on. false: out is NULL. */
static bool ctx_begin(char **err, size_t *err_len, char scratch[8],
                      ocpp_tls_ctx **out)
{
  if (!*err) {
    *err = scratch;
    *err_len = 8;
  }
  (*err)[0] = '\0';
  if (out)
    *out = NULL;
  return out != NULL;
}

int ocpp_tls_ctx_create(const char *cert, const char *key, const char *ca,
                        ocpp_tls_ctx **out, char *err, size_t err_len)
{
  char scratch[8];
  if (!ctx_begin(&err, &err_len, scratch, out))
    return OCPP_EINVAL;
  if (!cert || !*cert || !key || !*key) {
    snprintf(err, err_len, "tls_listen needs tls_cert and tls_key");
    return OCPP_EINVAL;
  }
  ocpp_tls_ctx *c;
  int rc = ctx_new(false, &c, err, err_len);
  if (rc == OCPP_OK)
    rc = ctx_load_pair(c, cert, key, err, err_len);
  if (rc != OCPP_OK)
    return rc;
  if (ca && *ca) {
    if (ctx_load_ca(c, ca) != OCPP_OK)
      return ctx_fail(c, err, err_len, CA_FAILED, ca);
    c->client_certs = true;
    wolfSSL_CTX_set_verify(c->ctx, WOLFSSL_VERIFY_PEER, tls_verify_cb);
  } else {
    wolfSSL_CTX_set_verify(c->ctx, WOLFSSL_VERIFY_NONE, NULL);
  }
  *out = c;
  return OCPP_OK;
}

int ocpp_tls_client_ctx_create(const char *ca, const char *cert,
                               const char *key, ocpp_tls_ctx **out, char *err,
                               size_t err_len)
{
  char scratch[8];
  if (!ctx_begin(&err, &err_len, scratch, out))
    return OCPP_EINVAL;
  bool has_cert = cert && *cert, has_key = key && *key;
  if (has_cert != has_key) {
    snprintf(err, err_len, "tls_cert and tls_key go together");
    return OCPP_EINVAL;
  }
  ocpp_tls_ctx *c;
  int rc = ctx_new(true, &c, err, err_len);
  if (rc == OCPP_OK && has_cert)
    rc = ctx_load_pair(c, cert, key, err, err_len);
  if (rc != OCPP_OK)
    return rc;
  if (ca && *ca) {
    if (ctx_load_ca(c, ca) != OCPP_OK)
      return ctx_fail(c, err, err_len, CA_FAILED, ca);
  } else if (wolfSSL_CTX_load_system_CA_certs(c->ctx) != WOLFSSL_SUCCESS) {
    return ctx_fail(c, err, err_len, "%s",
                    "cannot load the system's CA certificates (/etc/ssl/certs)");
  }
  /* no callback: a server certificate that does not verify ends the
   * handshake */
  wolfSSL_CTX_set_verify(c->ctx, WOLFSSL_VERIFY_PEER, NULL);
  *out = c;
  return OCPP_OK;
}

void ocpp_tls_ctx_destroy(ocpp_tls_ctx *c)
{
  if (!c)
    return;
  wolfSSL_CTX_free(c->ctx);
  free(c);
  wolfSSL_Cleanup();
}

/* ---- connection --------------------------------------------------------- */

int ocpp_tls_create(ocpp_tls_ctx *ctx, const ocpp_tls_io *io, void *user_data,
                    ocpp_tls **out)
{
  if (!out)
    return OCPP_EINVAL;
  *out = NULL;
  if (!ctx || !io || !io->send || !io->on_plain)
    return OCPP_EINVAL;
  ocpp_tls *t = calloc(1, sizeof *t);
  if (!t)
    return OCPP_ENOMEM;
  t->ssl = wolfSSL_new(ctx->ctx);
  if (!t->ssl) {
    free(t);
    return OCPP_ENOMEM;
  }
  t->io = *io;
  t->user_data = user_data;
  wolfSSL_SetIOReadCtx(t->ssl, t);
  wolfSSL_SetIOWriteCtx(t->ssl, t);
  wolfSSL_SetCertCbCtx(t->ssl, t);
  t->client = ctx->client;
  *out = t;
  return OCPP_OK;
}

int ocpp_tls_client_create(ocpp_tls_ctx *ctx, const ocpp_tls_io *io,
                           void *user_data, const char *host, bool host_is_ip,
                           ocpp_tls **out)
{
  if (out)
    *out = NULL;
  if (!ctx || !ctx->client || !host || !*host ||
      strlen(host) > OCPP_TLS_HOST_MAX)
    return OCPP_EINVAL;
  int rc = ocpp_tls_create(ctx, io, user_data, out);
  if (rc != OCPP_OK)
    return rc;
  ocpp_tls *t = *out;
  snprintf(t->host, sizeof t->host, "%s", host);
  t->host_is_ip = host_is_ip;
  /* names: wolfSSL matches them during the handshake; an IP literal is
   * matched against the certificate's addresses after it */
  if (!host_is_ip &&
      (wolfSSL_UseSNI(t->ssl, WOLFSSL_SNI_HOST_NAME, host,
                      (unsigned short)strlen(host)) != WOLFSSL_SUCCESS ||
       wolfSSL_check_domain_name(t->ssl, host) != WOLFSSL_SUCCESS)) {
    ocpp_tls_destroy(t);
    *out = NULL;
    return OCPP_ENOMEM;
  }
  return OCPP_OK;
}

void ocpp_tls_destroy(ocpp_tls *t)
{
  if (!t)
    return;
  wolfSSL_free(t->ssl);
  free(t);
}

static int tls_fail(ocpp_tls *t, int ret)
{
  int code = wolfSSL_get_error(t->ssl, ret);
  char text[WOLFSSL_MAX_ERROR_SZ];
  wolfSSL_ERR_error_string_n((unsigned long)code, text, sizeof text);
  snprintf(t->reason, sizeof t->reason, "%s (%d)", text, code);
  t->failed = true;
  return OCPP_ETLSFAIL;
}

static void read_peer(ocpp_tls *t)
{
  WOLFSSL_X509 *x = wolfSSL_get_peer_certificate(t->ssl);
  if (!x)
    return;
  t->peer.has_cert = true;
  t->peer.verified = !t->chain_bad;
  char cn[OCPP_TLS_CN_MAX + 2];
  int n = wolfSSL_X509_NAME_get_text_by_NID(wolfSSL_X509_get_subject_name(x),
                                            NID_commonName, cn, sizeof cn);
  /* a CN with an embedded NUL or longer than an identity matches nothing */
  if (n > 0 && (size_t)n <= OCPP_TLS_CN_MAX && strlen(cn) == (size_t)n)
    memcpy(t->peer.cn, cn, (size_t)n + 1);
  wolfSSL_X509_free(x);
}

/* The client's check of an IP literal: the server certificate must list
 * it. */
static bool server_names_ip(ocpp_tls *t)
{
  if (!t->client || !t->host_is_ip)
    return true;
  WOLFSSL_X509 *x = wolfSSL_get_peer_certificate(t->ssl);
  bool ok = x && wolfSSL_X509_check_ip_asc(x, t->host, 0) == WOLFSSL_SUCCESS;
  wolfSSL_X509_free(x);
  if (!ok) {
    snprintf(t->reason, sizeof t->reason,
             "the server certificate does not name %.64s", t->host);
    t->failed = true;
  }
  return ok;
}

static int tls_handshake(ocpp_tls *t)
{
  int ret = t->client ? wolfSSL_connect(t->ssl) : wolfSSL_accept(t->ssl);
  if (ret == WOLFSSL_SUCCESS) {
    if (!server_names_ip(t))
      return OCPP_ETLSFAIL;
    t->handshake_done = true;
    read_peer(t);
    /* the handshake's key material is not needed any more; idle
     * connections are the common case */
    wolfSSL_FreeArrays(t->ssl);
    if (t->io.on_handshake)
      t->io.on_handshake(t->user_data);
    return OCPP_OK;
  }
  if (wolfSSL_get_error(t->ssl, ret) == WOLFSSL_ERROR_WANT_READ)
    return OCPP_OK;
  return tls_fail(t, ret);
}

static int tls_read_records(ocpp_tls *t)
{
  char buf[TLS_READ_CHUNK];
  for (;;) {
    int n = wolfSSL_read(t->ssl, buf, sizeof buf);
    if (n > 0) {
      if (!t->io.on_plain(t->user_data, buf, (size_t)n))
        return OCPP_OK;
      continue;
    }
    int code = wolfSSL_get_error(t->ssl, n);
    if (code == WOLFSSL_ERROR_WANT_READ)
      return OCPP_OK;
    if (code == WOLFSSL_ERROR_ZERO_RETURN) {
      t->closed = true;
      return OCPP_ECLOSED;
    }
    return tls_fail(t, n);
  }
}

int ocpp_tls_input(ocpp_tls *t, const void *data, size_t len)
{
  if (!t || (!data && len))
    return OCPP_EINVAL;
  if (t->failed)
    return OCPP_ETLSFAIL;
  if (t->closed)
    return OCPP_ECLOSED;
  t->in = data;
  t->in_len = len;
  int rc = OCPP_OK;
  if (!t->handshake_done)
    rc = tls_handshake(t);
  /* records that came behind the client's Finished are read right away */
  if (rc == OCPP_OK && t->handshake_done)
    rc = tls_read_records(t);
  t->in = NULL;
  t->in_len = 0;
  return rc;
}

int ocpp_tls_write(ocpp_tls *t, const void *data, size_t len)
{
  if (!t || (!data && len) || len > (size_t)0x7fffffff)
    return OCPP_EINVAL;
  if (t->failed)
    return OCPP_ETLSFAIL;
  if (!t->handshake_done)
    return OCPP_ESTATE;
  if (len == 0)
    return OCPP_OK;
  int n = wolfSSL_write(t->ssl, data, (int)len);
  if (n != (int)len)
    return tls_fail(t, n);
  return OCPP_OK;
}

void ocpp_tls_close_notify(ocpp_tls *t)
{
  if (!t || !t->handshake_done || t->failed || t->close_sent)
    return;
  t->close_sent = true;
  wolfSSL_shutdown(t->ssl);
}

bool ocpp_tls_handshake_done(const ocpp_tls *t)
{
  return t && t->handshake_done;
}

const ocpp_tls_peer_info *ocpp_tls_peer(const ocpp_tls *t)
{
  static const ocpp_tls_peer_info none;
  return t ? &t->peer : &none;
}

const char *ocpp_tls_reason(const ocpp_tls *t)
{
  return t ? t->reason : "";
}

const char *ocpp_tls_version(const ocpp_tls *t)
{
  return t && t->handshake_done ? wolfSSL_get_version(t->ssl) : "";
}

const char *ocpp_tls_cipher(const ocpp_tls *t)
{
  const char *s = t && t->handshake_done ? wolfSSL_get_cipher_name(t->ssl) : NULL;
  return s ? s : "";
}
