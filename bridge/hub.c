/*
 * The hub: per-stream event buffers with cursor-reading consumers. See hub.h for the model.
 */
#include "hub.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

/* The buffer is at least this deep so that a consumer behind by a burst is not dropped for
 * the event count before its byte limit says it is slow. */
#define HUB_MIN_DEPTH 1024
/* Smallest frame we budget for when sizing the buffer from the byte limit. */
#define HUB_MIN_FRAME 64
#define HUB_TICK_MS 1000
/* A consumer over its byte limit is dropped only when it has not caught up for this long: a
 * burst read from the broker in one pass can exceed the limit for a client that drains it on
 * the next writable callback. */
#define HUB_SLOW_GRACE_MS 1000
/* The buffer never holds more than this many times the per-consumer limit (or 8 MiB): a
 * consumer that falls out of it is dropped, so memory stays bounded whatever the event size. */
#define HUB_RING_BYTES_FACTOR 4
#define HUB_RING_BYTES_MIN (8u * 1024 * 1024)

struct hub_entry {
    struct hub_event ev;
    UT_hash_handle hh; /* stream->by_id */
};

struct hub_stream {
    char *key;    /* "<tenant>/<stream>" */
    char *tenant; /* points into key_copy */
    char *stream;
    char *filter; /* "<tenant>/<stream>/#" */
    struct hub_entry **ring;
    size_t cap, start, count;
    uint64_t first_seq; /* seq of ring[start] */
    uint64_t next_seq;  /* seq the next event gets */
    uint64_t bytes_total;
    uint64_t ring_bytes;    /* sse_len of the events held */
    uint64_t since_wall_ms; /* when the broker subscription was taken */
    uint64_t idle_since_ms; /* loop time since no consumer holds it (or of the last poll) */
    bool live;              /* the broker acknowledged the subscription */
    struct hub_entry *by_id;
    struct hub_consumer *consumers;
    size_t n_consumers;
    struct hub *hub;
    UT_hash_handle hh; /* hub->streams */
};

struct hub_consumer {
    struct hub_stream *s;
    uint64_t next_seq;
    const struct hub_consumer_ops *ops;
    void *owner;
    bool woken;
    uint64_t drained_ms; /* loop time it last read everything (or attached) */
    struct hub_consumer *prev, *next;
};

struct hub {
    uv_loop_t *loop;
    uv_timer_t timer;
    struct hub_params p;
    const struct hub_link_ops *link_ops;
    void *link;
    struct hub_stream *streams;
    size_t n_consumers;
    uint64_t events_in;
    uint64_t slow_dropped;
};

const char *hub_resume_reason(enum hub_resume r)
{
    switch (r) {
    case HUB_RESUME_INVALID:
        return "invalid";
    case HUB_RESUME_EXPIRED:
        return "expired";
    case HUB_RESUME_UNKNOWN:
        return "unknown";
    default:
        return NULL;
    }
}

/* The canonical (lowercase) 8-4-4-4-12 form; copies it into out. */
static bool id_parse(const char *s, char out[HUB_ID_LEN + 1])
{
    size_t i;

    if (s == NULL || strlen(s) != HUB_ID_LEN)
        return false;
    for (i = 0; i < HUB_ID_LEN; i++) {
        char c = s[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!isxdigit((unsigned char)c)) {
            return false;
        }
        out[i] = (char)tolower((unsigned char)c);
    }
    out[HUB_ID_LEN] = '\0';
    return true;
}

/* Milliseconds since the epoch in a UUIDv7 (RFC 9562 5.7: the first 48 bits). */
static uint64_t id_time_ms(const char *id)
{
    char hex[13];

    memcpy(hex, id, 8);
    memcpy(hex + 8, id + 9, 4);
    hex[12] = '\0';
    return strtoull(hex, NULL, 16);
}

