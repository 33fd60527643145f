/*
 * Stream management of the SSF transmitter (OpenID SSF 1.0 section 8.1), per tenant, for
 * bearer tokens with role "ssf-receiver" (the tenant's own, or a service token):
 *   /ssf/{t}/streams                   POST create 201, GET read (?stream_id) or list 200,
 *                                      PATCH update 200, PUT replace 200, DELETE 204 (8.1.1)
 *   /ssf/{t}/streams/status            GET read, POST update, both 200 (8.1.2)
 *   /ssf/{t}/streams/subjects:add      POST 200; subjects:remove POST 204 (8.1.3)
 *   /ssf/{t}/streams/verify            POST 204, a verification SET is queued (8.1.4)
 *   /ssf/{t}/poll/{stream_id}          POST 200, RFC 8936 poll (ssf/poll.c)
 * Errors are JSON ({"error", "message"}): 400 malformed, 401 token, 403 role, 404 stream.
 * The store is SQLite on this thread: management calls are rare and small.
 */
#include "ssf/transmitter.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "b64url.h"
#include "config_int.h"
#include "http/api.h"
#include "http/request.h"
#include "ssf/delivery.h"
#include "ssf/transmitter_int.h"
#include "token.h"

#define RECEIVER_ROLE "ssf-receiver"

enum method { M_OTHER, M_GET, M_POST, M_PATCH, M_PUT, M_DELETE };

struct call {
    struct conn *c;
    struct bridge *b;
    struct store *st;
    char tenant[MQP_ID_MAX + 1];
    char sub[256];     /* the caller's "sub", for "aud" */
    json_object *body; /* owned, NULL without one */
};

static enum method method_of(struct conn *c)
{
    static const struct {
        enum lws_token_indexes t;
        enum method m;
    } map[] = {{WSI_TOKEN_GET_URI, M_GET},
               {WSI_TOKEN_POST_URI, M_POST},
               {WSI_TOKEN_PATCH_URI, M_PATCH},
               {WSI_TOKEN_PUT_URI, M_PUT},
               {WSI_TOKEN_DELETE_URI, M_DELETE}};

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (lws_hdr_total_length(c->wsi, map[i].t) > 0)
            return map[i].m;
    return M_OTHER;
}

/* 0 when the caller may manage the tenant's streams; else the reply was sent (*rc). */
static int authorize(struct call *q, int *rc)
{
    struct mqp_identity *id = NULL;
    bool too_long = false;
    char *tok = http_bearer_token(q->c->wsi, 65536, &too_long);
    int refused = 1;

    if (tok == NULL) {
        *rc = http_reply_error(q->c, 401, "auth_required", "a bearer token is required");
    } else if (mqp_token_verify(q->b->streams, tok, strlen(tok), (int64_t)time(NULL), &id, NULL,
                                0) != MQP_TOKEN_OK) {
        *rc = http_reply_error(q->c, 401, "auth_failed", "the token was refused");
    } else if ((id->kind == MQP_IDENTITY_TENANT && strcmp(id->tenant, q->tenant) != 0) ||
               !mqp_identity_has_role(id, RECEIVER_ROLE)) {
        *rc = http_reply_error(q->c, 403, "forbidden",
                               "a token of the tenant with role " RECEIVER_ROLE " is required");
    } else {
        snprintf(q->sub, sizeof(q->sub), "%s", id->sub ? id->sub : "");
        refused = 0;
    }
    mqp_identity_free(id);
    free(tok);
    return refused;
}

static int bad_request(struct conn *c, const char *msg)
{
    return http_reply_error(c, 400, "invalid_request", msg);
}

static int not_found(struct conn *c)
{
    return http_reply_error(c, 404, "not_found", "no such stream");
}

static int store_failed(struct conn *c)
{
    return http_reply_error(c, 500, "internal", "the store could not be read or written");
}

