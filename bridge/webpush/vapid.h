/*
 * VAPID (RFC 8292): the application server's identity towards push services. Each request
 * carries "Authorization: vapid t=<JWT>, k=<public key>", the JWT signed with ES256 (raw r||s,
 * RFC 7518 3.4) over {"aud": <origin of the push endpoint>, "exp", "sub"}. A JWT is made once
 * per audience and reused until it nears expiry.
 */
#ifndef BRIDGE_WEBPUSH_VAPID_H
#define BRIDGE_WEBPUSH_VAPID_H

#include <openssl/evp.h>
#include <stdint.h>

struct webpush_vapid;

/*
 * key: a P-256 private key (the VAPID key pair; the signer takes a reference). subject: a
 * "mailto:" or "https:" URL (RFC 8292 2.1), copied. ttl_s: the JWT lifetime, 60 s .. 24 h
 * (RFC 8292 2: at most 24 hours). Returns 0 and *out (free with webpush_vapid_free()), or -1
 * with a message in err.
 */
int webpush_vapid_new(EVP_PKEY *key, const char *subject, unsigned ttl_s,
                      struct webpush_vapid **out, char *err, size_t errlen);
/* Another reference (a message being prepared on the thread pool while the key rotates);
 * webpush_vapid_free() drops one and frees with the last. Both are thread-safe. */
struct webpush_vapid *webpush_vapid_ref(struct webpush_vapid *v);
void webpush_vapid_free(struct webpush_vapid *v);

/* The public key: base64url of the uncompressed point (borrowed), as applicationServerKey. */
const char *webpush_vapid_public_key(const struct webpush_vapid *v);

/* Is subject usable as the VAPID "sub"? */
int webpush_vapid_subject_ok(const char *subject);

/*
 * The Authorization header value for a request to endpoint at time now (seconds). The JWT of
 * the endpoint's origin is reused while more than a tenth of its lifetime remains.
 * Thread-safe. Returns a
 * string (caller frees with free()), or NULL with a message in err (the endpoint is not an
 * http(s) URL, signing failed).
 */
char *webpush_vapid_authorization(struct webpush_vapid *v, const char *endpoint, int64_t now,
                                  char *err, size_t errlen);

/* The origin of url ("https://host[:port]", the port only when not the scheme's default),
 * as VAPID's "aud" (RFC 8292 2; RFC 6454 6.2). Caller frees; NULL when not an http(s) URL. */
char *webpush_origin(const char *url);

#endif
