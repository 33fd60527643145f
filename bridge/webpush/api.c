/*
 * The Web Push API under /api/push/:
 *   GET    vapid           the current VAPID public key
 *   POST   subscribe       store a browser's PushSubscription for the token's user and session
 *   DELETE subscribe       remove one of the caller's subscriptions
 *   POST   logout          the token's session ended: abandon its subscriptions
 *   POST   vapid/rotate    new VAPID key (service token with role mqpush-admin)
 * Clients retry a subscription on any answer but 400, so the same subscription again is a
 * success, and a 400 says exactly what to change (with the current key when it rotated).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "access.h"
#include "http/api.h"
#include "http/conn.h"
#include "http/request.h"
#include "net/guard.h"
#include "store/identity.h"
#include "webpush/discovery.h"
#include "webpush/subscription.h"
#include "webpush/webpush_int.h"

#define ADMIN_ROLE "mqpush-admin"

static bool method(struct conn *c, enum lws_token_indexes t)
{
    return lws_hdr_total_length(c->wsi, t) > 0;
}

static int reply_json(struct conn *c, int status, json_object *o)
{
    const char *s =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = http_reply(c, status, "application/json", s, strlen(s), NULL);

    json_object_put(o);
    return rc;
}

static int reply_key(struct conn *c, struct webpush *wp, int status, const char *message)
{
    json_object *o = json_object_new_object();

    if (o == NULL)
        return -1;
    if (message) {
        json_object_object_add(o, "error", json_object_new_string("vapid_mismatch"));
        json_object_object_add(o, "message", json_object_new_string(message));
    }
    json_object_object_add(o, "key", json_object_new_string(webpush_vapid_public_key(wp->vapid)));
    return reply_json(c, status, o);
}

/* The caller, who must hold a tenant token. Returns 0, or the reply's result. */
static int caller(struct conn *c, struct http_caller *who, int *replied)
{
    char msg[160], *tok;
    bool too_long = false;
    enum http_denial d;

    *replied = 1;
    tok = http_bearer_token(c->wsi, 65536, &too_long);
    free(tok);
    if (tok == NULL && !too_long)
        return http_reply_error(c, 401, "auth_required", "a bearer token is required");
    d = http_identify(c->b, c->wsi, NULL, who, msg, sizeof(msg));
    /* a valid token that names no tenant is a service's */
    if (d == HTTP_BAD_REQUEST)
        return http_reply_error(c, 403, "forbidden",
                                "push subscriptions belong to a tenant's users");
    if (d != HTTP_OK)
        return http_reply_error(c, http_denial_status(d), http_denial_code(d), msg);
    if (who->id == NULL) {
        http_caller_clear(who);
        return http_reply_error(c, 401, "auth_required", "a bearer token is required");
    }
    if (who->id->kind != MQP_IDENTITY_TENANT) {
        http_caller_clear(who);
        return http_reply_error(c, 403, "forbidden",
                                "push subscriptions belong to a tenant's users");
    }
    *replied = 0;
    return 0;
}

static const char *session_of(const struct mqp_identity *id)
{
    return id->sid ? id->sid : id->jti ? id->jti : "";
}

static bool same_binding(const struct store_sub *old, const struct mqp_identity *id)
{
    return strcmp(old->tenant, id->tenant) == 0 && strcmp(old->user, id->sub ? id->sub : "") == 0 &&
           strcmp(old->session, session_of(id)) == 0;
}

/* Make room under max_per_user by dropping the user's oldest subscription: browsers make a new
 * one now and then and seldom say that the old one is dead. */
static void make_room(struct webpush *wp, const struct mqp_identity *id)
{
    struct store *st = wp->b->store;
    const char *user = id->sub ? id->sub : "";
    struct wp_sub *s, *tmp, *oldest;

    while (st->ops->sub_count_user(st, wp->channel, id->tenant, user) >=
           (int)wp->set->max_per_user) {
        oldest = NULL;
        HASH_ITER(hh, wp->subs, s, tmp)
        {
            if (strcmp(s->tenant, id->tenant) == 0 && strcmp(s->user, user) == 0 &&
                (oldest == NULL || s->id < oldest->id))
                oldest = s;
        }
        if (oldest == NULL)
            break;
        wp_sub_remove(wp, oldest, true);
    }
}

/* A subscription request between its checks and its storing: it may wait for the SSRF
 * guard's lookup of the endpoint's host. */
struct pending {
    struct webpush *wp;
    struct conn *c; /* NULL once the connection closed */
    struct http_caller who;
    struct webpush_sub_req req;
    struct wp_stream *ws;
    bool busy;     /* a lookup or discovery is under way */
    bool discover; /* UnifiedPush SERV 1.0.1: GET the endpoint first */
    bool ok;
    char why[200];
};