/* The body's string member name, or NULL. */
static const char *body_string(const struct call *q, const char *name)
{
    json_object *v;

    if (q->body == NULL || !json_object_object_get_ex(q->body, name, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* The stream_id of the request: ?stream_id= for GET and DELETE (8.1.1.2, 8.1.1.5), else the
 * body's. Copied into buf; false when absent or too long. */
static bool stream_id_of(const struct call *q, enum method m, char *buf, size_t cap)
{
    const char *s;

    if (m == M_GET || m == M_DELETE)
        return http_query_arg(q->c->wsi, "stream_id", buf, cap) > 0;
    s = body_string(q, "stream_id");
    return s && snprintf(buf, cap, "%s", s) < (int)cap && s[0] != '\0';
}

/*
 * The receiver-supplied part of a configuration (8.1.1): events_requested, delivery,
 * description, taken from body over base (a stored config, or NULL for none). Returns a new
 * object, or NULL with *why set.
 */
static json_object *receiver_config(json_object *body, json_object *base, const char **why)
{
    json_object *cfg = json_object_new_object(), *v, *d;
    const char *method;

    json_object_object_foreach(base ? base : cfg, k, val)
        json_object_object_add(cfg, k, json_object_get(val));
    if (json_object_object_get_ex(body, "events_requested", &v)) {
        for (size_t i = 0;
             json_object_is_type(v, json_type_array) && i < json_object_array_length(v); i++)
            if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
                v = NULL;
        if (!json_object_is_type(v, json_type_array)) {
            *why = "events_requested must be an array of event type URIs";
            goto fail;
        }
        json_object_object_add(cfg, "events_requested", json_object_get(v));
    }
    if (json_object_object_get_ex(body, "description", &v)) {
        if (!json_object_is_type(v, json_type_string)) {
            *why = "description must be a string";
            goto fail;
        }
        json_object_object_add(cfg, "description", json_object_get(v));
    }
    if (json_object_object_get_ex(body, "delivery", &v)) {
        json_object *u = NULL, *a = NULL;

        if (!json_object_is_type(v, json_type_object) ||
            !json_object_object_get_ex(v, "method", &d) ||
            !json_object_is_type(d, json_type_string)) {
            *why = "delivery must be an object with a method";
            goto fail;
        }
        method = json_object_get_string(d);
        json_object_object_get_ex(v, "endpoint_url", &u);
        json_object_object_get_ex(v, "authorization_header", &a);
        if (strcmp(method, SSF_DELIVERY_PUSH) == 0) {
            /* RFC 8935: the receiver's endpoint, which the transmitter POSTs SETs to. */
            if (!json_object_is_type(u, json_type_string) ||
                !bridge_config__public_url(json_object_get_string(u))) {
                *why = "push delivery needs an http or https endpoint_url";
                goto fail;
            }
        } else if (strcmp(method, SSF_DELIVERY_POLL) != 0) {
            *why = "delivery method must be " SSF_DELIVERY_PUSH " or " SSF_DELIVERY_POLL;
            goto fail;
        }
        if (a && !json_object_is_type(a, json_type_string)) {
            *why = "authorization_header must be a string";
            goto fail;
        }
        d = json_object_new_object();
        json_object_object_add(d, "method", json_object_new_string(method));
        if (strcmp(method, SSF_DELIVERY_PUSH) == 0)
            json_object_object_add(d, "endpoint_url", json_object_get(u));
        if (a)
            json_object_object_add(d, "authorization_header", json_object_get(a));
        json_object_object_add(cfg, "delivery", d);
    }
    /* Section 8.1.1: without a delivery the transmitter chooses: polling needs nothing of
     * the receiver. */
    if (!json_object_object_get_ex(cfg, "delivery", NULL)) {
        d = json_object_new_object();
        json_object_object_add(d, "method", json_object_new_string(SSF_DELIVERY_POLL));
        json_object_object_add(cfg, "delivery", d);
    }
    if (!json_object_object_get_ex(cfg, "events_requested", NULL))
        json_object_object_add(cfg, "events_requested", json_object_new_array());
    return cfg;
fail:
    json_object_put(cfg);
    return NULL;
}

/* The configuration a receiver reads (8.1.1), from a stored stream. */
static json_object *stream_json(const struct call *q, const struct store_ssf_stream *s)
{
    json_object *o = json_object_new_object(), *cfg = json_tokener_parse(s->config), *v,
                *supported = ssf__tx_events_supported(q->b, q->tenant),
                *delivered = json_object_new_array(), *delivery = json_object_new_object();
    char url[1024], suffix[96];

    json_object_object_add(o, "stream_id", json_object_new_string(s->id));
    if (ssf__tx_url(q->b, q->tenant, "", url, sizeof(url)) == 0)
        json_object_object_add(o, "iss", json_object_new_string(url));
    json_object_object_add(o, "aud", json_object_new_string(s->aud));
    /* events_delivered: what was requested and can be sent (8.1.1). */
    if (cfg && json_object_object_get_ex(cfg, "events_requested", &v)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *e = json_object_array_get_idx(v, i);

            for (size_t j = 0; j < json_object_array_length(supported); j++)
                if (strcmp(json_object_get_string(e),
                           json_object_get_string(json_object_array_get_idx(supported, j))) == 0)
                    json_object_array_add(delivered, json_object_get(e));
        }
        json_object_object_add(o, "events_requested", json_object_get(v));
    }
    json_object_object_add(o, "events_supported", supported);
    json_object_object_add(o, "events_delivered", delivered);
    if (cfg && json_object_object_get_ex(cfg, "delivery", &v)) {
        json_object *m = NULL, *u = NULL;

        json_object_object_get_ex(v, "method", &m);
        json_object_object_get_ex(v, "endpoint_url", &u);
        json_object_object_add(delivery, "method", json_object_get(m));
        /* RFC 8936: the transmitter's endpoint the receiver polls. The authorization_header
         * of push delivery is a secret and is not read back. */
        if (u)
            json_object_object_add(delivery, "endpoint_url", json_object_get(u));
        else if (snprintf(suffix, sizeof(suffix), "/poll/%s", s->id) < (int)sizeof(suffix) &&
                 ssf__tx_url(q->b, q->tenant, suffix, url, sizeof(url)) == 0)
            json_object_object_add(delivery, "endpoint_url", json_object_new_string(url));
    }
    json_object_object_add(o, "delivery", delivery);
    if (cfg && json_object_object_get_ex(cfg, "description", &v))
        json_object_object_add(o, "description", json_object_get(v));
    json_object_put(cfg);
    return o;
}

static int put_stream(struct call *q, struct store_ssf_stream *s, json_object *cfg)
{
    s->config = (char *)json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN);
    return s->config ? q->st->ops->ssf_stream_put(q->st, s) : -1;
}

static int create(struct call *q)
{
    unsigned char rnd[16];
    char *id = NULL, aud[1024];
    const char *why = "malformed";
    json_object *cfg = receiver_config(q->body, NULL, &why);
    struct store_ssf_stream s = {0};
    int rc;

    if (cfg == NULL)
        return bad_request(q->c, why);
    if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
        (id = mqp_b64url_encode(rnd, sizeof(rnd), NULL)) == NULL) {
        json_object_put(cfg);
        return http_reply_error(q->c, 500, "internal", "no randomness");
    }
    /* "aud" names the receiver: the subject of its token, else the stream itself. */
    if (q->sub[0])
        snprintf(aud, sizeof(aud), "%s", q->sub);
    else
        ssf__tx_url(q->b, q->tenant, "/streams", aud, sizeof(aud));
    s.id = id;
    s.tenant = q->tenant;
    s.aud = aud;
    s.status = "enabled";
    s.created_at = s.updated_at = (int64_t)time(NULL);
    if (put_stream(q, &s, cfg) != 0) {
        rc = store_failed(q->c);
    } else {
        s.config = (char *)json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN);
        rc = ssf__tx_reply_json(q->c, 201, stream_json(q, &s));
    }
    json_object_put(cfg);
    free(id);
    return rc;
}

