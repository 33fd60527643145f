/*
 * POST /ssf/receive/{tenant}: RFC 8935 push delivery of Security Event Tokens.
 *
 * The checks, in order (the first that fails answers):
 *   1. path, method                      404 / 405 (general HTTP errors, RFC 8935 2.4 first
 *                                        paragraph: {"error", "message"} like every bridge API)
 *   2. Authorization header, when sent   400 authentication_failed: it is no transmitter's;
 *                                        400 access_denied: it is one of another tenant
 *      ... when not sent                 400 authentication_failed if every transmitter of the
 *                                        tenant requires one
 *   3. Content-Type, body, SET shape     400 invalid_request
 *   4. "iss" a transmitter of the tenant 400 invalid_issuer
 *   5. that transmitter's credentials    400 authentication_failed (none sent) / access_denied
 *                                        (another transmitter's)
 *   6. algorithm, key, signature         400 invalid_key; 503 while its jwks_uri is fetched
 *   7. "aud", then "iat"                 400 invalid_audience / invalid_request
 *   8. publish (and end Web Push sessions for session-revoked)
 *                                        202, or 503 with Retry-After when the broker link is
 *                                        down or the store failed: the SET was not acted on,
 *                                        the transmitter may send it again.
 * Authentication problems are 400 with the RFC 8935 codes, not 401/403: the codes exist for
 * them, and a transmitter handles one kind of failure reply.
 */
#include "ssf/receiver.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "broker/link.h"
#include "http/api.h"
#include "http/conn.h"
#include "ssf/lang.h"
#include "ssf/receiver_int.h"
#include "ssf/set.h"
#include "ssf/subject.h"
#include "webpush/webpush.h"

#define PATH_PREFIX "/ssf/receive/"
#define SET_MEDIA_TYPE "application/secevent+jwt"
#define AUTHORIZATION_MAX 4096
#define RETRY_AFTER "retry-after: 2\r\n"

/* One request being answered. */
struct req {
    struct conn *c;
    struct ssf_receiver *rx;
    enum ssf_lang lang;
    char tenant[MQP_ID_MAX + 1];
};

/* Header t into buf: its length, -1 when absent, -2 when longer than cap - 1. */
static int header(struct lws *wsi, enum lws_token_indexes t, char *buf, size_t cap)
{
    int n = lws_hdr_total_length(wsi, t);

    if (n <= 0)
        return -1;
    if ((size_t)n >= cap)
        return -2;
    if (lws_hdr_copy(wsi, buf, (int)cap, t) < 0)
        return -1;
    return (int)strlen(buf);
}

/* RFC 8935 2.4: {"err", "description"} in the negotiated language, named in Content-Language. */
static int reply_error(struct req *q, enum ssf_err e, enum ssf_msg m)
{
    json_object *o = json_object_new_object();
    char extra[48];
    const char *s;
    int rc;

    if (o == NULL)
        return -1;
    json_object_object_add(o, "err", json_object_new_string(ssf_err_code(e)));
    json_object_object_add(o, "description", json_object_new_string(ssf_lang_text(m, q->lang)));
    s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    snprintf(extra, sizeof(extra), "content-language: %s\r\n", ssf_lang_tag(q->lang));
    rc = http_reply(q->c, 400, "application/json", s, strlen(s), extra);
    json_object_put(o);
    return rc;
}

