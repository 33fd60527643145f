/*
 * Polling fallback for clients that can hold neither a stream nor a WebSocket open.
 */
#include "sse/poll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "criteria.h"
#include "hub.h"
#include "http/request.h"
#include "subscriber.h"

#define POLL_TOP_DEFAULT 100
#define POLL_TOP_MAX 1000

struct poll_ctx {
    struct bridge *b;
    const struct mqp_stream *stream; /* borrowed from b->streams for this request */
    const struct mqp_identity *id;   /* NULL: anonymous */
    struct mqp_criteria *criteria;
    json_object *items;
    size_t top, n;
    char last[HUB_ID_LEN + 1];
};

static bool visit(void *arg, const struct hub_event *ev)
{
    struct poll_ctx *p = arg;

    memcpy(p->last, ev->id, sizeof(p->last));
    if (!mqp_stream_subscriber_match(p->stream, p->id, ev->parsed) ||
        (p->criteria && !mqp_criteria_match(p->criteria, ev->parsed))) {
        p->b->metrics.deliveries[METRICS_CH_POLL][METRICS_RES_FILTERED]++;
        return true;
    }
    json_object_array_add(p->items, json_object_get(ev->parsed));
    p->b->metrics.deliveries[METRICS_CH_POLL][METRICS_RES_OK]++;
    return ++p->n < p->top;
}

static int parse_top(struct conn *c, size_t *top)
{
    char buf[16], *end;
    unsigned long v;

    *top = POLL_TOP_DEFAULT;
    if (http_query_arg(c->wsi, "top", buf, sizeof(buf)) < 0)
        return 0;
    v = strtoul(buf, &end, 10);
    if (*end != '\0' || buf[0] == '\0' || buf[0] == '-' || v == 0)
        return -1;
    *top = v > POLL_TOP_MAX ? POLL_TOP_MAX : v;
    return 0;
}

static int parse_criteria(struct conn *c, struct mqp_criteria **out, char *msg, size_t msglen)
{
    size_t cap = c->b->cfg->limits.max_header_bytes + 1;
    char *arg = malloc(cap);
    json_object *spec = NULL;
    int n, rc = -1;

    *out = NULL;
    if (arg == NULL)
        return -1;
    n = http_query_arg(c->wsi, "criteria", arg, cap);
    if (n < 0) {
        rc = 0;
        goto out;
    }
    spec = json_tokener_parse(arg);
    if (spec == NULL) {
        snprintf(msg, msglen, "criteria: not valid JSON");
        goto out;
    }
    {
        char err[128];

        if (mqp_criteria_compile(spec, out, err, sizeof(err)) != 0) {
            snprintf(msg, msglen, "criteria: %s", err);
            goto out;
        }
    }
    rc = 0;
out:
    json_object_put(spec);
    free(arg);
    return rc;
}

int poll_serve(struct conn *c, const char *stream_id)
{
    struct http_caller who = {0};
    const struct mqp_stream *s;
    struct poll_ctx p = {0};
    enum hub_resume resume = HUB_RESUME_NONE;
    char msg[160], after[HUB_ID_LEN + 64];
    bool has_after;
    enum http_denial d;
    json_object *o = NULL;
    const char *reason, *js;
    int rc = -1;

    d = http_resolve_stream(c->b, c->wsi, NULL, stream_id, &who, &s, msg, sizeof(msg));
    if (d != HTTP_OK)
        return http_reply_error(c, http_denial_status(d), http_denial_code(d), msg);
    if (parse_top(c, &p.top) != 0) {
        rc = http_reply_error(c, 400, "bad_request", "top: expected a positive integer");
        goto out;
    }
    if (parse_criteria(c, &p.criteria, msg, sizeof(msg)) != 0) {
        rc = http_reply_error(c, 400, "bad_request", msg);
        goto out;
    }
    has_after = http_query_arg(c->wsi, "after", after, sizeof(after)) > 0;
    p.b = c->b;
    p.stream = s;
    p.id = who.id;
    p.items = json_object_new_array();
    o = json_object_new_object();
    if (p.items == NULL || o == NULL)
        goto out;
    if (hub_poll(c->b->hub, s->tenant->id, s->id, has_after ? after : NULL, visit, &p, &resume) !=
        0)
        goto out;
    reason = hub_resume_reason(resume);
    json_object_object_add(o, "reset", reason ? json_object_new_string(reason) : NULL);
    json_object_object_add(o, "items", p.items);
    p.items = NULL;
    if (p.last[0])
        json_object_object_add(o, "next", json_object_new_string(p.last));
    else if (resume == HUB_RESUME_OK)
        json_object_object_add(o, "next", json_object_new_string(after));
    else
        json_object_object_add(o, "next", NULL);
    js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    rc = http_reply(c, 200, "application/json", js, strlen(js), NULL);
out:
    json_object_put(o);
    json_object_put(p.items);
    mqp_criteria_free(p.criteria);
    http_caller_clear(&who);
    return rc;
}
