/*
 * Routing of the JSON APIs and reading their bodies.
 */
#include "http/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ssf/receiver.h"
#include "ssf/transmitter.h"
#include "upprovider/provider.h"
#include "webpush/webpush.h"

/* First match wins: the receiver's /ssf/receive/ before the transmitter's /ssf/{tenant}/. */
static const struct api_route routes[] = {
    {"/api/push/", webpush_api},
    /* The push provider's distributor API, before the application-server side's prefix. */
    {"/api/unifiedpush/endpoints", up_provider_api},
    {"/api/unifiedpush/messages", up_provider_api},
    {"/api/unifiedpush/", unifiedpush_api},
    {"/up/", up_provider_push_api},
    {"/api/ssf/", ssf_transmitter_admin_api},
    {"/ssf/receive/", ssf_receiver_api},
    {"/ssf/", ssf_streams_api},
    {"/.well-known/", ssf_transmitter_wellknown_api},
    {"/jwks.json", ssf_transmitter_jwks_api},
};

const struct api_route *api_find(const char *path)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strncmp(path, routes[i].prefix, strlen(routes[i].prefix)) == 0)
            return &routes[i];
    return NULL;
}

static int dispatch(struct conn *c)
{
    const struct api_route *r = c->api;
    char *body = c->body, path[sizeof(c->api_path)];
    size_t len = c->body_len;
    int rc;

    /* Taken out first: a reply may end the transaction, and lws then reuses c. */
    c->api = NULL;
    c->body = NULL;
    c->body_len = 0;
    memcpy(path, c->api_path, sizeof(path));
    rc = r->serve(c, path, body, len);
    free(body);
    return rc;
}

int api_begin(struct conn *c, const struct api_route *r, const char *path)
{
    struct lws *wsi = c->wsi;
    char cl[24];

    if ((size_t)snprintf(c->api_path, sizeof(c->api_path), "%s", path) >= sizeof(c->api_path))
        return http_reply_error(c, 404, "not_found", "no such path");
    free(c->body);
    c->body = NULL;
    c->body_len = 0;
    c->body_too_large = false;
    c->api = r;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        c->api = NULL;
        return http_reply_error(c, 411, "length_required", "send the body with Content-Length");
    }
    if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
        unsigned long long n = strtoull(cl, NULL, 10);

        if (n > c->b->cfg->limits.max_body_bytes) {
            c->api = NULL;
            return http_reply_error(c, 413, "too_large", "the body is over the size limit");
        }
        if (n > 0) {
            c->kind = CONN_BODY_WAIT; /* dispatched at LWS_CALLBACK_HTTP_BODY_COMPLETION */
            c->close_after_reply = false;
            return 0;
        }
    }
    return dispatch(c);
}

int api_body_done(struct conn *c)
{
    if (c->body_too_large) {
        c->api = NULL;
        return http_reply_error(c, 413, "too_large", "the body is over the size limit");
    }
    return dispatch(c);
}

int api_defer(struct conn *c, int (*resume)(struct conn *c, void *arg), void (*abandon)(void *arg),
              void *arg)
{
    c->kind = CONN_API_WAIT;
    c->api_resume = resume;
    c->api_abandon = abandon;
    c->api_arg = arg;
    c->api_woken = false;
    return 0;
}

void api_wake(struct conn *c)
{
    c->api_woken = true;
    lws_callback_on_writable(c->wsi);
}

int api_writable(struct conn *c)
{
    int (*resume)(struct conn *, void *) = c->api_resume;
    void *arg = c->api_arg;

    if (!c->api_woken || resume == NULL)
        return 0;
    c->kind = CONN_IDLE;
    c->api_resume = NULL;
    c->api_abandon = NULL;
    c->api_arg = NULL;
    c->api_woken = false;
    return resume(c, arg);
}

void api_closed(struct conn *c)
{
    void (*abandon)(void *) = c->api_abandon;

    c->api_resume = NULL;
    c->api_abandon = NULL;
    if (abandon)
        abandon(c->api_arg);
    c->api_arg = NULL;
}