static int reply_unavailable(struct conn *c, const char *message)
{
    char body[256];
    json_object *o = json_object_new_object();
    int n;

    if (o == NULL)
        return -1;
    json_object_object_add(o, "error", json_object_new_string("unavailable"));
    json_object_object_add(o, "message", json_object_new_string(message));
    n = snprintf(
        body, sizeof(body), "%s",
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return http_reply(c, 503, "application/json", body, (size_t)n, RETRY_AFTER);
}

static bool same_secret(const char *a, const char *b)
{
    size_t n = strlen(a);

    return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

/* The transmitter whose configured Authorization is auth (any tenant's), or NULL. */
static const struct ssf_tx *tx_by_authorization(const struct ssf_receiver *rx, const char *auth)
{
    const struct ssf_tx *found = NULL;

    /* Every entry is compared, so the time taken does not tell which one matched. */
    for (size_t i = 0; i < rx->n_tx; i++)
        if (rx->tx[i].cfg->authorization && same_secret(rx->tx[i].cfg->authorization, auth))
            found = &rx->tx[i];
    return found;
}

static struct ssf_tx *tx_for(struct ssf_receiver *rx, const char *tenant, const char *iss)
{
    for (size_t i = 0; i < rx->n_tx; i++)
        if (strcmp(rx->tx[i].cfg->tenant, tenant) == 0 && strcmp(rx->tx[i].cfg->issuer, iss) == 0)
            return &rx->tx[i];
    return NULL;
}

/* 0: the tenant has no transmitter; 1: some need no credentials; 2: all need them. */
static int tenant_kind(const struct ssf_receiver *rx, const char *tenant)
{
    int kind = 0;

    for (size_t i = 0; i < rx->n_tx; i++) {
        if (strcmp(rx->tx[i].cfg->tenant, tenant) != 0)
            continue;
        if (rx->tx[i].cfg->authorization == NULL)
            return 1;
        kind = 2;
    }
    return kind;
}

/* Content-Type names application/secevent+jwt (parameters allowed, RFC 9110 8.3.1). */
static bool content_type_ok(struct lws *wsi)
{
    char ct[256], *p = ct, *end;

    if (header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, ct, sizeof(ct)) < 0)
        return false;
    while (*p == ' ' || *p == '\t')
        p++;
    for (end = p; *end && *end != ';' && *end != ' ' && *end != '\t'; end++)
        ;
    *end = '\0';
    return strcasecmp(p, SET_MEDIA_TYPE) == 0;
}

/* The event name for type: bridge.json's event_names, else its last segment. */
static int event_name(const struct bridge_config *cfg, const char *type, char *out, size_t cap)
{
    for (size_t i = 0; i < cfg->ssf.n_event_names; i++)
        if (strcmp(cfg->ssf.event_names[i].type, type) == 0) {
            snprintf(out, cap, "%s", cfg->ssf.event_names[i].name);
            return 0;
        }
    return ssf_set_event_name(type, out, cap);
}

static void add_borrowed(json_object *to, const char *key, json_object *v)
{
    if (v)
        json_object_object_add(to, key, json_object_get(v));
}

/*
 * The event as published: {"payload": {"type", "event", "sub_id", "iss", "jti", "iat",
 * "aud", "txn"}} ("aud" and "txn" when the SET has them). Returns JSON text (caller frees
 * with free()) or NULL.
 */
static char *event_body(const struct ssf_set *set)
{
    json_object *o = json_object_new_object(), *p = json_object_new_object(), *v;
    char *text = NULL;

    if (o == NULL || p == NULL) {
        json_object_put(o);
        json_object_put(p);
        return NULL;
    }
    json_object_object_add(p, "type", json_object_new_string(set->type));
    add_borrowed(p, "event", set->event);
    add_borrowed(p, "sub_id", set->sub_id);
    json_object_object_add(p, "iss", json_object_new_string(set->iss));
    json_object_object_add(p, "jti", json_object_new_string(set->jti));
    json_object_object_add(p, "iat", json_object_new_int64(set->iat));
    if (json_object_object_get_ex(set->jwt.claims, "aud", &v))
        add_borrowed(p, "aud", v);
    if (json_object_object_get_ex(set->jwt.claims, "txn", &v))
        add_borrowed(p, "txn", v);
    json_object_object_add(o, "payload", p);
    text = strdup(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return text;
}

/*
 * CAEP session-revoked: the Web Push subscriptions of the sessions the subject names end, when
 * the subject is one of the tenant's token issuer (bridge/ssf/subject.h). Returns 0, or -1
 * when the store failed (the SET is then answered 503 and comes again).
 */
static int end_sessions(struct req *q, const struct ssf_set *set)
{
    struct bridge *b = q->rx->b;
    const struct mqp_tenant *t = mqp_config_tenant(b->streams, q->tenant, strlen(q->tenant));
    const char *user, *session;
    int n;

    if (t == NULL || !ssf_subject_sessions(set->sub_id, t->issuer.issuer, &user, &session))
        return 0;
    n = webpush_session_ended(b, q->tenant, user, session);
    if (n < 0) {
        fprintf(stderr, "mqpush-bridge: ssf: tenant %s: ending Web Push sessions failed\n",
                q->tenant);
        return -1;
    }
    if (n > 0)
        fprintf(stderr,
                "mqpush-bridge: ssf: tenant %s: %s revoked, %d Web Push subscription%s "
                "dropped\n",
                q->tenant, set->type, n, n == 1 ? "" : "s");
    return 0;
}

/* A published SET waiting for the broker's PUBACK before the 202. */
struct confirm {
    struct ssf_receiver *rx;
    struct conn *c;
    struct mqlink *link;
    bool done, accepted;
    char tenant[MQP_ID_MAX + 1];
    char *iss, *jti;
};

static void confirm_free(struct confirm *w)
{
    free(w->iss);
    free(w->jti);
    free(w);
}

static void on_puback(void *arg, bool accepted)
{
    struct confirm *w = arg;

    w->done = true;
    w->accepted = accepted;
    api_wake(w->c);
}

static int on_confirmed(struct conn *c, void *arg)
{
    struct confirm *w = arg;
    int rc;

    if (w->accepted) {
        ssf__seen_add(w->rx->seen, w->tenant, w->iss, w->jti);
        /* RFC 8935 2.3: 202, no body. */
        rc = http_reply(c, 202, NULL, NULL, 0, NULL);
    } else {
        rc = reply_unavailable(c, "the broker refused the event; send the SET again later");
    }
    confirm_free(w);
    return rc;
}

static void on_abandoned(void *arg)
{
    struct confirm *w = arg;

    if (!w->done)
        mqlink_publish_forget(w->link, w);
    confirm_free(w);
}

/* The SET is verified: act on it once. */
static int accept_set(struct req *q, const struct ssf_set *set)
{
    struct bridge *b = q->rx->b;
    char name[MQP_ID_MAX + 1], topic[4 * MQP_ID_MAX + 16], *body = NULL;
    struct confirm *w = NULL;
    int rc;

    if (event_name(b->cfg, set->type, name, sizeof(name)) != 0)
        return reply_error(q, SSF_INVALID_REQUEST, SSF_MSG_EVENTS);
    /* A retry of a SET already published: done already (RFC 8935 2.3, 202 again). */
    if (ssf__seen_has(q->rx->seen, q->tenant, set->iss, set->jti))
        return http_reply(q->c, 202, NULL, NULL, 0, NULL);
    if (!mqlink_is_up(b->link))
        return reply_unavailable(q->c, "the broker is not reachable; send the SET again later");
    /* Sessions first: ending them again is harmless, so a failed publish after this is
     * answered 503 and the retry does both. */
    if (ssf_subject_ends_sessions(set->type) && end_sessions(q, set) != 0)
        return reply_unavailable(q->c, "the session could not be ended; send the SET again");
    snprintf(topic, sizeof(topic), "%s/events/%s/%s", q->tenant, b->cfg->ssf.namespace_, name);
    body = event_body(set);
    if (body == NULL)
        return -1;
    w = calloc(1, sizeof(*w));
    if (w == NULL || (w->iss = strdup(set->iss)) == NULL || (w->jti = strdup(set->jti)) == NULL) {
        rc = -1;
        goto out;
    }
    w->rx = q->rx;
    w->c = q->c;
    w->link = b->link;
    snprintf(w->tenant, sizeof(w->tenant), "%s", q->tenant);
    /* The 202 waits for the broker's PUBACK: once the transmitter has it, the event is the
     * broker's to keep (RFC 8935 2.3 lets the transmitter drop its copy then). */
    if (mqlink_publish_then(b->link, topic, body, strlen(body), on_puback, w) != 0) {
        rc = reply_unavailable(q->c, "the broker is not reachable; send the SET again later");
        goto out;
    }
    rc = api_defer(q->c, on_confirmed, on_abandoned, w);
    w = NULL;
out:
    if (w)
        confirm_free(w);
    free(body);
    return rc;
}

/* Step 2 of the list at the top: *by is the transmitter the credentials belong to, or NULL. */
static int check_credentials(struct req *q, const struct ssf_tx **by, int *replied)
{
    char *auth = malloc(AUTHORIZATION_MAX + 1);
    int n, rc = 0;

    *by = NULL;
    *replied = 1;
    if (auth == NULL)
        return -1;
    n = header(q->c->wsi, WSI_TOKEN_HTTP_AUTHORIZATION, auth, AUTHORIZATION_MAX + 1);
    if (n == -1) {
        if (tenant_kind(q->rx, q->tenant) == 2)
            rc = reply_error(q, SSF_AUTHENTICATION_FAILED, SSF_MSG_AUTH_MISSING);
        else
            *replied = 0;
        goto out;
    }
    *by = n >= 0 ? tx_by_authorization(q->rx, auth) : NULL;
    if (*by == NULL)
        rc = reply_error(q, SSF_AUTHENTICATION_FAILED, SSF_MSG_AUTH_BAD);
    else if (strcmp((*by)->cfg->tenant, q->tenant) != 0)
        rc = reply_error(q, SSF_ACCESS_DENIED, SSF_MSG_ACCESS);
    else
        *replied = 0;
out:
    memset(auth, 0, AUTHORIZATION_MAX + 1); /* a secret */
    free(auth);
    return rc;
}

/* Steps 3 to 8. */
static int receive(struct req *q, const struct ssf_tx *by, const char *body, size_t len)
{
    struct ssf_set set;
    struct ssf_tx *tx;
    enum ssf_msg why;
    enum ssf_err e;
    int rc;

    memset(&set, 0, sizeof(set));
    if (!content_type_ok(q->c->wsi)) {
        rc = reply_error(q, SSF_INVALID_REQUEST, SSF_MSG_CONTENT_TYPE);
        goto out;
    }
    e = ssf_set_parse(body, len, &set, &why);
    if (e != SSF_OK) {
        rc = reply_error(q, e, why);
        goto out;
    }
    tx = tx_for(q->rx, q->tenant, set.iss);
    if (tx == NULL) {
        rc = reply_error(q, SSF_INVALID_ISSUER, SSF_MSG_ISSUER);
        goto out;
    }
    if (tx->cfg->authorization && by == NULL) {
        rc = reply_error(q, SSF_AUTHENTICATION_FAILED, SSF_MSG_AUTH_MISSING);
        goto out;
    }
    if (tx->cfg->authorization && by != tx) {
        rc = reply_error(q, SSF_ACCESS_DENIED, SSF_MSG_ACCESS);
        goto out;
    }
    e = ssf_set_verify(&set, tx->jwks, tx->cfg->audience, (int64_t)time(NULL), &why);
    /* A kid the fetched set lacks may be a rotation: fetch, and have the transmitter retry. */
    if (e == SSF_INVALID_KEY && why == SSF_MSG_KEY_UNKNOWN && ssf__keys_stale(q->rx, tx)) {
        rc = reply_unavailable(q->c, "the transmitter's keys are being fetched; send the SET "
                                     "again shortly");
        goto out;
    }
    if (e != SSF_OK) {
        rc = reply_error(q, e, why);
        goto out;
    }
    rc = accept_set(q, &set);
out:
    ssf_set_clear(&set);
    return rc;
}

int ssf_receiver_api(struct conn *c, const char *path, const char *body, size_t len)
{
    struct ssf_receiver *rx = c->b->ssf_receiver;
    struct req q = {c, rx, SSF_LANG_EN, ""};
    const char *tenant = NULL;
    const struct ssf_tx *by;
    char al[512];
    int rc, replied;

    if (strncmp(path, PATH_PREFIX, sizeof(PATH_PREFIX) - 1) == 0)
        tenant = path + sizeof(PATH_PREFIX) - 1;
    if (rx == NULL || tenant == NULL || !mqp_id_valid(tenant, strlen(tenant)) ||
        tenant_kind(rx, tenant) == 0 ||
        mqp_config_tenant(c->b->streams, tenant, strlen(tenant)) == NULL)
        return http_reply_error(c, 404, "not_found", "no SSF receiver for this path");
    if (lws_hdr_total_length(c->wsi, WSI_TOKEN_POST_URI) <= 0)
        return http_reply_error(c, 405, "method_not_allowed", "use POST");
    snprintf(q.tenant, sizeof(q.tenant), "%s", tenant);
    q.lang = ssf_lang_pick(
        header(c->wsi, WSI_TOKEN_HTTP_ACCEPT_LANGUAGE, al, sizeof(al)) >= 0 ? al : NULL,
        c->b->cfg->ssf.languages);
    rc = check_credentials(&q, &by, &replied);
    if (replied)
        return rc;
    return receive(&q, by, body, len);
}

int ssf_receiver_start(struct bridge *b)
{
    const struct bridge_config *cfg = b->cfg;
    struct ssf_receiver *rx;

    if (!cfg->ssf.enabled)
        return 0;
    rx = calloc(1, sizeof(*rx));
    if (rx == NULL)
        return -1;
    rx->b = b;
    rx->n_tx = cfg->ssf.n_transmitters;
    rx->tx = calloc(rx->n_tx ? rx->n_tx : 1, sizeof(*rx->tx));
    if (rx->tx == NULL || ssf__seen_new(&rx->seen) != 0)
        goto fail;
    for (size_t i = 0; i < rx->n_tx; i++) {
        rx->tx[i].cfg = &cfg->ssf.transmitters[i];
        if (rx->tx[i].cfg->jwks_file && ssf__keys_load_file(&rx->tx[i]) != 0)
            goto fail;
    }
    b->ssf_receiver = rx;
    if (ssf__keys_start(rx) != 0)
        return -1; /* b->ssf_receiver is freed with the rest */
    fprintf(stderr, "mqpush-bridge: ssf: receiving SETs of %zu transmitter%s on %s{tenant}\n",
            rx->n_tx, rx->n_tx == 1 ? "" : "s", PATH_PREFIX);
    return 0;
fail:
    fprintf(stderr, "mqpush-bridge: ssf: receiver not started\n");
    ssf__keys_free(rx);
    ssf__seen_free(rx->seen);
    free(rx->tx);
    free(rx);
    return -1;
}

void ssf_receiver_reload(struct bridge *b)
{
    struct ssf_receiver *rx = b->ssf_receiver;

    if (rx == NULL)
        return;
    for (size_t i = 0; i < rx->n_tx; i++) {
        if (rx->tx[i].cfg->jwks_file)
            ssf__keys_load_file(&rx->tx[i]);
        else
            ssf__keys_fetch(rx, &rx->tx[i]);
    }
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

void ssf_receiver_close(struct bridge *b)
{
    struct ssf_receiver *rx = b->ssf_receiver;

    if (rx == NULL || rx->closing)
        return;
    rx->closing = true;
    if (rx->refresh)
        uv_close((uv_handle_t *)rx->refresh, free_handle);
    rx->refresh = NULL;
}

void ssf_receiver_free(struct bridge *b)
{
    struct ssf_receiver *rx = b->ssf_receiver;

    if (rx == NULL)
        return;
    ssf__keys_free(rx);
    ssf__seen_free(rx->seen);
    free(rx->tx);
    free(rx);
    b->ssf_receiver = NULL;
}