static void pending_free(struct pending *p)
{
    webpush_sub_req_clear(&p->req);
    http_caller_clear(&p->who);
    free(p);
}

/* The checks passed: store the subscription and answer. */
static int store_sub(struct conn *c, struct pending *p)
{
    struct webpush *wp = p->wp;
    struct store *st = wp->b->store;
    const struct mqp_identity *id = p->who.id;
    struct store_sub old = {0}, rec = {0};
    struct wp_sub *prev;
    int rc, found;

    found = st->ops->sub_get(st, wp->channel, p->req.endpoint, &old);
    if (found < 0)
        goto store_error;
    if (found == 1 &&
        (!old.has_keys != !p->req.has_keys ||
         (old.has_keys && (memcmp(old.p256dh, p->req.p256dh, sizeof(old.p256dh)) != 0 ||
                           memcmp(old.auth, p->req.auth, sizeof(old.auth)) != 0)))) {
        rc = http_reply_error(c, 409, "conflict", "this endpoint is subscribed with other keys");
        goto out;
    }
    if (found == 1 && same_binding(&old, id) && strcmp(old.stream, p->ws->cfg->stream) == 0) {
        rc = http_reply(c, 201, NULL, NULL, 0, NULL);
        goto out;
    }
    if (found == 0)
        make_room(wp, id);
    rec.channel = (char *)wp->channel;
    rec.endpoint = p->req.endpoint;
    memcpy(rec.p256dh, p->req.p256dh, sizeof(rec.p256dh));
    memcpy(rec.auth, p->req.auth, sizeof(rec.auth));
    rec.has_keys = p->req.has_keys;
    /* the key its push service ties it to (RFC 8292 3.2): rotation drops it */
    rec.vapid_key = wp->kind == WP_WEBPUSH ? p->req.vapid
                    : p->req.has_keys      ? (char *)webpush_vapid_public_key(wp->vapid)
                                           : NULL;
    rec.tenant = id->tenant;
    rec.stream = p->ws->cfg->stream;
    rec.user = id->sub ? id->sub : "";
    rec.session = (char *)session_of(id);
    rec.identity = store_identity_encode(id);
    rec.expires_at = id->exp;
    rec.created_at = (int64_t)time(NULL);
    if (rec.identity == NULL)
        goto store_error;
    if (found == 1) {
        /* The browser's subscription now belongs to this token's user and session: moved in
         * place, so that what waits for it (a retry, a Retry-After) still goes. */
        rec.id = old.id;
        if (st->ops->sub_rebind(st, &rec) != 0)
            goto store_error;
        wp_subs_changed(wp);
        prev = wp_sub_find(wp, old.id);
        if (prev)
            wp_sub_remove(wp, prev, false);
        if (wp_sub_add(wp, &rec) < 0)
            goto store_error;
        rc = http_reply(c, 201, NULL, NULL, 0, NULL);
        goto out;
    }
    rc = st->ops->sub_insert(st, &rec);
    if (rc == 1) { /* made by a concurrent request in between: the same subscription */
        rc = http_reply(c, 201, NULL, NULL, 0, NULL);
        goto out;
    }
    if (rc != 0 || wp_sub_add(wp, &rec) < 0)
        goto store_error;
    wp_subs_changed(wp);
    rc = http_reply(c, 201, NULL, NULL, 0, NULL);
    goto out;
store_error:
    rc = http_reply_error(c, 500, "internal", "the subscription could not be stored");
out:
    free(rec.identity);
    store_sub_clear(&old);
    return rc;
}

static int on_resume(struct conn *c, void *arg)
{
    struct pending *p = arg;
    int rc;

    if (!p->ok)
        rc = http_reply_error(c, 400, "invalid_endpoint", p->why);
    else if (p->wp->kind == WP_WEBPUSH &&
             strcmp(p->req.vapid, webpush_vapid_public_key(p->wp->vapid)) != 0)
        /* the key rotated while the lookup ran */
        rc = reply_key(c, p->wp, 400, "the VAPID key changed: subscribe again with the new key");
    else if (p->req.has_keys && p->wp->vapid == NULL)
        rc = http_reply_error(c, 400, "invalid_request", "no VAPID key for the Web Push form");
    else
        rc = store_sub(c, p);
    pending_free(p);
    return rc;
}

static void on_abandon(void *arg)
{
    struct pending *p = arg;

    p->c = NULL;
    if (!p->busy)
        pending_free(p);
}

/* An asynchronous step ended: go on, answer, or (the client left) forget the request. */
static void step_done(struct pending *p, bool ok, const char *why)
{
    p->busy = false;
    p->ok = ok;
    snprintf(p->why, sizeof(p->why), "%s", why ? why : "");
    if (p->c == NULL)
        pending_free(p);
    else
        api_wake(p->c);
}

