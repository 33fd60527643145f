/*
 * Request reading and the stream access decision for HTTP callers.
 */
#include "request.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "access.h"
#include "stream.h"

int http_query_arg(struct lws *wsi, const char *name, char *buf, size_t cap)
{
    size_t nl = strlen(name);
    int i;

    for (i = 0;; i++) {
        int flen = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        char *frag;
        bool match;

        if (flen <= 0)
            return -1;
        frag = malloc((size_t)flen + 1);
        if (frag == NULL)
            return -1;
        if (lws_hdr_copy_fragment(wsi, frag, flen + 1, WSI_TOKEN_HTTP_URI_ARGS, i) < 0) {
            free(frag);
            return -1;
        }
        match = (size_t)flen > nl && strncmp(frag, name, nl) == 0 && frag[nl] == '=';
        if (match) {
            size_t vl = (size_t)flen - nl - 1;

            if (vl + 1 > cap) {
                free(frag);
                return -2;
            }
            memcpy(buf, frag + nl + 1, vl + 1);
            free(frag);
            return (int)vl;
        }
        free(frag);
    }
}

char *http_bearer_token(struct lws *wsi, size_t max, bool *too_long)
{
    int hl = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    size_t cap = max + 16;
    char *buf;
    int n;

    *too_long = false;
    buf = malloc(cap + 1);
    if (buf == NULL)
        return NULL;
    if (hl > 0) {
        if ((size_t)hl > cap) {
            *too_long = true;
            goto none;
        }
        if (lws_hdr_copy(wsi, buf, (int)cap + 1, WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
            goto none;
        if (strncasecmp(buf, "Bearer ", 7) == 0) {
            char *t = buf + 7;

            while (*t == ' ')
                t++;
            memmove(buf, t, strlen(t) + 1);
            if (buf[0] != '\0')
                return buf;
        }
    }
    n = http_query_arg(wsi, "token", buf, max + 1);
    if (n > 0)
        return buf;
    if (n == -2)
        *too_long = true;
none:
    free(buf);
    return NULL;
}

bool http_accepts_event_stream(struct lws *wsi)
{
    char buf[1024], *save = NULL, *range;
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_ACCEPT);

    if (n <= 0)
        return true;
    if (n >= (int)sizeof(buf) || lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_ACCEPT) < 0)
        return true; /* too long to read: do not refuse on what we cannot parse */
    for (range = strtok_r(buf, ",", &save); range; range = strtok_r(NULL, ",", &save)) {
        char *semi = strchr(range, ';'), *q;
        double qv = 1.0;

        while (*range == ' ' || *range == '\t')
            range++;
        if (semi) {
            *semi = '\0';
            q = strstr(semi + 1, "q=");
            if (q)
                qv = strtod(q + 2, NULL);
        }
        {
            size_t l = strlen(range);

            while (l && (range[l - 1] == ' ' || range[l - 1] == '\t'))
                range[--l] = '\0';
        }
        if (qv <= 0.0)
            continue;
        if (strcasecmp(range, "text/event-stream") == 0 || strcasecmp(range, "text/*") == 0 ||
            strcmp(range, "*/*") == 0)
            return true;
    }
    return false;
}

int http_last_event_id(struct lws *wsi, char *buf, size_t cap)
{
    static const char name[] = "last-event-id:";
    int n = lws_hdr_custom_length(wsi, name, (int)strlen(name));

    if (n < 0 || (size_t)n >= cap)
        return -1;
    return lws_hdr_custom_copy(wsi, buf, (int)cap, name, (int)strlen(name));
}

