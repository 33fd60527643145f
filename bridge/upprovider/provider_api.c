/*
 * The UnifiedPush provider's HTTP API.
 * Distributor side (tenant token with a "sub"):
 *   POST   /api/unifiedpush/endpoints        a new endpoint: 201 {"id", "endpoint", "topic"}
 *   GET    /api/unifiedpush/endpoints        the caller's endpoints
 *   DELETE /api/unifiedpush/endpoints/<id>   204; its pending messages go with it
 *   GET    /api/unifiedpush/messages         text/event-stream of the caller's messages
 *   POST   /api/unifiedpush/messages/ack     {"up_to": <message id>}: received, delete them
 * Application server side (no authentication: the endpoint URL is the capability,
 * UnifiedPush SERV 1.0.1):
 *   GET    /up/<id>   {"unifiedpush": {"version": 1}}
 *   POST   /up/<id>   1..4000 bytes: 202; empty 400; larger 413; unknown 404; too fast 429
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "b64url.h"
#include "broker/link.h"
#include "upprovider/provider_int.h"

#define ENDPOINTS "/api/unifiedpush/endpoints"
#define MESSAGES "/api/unifiedpush/messages"
#define UP_PREFIX "/up/"

static bool method(struct conn *c, enum lws_token_indexes t)
{
    return lws_hdr_total_length(c->wsi, t) > 0;
}

int upp__reply_json(struct conn *c, int status, json_object *o)
{
    const char *s;
    int rc;

    if (o == NULL)
        return -1;
    s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    rc = http_reply(c, status, "application/json", s, strlen(s), NULL);
    json_object_put(o);
    return rc;
}

int upp__caller(struct conn *c, struct http_caller *who, char owner[MQP_OWNER_KEY_LEN + 1], int *rc)
{
    char msg[160], *tok;
    bool too_long = false;
    enum http_denial d;

    memset(who, 0, sizeof(*who));
    tok = http_bearer_token(c->wsi, 65536, &too_long);
    free(tok);
    if (tok == NULL && !too_long) {
        *rc = http_reply_error(c, 401, "auth_required", "a bearer token is required");
        return 1;
    }
    d = http_identify(c->b, c->wsi, NULL, who, msg, sizeof(msg));
    if (d != HTTP_OK) {
        *rc = http_reply_error(c, http_denial_status(d), http_denial_code(d), msg);
        return 1;
    }
    if (who->id == NULL || who->id->kind != MQP_IDENTITY_TENANT || who->id->tenant == NULL ||
        mqp_owner_key(who->id->sub, owner) != 0) {
        int anonymous = who->id == NULL;

        http_caller_clear(who);
        *rc = anonymous ? http_reply_error(c, 401, "auth_required", "a bearer token is required")
                        : http_reply_error(c, 403, "forbidden",
                                           "endpoints belong to a tenant's users: the token "
                                           "needs a tenant and a \"sub\"");
        return 1;
    }
    return 0;
}

static bool id_valid(const char *id)
{
    size_t n = strlen(id);

    return n == UPP_ID_LEN && strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                         "0123456789-_") == n;
}

/* The public URL of endpoint id into buf; 0 or -1. */
static int endpoint_url(const struct bridge *b, const char *id, char *buf, size_t cap)
{
    const char *base = b->cfg->public_url ? b->cfg->public_url : "";
    size_t bl = strlen(base);
    int n;

    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    n = snprintf(buf, cap, "%.*s" UP_PREFIX "%s", (int)bl, base, id);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static json_object *endpoint_json(const struct bridge *b, const struct store_up_endpoint *e)
{
    json_object *o = json_object_new_object();
    char url[1024], topic[512];

    if (o == NULL || endpoint_url(b, e->id, url, sizeof(url)) != 0 ||
        upp__topic(topic, sizeof(topic), e->tenant, e->owner, e->id) != 0) {
        json_object_put(o);
        return NULL;
    }
    json_object_object_add(o, "id", json_object_new_string(e->id));
    json_object_object_add(o, "endpoint", json_object_new_string(url));
    json_object_object_add(o, "topic", json_object_new_string(topic));
    json_object_object_add(o, "created_at", json_object_new_int64(e->created_at));
    return o;
}

static int create(struct up_provider *p, struct conn *c, const char *tenant, const char *owner)
{
    struct store *st = p->b->store;
    struct store_up_endpoint e = {0};
    unsigned char rnd[UPP_ID_BYTES];
    char *id = NULL;
    int n, added = -1;

    n = st->ops->up_endpoint_count(st, tenant, owner);
    if (n < 0)
        return http_reply_error(c, 500, "store_error", "the store failed");
    if ((unsigned)n >= p->b->cfg->unifiedpush.provider.max_endpoints)
        return http_reply_error(c, 409, "too_many_endpoints",
                                "delete one of your endpoints first "
                                "(unifiedpush.provider.max_endpoints)");
    snprintf(e.tenant, sizeof(e.tenant), "%s", tenant);
    snprintf(e.owner, sizeof(e.owner), "%s", owner);
    e.created_at = upp__wall_ms() / 1000;
    /* 144 random bits: an endpoint is a capability, it must not be guessable (SERV 1.0.1). A
     * collision is as likely as a guess; it is retried all the same. */
    for (int tries = 0; tries < 3 && added != 0; tries++) {
        if (RAND_bytes(rnd, sizeof(rnd)) != 1)
            break;
        free(id);
        id = mqp_b64url_encode(rnd, sizeof(rnd), NULL);
        if (id == NULL)
            break;
        snprintf(e.id, sizeof(e.id), "%s", id);
        added = st->ops->up_endpoint_add(st, &e);
        if (added < 0)
            break;
    }
    free(id);
    if (added != 0)
        return http_reply_error(c, 500, "store_error", "cannot create an endpoint");
    return upp__reply_json(c, 201, endpoint_json(p->b, &e));
}

struct list_ctx {
    const struct bridge *b;
    json_object *arr;
};

static int list_visit(void *ctx, const struct store_up_endpoint *e)
{
    struct list_ctx *x = ctx;
    json_object *o = endpoint_json(x->b, e);

    if (o == NULL)
        return -1;
    json_object_array_add(x->arr, o);
    return 0;
}

static int list(struct up_provider *p, struct conn *c, const char *tenant, const char *owner)
{
    struct store *st = p->b->store;
    struct list_ctx x = {p->b, json_object_new_array()};
    json_object *o;

    if (x.arr == NULL || st->ops->up_endpoint_each(st, tenant, owner, list_visit, &x) != 0) {
        json_object_put(x.arr);
        return http_reply_error(c, 500, "store_error", "the store failed");
    }
    o = json_object_new_object();
    if (o == NULL) {
        json_object_put(x.arr);
        return -1;
    }
    json_object_object_add(o, "endpoints", x.arr);
    return upp__reply_json(c, 200, o);
}

static int remove_endpoint(struct up_provider *p, struct conn *c, const char *tenant,
                           const char *owner, const char *id)
{
    struct store *st = p->b->store;
    int n = id_valid(id) ? st->ops->up_endpoint_delete(st, tenant, owner, id) : 0;

    if (n < 0)
        return http_reply_error(c, 500, "store_error", "the store failed");
    if (n == 0)
        return http_reply_error(c, 404, "not_found", "no such endpoint of yours");
    upp__rate_forget(p, id);
    return http_reply(c, 204, NULL, NULL, 0, NULL);
}

static int ack(struct up_provider *p, struct conn *c, const char *tenant, const char *owner,
               const char *body, size_t len)
{
    struct store *st = p->b->store;
    json_object *doc = body ? json_tokener_parse(body) : NULL, *v = NULL, *o;
    int64_t up_to;
    int n;

    (void)len;
    if (doc == NULL || !json_object_object_get_ex(doc, "up_to", &v) ||
        !json_object_is_type(v, json_type_int) || (up_to = json_object_get_int64(v)) < 0) {
        json_object_put(doc);
        return http_reply_error(c, 400, "bad_request",
                                "send {\"up_to\": <id of the last message received>}");
    }
    json_object_put(doc);
    n = st->ops->up_msg_ack(st, tenant, owner, up_to);
    if (n < 0)
        return http_reply_error(c, 500, "store_error", "the store failed");
    o = json_object_new_object();
    if (o)
        json_object_object_add(o, "deleted", json_object_new_int(n));
    return upp__reply_json(c, 200, o);
}

int up_provider_api(struct conn *c, const char *path, const char *body, size_t len)
{
    struct up_provider *p = c->b->up_provider;
    struct http_caller who;
    char owner[MQP_OWNER_KEY_LEN + 1];
    const char *tenant;
    int rc = -1;

    if (p == NULL)
        return http_reply_error(c, 404, "not_found", "the UnifiedPush provider is not enabled");
    if (strcmp(path, ENDPOINTS) != 0 && strncmp(path, ENDPOINTS "/", sizeof(ENDPOINTS)) != 0 &&
        strcmp(path, MESSAGES) != 0 && strcmp(path, MESSAGES "/ack") != 0)
        return http_reply_error(c, 404, "not_found", "no such path");
    if (upp__caller(c, &who, owner, &rc) != 0)
        return rc;
    tenant = who.id->tenant;
    if (strcmp(path, ENDPOINTS) == 0) {
        if (method(c, WSI_TOKEN_POST_URI))
            rc = create(p, c, tenant, owner);
        else if (method(c, WSI_TOKEN_GET_URI))
            rc = list(p, c, tenant, owner);
        else
            rc = http_reply_error(c, 405, "method_not_allowed", "use POST or GET");
    } else if (strncmp(path, ENDPOINTS "/", sizeof(ENDPOINTS)) == 0) {
        if (method(c, WSI_TOKEN_DELETE_URI))
            rc = remove_endpoint(p, c, tenant, owner, path + sizeof(ENDPOINTS));
        else
            rc = http_reply_error(c, 405, "method_not_allowed", "use DELETE");
    } else if (strcmp(path, MESSAGES) == 0) {
        if (method(c, WSI_TOKEN_GET_URI))
            rc = upp__sse_open(p, c);
        else
            rc = http_reply_error(c, 405, "method_not_allowed", "use GET");
    } else {
        if (method(c, WSI_TOKEN_POST_URI))
            rc = ack(p, c, tenant, owner, body, len);
        else
            rc = http_reply_error(c, 405, "method_not_allowed", "use POST");
    }
    http_caller_clear(&who);
    return rc;
}

/* A message for e: keep it, publish it for MQTT distributors, wake the owner's SSE streams and
 * socket.io sockets (they read it from the store). */
static int push(struct up_provider *p, struct conn *c, const struct store_up_endpoint *e,
                const char *body, size_t len)
{
    static const char limited[] =
        "{\"error\":\"rate_limited\",\"message\":\"too many messages for this endpoint\"}";
    static const char unavailable[] =
        "{\"error\":\"unavailable\",\"message\":\"the message broker is unreachable\"}";
    struct store *st = p->b->store;
    char topic[512], hdr[48];
    unsigned wait;
    int64_t id;

    /* Every distributor must be reachable, MQTT ones through the broker: while the link is down
     * the application server is asked to come back (RFC 9110 15.6.4) rather than told 202 for
     * a message some distributors would never get. */
    if (p->b->link == NULL || !mqlink_is_up(p->b->link))
        return http_reply(c, 503, "application/json", unavailable, sizeof(unavailable) - 1,
                          "retry-after: 5\r\n");
    wait = upp__rate_take(p, e->id);
    if (wait > 0) {
        snprintf(hdr, sizeof(hdr), "retry-after: %u\r\n", wait);
        return http_reply(c, 429, "application/json", limited, sizeof(limited) - 1, hdr);
    }
    if (st->ops->up_msg_add(st, e->id, body, len, upp__wall_ms(), &id) != 0)
        return http_reply_error(c, 500, "store_error", "the message could not be kept");
    /* QoS 1 on a persistent session reaches a distributor that is away when it comes back; a
     * link lost since the check above loses only this copy: the stored one still goes out over
     * SSE and socket.io. */
    if (upp__topic(topic, sizeof(topic), e->tenant, e->owner, e->id) != 0 || p->b->link == NULL ||
        mqlink_publish(p->b->link, topic, body, len) != 0)
        fprintf(stderr, "mqpush-bridge: unifiedpush provider: message %lld not published\n",
                (long long)id);
    upp__sse_notify(p, e->tenant, e->owner);
    if (p->wake)
        p->wake(p->wake_ud, e->tenant, e->owner);
    return http_reply(c, 202, NULL, NULL, 0, NULL);
}

int up_provider_push_api(struct conn *c, const char *path, const char *body, size_t len)
{
    struct up_provider *p = c->b->up_provider;
    struct store *st = c->b->store;
    const char *id = path + strlen(UP_PREFIX);
    struct store_up_endpoint e;
    int found;

    if (p == NULL)
        return http_reply_error(c, 404, "not_found", "the UnifiedPush provider is not enabled");
    found = id_valid(id) ? st->ops->up_endpoint_get(st, id, &e) : 0;
    if (found < 0)
        return http_reply_error(c, 500, "store_error", "the store failed");
    if (found == 0)
        return http_reply_error(c, 404, "not_found", "no such endpoint");
    if (method(c, WSI_TOKEN_GET_URI)) {
        static const char doc[] = "{\"unifiedpush\":{\"version\":1}}";

        return http_reply(c, 200, "application/json", doc, sizeof(doc) - 1, NULL);
    }
    if (!method(c, WSI_TOKEN_POST_URI))
        return http_reply_error(c, 405, "method_not_allowed", "use POST");
    if (body == NULL || len == 0)
        return http_reply_error(c, 400, "empty_message", "a message has 1 to 4000 bytes");
    if (len > UPP_MAX_MESSAGE)
        return http_reply_error(c, 413, "too_large", "a message has 1 to 4000 bytes");
    return push(p, c, &e, body, len);
}