static void on_discovered(void *ud, bool ok, const char *why)
{
    step_done(ud, ok, why);
}

static void on_resolved(void *ud, int ok, const char *why)
{
    struct pending *p = ud;

    if (ok && p->discover && p->c) {
        if (wp_discover(p->wp->b, p->req.endpoint, on_discovered, p) == 0)
            return; /* still busy */
        step_done(p, false, "the discovery request could not be made");
        return;
    }
    step_done(p, ok != 0, why);
}

static int subscribe(struct conn *c, struct webpush *wp, const char *body, size_t len)
{
    struct pending *p = calloc(1, sizeof(*p));
    struct guard_url gu;
    const struct mqp_stream *s;
    const struct mqp_identity *id;
    const char *sid;
    char err[200];
    int replied, rc;

    if (p == NULL)
        return -1;
    p->wp = wp;
    rc = caller(c, &p->who, &replied);
    if (replied) {
        free(p);
        return rc;
    }
    id = p->who.id;
    if ((wp->kind == WP_WEBPUSH
             ? webpush_sub_parse(body, len, true, &p->req, err, sizeof(err))
             : webpush_reg_parse(body, len, true, &p->req, err, sizeof(err))) != 0) {
        rc = http_reply_error(c, 400, "invalid_request", err);
        goto out;
    }
    if (wp->kind == WP_UNIFIEDPUSH) {
        p->discover = !p->req.has_keys;
        if (p->req.has_keys && wp->vapid == NULL) {
            rc = http_reply_error(c, 400, "invalid_request",
                                  "the Web Push form needs Web Push (its VAPID key) configured");
            goto out;
        }
    } else if (strcmp(p->req.vapid, webpush_vapid_public_key(wp->vapid)) != 0) {
        rc = reply_key(c, wp, 400,
                       "the subscription was made with another VAPID key: subscribe again "
                       "with the current key");
        goto out;
    }
    p->ws = p->req.stream ? wp_stream_find(wp, id->tenant, p->req.stream)
                          : wp_stream_default(wp, id->tenant);
    sid = p->ws ? p->ws->cfg->stream : p->req.stream ? p->req.stream : "";
    s = mqp_tenant_stream(p->who.tenant, sid, strlen(sid));
    if (p->req.stream && s == NULL) {
        rc = http_reply_error(c, 404, "not_found", "no such stream");
        goto out;
    }
    if (p->ws == NULL || s == NULL) {
        snprintf(err, sizeof(err),
                 p->req.stream ? "this stream is not delivered by %s"
                               : "name a stream: the tenant has no default %s stream",
                 wp->kind == WP_WEBPUSH ? "Web Push" : "UnifiedPush");
        rc = http_reply_error(c, 400, "invalid_request", err);
        goto out;
    }
    if (!mqp_stream_readable(s, id)) {
        rc = http_reply_error(c, 403, "forbidden", "the token may not read this stream");
        goto out;
    }
    if (guard_check_url(wp->b->guard, p->req.endpoint, &gu, err, sizeof(err)) != 0) {
        rc = http_reply_error(c, 400, "invalid_endpoint", err);
        goto out;
    }
    /* Plain http only to an address listed in outbound.allow: a name would have to trust its
     * lookup, and is refused without one. */
    if (gu.resolve && strcmp(gu.scheme, "http") == 0) {
        rc = http_reply_error(c, 400, "invalid_endpoint",
                              "a plain http endpoint must name an address in outbound.allow");
        goto out;
    }
    if (!gu.resolve && !p->discover) {
        rc = store_sub(c, p);
        goto out;
    }
    /* A host name: every address it has now must pass the guard (each connection is checked
     * again when a push is sent, against DNS rebinding); then, for SERV 1.0.1, the discovery
     * GET. The answer waits for them. */
    p->c = c;
    p->busy = true;
    if (gu.resolve ? guard_resolve_url(wp->b->loop, wp->b->guard, &gu, on_resolved, p) != 0
                   : wp_discover(wp->b, p->req.endpoint, on_discovered, p) != 0) {
        rc = http_reply_error(c, 400, "invalid_endpoint",
                              "the endpoint's host cannot be looked up or reached");
        goto out;
    }
    return api_defer(c, on_resume, on_abandon, p);
out:
    pending_free(p);
    return rc;
}

