/*
 * The body of the Web Push subscription API (POST and DELETE /api/push/subscribe):
 *
 *   {"subscription": {"endpoint": "https://...", "keys": {"p256dh": "...", "auth": "..."}},
 *    "vapid": "<applicationServerKey used>", "stream": "<stream id>"}
 *
 * "subscription" is what the browser's PushSubscription.toJSON() gives (its expirationTime is
 * accepted and ignored). For DELETE only the endpoint is needed, as "subscription.endpoint"
 * or a top-level "endpoint". Parsing is separate from the rules that need the configuration
 * (stream, VAPID key, SSRF guard) so that outside input is checked in one fuzzable place.
 */
#ifndef BRIDGE_WEBPUSH_SUBSCRIPTION_H
#define BRIDGE_WEBPUSH_SUBSCRIPTION_H

#include <stdbool.h>
#include <stddef.h>
#include "webpush/ece.h"

/* An endpoint longer than this is refused (push services use well under 1000 bytes). */
#define WEBPUSH_ENDPOINT_MAX 1000

struct webpush_sub_req {
    char *endpoint; /* owned */
    unsigned char p256dh[WEBPUSH_KEY_LEN];
    unsigned char auth[WEBPUSH_AUTH_LEN];
    bool has_keys;
    char *vapid;  /* owned, NULL when absent */
    char *stream; /* owned, NULL when absent */
};

/*
 * Parse len bytes of body. need_keys: POST (keys and vapid required) or DELETE (endpoint only).
 * Returns 0 and fills out (free with webpush_sub_req_clear()), or -1 with a message for the
 * client in err (out is then empty).
 */
int webpush_sub_parse(const char *body, size_t len, bool need_keys, struct webpush_sub_req *out,
                      char *err, size_t errlen);
void webpush_sub_req_clear(struct webpush_sub_req *r);

/*
 * The body of the UnifiedPush registration API (POST and DELETE /api/unifiedpush/register):
 *
 *   {"endpoint": "https://...", "stream": "<stream id>", "keys": {"p256dh": "...", "auth": "..."}}
 *
 * keys present: the Web Push form (messages encrypted, RFC 8291); absent: SERV 1.0.1 (plain
 * bodies). For DELETE only the endpoint is read. Same contract as webpush_sub_parse().
 */
int webpush_reg_parse(const char *body, size_t len, bool post, struct webpush_sub_req *out,
                      char *err, size_t errlen);

#endif
