/*
 * bridge.json "webpush": the VAPID identity, delivery defaults and the streams sent by Web
 * Push. Same rules in schemas/bridge.schema.json.
 */
#include "config.h"
#include "config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jsonpath.h"
#include "webpush/vapid.h"

/* RFC 8030 5.3 */
static bool urgency_ok(const char *u)
{
    return strcmp(u, "very-low") == 0 || strcmp(u, "low") == 0 || strcmp(u, "normal") == 0 ||
           strcmp(u, "high") == 0;
}

static void get_urgency(struct bridge_config_ctx *x, json_object *o, const char *path, char **out)
{
    char *u = NULL;

    bridge_config__get_string(x, o, "urgency", path, &u);
    if (u && !urgency_ok(u)) {
        bridge_config__report(x, path, "must be one of very-low, low, normal, high");
        free(u);
        return;
    }
    if (u) {
        free(*out);
        *out = u;
    }
}

static void parse_stream(struct bridge_config_ctx *x, json_object *o, const char *path,
                         struct bridge_push_settings *set)
{
    static const char *const keys[] = {"tenant",  "stream", "default", "ttl_s",
                                       "urgency", "topic",  NULL};
    struct bridge_webpush_stream *s = &set->streams[set->n_streams];
    char sub[96];
    uint64_t ttl = set->ttl_s;
    size_t i;

    if (!json_object_is_type(o, json_type_object)) {
        bridge_config__report(x, path, "must be an object");
        return;
    }
    memset(s, 0, sizeof(*s));
    bridge_config__check_keys(x, o, path, keys);
    snprintf(sub, sizeof(sub), "%s.tenant", path);
    bridge_config__get_string(x, o, "tenant", sub, &s->tenant);
    if (s->tenant == NULL || !bridge_config__id(s->tenant))
        bridge_config__report(x, sub, "required: a tenant id");
    snprintf(sub, sizeof(sub), "%s.stream", path);
    bridge_config__get_string(x, o, "stream", sub, &s->stream);
    if (s->stream == NULL || !bridge_config__id(s->stream))
        bridge_config__report(x, sub, "required: a stream id");
    snprintf(sub, sizeof(sub), "%s.default", path);
    bridge_config__get_bool(x, o, "default", sub, &s->is_default);
    snprintf(sub, sizeof(sub), "%s.ttl_s", path);
    bridge_config__get_uint(x, o, "ttl_s", sub, 0, 2419200, &ttl);
    s->ttl_s = (unsigned)ttl;
    s->urgency = strdup(set->urgency ? set->urgency : "normal");
    snprintf(sub, sizeof(sub), "%s.urgency", path);
    get_urgency(x, o, sub, &s->urgency);
    snprintf(sub, sizeof(sub), "%s.topic", path);
    bridge_config__get_string(x, o, "topic", sub, &s->topic_path);
    if (s->topic_path) {
        struct mqp_path *p = NULL;
        char err[160];

        if (mqp_path_compile(s->topic_path, &p, err, sizeof(err)) != 0)
            bridge_config__report(x, sub, "%s", err);
        mqp_path_free(p);
    }
    for (i = 0; s->tenant && s->stream && i < set->n_streams; i++) {
        const struct bridge_webpush_stream *o2 = &set->streams[i];

        if (o2->tenant && o2->stream && strcmp(o2->tenant, s->tenant) == 0) {
            if (strcmp(o2->stream, s->stream) == 0)
                bridge_config__report(x, path, "stream %s/%s is listed twice", s->tenant,
                                      s->stream);
            else if (o2->is_default && s->is_default)
                bridge_config__report(x, path, "tenant %s has two default streams", s->tenant);
        }
    }
    set->n_streams++;
}

static const char *key_path(char *buf, size_t cap, const char *sec, const char *key)
{
    snprintf(buf, cap, "%s.%s", sec, key);
    return buf;
}