static uint64_t wall_ms(void)
{
    uv_timeval64_t tv;

    if (uv_gettimeofday(&tv) != 0)
        return 0;
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

static size_t ring_limit(const struct hub_params *p)
{
    size_t by_bytes = p->send_queue_bytes / HUB_MIN_FRAME;
    size_t n = p->replay_max_events > by_bytes ? p->replay_max_events : by_bytes;

    return n < HUB_MIN_DEPTH ? HUB_MIN_DEPTH : n;
}

static struct hub_entry *ring_at(const struct hub_stream *s, uint64_t seq)
{
    if (seq < s->first_seq || seq >= s->first_seq + s->count)
        return NULL;
    return s->ring[(s->start + (size_t)(seq - s->first_seq)) % s->cap];
}

static void entry_free(struct hub_entry *e)
{
    if (e == NULL)
        return;
    free(e->ev.ns_name);
    free(e->ev.json);
    free(e->ev.sse);
    json_object_put(e->ev.parsed);
    free(e);
}

static void ring_pop(struct hub_stream *s)
{
    struct hub_entry *e = s->ring[s->start];

    HASH_DEL(s->by_id, e);
    s->ring_bytes -= e->ev.sse_len;
    entry_free(e);
    s->ring[s->start] = NULL;
    s->start = (s->start + 1) % s->cap;
    s->count--;
    s->first_seq++;
}

static int ring_push(struct hub_stream *s, struct hub_entry *e, size_t limit)
{
    if (s->count == s->cap && s->cap < limit) {
        size_t ncap = s->cap ? s->cap * 2 : 64, i;
        struct hub_entry **n;

        if (ncap > limit)
            ncap = limit;
        n = calloc(ncap, sizeof(*n));
        if (n == NULL)
            return -1;
        for (i = 0; i < s->count; i++)
            n[i] = s->ring[(s->start + i) % s->cap];
        free(s->ring);
        s->ring = n;
        s->cap = ncap;
        s->start = 0;
    }
    while (s->count >= s->cap)
        ring_pop(s);
    s->ring[(s->start + s->count) % s->cap] = e;
    s->count++;
    s->ring_bytes += e->ev.sse_len;
    return 0;
}

/* Bytes of frames from seq on: what a consumer at seq still has to send. */
static uint64_t backlog_from(const struct hub_stream *s, uint64_t seq)
{
    const struct hub_entry *e = ring_at(s, seq);

    if (e == NULL)
        return 0;
    return s->bytes_total - (e->ev.end_bytes - e->ev.sse_len);
}

static void consumer_unlink(struct hub_consumer *c)
{
    struct hub_stream *s = c->s;

    if (c->prev)
        c->prev->next = c->next;
    else
        s->consumers = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_consumers--;
    s->hub->n_consumers--;
    if (s->n_consumers == 0)
        s->idle_since_ms = uv_now(s->hub->loop);
}

static void consumer_drop(struct hub_consumer *c, const char *reason)
{
    const struct hub_consumer_ops *ops = c->ops;
    void *owner = c->owner;

    consumer_unlink(c);
    free(c);
    ops->on_drop(owner, reason);
}

static void stream_free(struct hub_stream *s)
{
    while (s->count)
        ring_pop(s);
    free(s->ring);
    free(s->key);
    free(s->tenant);
    free(s->filter);
    free(s);
}

static void stream_remove(struct hub *hub, struct hub_stream *s)
{
    HASH_DEL(hub->streams, s);
    if (hub->link_ops)
        hub->link_ops->unsubscribe(hub->link, s->filter);
    stream_free(s);
}

static struct hub_stream *stream_find(struct hub *hub, const char *key, size_t len)
{
    struct hub_stream *s = NULL;

    HASH_FIND(hh, hub->streams, key, len, s);
    return s;
}

static struct hub_stream *stream_get(struct hub *hub, const char *tenant, const char *stream)
{
    size_t tl = strlen(tenant), sl = strlen(stream);
    struct hub_stream *s;
    char *key = malloc(tl + sl + 2);

    if (key == NULL)
        return NULL;
    memcpy(key, tenant, tl);
    key[tl] = '/';
    memcpy(key + tl + 1, stream, sl + 1);
    s = stream_find(hub, key, tl + sl + 1);
    if (s) {
        free(key);
        return s;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        goto fail;
    s->key = key;
    key = NULL;
    s->tenant = strdup(s->key);
    s->filter = malloc(tl + sl + 4);
    if (s->tenant == NULL || s->filter == NULL)
        goto fail;
    s->tenant[tl] = '\0';
    s->stream = s->tenant + tl + 1;
    snprintf(s->filter, tl + sl + 4, "%s/#", s->key);
    s->first_seq = s->next_seq = 1;
    s->since_wall_ms = wall_ms();
    s->idle_since_ms = uv_now(hub->loop);
    s->hub = hub;
    HASH_ADD_KEYPTR(hh, hub->streams, s->key, tl + sl + 1, s);
    if (hub->link_ops)
        hub->link_ops->subscribe(hub->link, s->filter);
    return s;
fail:
    free(key);
    if (s)
        stream_free(s);
    return NULL;
}

/* Where a cursor puts a reader of s: the seq to read from, and what became of the cursor. */
static uint64_t resolve_cursor(struct hub *hub, struct hub_stream *s, const char *cursor,
                               enum hub_resume *resume)
{
    char id[HUB_ID_LEN + 1];
    struct hub_entry *e = NULL;
    uint64_t oldest = s->next_seq, now = uv_now(hub->loop), age = hub->p.replay_max_age_s * 1000ull;
    uint64_t seq;

    /* The replay window: the newest replay_max_events events, none older than the age. */
    if (s->next_seq - s->first_seq > 0) {
        oldest =
            s->next_seq > hub->p.replay_max_events ? s->next_seq - hub->p.replay_max_events : 1;
        if (oldest < s->first_seq)
            oldest = s->first_seq;
        for (seq = oldest; seq < s->next_seq; seq++) {
            struct hub_entry *x = ring_at(s, seq);

            if (x && now - x->ev.received_ms <= age)
                break;
        }
        oldest = seq;
    }
    if (cursor == NULL) {
        *resume = HUB_RESUME_NONE;
        return s->next_seq;
    }
    if (!id_parse(cursor, id)) {
        *resume = HUB_RESUME_INVALID;
        return s->next_seq;
    }
    HASH_FIND_STR(s->by_id, id, e);
    if (e && e->ev.seq + 1 >= oldest) {
        *resume = HUB_RESUME_OK;
        return e->ev.seq + 1;
    }
    {
        const struct hub_entry *first = ring_at(s, oldest);

        if (e || id_time_ms(id) < s->since_wall_ms || (first && strcmp(id, first->ev.id) < 0))
            *resume = HUB_RESUME_EXPIRED;
        else
            *resume = HUB_RESUME_UNKNOWN;
    }
    return s->next_seq;
}

int hub_attach(struct hub *hub, const char *tenant, const char *stream, const char *cursor,
               const struct hub_consumer_ops *ops, void *owner, struct hub_consumer **out,
               enum hub_resume *resume, size_t *replay)
{
    struct hub_stream *s = stream_get(hub, tenant, stream);
    struct hub_consumer *c;

    *out = NULL;
    if (s == NULL)
        return -1;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -1;
    c->s = s;
    c->ops = ops;
    c->owner = owner;
    c->next_seq = resolve_cursor(hub, s, cursor, resume);
    c->drained_ms = uv_now(hub->loop);
    *replay = (size_t)(s->next_seq - c->next_seq);
    c->next = s->consumers;
    if (s->consumers)
        s->consumers->prev = c;
    s->consumers = c;
    s->n_consumers++;
    hub->n_consumers++;
    *out = c;
    return 0;
}

void hub_detach(struct hub_consumer *c)
{
    if (c == NULL)
        return;
    consumer_unlink(c);
    free(c);
}

const struct hub_event *hub_consumer_peek(struct hub_consumer *c)
{
    struct hub_entry *e = ring_at(c->s, c->next_seq);

    if (e == NULL) {
        /* Fell out of the buffer: cannot happen to a consumer that is not dropped, since the
         * arrival path drops those first; treat as caught up. */
        if (c->next_seq < c->s->first_seq)
            c->next_seq = c->s->first_seq;
        c->woken = false;
        c->drained_ms = uv_now(c->s->hub->loop);
        return NULL;
    }
    return &e->ev;
}

void hub_consumer_advance(struct hub_consumer *c)
{
    if (c->next_seq < c->s->next_seq)
        c->next_seq++;
}

bool hub_consumer_live(const struct hub_consumer *c)
{
    return c->s->live;
}

void hub_on_subscribed(struct hub *hub, const char *filter)
{
    size_t len = strlen(filter);
    struct hub_stream *s;
    struct hub_consumer *c;

    if (len < 3 || strcmp(filter + len - 2, "/#") != 0)
        return;
    s = stream_find(hub, filter, len - 2);
    if (s == NULL || s->live)
        return;
    s->live = true;
    for (c = s->consumers; c; c = c->next) {
        if (!c->woken) {
            c->woken = true;
            c->ops->wake(c->owner);
        }
    }
}

uint64_t hub_consumer_backlog(const struct hub_consumer *c)
{
    return backlog_from(c->s, c->next_seq);
}

const char *hub_consumer_head_id(const struct hub_consumer *c)
{
    const struct hub_entry *e = ring_at(c->s, c->s->next_seq - 1);

    return e ? e->ev.id : NULL;
}

int hub_poll(struct hub *hub, const char *tenant, const char *stream, const char *cursor,
             bool (*visit)(void *ctx, const struct hub_event *ev), void *ctx,
             enum hub_resume *resume)
{
    struct hub_stream *s = stream_get(hub, tenant, stream);
    uint64_t seq;

    if (s == NULL)
        return -1;
    seq = resolve_cursor(hub, s, cursor, resume);
    if (*resume != HUB_RESUME_OK)
        seq = s->first_seq;
    s->idle_since_ms = uv_now(hub->loop);
    for (; seq < s->next_seq; seq++) {
        const struct hub_entry *e = ring_at(s, seq);

        if (e && !visit(ctx, &e->ev))
            break;
    }
    return 0;
}

/* A body with raw line breaks would split the SSE "data:" field: write it again on one line. */
static char *one_line_json(json_object *obj, const char *payload, size_t len, size_t *out_len)
{
    const char *src = payload;
    char *copy;

    if (memchr(payload, '\n', len) || memchr(payload, '\r', len)) {
        src = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE);
        len = strlen(src);
    }
    copy = malloc(len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, src, len);
    copy[len] = '\0';
    *out_len = len;
    return copy;
}

static struct hub_entry *entry_new(const char *ns_name, const void *payload, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    struct hub_entry *e = calloc(1, sizeof(*e));
    json_object *obj = NULL, *id;

    if (tok == NULL || e == NULL)
        goto fail;
    obj = json_tokener_parse_ex(tok, payload, (int)len);
    if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success ||
        tok->char_offset != (int)len || !json_object_is_type(obj, json_type_object))
        goto fail;
    if (!json_object_object_get_ex(obj, "id", &id) || !json_object_is_type(id, json_type_string) ||
        !id_parse(json_object_get_string(id), e->ev.id))
        goto fail;
    e->ev.ns_name = strdup(ns_name);
    e->ev.json = one_line_json(obj, payload, len, &e->ev.json_len);
    if (e->ev.ns_name == NULL || e->ev.json == NULL)
        goto fail;
    e->ev.sse_len = strlen("id: \ndata: \n\n") + HUB_ID_LEN + e->ev.json_len;
    e->ev.sse = malloc(e->ev.sse_len + 1);
    if (e->ev.sse == NULL)
        goto fail;
    snprintf(e->ev.sse, e->ev.sse_len + 1, "id: %s\ndata: %s\n\n", e->ev.id, e->ev.json);
    e->ev.parsed = obj;
    json_tokener_free(tok);
    return e;
fail:
    json_object_put(obj);
    if (tok)
        json_tokener_free(tok);
    if (e) {
        e->ev.parsed = NULL;
        entry_free(e);
    }
    return NULL;
}