static int list_one(void *ctx, const struct store_ssf_stream *s)
{
    struct call *q = ((void **)ctx)[0];

    return json_object_array_add(((void **)ctx)[1], stream_json(q, s));
}

static int streams(struct call *q, enum method m)
{
    struct store_ssf_stream s = {0};
    char id[64];
    int found, rc;

    if (m == M_POST)
        return create(q);
    if (m == M_GET && http_query_arg(q->c->wsi, "stream_id", id, sizeof(id)) == -1) {
        json_object *arr = json_object_new_array();
        void *ctx[2] = {q, arr};

        if (q->st->ops->ssf_stream_each(q->st, q->tenant, list_one, ctx) != 0) {
            json_object_put(arr);
            return store_failed(q->c);
        }
        return ssf__tx_reply_json(q->c, 200, arr);
    }
    if (m == M_OTHER)
        return http_reply_error(q->c, 405, "method_not_allowed",
                                "use GET, POST, PATCH, PUT or DELETE");
    if (!stream_id_of(q, m, id, sizeof(id)))
        return (m == M_GET || m == M_DELETE) ? not_found(q->c)
                                             : bad_request(q->c, "stream_id is required");
    if (m == M_DELETE) {
        found = q->st->ops->ssf_stream_delete(q->st, q->tenant, id);
        if (found > 0)
            ssf_delivery_stream_changed(q->b, q->tenant, id);
        return found < 0   ? store_failed(q->c)
               : found > 0 ? http_reply(q->c, 204, NULL, NULL, 0, NULL)
                           : not_found(q->c);
    }
    found = q->st->ops->ssf_stream_get(q->st, q->tenant, id, &s);
    if (found <= 0)
        return found < 0 ? store_failed(q->c) : not_found(q->c);
    if (m == M_GET) {
        rc = ssf__tx_reply_json(q->c, 200, stream_json(q, &s));
    } else {
        /* PATCH changes the members given (8.1.1.3); PUT replaces the receiver-supplied
         * ones (8.1.1.4). */
        json_object *old = m == M_PATCH ? json_tokener_parse(s.config) : NULL, *cfg;
        const char *why = "malformed";

        cfg = receiver_config(q->body, old, &why);
        json_object_put(old);
        free(s.config);
        s.config = NULL;
        s.updated_at = (int64_t)time(NULL);
        if (cfg == NULL)
            rc = bad_request(q->c, why);
        else if (put_stream(q, &s, cfg) != 0)
            rc = store_failed(q->c);
        else {
            ssf_delivery_stream_changed(q->b, q->tenant, id);
            s.config = (char *)json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN);
            rc = ssf__tx_reply_json(q->c, 200, stream_json(q, &s));
        }
        s.config = NULL; /* borrowed from cfg */
        json_object_put(cfg);
    }
    store_ssf_stream_clear(&s);
    return rc;
}