/* "unifiedpush.provider": the push provider side (UnifiedPush SERV 1.0.1). */
static void parse_provider(struct bridge_config_ctx *x, json_object *up,
                           struct bridge_up_provider *pr)
{
    static const char *const keys[] = {"enabled",   "rate_per_min",  "burst",
                                       "max_age_s", "max_endpoints", NULL};
    const char *sec = "$.unifiedpush.provider";
    char path[64];
    json_object *o;
    uint64_t rate = 60, burst = 0, age = 604800, max_ep = 100;

    o = bridge_config__get_object(x, up, "provider", sec);
    pr->enabled = o != NULL;
    if (o != NULL) {
        bridge_config__check_keys(x, o, sec, keys);
        bridge_config__get_bool(x, o, "enabled", key_path(path, sizeof(path), sec, "enabled"),
                                &pr->enabled);
        bridge_config__get_uint(x, o, "rate_per_min",
                                key_path(path, sizeof(path), sec, "rate_per_min"), 1, 600000,
                                &rate);
        bridge_config__get_uint(x, o, "burst", key_path(path, sizeof(path), sec, "burst"), 0,
                                600000, &burst);
        bridge_config__get_uint(x, o, "max_age_s", key_path(path, sizeof(path), sec, "max_age_s"),
                                60, 366u * 86400, &age);
        bridge_config__get_uint(x, o, "max_endpoints",
                                key_path(path, sizeof(path), sec, "max_endpoints"), 1, 100000,
                                &max_ep);
    }
    pr->rate_per_min = (unsigned)rate;
    pr->burst = (unsigned)(burst ? burst : rate);
    pr->max_age_s = (unsigned)age;
    pr->max_endpoints = (unsigned)max_ep;
}

/* One push channel's section; the VAPID keys only in "webpush". */
static void parse_section(struct bridge_config_ctx *x, json_object *doc, const char *name,
                          struct bridge_push_settings *set)
{
    static const char *const keys[] = {"enabled",      "subject",
                                       "jwt_ttl_s",    "rotate_period_s",
                                       "ttl_s",        "urgency",
                                       "padding",      "expire_with_token",
                                       "max_per_user", "max_inflight",
                                       "retry_min_ms", "retry_max_ms",
                                       "streams",      NULL};
    static const char *const up_keys[] = {
        "enabled",           "ttl_s",        "urgency",      "padding",
        "expire_with_token", "max_per_user", "max_inflight", "retry_min_ms",
        "retry_max_ms",      "streams",      "provider",     NULL};
    bool wp = strcmp(name, "webpush") == 0;
    char sec[24], path[64];
    json_object *w, *arr;
    uint64_t jwt_ttl = 43200, rotate = 0, ttl = 86400, pad = 0, per_user = 20, inflight = 256,
             rmin = 1000, rmax = 300000;
    size_t i, n;

