/*
 * Opening a stream session: read the request (token, tenant, criteria, cursor, body of a POST
 * route), refuse it in the style of its route (HTTP status, error event in a 200 body, or a
 * WebSocket close code), or attach it to the hub and answer with the stream's headers.
 */
#include "sse/session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/request.h"

struct open_req {
    const char *tenant; /* route-bound tenant, or NULL */
    const char *stream_id;
    bool post_style;
    json_object *body; /* parsed POST body, or NULL */
    char cursor[HUB_ID_LEN + 64];
    bool has_cursor;
    struct mqp_criteria *criteria;
};

/* Read criteria (query, else body) and the cursor (Last-Event-ID, ?after=, body). */
static int read_options(struct conn *c, struct open_req *q, char *msg, size_t msglen)
{
    char *arg = NULL;
    json_object *spec = NULL, *v;
    int n, rc = -1;
    size_t cap = c->b->cfg->limits.max_header_bytes + 1;

    arg = malloc(cap);
    if (arg == NULL)
        goto out;
    n = http_query_arg(c->wsi, "criteria", arg, cap);
    if (n >= 0) {
        struct json_tokener *tok = json_tokener_new();

        spec = tok ? json_tokener_parse_ex(tok, arg, n) : NULL;
        if (spec == NULL || json_tokener_get_error(tok) != json_tokener_success ||
            tok->char_offset != n) {
            json_object_put(spec);
            spec = NULL;
            if (tok)
                json_tokener_free(tok);
            snprintf(msg, msglen, "criteria: not valid JSON");
            goto out;
        }
        json_tokener_free(tok);
    } else if (q->body && json_object_object_get_ex(q->body, "criteria", &v)) {
        spec = json_object_get(v);
    }
    if (spec) {
        char err[128];

        if (mqp_criteria_compile(spec, &q->criteria, err, sizeof(err)) != 0) {
            snprintf(msg, msglen, "criteria: %s", err);
            goto out;
        }
    }
    if (http_last_event_id(c->wsi, q->cursor, sizeof(q->cursor)) >= 0 ||
        http_query_arg(c->wsi, "after", q->cursor, sizeof(q->cursor)) >= 0) {
        q->has_cursor = true;
    } else if (q->body && json_object_object_get_ex(q->body, "lastEventId", &v) &&
               json_object_is_type(v, json_type_string)) {
        snprintf(q->cursor, sizeof(q->cursor), "%s", json_object_get_string(v));
        q->has_cursor = true;
    }
    if (q->has_cursor && q->cursor[0] == '\0')
        q->has_cursor = false; /* an empty Last-Event-ID means "from now" */
    rc = 0;
out:
    json_object_put(spec);
    free(arg);
    return rc;
}

/* Body of a route-style refusal (docs/http-api.md). */
static int body_error(struct conn *c, const char *code, const char *message)
{
    json_object *o = json_object_new_object();
    char *frame;
    const char *js;
    size_t len;
    int rc;

    if (o == NULL)
        return -1;
    json_object_object_add(o, "error", json_object_new_string(code));
    json_object_object_add(o, "message", json_object_new_string(message));
    js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    len = strlen(js) + sizeof("event: error\ndata: \n\n");
    frame = malloc(len);
    if (frame == NULL) {
        json_object_put(o);
        return -1;
    }
    snprintf(frame, len, "event: error\ndata: %s\n\n", js);
    rc = http_reply(c, 200, "text/event-stream", frame, strlen(frame), "x-accel-buffering: no\r\n");
    free(frame);
    json_object_put(o);
    return rc;
}

static const char *route_code(enum http_denial d)
{
    switch (d) {
    case HTTP_UNAUTHORIZED:
        return "auth_required";
    case HTTP_TOKEN_INVALID:
    case HTTP_FORBIDDEN:
        return "auth_failed";
    case HTTP_NOT_FOUND:
        return "not_found";
    default:
        return "bad_request";
    }
}