static json_object *status_json(const struct store_ssf_stream *s)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "stream_id", json_object_new_string(s->id));
    json_object_object_add(o, "status", json_object_new_string(s->status));
    if (s->reason)
        json_object_object_add(o, "reason", json_object_new_string(s->reason));
    return o;
}

static int status(struct call *q, enum method m)
{
    struct store_ssf_stream s = {0};
    const char *st = body_string(q, "status"), *reason = body_string(q, "reason");
    char id[64];
    int found, rc;

    if (m != M_GET && m != M_POST)
        return http_reply_error(q->c, 405, "method_not_allowed", "use GET or POST");
    if (m == M_POST && (st == NULL || (strcmp(st, "enabled") != 0 && strcmp(st, "paused") != 0 &&
                                       strcmp(st, "disabled") != 0)))
        return bad_request(q->c, "status must be enabled, paused or disabled");
    if (!stream_id_of(q, m, id, sizeof(id)))
        return m == M_GET ? not_found(q->c) : bad_request(q->c, "stream_id is required");
    found = q->st->ops->ssf_stream_get(q->st, q->tenant, id, &s);
    if (found <= 0)
        return found < 0 ? store_failed(q->c) : not_found(q->c);
    if (m == M_POST) {
        free(s.status);
        free(s.reason);
        s.status = strdup(st);
        s.reason = reason ? strdup(reason) : NULL;
        s.updated_at = (int64_t)time(NULL);
        if (s.status == NULL || q->st->ops->ssf_stream_put(q->st, &s) != 0) {
            store_ssf_stream_clear(&s);
            return store_failed(q->c);
        }
        ssf_delivery_stream_changed(q->b, q->tenant, id);
    }
    rc = ssf__tx_reply_json(q->c, 200, status_json(&s));
    store_ssf_stream_clear(&s);
    return rc;
}

/* A copy of v with the members of every object in name order: one text per subject. */
json_object *ssf__canonical(json_object *v)
{
    json_object *o;

    if (json_object_is_type(v, json_type_array)) {
        o = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(v); i++)
            json_object_array_add(o, ssf__canonical(json_object_array_get_idx(v, i)));
        return o;
    }
    if (!json_object_is_type(v, json_type_object))
        return json_object_get(v);
    o = json_object_new_object();
    for (;;) {
        const char *least = NULL;

        json_object_object_foreach(v, k, val)
        {
            (void)val;
            if (!json_object_object_get_ex(o, k, NULL) && (least == NULL || strcmp(k, least) < 0))
                least = k;
        }
        if (least == NULL)
            return o;
        json_object_object_add(o, least, ssf__canonical(json_object_object_get(v, least)));
    }
}

