/*
 * Access decisions. A grant is computed once per identity and configuration generation; the
 * check itself (called by the broker for every subscriber of every message) then costs a topic
 * split, at most one tenant and one stream lookup, and a bit test.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "access.h"
#include "b64url.h"
#include "topic.h"

#define BITS_PER_WORD 64

static bool bitmap_on_heap(const struct mqp_grant *g)
{
    return g->words > MQP_GRANT_INLINE_WORDS;
}

/* The inline words are addressed through g itself, so a grant copied by value stays valid. */
static const uint64_t *bitmap(const struct mqp_grant *g)
{
    return bitmap_on_heap(g) ? g->readable : g->inline_bits;
}

static bool holds_any_role(const struct mqp_identity *id, const struct mqp_stream *s)
{
    for (size_t i = 0; i < s->n_subscriber_roles; i++) {
        if (mqp_identity_has_role(id, s->subscriber_roles[i]))
            return true;
    }
    return false;
}

int mqp_owner_key(const char *sub, char out[MQP_OWNER_KEY_LEN + 1])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    size_t len = 0;
    char *enc = NULL;
    int rc = -1;

    out[0] = '\0';
    if (sub == NULL || sub[0] == '\0')
        goto out;
    if (EVP_Digest(sub, strlen(sub), md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
        goto out;
    enc = mqp_b64url_encode(md, sizeof(md), &len);
    if (enc == NULL || len != MQP_OWNER_KEY_LEN)
        goto out;
    memcpy(out, enc, len + 1);
    rc = 0;
out:
    free(enc);
    return rc;
}

int mqp_grant_compute(const struct mqp_config *cfg, const struct mqp_identity *id,
                      struct mqp_grant *g)
{
    const struct mqp_tenant *t;
    uint64_t *bits;
    bool listener;

    memset(g, 0, sizeof(*g));
    g->readable = g->inline_bits;
    g->generation = cfg ? cfg->generation : 0;
    if (id == NULL)
        return 0;
    g->flags = MQP_GRANT_TOKEN;
    if (id->kind == MQP_IDENTITY_SERVICE) {
        if (mqp_identity_has_role(id, MQP_ROLE_BRIDGE))
            g->flags |= MQP_GRANT_ALL_TENANTS;
        return 0;
    }
    if (id->kind != MQP_IDENTITY_TENANT || id->tenant == NULL)
        return 0;
    /* A tenant removed by a reload leaves its holders with a token that opens nothing. */
    t = mqp_config_tenant(cfg, id->tenant, strlen(id->tenant));
    if (t == NULL)
        return 0;
    g->tenant = t;
    /* Without a "sub" (or when hashing fails) the holder simply has no UnifiedPush topics. */
    (void)mqp_owner_key(id->sub, g->owner);
    if (mqp_identity_has_role(id, MQP_ROLE_PUBLISHER))
        g->flags |= MQP_GRANT_PUBLISH;
    g->words = (t->n_streams + BITS_PER_WORD - 1) / BITS_PER_WORD;
    bits = g->inline_bits;
    if (bitmap_on_heap(g)) {
        bits = calloc(g->words, sizeof(*bits));
        if (bits == NULL) {
            /* Fail closed: a token holder without tenant is denied everything. */
            g->tenant = NULL;
            g->flags = MQP_GRANT_TOKEN;
            g->words = 0;
            return -1;
        }
        g->readable = bits;
    }
    listener = mqp_identity_has_role(id, MQP_ROLE_LISTENER);
    for (size_t i = 0; i < t->n_streams; i++) {
        const struct mqp_stream *s = &t->streams[i];

        if (s->public_subscribe || listener || holds_any_role(id, s))
            bits[i / BITS_PER_WORD] |= UINT64_C(1) << (i % BITS_PER_WORD);
    }
    return 0;
}

void mqp_grant_clear(struct mqp_grant *g)
{
    if (g == NULL)
        return;
    if (bitmap_on_heap(g))
        free(g->readable);
    memset(g, 0, sizeof(*g));
    g->readable = g->inline_bits;
}

bool mqp_grant_can_read(const struct mqp_grant *g, const struct mqp_stream *s)
{
    if (g == NULL || s == NULL)
        return false;
    if (g->flags & MQP_GRANT_ALL_TENANTS)
        return true;
    if (!(g->flags & MQP_GRANT_TOKEN))
        return s->public_subscribe;
    if (g->tenant == NULL || s->tenant != g->tenant || s->index / BITS_PER_WORD >= g->words)
        return false;
    return (bitmap(g)[s->index / BITS_PER_WORD] >> (s->index % BITS_PER_WORD)) & 1u;
}

bool mqp_stream_readable(const struct mqp_stream *s, const struct mqp_identity *id)
{
    if (s == NULL)
        return false;
    if (s->public_subscribe)
        return true;
    if (id == NULL)
        return false;
    if (id->kind == MQP_IDENTITY_SERVICE)
        return mqp_identity_has_role(id, MQP_ROLE_BRIDGE);
    if (id->kind != MQP_IDENTITY_TENANT || id->tenant == NULL || s->tenant == NULL ||
        strcmp(id->tenant, s->tenant->id) != 0)
        return false;
    return mqp_identity_has_role(id, MQP_ROLE_LISTENER) || holds_any_role(id, s);
}

/* True for "<tenant>/events/<ns>/<name>" with identifier levels; *tenant gets level 0. */
static bool event_topic(const char *topic, struct mqp_level *tenant)
{
    struct mqp_level ns, name;

    return mqp_topic_parse_event(topic, tenant, &ns, &name) && mqp_id_valid(ns.s, ns.len) &&
           mqp_id_valid(name.s, name.len);
}

static bool is_unifiedpush(const struct mqp_topic_view *v)
{
    return v->n >= 2 && mqp_level_eq(&v->level[1], MQP_UNIFIEDPUSH_LEVEL);
}

/*
 * <tenant>/~unifiedpush/<owner>/... for the holder whose owner key is <owner>: read, and
 * subscribe with wildcards only below <owner> (an owner key is base64url, never "+" or "#", so
 * a wildcard at that level never matches). Nobody but the bridge writes there: the messages
 * come from application servers through the bridge, which checked their endpoint.
 */
static enum mqp_decision check_unifiedpush_holder(const struct mqp_grant *g,
                                                  const struct mqp_topic_view *v, int access)
{
    const struct mqp_level *k = &v->level[2];
    size_t n = strlen(g->owner);

    if (access == MQP_ACCESS_WRITE || n == 0 || v->n < 4 || k->len != n ||
        memcmp(k->s, g->owner, n) != 0)
        return MQP_DENY;
    return MQP_ALLOW;
}

static bool plain_level(const char *s, size_t len)
{
    return len > 0 && memchr(s, '+', len) == NULL && memchr(s, '#', len) == NULL;
}

/* The bridge's publication "<tenant>/~unifiedpush/<owner key>/<endpoint id>" of a configured
 * tenant: exactly four levels, no wildcard. */
static bool unifiedpush_write_topic(const struct mqp_config *cfg, const struct mqp_topic_view *v)
{
    const struct mqp_level *l0 = &v->level[0], *k = &v->level[2];
    const char *last;

    if (v->n != 4 || k->len != MQP_OWNER_KEY_LEN || !plain_level(k->s, k->len))
        return false;
    last = k->s + k->len + 1;
    if (!plain_level(last, strlen(last)))
        return false;
    return mqp_config_tenant(cfg, l0->s, l0->len) != NULL;
}

/* The holder of a tenant token: its own tenant's readable streams, its own event topics. */
static enum mqp_decision check_tenant(const struct mqp_grant *g, const struct mqp_topic_view *v,
                                      const char *topic, int access)
{
    const struct mqp_tenant *t = g->tenant;
    const struct mqp_level *l1 = &v->level[1];
    struct mqp_level tl;

    /* Tenant ids cannot hold '$', '+' or '#', so this also keeps out $SYS and level-0
     * wildcards that would span tenants. */
    if (v->level[0].len != strlen(t->id) || memcmp(v->level[0].s, t->id, v->level[0].len) != 0)
        return MQP_DENY;
    if (is_unifiedpush(v))
        return check_unifiedpush_holder(g, v, access);
    switch (access) {
    case MQP_ACCESS_READ:
        if (v->n < 3)
            return MQP_DENY;
        return mqp_grant_can_read(g, mqp_tenant_stream(t, l1->s, l1->len)) ? MQP_ALLOW : MQP_DENY;
    case MQP_ACCESS_WRITE:
        return (g->flags & MQP_GRANT_PUBLISH) && event_topic(topic, &tl) ? MQP_ALLOW : MQP_DENY;
    case MQP_ACCESS_SUBSCRIBE:
        if (v->n < 2)
            return MQP_DENY;
        /* A wildcard at level 1 is safe: each delivery is checked again with READ, which
         * drops event topics and streams the holder may not read. */
        if (mqp_level_is_wildcard(l1))
            return MQP_ALLOW;
        return mqp_grant_can_read(g, mqp_tenant_stream(t, l1->s, l1->len)) ? MQP_ALLOW : MQP_DENY;
    }
    return MQP_DENY;
}

/* The bridge (service token with mqpush-bridge): every tenant's streams and event topics. */
static enum mqp_decision check_all_tenants(const struct mqp_config *cfg,
                                           const struct mqp_topic_view *v, const char *topic,
                                           int access)
{
    const struct mqp_level *l0 = &v->level[0], *l1 = &v->level[1];
    const struct mqp_tenant *t;
    struct mqp_level tl;

    /* It writes UnifiedPush messages and reads none: they are for their owner alone. */
    if (is_unifiedpush(v))
        return access == MQP_ACCESS_WRITE && unifiedpush_write_topic(cfg, v) ? MQP_ALLOW : MQP_DENY;
    switch (access) {
    case MQP_ACCESS_READ:
        if (v->n < 3)
            return MQP_DENY;
        t = mqp_config_tenant(cfg, l0->s, l0->len);
        return mqp_tenant_stream(t, l1->s, l1->len) != NULL ? MQP_ALLOW : MQP_DENY;
    case MQP_ACCESS_WRITE:
        if (!event_topic(topic, &tl))
            return MQP_DENY;
        return mqp_config_tenant(cfg, tl.s, tl.len) != NULL ? MQP_ALLOW : MQP_DENY;
    case MQP_ACCESS_SUBSCRIBE:
        if (v->n == 1)
            return mqp_level_eq(l0, "#") ? MQP_ALLOW : MQP_DENY;
        if (mqp_level_eq(l0, "+"))
            return mqp_level_eq(l1, MQP_EVENTS_LEVEL) ? MQP_DENY : MQP_ALLOW;
        t = mqp_config_tenant(cfg, l0->s, l0->len);
        if (t == NULL)
            return MQP_DENY;
        if (mqp_level_is_wildcard(l1) || mqp_tenant_stream(t, l1->s, l1->len) != NULL)
            return MQP_ALLOW;
        return MQP_DENY;
    }
    return MQP_DENY;
}

/*
 * Clients without our token. Inside a configured tenant's space we know the answer for stream
 * topics; event topics and everything outside belong to whatever else authenticates them.
 */
static enum mqp_decision check_foreign(const struct mqp_config *cfg, const struct mqp_topic_view *v,
                                       int access)
{
    const struct mqp_level *l1 = &v->level[1];
    const struct mqp_tenant *t = mqp_config_tenant(cfg, v->level[0].s, v->level[0].len);
    const struct mqp_stream *s;

    if (t == NULL || v->n < 2 || mqp_level_eq(l1, MQP_EVENTS_LEVEL))
        return MQP_DEFER;
    if (access == MQP_ACCESS_WRITE)
        return MQP_DENY;
    if (access == MQP_ACCESS_SUBSCRIBE && mqp_level_is_wildcard(l1))
        return MQP_ALLOW;
    if (access == MQP_ACCESS_READ && v->n < 3)
        return MQP_DENY;
    s = mqp_tenant_stream(t, l1->s, l1->len);
    return s != NULL && s->public_subscribe ? MQP_ALLOW : MQP_DENY;
}

enum mqp_decision mqp_access_check(const struct mqp_config *cfg, const struct mqp_grant *g,
                                   const char *topic, int access)
{
    struct mqp_topic_view v;

    if (access == MQP_ACCESS_UNSUBSCRIBE)
        return MQP_ALLOW;
    if (g == NULL || topic == NULL)
        return MQP_DENY;
    if (access != MQP_ACCESS_READ && access != MQP_ACCESS_WRITE && access != MQP_ACCESS_SUBSCRIBE)
        return MQP_DENY;
    if (access == MQP_ACCESS_SUBSCRIBE) {
        topic = mqp_topic_strip_share(topic);
        if (topic == NULL)
            return MQP_DENY;
    }
    mqp_topic_split(topic, &v);
    if (!(g->flags & MQP_GRANT_TOKEN))
        return check_foreign(cfg, &v, access);
    /* A grant from another generation may point into a freed model: fail closed until the
     * caller recomputes it. */
    if (cfg == NULL || g->generation != cfg->generation)
        return MQP_DENY;
    /* Token holders get only what level 0 = a configured tenant (or a wildcard, for the
     * bridge) opens; tenant ids cannot start with '$', so $SYS and the like are denied. */
    if (g->flags & MQP_GRANT_ALL_TENANTS)
        return check_all_tenants(cfg, &v, topic, access);
    if (g->tenant != NULL)
        return check_tenant(g, &v, topic, access);
    return MQP_DENY;
}
