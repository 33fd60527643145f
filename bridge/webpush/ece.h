/*
 * Message encryption for Web Push (RFC 8291) in the aes128gcm content coding (RFC 8188): one
 * record, a fresh ephemeral P-256 key pair and salt per message. The body is
 *
 *   salt(16) || rs(4, big endian) || idlen(1) = 65 || as_public(65) || AES-128-GCM(record)
 *
 * where the record is the plaintext, the delimiter 0x02 and zero padding (RFC 8188 2).
 * Thread-safe: called from libuv's thread pool.
 */
#ifndef BRIDGE_WEBPUSH_ECE_H
#define BRIDGE_WEBPUSH_ECE_H

#include <stddef.h>

#define WEBPUSH_KEY_LEN 65  /* an uncompressed P-256 point */
#define WEBPUSH_AUTH_LEN 16 /* the subscription's authentication secret */
#define WEBPUSH_SALT_LEN 16
#define WEBPUSH_RS 4096 /* the record size announced in the header */
#define WEBPUSH_HEADER_LEN (WEBPUSH_SALT_LEN + 4 + 1 + WEBPUSH_KEY_LEN)
#define WEBPUSH_TAG_LEN 16
/* A push service must accept bodies of 4096 bytes, not more (RFC 8030 7.2): the header, the
 * tag and the delimiter leave this much for plaintext and padding together. */
#define WEBPUSH_MAX_PLAINTEXT (4096 - WEBPUSH_HEADER_LEN - WEBPUSH_TAG_LEN - 1)

/* Fixed inputs, for the RFC 8291 Appendix A example only: never in production. */
struct webpush_ece_fixed {
    const unsigned char *as_private; /* 32-byte P-256 scalar */
    const unsigned char *salt;       /* 16 bytes */
};

/*
 * Encrypt len bytes of plain for the subscription (ua_public: 65 bytes, auth: 16 bytes), with
 * pad zero bytes of padding; len + pad must not exceed WEBPUSH_MAX_PLAINTEXT. fixed is NULL
 * except in tests. Returns 0 and *out (caller frees with free()) of *out_len bytes, or -1 with
 * a message in err (the key is not a point on the curve, too long, out of memory).
 */
int webpush_ece_encrypt(const unsigned char *ua_public, const unsigned char *auth,
                        const void *plain, size_t len, size_t pad,
                        const struct webpush_ece_fixed *fixed, unsigned char **out, size_t *out_len,
                        char *err, size_t errlen);

/* Is key (len bytes) an uncompressed point on P-256? For subscriptions' p256dh. */
int webpush_ece_valid_key(const unsigned char *key, size_t len);

#endif