    snprintf(sec, sizeof(sec), "$.%s", name);
    w = bridge_config__get_object(x, doc, name, sec);
    set->urgency = strdup("normal");
    if (set->urgency == NULL)
        bridge_config__report(x, sec, "out of memory");
    set->enabled = w != NULL;
    if (w == NULL)
        goto out;
    bridge_config__check_keys(x, w, sec, wp ? keys : up_keys);
    if (!wp)
        parse_provider(x, w, &set->provider);
    bridge_config__get_bool(x, w, "enabled", key_path(path, sizeof(path), sec, "enabled"),
                            &set->enabled);
    bridge_config__get_string(x, w, "subject", key_path(path, sizeof(path), sec, "subject"),
                              &set->subject);
    if (wp && set->enabled && set->subject == NULL)
        bridge_config__report(x, key_path(path, sizeof(path), sec, "subject"),
                              "required: a mailto: or https: URL push services can reach you "
                              "at (RFC 8292 2.1)");
    else if (set->subject && !webpush_vapid_subject_ok(set->subject))
        bridge_config__report(x, key_path(path, sizeof(path), sec, "subject"),
                              "must be a mailto: or https: URL");
    bridge_config__get_uint(x, w, "jwt_ttl_s", key_path(path, sizeof(path), sec, "jwt_ttl_s"), 60,
                            86400, &jwt_ttl);
    bridge_config__get_uint(x, w, "rotate_period_s",
                            key_path(path, sizeof(path), sec, "rotate_period_s"), 0, 366u * 86400,
                            &rotate);
    if (rotate > 0 && rotate < 60)
        bridge_config__report(x, key_path(path, sizeof(path), sec, "rotate_period_s"),
                              "must be 0 or at least 60");
    bridge_config__get_uint(x, w, "ttl_s", key_path(path, sizeof(path), sec, "ttl_s"), 0, 2419200,
                            &ttl);
    get_urgency(x, w, key_path(path, sizeof(path), sec, "urgency"), &set->urgency);
    bridge_config__get_uint(x, w, "padding", key_path(path, sizeof(path), sec, "padding"), 0, 3993,
                            &pad);
    bridge_config__get_bool(x, w, "expire_with_token",
                            key_path(path, sizeof(path), sec, "expire_with_token"),
                            &set->expire_with_token);
    bridge_config__get_uint(x, w, "max_per_user", key_path(path, sizeof(path), sec, "max_per_user"),
                            1, 10000, &per_user);
    bridge_config__get_uint(x, w, "max_inflight", key_path(path, sizeof(path), sec, "max_inflight"),
                            1, 65536, &inflight);
    bridge_config__get_uint(x, w, "retry_min_ms", key_path(path, sizeof(path), sec, "retry_min_ms"),
                            10, 3600000, &rmin);
    bridge_config__get_uint(x, w, "retry_max_ms", key_path(path, sizeof(path), sec, "retry_max_ms"),
                            10, 86400000, &rmax);
    if (rmax < rmin)
        rmax = rmin;
    set->ttl_s = (unsigned)ttl;
    if (!json_object_object_get_ex(w, "streams", &arr))
        goto out;
    if (!json_object_is_type(arr, json_type_array)) {
        bridge_config__report(x, key_path(path, sizeof(path), sec, "streams"), "must be an array");
        goto out;
    }
    n = json_object_array_length(arr);
    set->streams = calloc(n ? n : 1, sizeof(*set->streams));
    if (set->streams == NULL) {
        bridge_config__report(x, key_path(path, sizeof(path), sec, "streams"), "out of memory");
        goto out;
    }
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s.streams[%zu]", sec, i);
        parse_stream(x, json_object_array_get_idx(arr, i), path, set);
    }
out:
    set->jwt_ttl_s = (unsigned)jwt_ttl;
    set->rotate_period_s = (unsigned)rotate;
    set->ttl_s = (unsigned)ttl;
    set->padding = (unsigned)pad;
    set->max_per_user = (unsigned)per_user;
    set->max_inflight = (unsigned)inflight;
    set->retry_min_ms = (unsigned)rmin;
    set->retry_max_ms = (unsigned)rmax;
}

void bridge_config__webpush(struct bridge_config_ctx *x, json_object *doc,
                            struct bridge_config *cfg)
{
    parse_section(x, doc, "webpush", &cfg->webpush);
    parse_section(x, doc, "unifiedpush", &cfg->unifiedpush);
}

static void free_section(struct bridge_push_settings *set)
{
    size_t i;

    for (i = 0; i < set->n_streams; i++) {
        free(set->streams[i].tenant);
        free(set->streams[i].stream);
        free(set->streams[i].urgency);
        free(set->streams[i].topic_path);
    }
    free(set->streams);
    free(set->subject);
    free(set->urgency);
}

void bridge_config__webpush_free(struct bridge_config *cfg)
{
    free_section(&cfg->webpush);
    free_section(&cfg->unifiedpush);
}