int hub_on_message(struct hub *hub, const char *topic, const void *payload, size_t len)
{
    const char *slash1 = strchr(topic, '/'), *slash2, *ns_name;
    struct hub_stream *s;
    struct hub_entry *e, *dup = NULL;
    struct hub_consumer *c, *next;

    if (slash1 == NULL || (slash2 = strchr(slash1 + 1, '/')) == NULL)
        return 0;
    ns_name = slash2 + 1;
    if (*ns_name == '\0' || strchr(ns_name, '/') || strchr(ns_name, ':') == NULL)
        return 0;
    s = stream_find(hub, topic, (size_t)(slash2 - topic));
    if (s == NULL)
        return 1;
    e = entry_new(ns_name, payload, len);
    if (e == NULL) {
        fprintf(stderr, "mqpush-bridge: hub: ignored a message on %s that is not a stream event\n",
                topic);
        return 0;
    }
    HASH_FIND_STR(s->by_id, e->ev.id, dup);
    if (dup) {
        entry_free(e);
        return 0;
    }
    e->ev.seq = s->next_seq;
    e->ev.received_ms = uv_now(hub->loop);
    if (ring_push(s, e, ring_limit(&hub->p)) != 0) {
        entry_free(e);
        return 0;
    }
    HASH_ADD_STR(s->by_id, ev.id, e);
    s->next_seq++;
    s->bytes_total += e->ev.sse_len;
    e->ev.end_bytes = s->bytes_total;
    hub->events_in++;
    {
        uint64_t cap = (uint64_t)hub->p.send_queue_bytes * HUB_RING_BYTES_FACTOR;

        if (cap < HUB_RING_BYTES_MIN)
            cap = HUB_RING_BYTES_MIN;
        while (s->count > 1 && s->ring_bytes > cap)
            ring_pop(s);
    }
    for (c = s->consumers; c; c = next) {
        next = c->next;
        if (c->next_seq < s->first_seq ||
            (backlog_from(s, c->next_seq) > hub->p.send_queue_bytes &&
             e->ev.received_ms - c->drained_ms >= HUB_SLOW_GRACE_MS)) {
            hub->slow_dropped++;
            consumer_drop(c, "slow");
            continue;
        }
        if (!c->woken) {
            c->woken = true;
            c->ops->wake(c->owner);
        }
    }
    return 0;
}