static int subjects(struct call *q, enum method m, bool add)
{
    json_object *sub = NULL, *ver = NULL, *canon;
    struct store_ssf_stream s = {0};
    const char *text;
    char id[64];
    int found, rc;

    if (m != M_POST)
        return http_reply_error(q->c, 405, "method_not_allowed", "use POST");
    if (!stream_id_of(q, m, id, sizeof(id)))
        return bad_request(q->c, "stream_id is required");
    /* RFC 9493 section 3: a Subject Identifier is an object with a "format". */
    if (!json_object_object_get_ex(q->body, "subject", &sub) ||
        !json_object_is_type(sub, json_type_object) ||
        !json_object_object_get_ex(sub, "format", NULL))
        return bad_request(q->c, "subject must be a Subject Identifier with a format");
    if (json_object_object_get_ex(q->body, "verified", &ver) &&
        !json_object_is_type(ver, json_type_boolean))
        return bad_request(q->c, "verified must be a boolean");
    found = q->st->ops->ssf_stream_get(q->st, q->tenant, id, &s);
    store_ssf_stream_clear(&s);
    if (found <= 0)
        return found < 0 ? store_failed(q->c) : not_found(q->c);
    canon = ssf__canonical(sub);
    text = json_object_to_json_string_ext(canon, JSON_C_TO_STRING_PLAIN);
    if (add) {
        rc = q->st->ops->ssf_subject_add(q->st, id, text, ver ? json_object_get_boolean(ver) : -1)
                 ? store_failed(q->c)
                 : http_reply(q->c, 200, NULL, NULL, 0, NULL);
    } else {
        found = q->st->ops->ssf_subject_remove(q->st, id, text);
        rc = found < 0    ? store_failed(q->c)
             : found == 0 ? http_reply_error(q->c, 404, "not_found", "no such subject")
                          : http_reply(q->c, 204, NULL, NULL, 0, NULL);
    }
    json_object_put(canon);
    return rc;
}

static int verify(struct call *q, enum method m)
{
    struct store_ssf_stream s = {0};
    json_object *state = NULL;
    char id[64];
    int found;

    if (m != M_POST)
        return http_reply_error(q->c, 405, "method_not_allowed", "use POST");
    if (!stream_id_of(q, m, id, sizeof(id)))
        return bad_request(q->c, "stream_id is required");
    if (json_object_object_get_ex(q->body, "state", &state) &&
        !json_object_is_type(state, json_type_string))
        return bad_request(q->c, "state must be a string");
    found = q->st->ops->ssf_stream_get(q->st, q->tenant, id, &s);
    store_ssf_stream_clear(&s);
    if (found <= 0)
        return found < 0 ? store_failed(q->c) : not_found(q->c);
    if (q->st->ops->ssf_verify_add(q->st, id, state ? json_object_get_string(state) : NULL,
                                   (int64_t)time(NULL) * 1000) != 0 ||
        ssf_delivery_verify(q->b, q->tenant, id, state ? json_object_get_string(state) : NULL) != 0)
        return store_failed(q->c);
    return http_reply(q->c, 204, NULL, NULL, 0, NULL);
}

int ssf_streams_api(struct conn *c, const char *path, const char *body, size_t len)
{
    struct call q = {.c = c, .b = c->b, .st = c->b->store};
    const char *t = path + strlen("/ssf/"), *slash = strchr(t, '/'), *rest;
    enum method m = method_of(c);
    char err[200];
    bool poll;
    int rc = 0;

    if (c->b->ssf_transmitter == NULL || slash == NULL || (size_t)(slash - t) > MQP_ID_MAX)
        return http_reply_error(c, 404, "not_found", "no such path");
    memcpy(q.tenant, t, (size_t)(slash - t));
    q.tenant[slash - t] = '\0';
    rest = slash;
    poll = strncmp(rest, "/poll/", 6) == 0 && rest[6] != '\0' && strlen(rest + 6) < 64 &&
           strchr(rest + 6, '/') == NULL;
    if (!ssf__tx_serves(c->b, q.tenant) ||
        (!poll && strcmp(rest, "/streams") != 0 && strcmp(rest, "/streams/status") != 0 &&
         strcmp(rest, "/streams/subjects:add") != 0 &&
         strcmp(rest, "/streams/subjects:remove") != 0 && strcmp(rest, "/streams/verify") != 0))
        return http_reply_error(c, 404, "not_found", "no such path");
    if (authorize(&q, &rc) != 0)
        return rc;
    if (body && len > 0) {
        q.body = bridge_config__parse_json(body, len, err, sizeof(err));
        if (q.body != NULL && !json_object_is_type(q.body, json_type_object)) {
            json_object_put(q.body);
            return bad_request(c, "the body must be a JSON object");
        }
        if (q.body == NULL)
            return bad_request(c, err);
    } else if (!poll && (m == M_POST || m == M_PATCH || m == M_PUT)) {
        return bad_request(c, "a JSON body is required");
    }
    if (poll)
        rc = ssf__poll_api(c, q.tenant, rest + 6, q.body);
    else if (strcmp(rest, "/streams") == 0)
        rc = streams(&q, m);
    else if (strcmp(rest, "/streams/status") == 0)
        rc = status(&q, m);
    else if (strcmp(rest, "/streams/verify") == 0)
        rc = verify(&q, m);
    else
        rc = subjects(&q, m, strcmp(rest, "/streams/subjects:add") == 0);
    json_object_put(q.body);
    return rc;
}
