/*
 * What the example receiver does with one RFC 8935 push: the checks of section 2 with the
 * bridge's code (bridge/ssf/set.c) and the answer of section 2.3 (202) or 2.4 (400 with
 * {"err", "description"}); an accepted SET is printed as one JSON line on stdout.
 */
#ifndef SSF_RECEIVER_RECEIVE_H
#define SSF_RECEIVER_RECEIVE_H

#include <stddef.h>
#include "jwk.h"

/* What the receiver was told about its one transmitter; everything borrowed. */
struct rx_config {
    const char *issuer;          /* the exact "iss" of its SETs */
    const char *audience;        /* a value the SETs' "aud" must contain */
    const struct mqp_jwks *jwks; /* its signing keys */
};

/* The answer to one push. */
struct rx_answer {
    unsigned status;      /* 202 or 400 */
    char body[512];       /* JSON, empty for 202 */
    const char *language; /* Content-Language of body (static), NULL for 202 */
};

/*
 * Check the SET in body (len bytes, the request body), sent with content_type and accept_language
 * (either may be NULL when the header was absent), and fill *ans. An accepted SET is printed
 * to stdout as {"iss", "jti", "iat", "aud", "type", "sub_id", "event"} and flushed.
 */
void rx_receive(const struct rx_config *cfg, const char *content_type, const char *accept_language,
                const char *body, size_t len, struct rx_answer *ans);

#endif