/* Age out old events and streams nobody has needed for the replay age. */
static void on_tick(uv_timer_t *t)
{
    struct hub *hub = t->data;
    struct hub_stream *s, *tmp;
    uint64_t now = uv_now(hub->loop), age = hub->p.replay_max_age_s * 1000ull;

    HASH_ITER(hh, hub->streams, s, tmp)
    {
        while (s->count && now - s->ring[s->start]->ev.received_ms > age) {
            struct hub_consumer *c, *next;
            uint64_t seq = s->first_seq;

            /* A consumer still needing an event this old has not read for the whole replay
             * age: it is stalled. */
            for (c = s->consumers; c; c = next) {
                next = c->next;
                if (c->next_seq <= seq) {
                    hub->slow_dropped++;
                    consumer_drop(c, "slow");
                }
            }
            ring_pop(s);
        }
        if (s->n_consumers == 0 && now - s->idle_since_ms >= age)
            stream_remove(hub, s);
    }
}

int hub_new(uv_loop_t *loop, const struct hub_params *p, const struct hub_link_ops *link_ops,
            void *link, struct hub **out)
{
    struct hub *hub = calloc(1, sizeof(*hub));

    *out = NULL;
    if (hub == NULL)
        return -1;
    hub->loop = loop;
    hub->p = *p;
    hub->link_ops = link_ops;
    hub->link = link;
    uv_timer_init(loop, &hub->timer);
    hub->timer.data = hub;
    uv_timer_start(&hub->timer, on_tick, HUB_TICK_MS, HUB_TICK_MS);
    uv_unref((uv_handle_t *)&hub->timer);
    *out = hub;
    return 0;
}

