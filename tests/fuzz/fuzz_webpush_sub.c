/*
 * The body of POST and DELETE /api/push/subscribe comes from any client with a token. Each
 * input is parsed in both modes; an accepted body must satisfy the parser's contract (an
 * endpoint of 1..WEBPUSH_ENDPOINT_MAX printable ASCII bytes starting with http(s)://; for POST
 * keys that are a P-256 point and a VAPID key; a stream id of 1..128 bytes), a refusal must
 * leave the output empty with a message, the answer must not change when asked twice, and
 * whatever POST accepts DELETE accepts with the same endpoint and stream.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webpush/ece.h"
#include "webpush/subscription.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const struct webpush_sub_req *r, bool need_keys)
{
    size_t n;

    if (r->endpoint == NULL)
        abort();
    n = strlen(r->endpoint);
    if (n == 0 || n > WEBPUSH_ENDPOINT_MAX)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)r->endpoint[i] <= 0x20 || (unsigned char)r->endpoint[i] >= 0x7f)
            abort();
    if (strncmp(r->endpoint, "https://", 8) != 0 && strncmp(r->endpoint, "http://", 7) != 0)
        abort();
    if (r->stream && (r->stream[0] == '\0' || strlen(r->stream) > 128))
        abort();
    if (need_keys) {
        if (!r->has_keys || r->vapid == NULL || r->vapid[0] == '\0' ||
            !webpush_ece_valid_key(r->p256dh, sizeof(r->p256dh)))
            abort();
    } else if (r->has_keys) {
        abort();
    }
}

static bool empty(const struct webpush_sub_req *r)
{
    static const struct webpush_sub_req zero;

    return memcmp(r, &zero, sizeof(zero)) == 0;
}

static bool same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Parse in one mode, check the result, parse again and compare. Returns the result. */
static int run(const char *body, size_t size, bool need_keys, struct webpush_sub_req *out)
{
    struct webpush_sub_req again;
    char err[256], err2[256];
    int rc, rc2;

    err[0] = '\0';
    rc = webpush_sub_parse(body, size, need_keys, out, err, sizeof(err));
    if (rc == 0)
        check_accepted(out, need_keys);
    else if (rc != -1 || !empty(out) || err[0] == '\0' || strlen(err) >= sizeof(err))
        abort();
    err2[0] = '\0';
    rc2 = webpush_sub_parse(body, size, need_keys, &again, err2, sizeof(err2));
    if (rc2 != rc || (rc != 0 && strcmp(err, err2) != 0))
        abort();
    if (rc == 0 &&
        (!same_text(out->endpoint, again.endpoint) || !same_text(out->vapid, again.vapid) ||
         !same_text(out->stream, again.stream) || out->has_keys != again.has_keys ||
         memcmp(out->p256dh, again.p256dh, sizeof(out->p256dh)) != 0 ||
         memcmp(out->auth, again.auth, sizeof(out->auth)) != 0))
        abort();
    webpush_sub_req_clear(&again);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, without a terminating NUL: the parser must respect size */
    char *body = size ? malloc(size) : NULL;
    struct webpush_sub_req post, del;
    int rc_post, rc_del;

    if (size && body == NULL)
        return 0;
    if (size)
        memcpy(body, data, size);
    rc_post = run(body, size, true, &post);
    rc_del = run(body, size, false, &del);
    if (rc_post == 0 && (rc_del != 0 || strcmp(post.endpoint, del.endpoint) != 0 ||
                         !same_text(post.stream, del.stream)))
        abort();
    webpush_sub_req_clear(&post);
    webpush_sub_req_clear(&del);
    free(body);
    return 0;
}
