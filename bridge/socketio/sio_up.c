/*
 * UnifiedPush distributors over socket.io. As on the provider's SSE stream
 * (upprovider/provider_sse.c), the store is the queue: each pull() reads the next messages after
 * the newest one emitted, so replay and live delivery are one path and a slow socket holds no
 * copy of its own. pull() runs only once the session's queue has been written out
 * (eio__gather()), so a socket has at most one batch queued.
 */
#include "socketio/sio_up.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>
#include "access.h"
#include "http/request.h"
#include "store/store.h"
#include "upprovider/provider.h"

#define BATCH 32
#define EVENT "unifiedpush:message"

struct sio_up_set {
    struct bridge *b;
    struct sio_up *socks; /* utlist DL */
};

struct sio_up {
    struct sio_up *prev, *next; /* sio_up_set.socks */
    struct sio_up_set *set;
    struct sio_socket *sk;
    char tenant[132];
    char owner[MQP_OWNER_KEY_LEN + 1];
    int64_t sent; /* the newest message id emitted (or acknowledged at CONNECT) */
};

static void on_message(void *ud, const char *tenant, const char *owner)
{
    struct sio_up_set *set = ud;
    struct sio_up *u;

    DL_FOREACH(set->socks, u)
    {
        if (strcmp(u->owner, owner) == 0 && strcmp(u->tenant, tenant) == 0)
            sio_socket_want_write(u->sk);
    }
}

int sio_up_set_new(struct bridge *b, struct sio_up_set **out)
{
    struct sio_up_set *set;

    *out = NULL;
    if (b->up_provider == NULL)
        return 0;
    set = calloc(1, sizeof(*set));
    if (set == NULL)
        return -1;
    set->b = b;
    up_provider_set_wake(b, on_message, set);
    *out = set;
    return 0;
}

void sio_up_set_free(struct sio_up_set *set)
{
    if (set == NULL)
        return;
    up_provider_set_wake(set->b, NULL, NULL);
    free(set);
}

static json_object *refusal(const char *code, const char *detail)
{
    json_object *o = json_object_new_object(), *d = json_object_new_object();
    char msg[256];

    snprintf(msg, sizeof(msg), "%s: %s", code, detail);
    json_object_object_add(o, "message", json_object_new_string(msg));
    json_object_object_add(d, "code", json_object_new_string(code));
    json_object_object_add(o, "data", d);
    return o;
}

/* auth.after, else auth.offset: -1 none, -2 malformed, else the message id. A recovering
 * socket.io client sends its last offset as a string, a hand-written one may send a number. */
static int64_t after_arg(json_object *auth)
{
    static const char *const keys[] = {"after", "offset"};
    json_object *v = NULL;
    const char *s;
    char *end;
    long long n;

    for (size_t i = 0; i < 2 && v == NULL; i++)
        if (auth)
            json_object_object_get_ex(auth, keys[i], &v);
    if (v == NULL || json_object_is_type(v, json_type_null))
        return -1;
    if (json_object_is_type(v, json_type_int)) {
        n = json_object_get_int64(v);
        return n < 0 ? -2 : n;
    }
    if (!json_object_is_type(v, json_type_string))
        return -2;
    s = json_object_get_string(v);
    n = strtoll(s, &end, 10);
    return end == s || *end != '\0' || n < 0 ? -2 : n;
}

static const char *denial_code(enum http_denial d)
{
    switch (d) {
    case HTTP_TOKEN_INVALID:
        return "auth_failed";
    case HTTP_FORBIDDEN:
        return "forbidden";
    case HTTP_NOT_FOUND:
        return "unknown_tenant";
    default:
        return "auth_required";
    }
}

bool sio_up_wanted(json_object *auth, bool query)
{
    json_object *v;

    if (auth && json_object_object_get_ex(auth, "unifiedpush", &v))
        return json_object_get_boolean(v);
    return query;
}

