/*
 * The stream model: lookups over the hash tables config.c builds, identifier rules, and
 * tearing a model down. Lookups take (pointer, length) so callers can pass topic levels
 * straight from the topic string without copying them.
 */
#include <stdlib.h>
#include <string.h>

/* uthash exits the process on OOM unless told otherwise; record it and fail the build. */
static _Thread_local int hash_oom;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (hash_oom = 1)

#include "stream.h"
#include "subscriber.h"

const struct mqp_tenant *mqp_config_tenant(const struct mqp_config *cfg, const char *id, size_t len)
{
    struct mqp_tenant *t = NULL;

    if (cfg == NULL || id == NULL || len == 0 || len > MQP_ID_MAX)
        return NULL;
    HASH_FIND(hh, cfg->tenants_by_id, id, len, t);
    return t;
}

const struct mqp_tenant *mqp_config_tenant_by_issuer(const struct mqp_config *cfg, const char *iss)
{
    struct mqp_tenant *t = NULL;

    if (cfg == NULL || iss == NULL)
        return NULL;
    HASH_FIND(hh_iss, cfg->tenants_by_issuer, iss, strlen(iss), t);
    return t;
}

const struct mqp_stream *mqp_tenant_stream(const struct mqp_tenant *t, const char *id, size_t len)
{
    struct mqp_stream *s = NULL;

    if (t == NULL || id == NULL || len == 0 || len > MQP_ID_MAX)
        return NULL;
    HASH_FIND(hh, t->by_id, id, len, s);
    return s;
}

const struct mqp_route *mqp_tenant_route(const struct mqp_tenant *t, const char *ns, size_t ns_len,
                                         const char *name, size_t name_len)
{
    /* Route keys are "<ns>:<name>"; both halves are identifiers, so the key fits here and the
     * lookup needs no heap memory. */
    char key[2 * MQP_ID_MAX + 2];
    struct mqp_route *r = NULL;

    if (t == NULL || ns == NULL || name == NULL || ns_len == 0 || name_len == 0 ||
        ns_len > MQP_ID_MAX || name_len > MQP_ID_MAX)
        return NULL;
    memcpy(key, ns, ns_len);
    key[ns_len] = ':';
    memcpy(key + ns_len + 1, name, name_len);
    HASH_FIND(hh, t->routes, key, ns_len + 1 + name_len, r);
    return r;
}

const struct mqp_stream *mqp_stream_ref_get(struct mqp_stream_ref *ref,
                                            const struct mqp_config *cfg, const char *tenant,
                                            const char *stream)
{
    const struct mqp_tenant *t;

    if (cfg == NULL || tenant == NULL || stream == NULL)
        return NULL;
    if (ref->generation != cfg->generation) {
        t = mqp_config_tenant(cfg, tenant, strlen(tenant));
        ref->stream = mqp_tenant_stream(t, stream, strlen(stream));
        ref->generation = cfg->generation;
    }
    return ref->stream;
}

bool mqp_id_valid(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > MQP_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* Add stream s (entry e) to the route of e's event, unless s is already on it. */
static int route_add(struct mqp_tenant *t, const struct mqp_stream *s,
                     const struct mqp_stream_event *e)
{
    size_t ns_len = strlen(e->namespace_), name_len = strlen(e->name);
    const struct mqp_route *found = mqp_tenant_route(t, e->namespace_, ns_len, e->name, name_len);
    struct mqp_route *r = (struct mqp_route *)found;
    const struct mqp_stream **streams;
    const struct mqp_stream_event **entries;

    if (r == NULL) {
        r = calloc(1, sizeof(*r));
        if (r == NULL)
            return -1;
        r->key = malloc(ns_len + 1 + name_len + 1);
        if (r->key == NULL) {
            free(r);
            return -1;
        }
        snprintf(r->key, ns_len + 1 + name_len + 1, "%s:%s", e->namespace_, e->name);
        hash_oom = 0;
        HASH_ADD_KEYPTR(hh, t->routes, r->key, ns_len + 1 + name_len, r);
        if (hash_oom) {
            free(r->key);
            free(r);
            return -1;
        }
    }
    /* Streams are added one after the other, so a repeat can only be the last one. */
    if (r->n > 0 && r->streams[r->n - 1] == s)
        return 0;
    streams = realloc(r->streams, (r->n + 1) * sizeof(*streams));
    if (streams == NULL)
        return -1;
    r->streams = streams;
    entries = realloc(r->entries, (r->n + 1) * sizeof(*entries));
    if (entries == NULL)
        return -1;
    r->entries = entries;
    r->streams[r->n] = s;
    r->entries[r->n] = e;
    r->n++;
    return 0;
}

static int tenant_build_indexes(struct mqp_tenant *t)
{
    for (size_t j = 0; j < t->n_streams; j++) {
        if (t->streams[j].subscriber_criteria != NULL)
            t->has_subscriber_criteria = true;
        for (size_t k = 0; k < t->streams[j].n_events; k++) {
            if (route_add(t, &t->streams[j], &t->streams[j].events[k]) != 0)
                return -1;
        }
    }
    return 0;
}

int mqp__config_build_indexes(struct mqp_config *cfg)
{
    for (size_t i = 0; i < cfg->n_tenants; i++) {
        if (tenant_build_indexes(&cfg->tenants[i]) != 0)
            return -1;
        if (cfg->tenants[i].has_subscriber_criteria)
            cfg->has_subscriber_criteria = true;
    }
    return 0;
}

static void stream_free(struct mqp_stream *s)
{
    free(s->id);
    free(s->name);
    free(s->description);
    for (size_t i = 0; i < s->n_subscriber_roles; i++)
        free(s->subscriber_roles[i]);
    free(s->subscriber_roles);
    for (size_t i = 0; i < s->n_events; i++) {
        free(s->events[i].namespace_);
        free(s->events[i].name);
        mqp_projection_free(s->events[i].map);
        mqp_criteria_free(s->events[i].criteria);
    }
    free(s->events);
    mqp_subscriber_criteria_free(s->subscriber_criteria);
}

static void issuer_free(struct mqp_issuer *iss)
{
    free(iss->issuer);
    free(iss->audience);
    free(iss->roles_client);
    mqp_jwks_free(iss->jwks);
}

static void tenant_free(struct mqp_tenant *t)
{
    struct mqp_route *r, *tmp;

    HASH_ITER(hh, t->routes, r, tmp)
    {
        HASH_DEL(t->routes, r);
        free(r->key);
        free(r->streams);
        free(r->entries);
        free(r);
    }
    HASH_CLEAR(hh, t->by_id);
    for (size_t i = 0; i < t->n_streams; i++)
        stream_free(&t->streams[i]);
    free(t->streams);
    free(t->id);
    issuer_free(&t->issuer);
}

void mqp_config_free(struct mqp_config *cfg)
{
    if (cfg == NULL)
        return;
    /* The hash tables index elements of the tenants array: drop them before the array. */
    HASH_CLEAR(hh, cfg->tenants_by_id);
    HASH_CLEAR(hh_iss, cfg->tenants_by_issuer);
    for (size_t i = 0; i < cfg->n_tenants; i++)
        tenant_free(&cfg->tenants[i]);
    free(cfg->tenants);
    issuer_free(&cfg->service);
    free(cfg->path);
    json_object_put(cfg->doc);
    free(cfg);
}