/* tl: the length of tenant, -1 when none was named, -2 when the name was too long. */
static enum http_denial identify(struct bridge *b, const char *token, bool too_long,
                                 const char *tenant, int tl, struct http_caller *who, char *msg,
                                 size_t msglen)
{
    const struct mqp_config *cfg = b->streams;
    enum http_denial d = HTTP_OK;

    memset(who, 0, sizeof(*who));
    if (too_long || (token && strlen(token) > cfg->limits.max_token_bytes)) {
        snprintf(msg, msglen, "token too large");
        d = HTTP_TOKEN_INVALID;
        goto out;
    }
    if (token) {
        char detail[160];
        enum mqp_token_status st = mqp_token_verify(cfg, token, strlen(token), (int64_t)time(NULL),
                                                    &who->id, detail, sizeof(detail));

        if (st != MQP_TOKEN_OK) {
            /* The status, not the detail: the peer is not authenticated. */
            snprintf(msg, msglen, "%s", mqp_token_status_str(st));
            d = HTTP_TOKEN_INVALID;
            goto out;
        }
        /* The claims stay with the identity: a stream's subscriber criteria compare them with
         * every event it delivers (core/subscriber.h), also after a reload adds such criteria. */
    }
    if (who->id && who->id->kind == MQP_IDENTITY_TENANT) {
        if (tl > 0 && strcmp(tenant, who->id->tenant) != 0) {
            snprintf(msg, msglen, "the token belongs to another tenant");
            d = HTTP_FORBIDDEN;
            goto out;
        }
        who->tenant = mqp_config_tenant(cfg, who->id->tenant, strlen(who->id->tenant));
    } else if (tl > 0) {
        who->tenant = mqp_config_tenant(cfg, tenant, (size_t)tl);
    } else if (tl == -2) {
        snprintf(msg, msglen, "unknown tenant");
        d = HTTP_NOT_FOUND;
        goto out;
    } else {
        snprintf(msg, msglen, "name the tenant with ?tenant=");
        d = HTTP_BAD_REQUEST;
        goto out;
    }
    if (who->tenant == NULL) {
        snprintf(msg, msglen, "unknown tenant");
        d = HTTP_NOT_FOUND;
    }
out:
    if (d != HTTP_OK)
        http_caller_clear(who);
    return d;
}

enum http_denial http_identify(struct bridge *b, struct lws *wsi, const char *bound,
                               struct http_caller *who, char *msg, size_t msglen)
{
    char tenant[MQP_ID_MAX + 2];
    int tl = bound ? snprintf(tenant, sizeof(tenant), "%s", bound)
                   : http_query_arg(wsi, "tenant", tenant, sizeof(tenant));
    bool too_long = false;
    char *token = http_bearer_token(wsi, b->streams->limits.max_token_bytes, &too_long);
    enum http_denial d = identify(b, token, too_long, tenant, tl, who, msg, msglen);

    free(token);
    return d;
}

/* The stream in the caller's tenant, and the read rule; clears who on refusal. */
static enum http_denial check_stream(const char *stream_id, struct http_caller *who,
                                     const struct mqp_stream **stream, char *msg, size_t msglen)
{
    const struct mqp_stream *s = mqp_tenant_stream(who->tenant, stream_id, strlen(stream_id));
    enum http_denial d = HTTP_OK;

    if (s == NULL) {
        snprintf(msg, msglen, "unknown stream");
        d = HTTP_NOT_FOUND;
    } else if (!mqp_stream_readable(s, who->id)) {
        if (who->id == NULL) {
            snprintf(msg, msglen, "a bearer token is required");
            d = HTTP_UNAUTHORIZED;
        } else {
            snprintf(msg, msglen, "the token holds no role that may read this stream");
            d = HTTP_FORBIDDEN;
        }
    }
    if (d != HTTP_OK) {
        http_caller_clear(who);
        return d;
    }
    *stream = s;
    return HTTP_OK;
}

enum http_denial http_resolve_stream(struct bridge *b, struct lws *wsi, const char *tenant,
                                     const char *stream_id, struct http_caller *who,
                                     const struct mqp_stream **stream, char *msg, size_t msglen)
{
    enum http_denial d = http_identify(b, wsi, tenant, who, msg, msglen);

    *stream = NULL;
    if (d != HTTP_OK)
        return d;
    return check_stream(stream_id, who, stream, msg, msglen);
}

enum http_denial http_decide(struct bridge *b, const char *token, const char *tenant,
                             const char *stream_id, struct http_caller *who,
                             const struct mqp_stream **stream, char *msg, size_t msglen)
{
    int tl = (int)strlen(tenant);
    enum http_denial d;

    *stream = NULL;
    d = identify(b, token, false, tenant, tl > MQP_ID_MAX ? -2 : (tl == 0 ? -1 : tl), who, msg,
                 msglen);
    if (d != HTTP_OK)
        return d;
    return check_stream(stream_id, who, stream, msg, msglen);
}

enum http_denial http_decide_caller(struct bridge *b, const char *token, const char *tenant,
                                    struct http_caller *who, char *msg, size_t msglen)
{
    int tl = (int)strlen(tenant);

    return identify(b, token, false, tenant, tl > MQP_ID_MAX ? -2 : (tl == 0 ? -1 : tl), who, msg,
                    msglen);
}

void http_caller_clear(struct http_caller *who)
{
    mqp_identity_free(who->id);
    who->id = NULL;
    who->tenant = NULL;
}

int http_denial_status(enum http_denial d)
{
    static const int codes[] = {200, 400, 401, 401, 403, 404};

    return codes[d];
}

const char *http_denial_code(enum http_denial d)
{
    static const char *const names[] = {"ok",           "bad_request", "unauthorized",
                                        "unauthorized", "forbidden",   "not_found"};

    return names[d];
}