static int unsubscribe(struct conn *c, struct webpush *wp, const char *body, size_t len)
{
    struct store *st = wp->b->store;
    struct http_caller who = {0};
    struct webpush_sub_req req;
    struct store_sub old = {0};
    char err[200];
    int replied, rc, found;

    rc = caller(c, &who, &replied);
    if (replied)
        return rc;
    if ((wp->kind == WP_WEBPUSH
             ? webpush_sub_parse(body, len, false, &req, err, sizeof(err))
             : webpush_reg_parse(body, len, false, &req, err, sizeof(err))) != 0) {
        rc = http_reply_error(c, 400, "invalid_request", err);
        goto out_who;
    }
    found = st->ops->sub_get(st, wp->channel, req.endpoint, &old);
    /* Only the user who made it may remove it; to others it does not exist. */
    if (found == 1 && strcmp(old.tenant, who.id->tenant) == 0 &&
        strcmp(old.user, who.id->sub ? who.id->sub : "") == 0) {
        struct wp_sub *s = wp_sub_find(wp, old.id);

        if (s)
            wp_sub_remove(wp, s, true);
        else if (st->ops->sub_delete(st, wp->channel, old.id, NULL) > 0)
            wp_subs_changed(wp);
        rc = http_reply(c, 204, NULL, NULL, 0, NULL);
    } else if (found < 0) {
        rc = http_reply_error(c, 500, "internal", "the store could not be read");
    } else {
        rc = http_reply_error(c, 404, "not_found", "no such subscription");
    }
    store_sub_clear(&old);
    webpush_sub_req_clear(&req);
out_who:
    http_caller_clear(&who);
    return rc;
}

static int logout(struct conn *c, struct webpush *wp)
{
    struct http_caller who = {0};
    json_object *o;
    int replied, rc, n;

    rc = caller(c, &who, &replied);
    if (replied)
        return rc;
    n = webpush_session_ended(wp->b, who.id->tenant, who.id->sub ? who.id->sub : "",
                              session_of(who.id));
    http_caller_clear(&who);
    if (n < 0)
        return http_reply_error(c, 500, "internal", "the store could not be updated");
    o = json_object_new_object();
    if (o == NULL)
        return -1;
    json_object_object_add(o, "dropped", json_object_new_int(n));
    return reply_json(c, 200, o);
}

static int rotate(struct conn *c, struct webpush *wp)
{
    struct mqp_identity *id = NULL;
    bool too_long = false;
    char *tok = http_bearer_token(c->wsi, 65536, &too_long), msg[200];
    int rc;

    if (tok == NULL) {
        rc = http_reply_error(c, 401, "auth_required", "a bearer token is required");
    } else if (mqp_token_verify(wp->b->streams, tok, strlen(tok), (int64_t)time(NULL), &id, NULL,
                                0) != MQP_TOKEN_OK) {
        rc = http_reply_error(c, 401, "auth_failed", "the token was refused");
    } else if (id->kind != MQP_IDENTITY_SERVICE || !mqp_identity_has_role(id, ADMIN_ROLE)) {
        /* The key serves every tenant: only the operator's service token may change it. */
        rc = http_reply_error(c, 403, "forbidden",
                              "a service token with role " ADMIN_ROLE " is required");
    } else if (wp_rotate(wp, msg, sizeof(msg)) != 0) {
        rc = http_reply_error(c, 500, "internal", msg);
    } else {
        webpush_announce_key(wp->b);
        rc = reply_key(c, wp, 200, NULL);
    }
    mqp_identity_free(id);
    free(tok);
    return rc;
}

int wp_api(struct conn *c, struct webpush *wp, const char *path, const char *body, size_t len)
{
    bool get = method(c, WSI_TOKEN_GET_URI), post = method(c, WSI_TOKEN_POST_URI),
         del = method(c, WSI_TOKEN_DELETE_URI), up = strncmp(path, "/api/unifiedpush/", 17) == 0;
    const char *p = path + (up ? strlen("/api/unifiedpush/") : strlen("/api/push/"));

    if (wp == NULL)
        return http_reply_error(c, 404, "not_found",
                                up ? "UnifiedPush is not enabled" : "Web Push is not enabled");
    if (!up && strcmp(p, "vapid") == 0)
        return get ? reply_key(c, wp, 200, NULL)
                   : http_reply_error(c, 405, "method_not_allowed", "use GET");
    if (strcmp(p, up ? "register" : "subscribe") == 0) {
        if (post)
            return subscribe(c, wp, body, len);
        if (del)
            return unsubscribe(c, wp, body, len);
        return http_reply_error(c, 405, "method_not_allowed", "use POST or DELETE");
    }
    if (strcmp(p, "logout") == 0)
        return post ? logout(c, wp) : http_reply_error(c, 405, "method_not_allowed", "use POST");
    if (!up && strcmp(p, "vapid/rotate") == 0)
        return post ? rotate(c, wp) : http_reply_error(c, 405, "method_not_allowed", "use POST");
    return http_reply_error(c, 404, "not_found", "no such path");
}
