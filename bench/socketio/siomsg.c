#include "siomsg.h"

#include <string.h>

/* The longest JSON nesting followed; the events of the benchmark have two levels. */
#define DEPTH_MAX 64

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p is at an opening quote: the position after the closing one, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* A JSON integer (RFC 8259 6, no fraction or exponent) that fits 64 bits, or -1. */
static int read_uint(const char *p, const char *end, uint64_t *out)
{
    uint64_t v = 0;
    const char *start = p;

    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');

        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (p == start || (p < end && (*p == '.' || *p == 'e' || *p == 'E')))
        return -1;
    *out = v;
    return 0;
}

/* A member name just ended at key[0..klen) and its value starts at v: note "t" and "seq". */
static void member(struct siomsg *m, const char *key, size_t klen, const char *v, const char *end)
{
    uint64_t x;

    if (klen == 1 && key[0] == 't' && !m->has_t && read_uint(v, end, &x) == 0) {
        m->t = x;
        m->has_t = 1;
    } else if (klen == 3 && memcmp(key, "seq", 3) == 0 && !m->has_seq &&
               read_uint(v, end, &x) == 0) {
        m->seq = x;
        m->has_seq = 1;
    }
}

/*
 * Skip one JSON value starting at p, noting the "t" and "seq" members met at any depth (the
 * first of each counts). Not a validator: it follows the structure well enough for what the
 * servers send. Returns the position after the value, or NULL when it is cut or malformed.
 */
static const char *skip_value(const char *p, const char *end, struct siomsg *m)
{
    int depth = 0;

    do {
        p = skip_ws(p, end);
        if (p >= end)
            return NULL;
        switch (*p) {
        case '{':
        case '[':
            if (++depth > DEPTH_MAX)
                return NULL;
            p++;
            break;
        case '}':
        case ']':
            if (depth-- == 0)
                return NULL;
            p++;
            break;
        case ',':
        case ':':
            if (depth == 0)
                return NULL;
            p++;
            break;
        case '"': {
            const char *key = p + 1, *after = skip_string(p, end), *q;

            if (after == NULL)
                return NULL;
            p = after;
            q = skip_ws(p, end);
            if (depth > 0 && q < end && *q == ':')
                member(m, key, (size_t)(after - 1 - key), skip_ws(q + 1, end), end);
            break;
        }
        default: {
            const char *start = p;

            while (p < end && !strchr(",:]} \t\r\n", *p))
                p++;
            if (p == start)
                return NULL;
        }
        }
    } while (depth > 0);
    return p;
}

/* ["name", arg, arg...]: the name, t and seq in the first argument, the second raw. */
static enum siomsg_kind event(const char *p, const char *end, struct siomsg *m)
{
    const char *after;

    p = skip_ws(p, end);
    if (p >= end || *p != '[')
        return SIOMSG_BAD;
    p = skip_ws(p + 1, end);
    if (p >= end || *p != '"' || (after = skip_string(p, end)) == NULL)
        return SIOMSG_BAD;
    m->name = p + 1;
    m->name_len = (size_t)(after - 1 - m->name);
    p = skip_ws(after, end);
    while (p < end && *p == ',') {
        const char *v = skip_ws(p + 1, end);

        if ((after = skip_value(v, end, m)) == NULL)
            return SIOMSG_BAD;
        if (++m->args == 2) {
            m->has_offset = 1;
            m->offset = v;
            m->offset_len = (size_t)(after - v);
            if (m->offset_len >= 2 && *v == '"') {
                m->offset++;
                m->offset_len -= 2;
            }
        }
        p = skip_ws(after, end);
    }
    if (p >= end || *p != ']' || skip_ws(p + 1, end) != end)
        return SIOMSG_BAD;
    return SIOMSG_EVENT;
}

/* The Socket.IO packet after Engine.IO's '4': <type>[<n>-][<nsp>,][<ack id>][JSON]. */
static enum siomsg_kind socketio(const char *p, const char *end, const char *nsp, struct siomsg *m)
{
    char type;
    size_t nsp_len = strlen(nsp);

    if (p >= end)
        return SIOMSG_BAD;
    type = *p++;
    if (type == '5' || type == '6')
        return SIOMSG_OTHER; /* binary EVENT or ACK: the benchmark sends none */
    if (type < '0' || type > '4')
        return SIOMSG_BAD;
    if (p < end && *p == '/') {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;

        if ((size_t)(stop - p) != nsp_len || memcmp(p, nsp, nsp_len) != 0)
            return SIOMSG_OTHER_NSP;
        p = comma ? comma + 1 : end;
    } else if (strcmp(nsp, "/") != 0) {
        return SIOMSG_OTHER_NSP;
    }
    while (p < end && *p >= '0' && *p <= '9')
        p++; /* the ack id */
    m->json = p < end ? p : NULL;
    m->json_len = (size_t)(end - p);
    switch (type) {
    case '0':
        return SIOMSG_CONNECT;
    case '1':
        return SIOMSG_DISCONNECT;
    case '2':
        return event(p, end, m);
    case '4':
        return SIOMSG_CONNECT_ERROR;
    default:
        return SIOMSG_OTHER;
    }
}

enum siomsg_kind siomsg_parse(const char *msg, size_t len, const char *nsp, struct siomsg *out)
{
    const char *end = msg + len;

    memset(out, 0, sizeof(*out));
    if (len == 0) {
        out->kind = SIOMSG_BAD;
        return out->kind;
    }
    switch (msg[0]) {
    case '0':
        out->kind = SIOMSG_EIO_OPEN;
        out->json = msg + 1;
        out->json_len = len - 1;
        break;
    case '1':
        out->kind = SIOMSG_EIO_CLOSE;
        break;
    case '2':
        out->kind = SIOMSG_EIO_PING;
        break;
    case '3': /* pong, upgrade, noop: nothing to do for a websocket-only client */
    case '5':
    case '6':
        out->kind = SIOMSG_EIO_NOOP;
        break;
    case '4':
        out->kind = socketio(msg + 1, end, nsp, out);
        break;
    default:
        out->kind = SIOMSG_BAD;
    }
    return out->kind;
}