void hub_set_params(struct hub *hub, const struct hub_params *p)
{
    hub->p = *p;
}

static void free_after_close(uv_handle_t *h)
{
    free(h->data);
}

void hub_free(struct hub *hub)
{
    struct hub_stream *s, *tmp;

    if (hub == NULL)
        return;
    HASH_ITER(hh, hub->streams, s, tmp)
    {
        while (s->consumers)
            hub_detach(s->consumers);
        HASH_DEL(hub->streams, s);
        stream_free(s);
    }
    uv_timer_stop(&hub->timer);
    uv_close((uv_handle_t *)&hub->timer, free_after_close);
}

void hub_prune(struct hub *hub, bool (*keep)(void *ctx, const char *tenant, const char *stream),
               void *ctx)
{
    struct hub_stream *s, *tmp;

    HASH_ITER(hh, hub->streams, s, tmp)
    {
        if (keep(ctx, s->tenant, s->stream))
            continue;
        while (s->consumers)
            consumer_drop(s->consumers, "stream-removed");
        stream_remove(hub, s);
    }
}

size_t hub_stream_count(const struct hub *hub)
{
    return HASH_COUNT(hub->streams);
}

size_t hub_consumer_count(const struct hub *hub)
{
    return hub->n_consumers;
}

uint64_t hub_backlog_bytes(const struct hub *hub)
{
    const struct hub_stream *s, *tmp;
    const struct hub_consumer *c;
    uint64_t sum = 0;

    HASH_ITER(hh, hub->streams, s, tmp)
    {
        for (c = s->consumers; c; c = c->next)
            sum += backlog_from(s, c->next_seq);
    }
    return sum;
}

uint64_t hub_events_in(const struct hub *hub)
{
    return hub->events_in;
}

uint64_t hub_slow_dropped(const struct hub *hub)
{
    return hub->slow_dropped;
}