static int refuse(struct conn *c, const struct open_req *q, int status, const char *code,
                  const char *route_err, const char *msg)
{
    static const struct {
        int status, close;
    } ws_codes[] = {{400, 4400}, {401, 4401}, {403, 4403}, {404, 4404}, {503, 1013}};
    size_t i;

    if (c->ws) {
        c->kind = CONN_WS_REFUSE;
        c->close_code = 4400;
        for (i = 0; i < sizeof(ws_codes) / sizeof(ws_codes[0]); i++)
            if (ws_codes[i].status == status)
                c->close_code = ws_codes[i].close;
        snprintf(c->close_reason, sizeof(c->close_reason), "%s", code);
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (q->post_style)
        return body_error(c, route_err, msg);
    return http_reply_error(c, status, code, msg);
}

static int sse_headers(struct conn *c)
{
    unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start,
                                      *end = hdr + sizeof(hdr) - 1;
    static const struct {
        const char *name, *value;
    } extra[] = {{"cache-control:", "no-cache"},
                 {"x-accel-buffering:", "no"},
                 {"access-control-allow-origin:", "*"}};
    size_t i;

    c->b->metrics.http_requests++;
    if (lws_add_http_common_headers(c->wsi, 200, "text/event-stream", LWS_ILLEGAL_HTTP_CONTENT_LEN,
                                    &p, end))
        return -1;
    for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
        if (lws_add_http_header_by_name(c->wsi, (const unsigned char *)extra[i].name,
                                        (const unsigned char *)extra[i].value,
                                        (int)strlen(extra[i].value), &p, end))
            return -1;
    return lws_finalize_write_http_header(c->wsi, start, &p, end) ? -1 : 0;
}

static int open_common(struct conn *c, struct open_req *q)
{
    struct bridge *b = c->b;
    struct http_caller who = {0};
    const struct mqp_stream *s = NULL;
    struct stream_sess *ss = NULL;
    char msg[160];
    enum http_denial d;
    size_t replay = 0;
    int rc = -1;

    if (session__registry_init(b) != 0)
        goto out;
    if (!c->ws && !http_accepts_event_stream(c->wsi)) {
        rc = refuse(c, q, 406, "not_acceptable", "not_accepted",
                    "this resource only speaks text/event-stream");
        goto out;
    }
    if (b->stopping || sessions_count(b) >= b->cfg->limits.max_connections) {
        rc = refuse(c, q, 503, "unavailable", "unavailable", "too many connections");
        goto out;
    }
    d = http_resolve_stream(b, c->wsi, q->tenant, q->stream_id, &who, &s, msg, sizeof(msg));
    if (d != HTTP_OK) {
        rc = refuse(c, q, http_denial_status(d), http_denial_code(d), route_code(d), msg);
        goto out;
    }
    if (read_options(c, q, msg, sizeof(msg)) != 0) {
        rc = refuse(c, q, 400, "bad_request", "bad_request", msg);
        goto out;
    }
    ss = calloc(1, sizeof(*ss));
    if (ss == NULL)
        goto out;
    ss->c = c;
    ss->reg = b->sessions;
    ss->ws = c->ws;
    ss->tenant = strdup(s->tenant->id);
    ss->stream = strdup(s->id);
    if (ss->tenant == NULL || ss->stream == NULL)
        goto out;
    ss->id = who.id;
    who.id = NULL;
    ss->exp = ss->id ? ss->id->exp : INT64_MAX;
    ss->criteria = q->criteria;
    q->criteria = NULL;
    if (!c->ws && sse_headers(c) != 0)
        goto out;
    if (hub_attach(b->hub, ss->tenant, ss->stream, q->has_cursor ? q->cursor : NULL,
                   &session__consumer_ops, ss, &ss->hc, &ss->resume, &replay) != 0)
        goto out;
    ss->replay_left = replay;
    {
        const char *head = hub_consumer_head_id(ss->hc);

        if (head)
            memcpy(ss->ready_id, head, sizeof(ss->ready_id));
    }
    ss->last_write_ms = uv_now(b->loop);
    session__link(b, ss);
    c->ss = ss;
    c->kind = CONN_STREAM;
    ss = NULL;
    if (!c->ws) {
        /* A stream never ends on its own: no idle timeout, and the request headers are not
         * needed any more (their buffer is the largest part of an idle connection). */
        lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
        lws_http_headers_detach(c->wsi);
    }
    lws_callback_on_writable(c->wsi);
    rc = 0;
out:
    if (ss) {
        hub_detach(ss->hc);
        mqp_identity_free(ss->id);
        mqp_criteria_free(ss->criteria);
        free(ss->tenant);
        free(ss->stream);
        free(ss);
    }
    http_caller_clear(&who);
    mqp_criteria_free(q->criteria);
    json_object_put(q->body);
    return rc;
}

int session_open_http(struct conn *c, const char *stream_id, const struct bridge_sse_route *route)
{
    struct open_req q;

    memset(&q, 0, sizeof(q));
    q.stream_id = stream_id;
    if (route) {
        q.post_style = true;
        q.tenant = route->tenant;
        q.stream_id = route->stream;
        if (c->body_too_large) {
            free(c->body);
            c->body = NULL;
            return body_error(c, "bad_request",
                              "request body too large, or without Content-Length");
        }
        if (c->body && c->body_len > 0) {
            struct json_tokener *tok = json_tokener_new();

            q.body = tok ? json_tokener_parse_ex(tok, c->body, (int)c->body_len) : NULL;
            if (q.body == NULL || json_tokener_get_error(tok) != json_tokener_success ||
                !json_object_is_type(q.body, json_type_object)) {
                json_object_put(q.body);
                if (tok)
                    json_tokener_free(tok);
                free(c->body);
                c->body = NULL;
                return body_error(c, "bad_request", "the body is not a JSON object");
            }
            json_tokener_free(tok);
        }
        free(c->body);
        c->body = NULL;
        c->body_len = 0;
    }
    return open_common(c, &q);
}

int session_open_ws(struct conn *c, const char *stream_id)
{
    struct open_req q;

    memset(&q, 0, sizeof(q));
    q.stream_id = stream_id;
    return open_common(c, &q);
}
