/*
 * Engine.IO v4 session: heartbeat, send queue, received-packet semantics.
 */
#include "socketio/eio_session.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "b64url.h"

struct queued {
    struct queued *next;
    bool binary;
    size_t len; /* of text: type digit + data; of binary: the bytes */
    char data[];
};

struct eio_session {
    uv_loop_t *loop;
    struct eio_params p;
    const struct eio_session_ops *ops;
    void *ud;
    char sid[EIO_SID_LEN + 1];
    /* One timer for the heartbeat: the next ping, or while a pong is awaited its deadline
     * (a timer per session is a good part of an idle connection's memory). */
    uv_timer_t heartbeat;
    bool awaiting_pong;
    bool upgraded;
    bool closed;
    struct queued *head, *tail;
    size_t queued_bytes;
};

static void end(struct eio_session *s, const char *reason)
{
    if (s->closed)
        return;
    s->closed = true;
    uv_timer_stop(&s->heartbeat);
    s->ops->on_close(s->ud, reason);
}

/* Heartbeat (protocol "Heartbeat"): a ping pingInterval after the last pong (or the open), a
 * pong due within pingTimeout of it. */
static void on_heartbeat(uv_timer_t *t)
{
    struct eio_session *s = t->data;

    if (s->awaiting_pong) {
        end(s, "ping timeout");
        return;
    }
    if (eio_session_send(s, EIO_PING, NULL, 0, false) != 0)
        return;
    s->awaiting_pong = true;
    uv_timer_start(&s->heartbeat, on_heartbeat, s->p.ping_timeout_ms, 0);
}

int eio_session_new(uv_loop_t *loop, const struct eio_params *p, const struct eio_session_ops *ops,
                    void *ud, struct eio_session **out)
{
    struct eio_session *s = calloc(1, sizeof(*s));
    unsigned char raw[15];
    char *id = NULL;
    size_t idlen = 0;

    *out = NULL;
    if (s == NULL)
        return -1;
    if (RAND_bytes(raw, sizeof(raw)) != 1 ||
        (id = mqp_b64url_encode(raw, sizeof(raw), &idlen)) == NULL || idlen != EIO_SID_LEN) {
        free(id);
        free(s);
        return -1;
    }
    memcpy(s->sid, id, EIO_SID_LEN + 1);
    free(id);
    s->loop = loop;
    s->p = *p;
    s->ops = ops;
    s->ud = ud;
    uv_timer_init(loop, &s->heartbeat);
    s->heartbeat.data = s;
    uv_timer_start(&s->heartbeat, on_heartbeat, p->ping_interval_ms, 0);
    *out = s;
    return 0;
}

const char *eio_session_sid(const struct eio_session *s)
{
    return s->sid;
}

char *eio_session_open_packet(const struct eio_session *s, bool can_upgrade)
{
    size_t cap = 256;
    char *out = malloc(cap);

    if (out == NULL)
        return NULL;
    snprintf(out, cap,
             "0{\"sid\":\"%s\",\"upgrades\":[%s],\"pingInterval\":%u,\"pingTimeout\":%u,"
             "\"maxPayload\":%zu}",
             s->sid, can_upgrade ? "\"websocket\"" : "", s->p.ping_interval_ms,
             s->p.ping_timeout_ms, s->p.max_payload);
    return out;
}

int eio_session_send(struct eio_session *s, enum eio_type type, const void *data, size_t len,
                     bool binary)
{
    size_t n = binary ? len : len + 1;
    struct queued *q;
    bool was_empty = s->head == NULL;

    if (s->closed)
        return -1;
    if (s->queued_bytes + n > s->p.max_queue_bytes) {
        end(s, "queue full");
        return -1;
    }
    q = malloc(sizeof(*q) + n);
    if (q == NULL)
        return -1;
    q->next = NULL;
    q->binary = binary;
    q->len = n;
    if (binary) {
        memcpy(q->data, data, len);
    } else {
        q->data[0] = (char)('0' + (int)type);
        if (len)
            memcpy(q->data + 1, data, len);
    }
    if (s->tail)
        s->tail->next = q;
    else
        s->head = q;
    s->tail = q;
    s->queued_bytes += n;
    if (was_empty)
        s->ops->on_queued(s->ud);
    return 0;
}

int eio_session_receive(struct eio_session *s, const struct eio_packet *p)
{
    if (s->closed)
        return -1;
    switch (p->type) {
    case EIO_PONG:
        if (s->awaiting_pong) {
            s->awaiting_pong = false;
            uv_timer_start(&s->heartbeat, on_heartbeat, s->p.ping_interval_ms, 0);
        }
        return 0;
    case EIO_MESSAGE:
        s->ops->on_message(s->ud, p->data, p->len, p->binary);
        return s->closed ? -1 : 0;
    case EIO_CLOSE:
        end(s, "client close");
        return -1;
    case EIO_PING:
        /* Only the upgrade check pings the server (protocol "Upgrade"). */
        if (p->len == 5 && memcmp(p->data, "probe", 5) == 0)
            return eio_session_send(s, EIO_PONG, "probe", 5, false);
        break;
    case EIO_UPGRADE:
        if (p->len == 0) {
            s->upgraded = true;
            return 0;
        }
        break;
    case EIO_NOOP:
        return 0;
    case EIO_OPEN:
        break;
    }
    end(s, "parse error");
    return -1;
}

size_t eio_session_take_polling(struct eio_session *s, struct eio_buf *out)
{
    size_t n = 0;

    while (s->head) {
        struct queued *q = s->head;
        /* A binary packet grows by a third in base64, plus "b" and the separator. */
        size_t cost = (q->binary ? 4 * ((q->len + 2) / 3) + 1 : q->len) + (out->len ? 1 : 0);
        int rc;

        if (n > 0 && out->len + cost > s->p.max_payload)
            break;
        if (q->binary)
            rc = eio_payload_append(out, EIO_MESSAGE, q->data, q->len, true);
        else
            rc = eio_payload_append(out, (enum eio_type)(q->data[0] - '0'), q->data + 1, q->len - 1,
                                    false);
        if (rc != 0)
            break;
        eio_session_pop(s);
        n++;
    }
    return n;
}

const char *eio_session_peek(const struct eio_session *s, size_t *len, bool *binary)
{
    if (s->head == NULL)
        return NULL;
    *len = s->head->len;
    *binary = s->head->binary;
    return s->head->data;
}

void eio_session_pop(struct eio_session *s)
{
    struct queued *q = s->head;

    if (q == NULL)
        return;
    s->head = q->next;
    if (s->head == NULL)
        s->tail = NULL;
    s->queued_bytes -= q->len;
    free(q);
}

bool eio_session_upgraded(const struct eio_session *s)
{
    return s->upgraded;
}

size_t eio_session_queued_bytes(const struct eio_session *s)
{
    return s->queued_bytes;
}

void eio_session_close(struct eio_session *s, const char *reason)
{
    end(s, reason);
}

static void timer_closed(uv_handle_t *h)
{
    struct eio_session *s = h->data;

    free(s);
}

void eio_session_free(struct eio_session *s)
{
    if (s == NULL)
        return;
    s->closed = true;
    while (s->head)
        eio_session_pop(s);
    uv_timer_stop(&s->heartbeat);
    uv_close((uv_handle_t *)&s->heartbeat, timer_closed);
}
