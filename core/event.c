/*
 * Event fan-out: the broker's hot path. One parse per event, one id, stamp values made once
 * and shared by reference, unmapped copies serialized once for every stream that takes them;
 * a mapped copy costs one object (plus one per nested map level) and one serialization.
 */
#include "event.h"

#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "criteria.h"
#include "projection.h"
#include "topic.h"

/* "<tenant>/<stream>/<namespace>:<name>" with every identifier at its longest. */
#define STREAM_TOPIC_MAX (4 * MQP_ID_MAX + 3)
#define TIMESTAMP_MAX 40
#define BODY_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

enum { STAMP_ID, STAMP_NAMESPACE, STAMP_NAME, STAMP_TIMESTAMP, N_STAMPS };
static const char *const stamp_keys[N_STAMPS] = {"id", "namespace", "name", "timestamp"};

static const char *const status_text[] = {
    [MQP_EVENT_OK] = "ok",
    [MQP_EVENT_NOT_EVENT_TOPIC] = "not an event topic",
    [MQP_EVENT_UNKNOWN_TENANT] = "unknown tenant",
    [MQP_EVENT_TOO_LARGE] = "event too large",
    [MQP_EVENT_NOT_JSON] = "event is not JSON",
    [MQP_EVENT_NOT_OBJECT] = "event is not a JSON object",
    [MQP_EVENT_BAD_FIELD] = "event field of the wrong type",
    [MQP_EVENT_NO_MEMORY] = "out of memory",
    [MQP_EVENT_EMIT_FAILED] = "publishing a stream copy failed",
};

const char *mqp_event_status_str(enum mqp_event_status st)
{
    if ((size_t)st >= sizeof(status_text) / sizeof(status_text[0]) || !status_text[st])
        return "unknown event status";
    return status_text[st];
}

/* Last id handed out as (unix_ms << 12 | counter): the 60 bits that lead a UUIDv7. */
static _Atomic uint64_t id_state;

int mqp_event_id_new(char *buf)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char rnd[10], b[16];
    struct timespec ts;
    uint64_t now_ms, seed, prev, next, ms;
    unsigned counter;
    size_t o = 0;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return -1;
    clock_gettime(CLOCK_REALTIME, &ts);
    now_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    /*
     * RFC 9562 6.2 method 1: rand_a is a counter, seeded randomly in each new millisecond with
     * its top bit clear so that at least 2048 ids fit before it carries into the timestamp
     * (which 6.2 allows). A clock that steps back only advances the counter.
     */
    seed = (now_ms & 0xffffffffffffu) << 12 | (uint64_t)(rnd[8] & 0x07) << 8 | rnd[9];
    prev = atomic_load(&id_state);
    do {
        next = seed > prev ? seed : prev + 1;
    } while (!atomic_compare_exchange_weak(&id_state, &prev, next));
    ms = next >> 12;
    counter = (unsigned)(next & 0xfff);
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)(0x70 | counter >> 8); /* version 7 (RFC 9562 5.7) */
    b[7] = (unsigned char)counter;
    b[8] = (unsigned char)(0x80 | (rnd[0] & 0x3f)); /* variant 10 */
    memcpy(b + 9, rnd + 1, 7);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[o++] = '-';
        buf[o++] = hex[b[i] >> 4];
        buf[o++] = hex[b[i] & 0xf];
    }
    buf[o] = '\0';
    return 0;
}

static void format_now(char *buf, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/*
 * json-c accepts NaN, Infinity and -Infinity even in strict mode and would pass them on
 * verbatim; RFC 8259 section 6 has no such numbers. 1e999 is JSON (it overflows a double but
 * keeps its text), so the text decides.
 */
bool mqp_json_has_non_json_number(json_object *o)
{
    switch (json_object_get_type(o)) {
    case json_type_double: {
        double d = json_object_get_double(o);
        const char *text;

        if (isnan(d))
            return true;
        if (!isinf(d))
            return false;
        text = json_object_get_string(o);
        text += *text == '-';
        return !(*text >= '0' && *text <= '9');
    }
    case json_type_array: {
        size_t n = json_object_array_length(o);

        for (size_t i = 0; i < n; i++)
            if (mqp_json_has_non_json_number(json_object_array_get_idx(o, i)))
                return true;
        return false;
    }
    case json_type_object: {
        json_object_object_foreach(o, key, val)
        {
            (void)key;
            if (mqp_json_has_non_json_number(val))
                return true;
        }
        return false;
    }
    default:
        return false;
    }
}

static bool member_has_type(json_object *obj, const char *key, enum json_type type)
{
    json_object *v;

    return !json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, type);
}

