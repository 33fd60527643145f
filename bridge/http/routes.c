/*
 * Plain GET endpoints of the bridge.
 */
#include "http/routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "access.h"
#include "broker/link.h"
#include "hub.h"
#include "http/request.h"
#include "sse/session.h"
#include "ssf/delivery.h"
#include "webpush/webpush.h"

/* The demo page, embedded at build time from bridge/web/index.html (web/embed.cmake). */
extern const unsigned char web_index_html[];
extern const unsigned long web_index_html_len;

bool routes_known(const char *path)
{
    return strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0 ||
           strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0 ||
           strcmp(path, "/stream/v1/streams") == 0 ||
           strcmp(path, "/socket.io/socket.io.min.js") == 0;
}

/* The socket.io-client browser bundle, when the operator named one (socketio.client_script):
 * read on each request, so that an upgrade of the file needs no restart. */
static int client_script(struct conn *c)
{
    const char *path = c->b->cfg->socketio.client_script;
    FILE *f = path ? fopen(path, "rb") : NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc;

    if (f == NULL)
        return http_reply_error(c, 404, "not_found", "no client script configured");
    for (;;) {
        size_t n;

        if (len == cap) {
            char *nb;

            if (cap >= 4u << 20)
                break; /* a bundle is well under this */
            cap = cap ? cap * 2 : 65536;
            nb = realloc(buf, cap);
            if (nb == NULL)
                break;
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    rc = ferror(f) || !feof(f)
             ? http_reply_error(c, 500, "internal", "cannot read the client script")
             : http_reply(c, 200, "application/javascript; charset=utf-8", buf, len, NULL);
    fclose(f);
    free(buf);
    return rc;
}

/* 200 while the broker link is up and the store takes writes; 503 otherwise, saying which. */
static int healthz(struct conn *c)
{
    const struct store_health *h = &c->b->store_health;
    bool broker = c->b->link && mqlink_is_up(c->b->link) &&
                  (c->b->fanout == NULL || mqlink_is_up(c->b->fanout));
    bool ok = broker && !h->failing && !c->b->stopping;
    json_object *o = json_object_new_object();
    const char *text;
    int rc;

    if (o == NULL)
        return http_reply_error(c, 500, "internal", "out of memory");
    json_object_object_add(o, "status", json_object_new_string(ok ? "ok" : "unavailable"));
    json_object_object_add(o, "broker", json_object_new_string(broker ? "up" : "down"));
    json_object_object_add(o, "store", json_object_new_string(h->failing ? "failing" : "ok"));
    if (h->failing)
        json_object_object_add(o, "store_error", json_object_new_string(h->why));
    text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    rc = http_reply(c, ok ? 200 : 503, "application/json", text, strlen(text), NULL);
    json_object_put(o);
    return rc;
}

static int metrics(struct conn *c)
{
    struct bridge *b = c->b;
    struct metrics_extra x = {
        .events_in = hub_events_in(b->hub),
        .slow_clients_dropped = hub_slow_dropped(b->hub),
        .queue_bytes = hub_backlog_bytes(b->hub),
        .streams = hub_stream_count(b->hub),
        .consumers = hub_consumer_count(b->hub),
        .broker_connects =
            (b->link ? mqlink_connects(b->link) : 0) + (b->fanout ? mqlink_connects(b->fanout) : 0),
        .broker_up = b->link && mqlink_is_up(b->link) && (!b->fanout || mqlink_is_up(b->fanout)),
        .store_up = !b->store_health.failing,
        .store_failures = b->store_health.failures,
    };
    size_t len;
    char *text;

    webpush_gauges(b, x.push_subscriptions, x.push_pending);
    x.push_pending[METRICS_PUSH_SET] = ssf_delivery_pending(b);
    text = metrics_render(&b->metrics, &x, &len);
    if (text) {
        size_t wl;
        char *wt = webpush_metrics_text(b, &wl), *all = wt ? realloc(text, len + wl + 1) : NULL;

        if (all) {
            memcpy(all + len, wt, wl + 1);
            len += wl;
            text = all;
        }
        free(wt);
    }
    if (text) {
        size_t sl;
        char *stext = ssf_delivery_metrics_text(b, &sl),
             *all = stext ? realloc(text, len + sl + 1) : NULL;

        if (all) {
            memcpy(all + len, stext, sl + 1);
            len += sl;
            text = all;
        }
        free(stext);
    }
    int rc;

    if (text == NULL)
        return -1;
    rc = http_reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, NULL);
    free(text);
    return rc;
}

static json_object *stream_json(const struct mqp_stream *s)
{
    json_object *o = json_object_new_object(), *evs = json_object_new_array();
    size_t i;

    json_object_object_add(o, "id", json_object_new_string(s->id));
    json_object_object_add(o, "name", json_object_new_string(s->name ? s->name : s->id));
    json_object_object_add(o, "description",
                           json_object_new_string(s->description ? s->description : ""));
    json_object_object_add(o, "publicSubscribe", json_object_new_boolean(s->public_subscribe));
    for (i = 0; i < s->n_events; i++) {
        json_object *e = json_object_new_object();

        json_object_object_add(e, "namespace", json_object_new_string(s->events[i].namespace_));
        json_object_object_add(e, "name", json_object_new_string(s->events[i].name));
        json_object_array_add(evs, e);
    }
    json_object_object_add(o, "events", evs);
    return o;
}

static int list_streams(struct conn *c)
{
    struct http_caller who;
    char msg[160];
    enum http_denial d = http_identify(c->b, c->wsi, NULL, &who, msg, sizeof(msg));
    json_object *o, *arr;
    const char *js;
    size_t i;
    int rc;

    if (d != HTTP_OK)
        return http_reply_error(c, http_denial_status(d), http_denial_code(d), msg);
    o = json_object_new_object();
    arr = json_object_new_array();
    json_object_object_add(o, "tenant", json_object_new_string(who.tenant->id));
    for (i = 0; i < who.tenant->n_streams; i++) {
        const struct mqp_stream *s = &who.tenant->streams[i];

        if (mqp_stream_readable(s, who.id))
            json_object_array_add(arr, stream_json(s));
    }
    json_object_object_add(o, "streams", arr);
    js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    rc = http_reply(c, 200, "application/json", js, strlen(js), NULL);
    json_object_put(o);
    http_caller_clear(&who);
    return rc;
}

int routes_serve(struct conn *c, const char *path)
{
    if (strcmp(path, "/socket.io/socket.io.min.js") == 0)
        return client_script(c);
    if (strcmp(path, "/healthz") == 0)
        return healthz(c);
    if (strcmp(path, "/metrics") == 0)
        return metrics(c);
    if (strcmp(path, "/stream/v1/streams") == 0)
        return list_streams(c);
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0)
        return http_reply(
            c, 200, "text/html; charset=utf-8", (const char *)web_index_html,
            (size_t)web_index_html_len,
            "content-security-policy: default-src 'self'; "
            "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'\r\n");
    return http_reply_error(c, 404, "not_found", "no such path");
}
