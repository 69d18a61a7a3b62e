/* Internal TLS layer of the ocpp module (wss://), on wolfSSL.
 *
 * An engine without I/O of its own: the connection hands it the bytes the
 * socket read (ocpp_tls_input) and gets decrypted bytes back through
 * on_plain; everything wolfSSL wants to send goes out through send. The
 * libuv stream stays the only owner of the socket; no threads, no blocking.
 *
 * Only TLS 1.2 and 1.3 with ECDHE key exchange and AEAD ciphers (AES-GCM,
 * ChaCha20-Poly1305). When a CA is given, clients are asked for a
 * certificate (security profile 3) but one is not required: profile 2
 * chargers send none. Whether the one received verified, and its subject
 * CN, are read after the handshake (ocpp_tls_peer).
 */
#ifndef OCPPKNX_OCPP_TLS_H
#define OCPPKNX_OCPP_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "ocpp/ocpp.h"

#define OCPP_TLS_CN_MAX 64     /* longest subject CN kept from a client cert */
#define OCPP_TLS_REASON_MAX 128
#define OCPP_TLS_HOST_MAX 253  /* longest server name a client checks */

/* Return codes: the OCPP_E* codes of ocpp.h. */

typedef struct ocpp_tls_ctx ocpp_tls_ctx; /* certificate, key, CA: shared */
typedef struct ocpp_tls ocpp_tls;         /* one connection */

typedef struct {
  /* ciphertext for the socket; returns 0, or negative when it cannot be
   * sent (the engine then fails) */
  int (*send)(void *user_data, const void *data, size_t len);
  /* the handshake finished; the peer can be inspected from here on */
  void (*on_handshake)(void *user_data);
  /* decrypted bytes; return false to stop taking input (the connection
   * is closing) */
  bool (*on_plain)(void *user_data, const char *data, size_t len);
} ocpp_tls_io;

/* What the client presented. */
typedef struct {
  bool has_cert;          /* a client certificate was received */
  bool verified;          /* ... and it chains to the CA, dates valid */
  char cn[OCPP_TLS_CN_MAX + 1]; /* its subject CN ("" when none or too long) */
  char verify_error[64];  /* why it did not verify, for the log */
} ocpp_tls_peer_info;

/* Loads cert (PEM chain), key (PEM) and, when ca is not NULL, the CA for
 * client certificates. Returns OCPP_OK, OCPP_EINVAL (NULL cert/key/out),
 * OCPP_ENOMEM, or OCPP_ETLS with the cause in err (the file and what is
 * wrong with it). *out is NULL on failure. */
int ocpp_tls_ctx_create(const char *cert, const char *key, const char *ca,
                        ocpp_tls_ctx **out, char *err, size_t err_len);
/* A client context (the gateway dialing a backend): the server's
 * certificate must chain to ca (PEM), or to the system's CA store
 * (/etc/ssl/certs) when ca is NULL or "", or the handshake fails; cert and
 * key (both or neither) are the client certificate of security profile 3.
 * Returns OCPP_OK, OCPP_EINVAL (NULL out, cert without key), OCPP_ENOMEM
 * or OCPP_ETLS with the cause in err. */
int ocpp_tls_client_ctx_create(const char *ca, const char *cert,
                               const char *key, ocpp_tls_ctx **out, char *err,
                               size_t err_len);
/* NULL-safe. Every ocpp_tls made from ctx must be destroyed first. */
void ocpp_tls_ctx_destroy(ocpp_tls_ctx *ctx);

/* A server-side connection. io is copied. Returns OCPP_OK, OCPP_EINVAL or
 * OCPP_ENOMEM; *out is NULL on failure. */
int ocpp_tls_create(ocpp_tls_ctx *ctx, const ocpp_tls_io *io, void *user_data,
                    ocpp_tls **out);
/* A client connection to host (a name, checked against the certificate
 * and sent as SNI, or an IP literal the certificate must list) from a
 * client context. ocpp_tls_input(t, NULL, 0) then sends the ClientHello.
 * Returns OCPP_OK, OCPP_EINVAL (server context, empty or over-long host)
 * or OCPP_ENOMEM; *out is NULL on failure. */
int ocpp_tls_client_create(ocpp_tls_ctx *ctx, const ocpp_tls_io *io,
                           void *user_data, const char *host, bool host_is_ip,
                           ocpp_tls **out);
/* NULL-safe; sends nothing (see ocpp_tls_close_notify). */
void ocpp_tls_destroy(ocpp_tls *t);

/* Bytes read from the socket: runs the handshake, then decrypts records
 * into on_plain until the input is used up or on_plain says stop. Returns
 * OCPP_OK (more input welcome), OCPP_EINVAL (NULL t, or NULL data with a
 * length), OCPP_ECLOSED (the peer sent close_notify) or OCPP_ETLSFAIL
 * (give up the connection; the reason is in ocpp_tls_reason). A
 * whatever-follows of a failed or closed engine is ignored. */
int ocpp_tls_input(ocpp_tls *t, const void *data, size_t len);

/* Encrypts len bytes to send. Returns OCPP_OK, OCPP_EINVAL (NULL t, NULL
 * data with a length, len over 2^31-1), OCPP_ESTATE (handshake not
 * finished) or OCPP_ETLSFAIL. */
int ocpp_tls_write(ocpp_tls *t, const void *data, size_t len);

/* Sends close_notify once (no-op before the handshake finished or after a
 * failure); does not wait for the peer's. */
void ocpp_tls_close_notify(ocpp_tls *t);

bool ocpp_tls_handshake_done(const ocpp_tls *t);
/* The client certificate; all false/"" before the handshake. */
const ocpp_tls_peer_info *ocpp_tls_peer(const ocpp_tls *t);
/* Why the engine failed ("" if it did not): wolfSSL's text. */
const char *ocpp_tls_reason(const ocpp_tls *t);
/* "TLSv1.3", "TLSv1.2" and the cipher suite, for the log; "" before. */
const char *ocpp_tls_version(const ocpp_tls *t);
const char *ocpp_tls_cipher(const ocpp_tls *t);

#endif