/* len is below INT_MAX (checked by the caller). */
static enum mqp_event_status parse_event(const char *buf, size_t len, json_object **out)
{
    enum mqp_event_status st = MQP_EVENT_NO_MEMORY;
    json_tokener *tok = json_tokener_new_ex(MQP_EVENT_MAX_DEPTH);
    enum json_tokener_error jerr;
    json_object *obj = NULL;

    *out = NULL;
    if (!tok)
        goto out;
    /* RFC 8259 section 8.1: JSON exchanged between systems is UTF-8. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, buf ? buf : "", (int)len);
    jerr = json_tokener_get_error(tok);
    if (jerr == json_tokener_continue) {
        /* Every byte was taken, but a bare number has no end of its own: a NUL gives one. */
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
    } else if (jerr == json_tokener_success && json_tokener_get_parse_end(tok) != len) {
        /* Strict mode refuses trailing text, but stops quietly at a NUL byte. */
        jerr = json_tokener_error_parse_unexpected;
    }
    st = MQP_EVENT_NOT_JSON;
    if (jerr != json_tokener_success)
        goto out;
    st = MQP_EVENT_NOT_OBJECT;
    if (!json_object_is_type(obj, json_type_object))
        goto out;
    st = MQP_EVENT_NOT_JSON;
    if (mqp_json_has_non_json_number(obj))
        goto out;
    st = MQP_EVENT_BAD_FIELD;
    if (!member_has_type(obj, "timestamp", json_type_string) ||
        !member_has_type(obj, "correlationId", json_type_string) ||
        !member_has_type(obj, "context", json_type_object))
        goto out;
    *out = obj;
    obj = NULL;
    st = MQP_EVENT_OK;
out:
    json_object_put(obj);
    json_tokener_free(tok);
    return st;
}

/* State of one fan-out. */
struct fanout {
    const struct mqp_tenant *tenant;
    struct mqp_level ns, name;
    json_object *event;
    json_object *stamp[N_STAMPS]; /* made with the first copy, shared by all copies */
    bool stamped;
    json_object *whole;     /* body of unmapped copies, serialized once */
    const char *whole_text; /* owned by whole */
    size_t whole_len;
    mqp_emit_fn emit;
    void *ctx;
    size_t emitted;
};

static enum mqp_event_status make_stamps(struct fanout *f)
{
    char id[MQP_EVENT_ID_LEN + 1];
    json_object *ts;

    if (f->stamped)
        return MQP_EVENT_OK;
    for (int i = 0; i < N_STAMPS; i++) {
        json_object_put(f->stamp[i]); /* left over from an earlier attempt that failed */
        f->stamp[i] = NULL;
    }
    if (mqp_event_id_new(id) < 0)
        return MQP_EVENT_NO_MEMORY;
    f->stamp[STAMP_ID] = json_object_new_string_len(id, MQP_EVENT_ID_LEN);
    f->stamp[STAMP_NAMESPACE] = json_object_new_string_len(f->ns.s, (int)f->ns.len);
    f->stamp[STAMP_NAME] = json_object_new_string_len(f->name.s, (int)f->name.len);
    if (json_object_object_get_ex(f->event, "timestamp", &ts)) {
        f->stamp[STAMP_TIMESTAMP] = json_object_get(ts);
    } else {
        char now[TIMESTAMP_MAX];

        format_now(now, sizeof(now));
        f->stamp[STAMP_TIMESTAMP] = json_object_new_string(now);
    }
    for (int i = 0; i < N_STAMPS; i++)
        if (!f->stamp[i])
            return MQP_EVENT_NO_MEMORY;
    f->stamped = true;
    return MQP_EVENT_OK;
}

/*
 * Adds val (one reference, consumed even on failure) under a key that outlives dst and is not
 * in dst yet.
 */
static int add_new(json_object *dst, const char *key, json_object *val)
{
    if (json_object_object_add_ex(
            dst, key, val, JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY) < 0) {
        json_object_put(val);
        return -1;
    }
    return 0;
}

/* A new body holding the stamps, first, in the schema's order. */
static json_object *new_stamped(struct fanout *f)
{
    json_object *body;

    if (make_stamps(f) != MQP_EVENT_OK)
        return NULL;
    body = json_object_new_object();
    if (!body)
        return NULL;
    for (int i = 0; i < N_STAMPS; i++) {
        if (add_new(body, stamp_keys[i], json_object_get(f->stamp[i])) < 0) {
            json_object_put(body);
            return NULL;
        }
    }
    return body;
}

static bool is_stamp_key(const char *key)
{
    for (int i = 0; i < N_STAMPS; i++)
        if (strcmp(key, stamp_keys[i]) == 0)
            return true;
    return false;
}

