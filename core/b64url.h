/*
 * Base64url without padding (RFC 4648 section 5), as JOSE uses it (RFC 7515 section 2).
 * The encoding itself is OpenSSL's; this module only translates the alphabet and padding.
 */
#ifndef MQP_B64URL_H
#define MQP_B64URL_H

#include <stddef.h>

/*
 * Encode len bytes of src. Returns a NUL-terminated string (caller frees with free()),
 * or NULL when out of memory. *out_len, when not NULL, receives strlen of the result.
 */
char *mqp_b64url_encode(const void *src, size_t len, size_t *out_len);

/*
 * Decode a base64url string of len characters (padding optional, no white space).
 * Returns a buffer of *out_len bytes plus a terminating NUL (caller frees with free()),
 * or NULL when the input is not valid base64url or memory ran out. Only the canonical text
 * of each byte string is valid: a last character with non-zero unused bits is refused
 * (RFC 4648 section 3.5), so no two texts decode to the same bytes.
 */
unsigned char *mqp_b64url_decode(const char *src, size_t len, size_t *out_len);

#endif