int sio_up_connect(struct sio_up_set *set, struct sio_socket *sk, const char *tenant,
                   const char *token, bool too_long, json_object *auth, struct sio_up **out,
                   int64_t *exp, json_object **err)
{
    struct http_caller who = {0};
    struct store *st;
    struct sio_up *u = NULL;
    enum http_denial d;
    char msg[160];
    int64_t after;
    int rc = -1;

    *out = NULL;
    if (set == NULL || set->b->store == NULL) {
        *err = refusal("unifiedpush_disabled", "the UnifiedPush provider is not enabled");
        return -1;
    }
    st = set->b->store;
    if (too_long) {
        *err = refusal("auth_failed", "token too large");
        return -1;
    }
    if (token == NULL) {
        *err = refusal("auth_required", "a token is required");
        return -1;
    }
    d = http_decide_caller(set->b, token, tenant, &who, msg, sizeof(msg));
    if (d != HTTP_OK) {
        *err = refusal(denial_code(d), msg);
        goto out;
    }
    u = calloc(1, sizeof(*u));
    if (u == NULL) {
        *err = refusal("unavailable", "out of memory");
        goto out;
    }
    /* The same callers as the provider's HTTP API (upp__caller()): a tenant user's token. */
    if (who.id == NULL || who.id->kind != MQP_IDENTITY_TENANT || who.id->tenant == NULL ||
        strcmp(who.id->tenant, tenant) != 0 || mqp_owner_key(who.id->sub, u->owner) != 0) {
        *err = refusal("forbidden", "endpoints belong to a tenant's users: the token needs a "
                                    "tenant and a \"sub\"");
        goto out;
    }
    after = after_arg(auth);
    if (after == -2) {
        *err = refusal("bad_request", "auth.after is a message id");
        goto out;
    }
    /* Saying where it is acknowledges what came before, as Last-Event-ID does on the SSE
     * stream (provider_sse.c): a distributor reconnecting does not get those again. */
    if (after > 0 && st->ops->up_msg_ack(st, tenant, u->owner, after) < 0) {
        *err = refusal("unavailable", "the store failed");
        goto out;
    }
    u->set = set;
    u->sk = sk;
    u->sent = after > 0 ? after : 0;
    snprintf(u->tenant, sizeof(u->tenant), "%s", tenant);
    *exp = who.id->exp;
    DL_APPEND(set->socks, u);
    *out = u;
    u = NULL;
    rc = 0;
out:
    free(u);
    http_caller_clear(&who);
    return rc;
}

struct emit_ctx {
    struct sio_up *u;
    size_t bytes, budget;
    bool stopped; /* by the budget or a refused emit */
    bool failed;
};

/* [EVENT, {"endpoint", "id"}, <the bytes>] with ack id = message id (socket.io protocol v5:
 * BINARY_EVENT, the bytes as attachment 0). */
static int emit_one(void *ctx, const struct store_up_msg *m)
{
    struct emit_ctx *x = ctx;
    json_object *args = json_object_new_array(), *meta = json_object_new_object(),
                *ph = json_object_new_object();
    struct sio_blob blob = {m->body, m->body_len};
    int rc = -1;

    if (args == NULL || meta == NULL || ph == NULL) {
        x->failed = true;
        goto out;
    }
    json_object_object_add(meta, "endpoint", json_object_new_string(m->endpoint));
    json_object_object_add(meta, "id", json_object_new_int64(m->id));
    json_object_object_add(ph, "_placeholder", json_object_new_boolean(1));
    json_object_object_add(ph, "num", json_object_new_int(0));
    json_object_array_add(args, json_object_new_string(EVENT));
    json_object_array_add(args, meta);
    json_object_array_add(args, ph);
    meta = ph = NULL;
    /* -1: the session is closed, or closes now as over its queue limit (on_disconnect follows) */
    if (sio_socket_emit(x->u->sk, args, m->id, &blob, 1) != 0) {
        x->failed = true;
        goto out;
    }
    x->u->sent = m->id;
    x->u->set->b->metrics.deliveries[METRICS_CH_SOCKETIO][METRICS_RES_OK]++;
    x->bytes += m->body_len;
    rc = 0;
out:
    json_object_put(args);
    json_object_put(meta);
    json_object_put(ph);
    if (rc == 0 && x->bytes >= x->budget)
        x->stopped = true;
    return rc != 0 || x->stopped;
}

void sio_up_pull(struct sio_up *u)
{
    struct store *st = u->set->b->store;
    /* Half the queue limit: a batch never closes the session as slow on its own. */
    struct emit_ctx x = {u, 0, u->set->b->cfg->limits.send_queue_bytes / 2, false, false};
    int n;

    if (st == NULL)
        return;
    n = st->ops->up_msg_each(st, u->tenant, u->owner, u->sent, BATCH, emit_one, &x);
    if (n < 0) {
        /* The next wake (a new message, or the client's next reconnect) tries again. */
        fprintf(stderr, "mqpush-bridge: unifiedpush over socket.io: cannot read messages\n");
        return;
    }
    /* More may be waiting: the next pull() comes once this batch has been written. */
    if (!x.failed && (n == BATCH || x.stopped))
        sio_socket_want_write(u->sk);
}

void sio_up_ack(struct sio_up *u, int64_t id)
{
    struct store *st = u->set->b->store;

    /* Only what this socket was sent: an ack id is the client's word, not a capability. */
    if (id <= 0 || id > u->sent || st == NULL)
        return;
    if (st->ops->up_msg_ack(st, u->tenant, u->owner, id) < 0)
        fprintf(stderr, "mqpush-bridge: unifiedpush over socket.io: cannot acknowledge\n");
}

void sio_up_free(struct sio_up *u)
{
    if (u == NULL)
        return;
    DL_DELETE(u->set->socks, u);
    free(u);
}
