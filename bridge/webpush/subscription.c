/*
 * Reading the subscription API body: strict types, exact key sizes (RFC 8291 3: a P-256
 * point and a 16-byte authentication secret), and the endpoint's form; where the endpoint
 * points is the SSRF guard's question, asked by the caller.
 */
#include "webpush/subscription.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "b64url.h"
#include "config_int.h"

void webpush_sub_req_clear(struct webpush_sub_req *r)
{
    if (r == NULL)
        return;
    free(r->endpoint);
    free(r->vapid);
    free(r->stream);
    memset(r, 0, sizeof(*r));
}

/* The string at key of o: NULL when absent; *bad set when present but not a clean string. */
static const char *str_at(json_object *o, const char *key, bool *bad)
{
    json_object *v;

    if (o == NULL || !json_object_object_get_ex(o, key, &v))
        return NULL;
    if (!json_object_is_type(v, json_type_string) ||
        strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
        *bad = true;
        return NULL;
    }
    return json_object_get_string(v);
}

static int decode_key(const char *text, unsigned char *out, size_t want, const char *name,
                      char *err, size_t errlen)
{
    size_t n = 0;
    unsigned char *raw = text ? mqp_b64url_decode(text, strlen(text), &n) : NULL;
    int rc = -1;

    if (text == NULL)
        snprintf(err, errlen, "%s is required", name);
    else if (raw == NULL)
        snprintf(err, errlen, "%s is not base64url", name);
    else if (n != want)
        snprintf(err, errlen, "%s must be %zu bytes, not %zu", name, want, n);
    else {
        memcpy(out, raw, want);
        rc = 0;
    }
    free(raw);
    return rc;
}

static bool endpoint_form_ok(const char *e, char *err, size_t errlen)
{
    size_t len = strlen(e);

    if (len == 0 || len > WEBPUSH_ENDPOINT_MAX) {
        snprintf(err, errlen, "subscription.endpoint must be 1 to %d bytes", WEBPUSH_ENDPOINT_MAX);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)e[i];

        if (ch <= 0x20 || ch >= 0x7f) {
            snprintf(err, errlen,
                     "subscription.endpoint must be a URL without spaces or "
                     "control characters");
            return false;
        }
    }
    if (strncmp(e, "https://", 8) != 0 && strncmp(e, "http://", 7) != 0) {
        snprintf(err, errlen, "subscription.endpoint must be an https URL");
        return false;
    }
    return true;
}

/* The body as a JSON object (caller releases), or NULL with a message in err. */
static json_object *body_object(const char *body, size_t len, char *err, size_t errlen)
{
    json_object *doc;

    if (body == NULL || len == 0) {
        snprintf(err, errlen, "a JSON body is required");
        return NULL;
    }
    /* RFC 8259 exactly: no comments, NaN or trailing text, UTF-8 only. */
    doc = bridge_config__parse_json(body, len, err, errlen);
    if (doc && !json_object_is_type(doc, json_type_object)) {
        snprintf(err, errlen, "the body must be a JSON object");
        json_object_put(doc);
        return NULL;
    }
    return doc;
}

/* What both forms share once their members are found: the endpoint's form, the keys when
 * with_keys (kp names them in messages: "subscription.keys"), the stream, the copies. */
static int fill(struct webpush_sub_req *out, const char *endpoint, bool with_keys, const char *kp,
                const char *p256dh, const char *auth, const char *vapid, const char *stream,
                char *err, size_t errlen)
{
    char name[40];

    if (endpoint == NULL) {
        snprintf(err, errlen, "%sendpoint is required", strcmp(kp, "keys") ? "subscription." : "");
        return -1;
    }
    if (!endpoint_form_ok(endpoint, err, errlen))
        return -1;
    if (with_keys) {
        snprintf(name, sizeof(name), "%s.p256dh", kp);
        if (decode_key(p256dh, out->p256dh, sizeof(out->p256dh), name, err, errlen) != 0)
            return -1;
        snprintf(name, sizeof(name), "%s.auth", kp);
        if (decode_key(auth, out->auth, sizeof(out->auth), name, err, errlen) != 0)
            return -1;
        if (!webpush_ece_valid_key(out->p256dh, sizeof(out->p256dh))) {
            snprintf(err, errlen, "%s.p256dh is not a P-256 point", kp);
            return -1;
        }
        out->has_keys = true;
    }
    if (stream && (*stream == '\0' || strlen(stream) > 128)) {
        snprintf(err, errlen, "stream must be a stream id");
        return -1;
    }
    out->endpoint = strdup(endpoint);
    out->vapid = vapid ? strdup(vapid) : NULL;
    out->stream = stream ? strdup(stream) : NULL;
    if (out->endpoint == NULL || (vapid && out->vapid == NULL) || (stream && out->stream == NULL)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int webpush_sub_parse(const char *body, size_t len, bool need_keys, struct webpush_sub_req *out,
                      char *err, size_t errlen)
{
    json_object *doc, *sub = NULL, *keys = NULL;
    const char *endpoint, *p256dh, *auth, *vapid, *stream;
    bool bad = false;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    doc = body_object(body, len, err, errlen);
    if (doc == NULL)
        goto out;
    if (json_object_object_get_ex(doc, "subscription", &sub) &&
        !json_object_is_type(sub, json_type_object)) {
        snprintf(err, errlen, "subscription must be an object");
        goto out;
    }
    if (sub && json_object_object_get_ex(sub, "keys", &keys) &&
        !json_object_is_type(keys, json_type_object)) {
        snprintf(err, errlen, "subscription.keys must be an object");
        goto out;
    }
    endpoint = str_at(sub, "endpoint", &bad);
    if (endpoint == NULL && !need_keys && !bad)
        endpoint = str_at(doc, "endpoint", &bad);
    p256dh = str_at(keys, "p256dh", &bad);
    auth = str_at(keys, "auth", &bad);
    vapid = str_at(doc, "vapid", &bad);
    stream = str_at(doc, "stream", &bad);
    if (bad) {
        snprintf(err, errlen, "endpoint, keys, vapid and stream must be strings");
        goto out;
    }
    if (fill(out, endpoint, need_keys, "subscription.keys", p256dh, auth, vapid, stream, err,
             errlen) != 0)
        goto out;
    if (need_keys && (vapid == NULL || *vapid == '\0')) {
        snprintf(err, errlen, "vapid (the key the subscription was made with) is required");
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        webpush_sub_req_clear(out);
    json_object_put(doc);
    return rc;
}

int webpush_reg_parse(const char *body, size_t len, bool post, struct webpush_sub_req *out,
                      char *err, size_t errlen)
{
    json_object *doc, *keys = NULL;
    const char *endpoint, *p256dh, *auth, *stream;
    bool bad = false;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    doc = body_object(body, len, err, errlen);
    if (doc == NULL)
        goto out;
    if (json_object_object_get_ex(doc, "keys", &keys) &&
        !json_object_is_type(keys, json_type_object)) {
        snprintf(err, errlen, "keys must be an object");
        goto out;
    }
    endpoint = str_at(doc, "endpoint", &bad);
    stream = str_at(doc, "stream", &bad);
    p256dh = str_at(keys, "p256dh", &bad);
    auth = str_at(keys, "auth", &bad);
    if (bad) {
        snprintf(err, errlen, "endpoint, stream and keys must be strings");
        goto out;
    }
    if (fill(out, endpoint, post && keys, "keys", p256dh, auth, NULL, stream, err, errlen) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0)
        webpush_sub_req_clear(out);
    json_object_put(doc);
    return rc;
}