/* Build and serialize the unmapped body once; event keys are borrowed (event outlives it). */
static enum mqp_event_status whole_body(struct fanout *f)
{
    enum mqp_event_status st = MQP_EVENT_NO_MEMORY;
    json_object *body;

    if (f->whole_text)
        return MQP_EVENT_OK;
    body = new_stamped(f);
    if (!body)
        goto out;
    json_object_object_foreach(f->event, key, val)
    {
        if (!is_stamp_key(key) && add_new(body, key, json_object_get(val)) < 0)
            goto out;
    }
    f->whole_text = json_object_to_json_string_length(body, BODY_FLAGS, &f->whole_len);
    if (!f->whole_text)
        goto out;
    f->whole = body;
    body = NULL;
    st = MQP_EVENT_OK;
out:
    json_object_put(body);
    return st;
}

static enum mqp_event_status emit_copy(struct fanout *f, const struct mqp_stream *s,
                                       const struct mqp_stream_event *e)
{
    enum mqp_event_status st = MQP_EVENT_NO_MEMORY;
    char topic[STREAM_TOPIC_MAX + 1];
    json_object *mapped = NULL;
    const char *text;
    size_t len;

    /* Identifiers are at most MQP_ID_MAX bytes (config.c checks), so this always fits. */
    if (!mqp_topic_stream(topic, sizeof(topic), f->tenant->id, s->id, e->namespace_, e->name))
        goto out;
    if (e->map) {
        /* The map's keys outlive this body, so it borrows them instead of copying. */
        mapped = new_stamped(f);
        if (!mapped || mqp_projection_apply_into(e->map, f->event, mapped, true) < 0)
            goto out;
        text = json_object_to_json_string_length(mapped, BODY_FLAGS, &len);
        if (!text)
            goto out;
    } else {
        if (whole_body(f) != MQP_EVENT_OK)
            goto out;
        text = f->whole_text;
        len = f->whole_len;
    }
    st = MQP_EVENT_EMIT_FAILED;
    if (f->emit(f->ctx, s, topic, text, len) != 0)
        goto out;
    f->emitted++;
    st = MQP_EVENT_OK;
out:
    json_object_put(mapped);
    return st;
}

/*
 * A stream may list one (namespace, name) several times with different criteria; the first
 * entry that matches decides its single copy.
 */
static const struct mqp_stream_event *first_match(const struct fanout *f,
                                                  const struct mqp_stream *s)
{
    for (size_t i = 0; i < s->n_events; i++) {
        const struct mqp_stream_event *e = &s->events[i];

        if (mqp_level_eq(&f->ns, e->namespace_) && mqp_level_eq(&f->name, e->name) &&
            mqp_criteria_match(e->criteria, f->event))
            return e;
    }
    return NULL;
}

enum mqp_event_status mqp_event_fanout(const struct mqp_config *cfg, const char *topic,
                                       const void *payload, size_t len, mqp_emit_fn emit, void *ctx,
                                       size_t *n_emitted)
{
    struct fanout f = {.emit = emit, .ctx = ctx};
    enum mqp_event_status st = MQP_EVENT_NOT_EVENT_TOPIC;
    const struct mqp_route *route;
    struct mqp_level tenant;

    if (!topic || !mqp_topic_parse_event(topic, &tenant, &f.ns, &f.name))
        goto out;
    st = MQP_EVENT_UNKNOWN_TENANT;
    f.tenant = cfg ? mqp_config_tenant(cfg, tenant.s, tenant.len) : NULL;
    if (!f.tenant)
        goto out;
    st = MQP_EVENT_TOO_LARGE;
    if (len > cfg->limits.max_event_bytes || len >= INT_MAX)
        goto out;
    st = MQP_EVENT_OK;
    route = mqp_tenant_route(f.tenant, f.ns.s, f.ns.len, f.name.s, f.name.len);
    if (!route || route->n == 0)
        goto out;
    st = parse_event(payload, len, &f.event);
    if (st != MQP_EVENT_OK)
        goto out;
    for (size_t i = 0; i < route->n; i++) {
        const struct mqp_stream_event *e = first_match(&f, route->streams[i]);

        if (!e)
            continue;
        st = emit_copy(&f, route->streams[i], e);
        if (st != MQP_EVENT_OK)
            goto out;
    }
out:
    json_object_put(f.whole);
    for (int i = 0; i < N_STAMPS; i++)
        json_object_put(f.stamp[i]);
    json_object_put(f.event);
    if (n_emitted)
        *n_emitted = f.emitted;
    return st;
}
