/*
 * Per-client state table. See clients.h.
 */

/* Inside the broker an allocation failure must refuse one client, not exit the process. */
#define HASH_NONFATAL_OOM 1

#include "clients.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mqp_clients_init(struct mqp_clients *t)
{
    t->by_id = NULL;
    t->earliest_exp = INT64_MAX;
}

/* Copy n strings into one block: n pointers, then the strings they point to. */
static char **pack_strings(char *const *src, size_t n)
{
    size_t size = n * sizeof(char *);
    char **out;
    char *text;

    for (size_t i = 0; i < n; i++)
        size += strlen(src[i]) + 1;
    out = malloc(size);
    if (!out)
        return NULL;
    text = (char *)(out + n);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(src[i]) + 1;

        memcpy(text, src[i], len);
        out[i] = text;
        text += len;
    }
    return out;
}

/* Claims cost memory for every client; only tenants with subscriber criteria read them. */
static bool needs_claims(const struct mqp_identity *ident, const struct mqp_config *cfg)
{
    const struct mqp_tenant *t;

    if (ident->kind != MQP_IDENTITY_TENANT || ident->tenant == NULL || ident->claims == NULL)
        return false;
    t = mqp_config_tenant(cfg, ident->tenant, strlen(ident->tenant));
    return t != NULL && t->has_subscriber_criteria;
}

static struct mqp_client *client_new(const char *id, const struct mqp_identity *ident,
                                     const struct mqp_config *cfg, const void *conn)
{
    size_t id_len = strlen(id) + 1;
    size_t tenant_len = ident->tenant ? strlen(ident->tenant) + 1 : 0;
    struct mqp_client *c = calloc(1, sizeof(*c) + id_len + tenant_len);

    if (!c)
        return NULL;
    if (ident->n_roles > 0) {
        c->roles = pack_strings(ident->roles, ident->n_roles);
        if (!c->roles) {
            free(c);
            return NULL;
        }
    }
    c->n_roles = ident->n_roles;
    memcpy(c->id, id, id_len);
    if (ident->tenant) {
        memcpy(c->id + id_len, ident->tenant, tenant_len);
        c->tenant = c->id + id_len;
    }
    c->kind = ident->kind;
    c->exp = ident->exp;
    if (needs_claims(ident, cfg))
        c->claims = json_object_get(ident->claims);
    c->conn = conn;
    c->online = true;
    return c;
}

void mqp_client_free(struct mqp_client *c)
{
    if (!c)
        return;
    mqp_grant_clear(&c->grant);
    json_object_put(c->claims);
    free(c->roles);
    free(c);
}

/* Add c; with HASH_NONFATAL_OOM uthash leaves hh.tbl NULL when it could not. */
static bool table_add(struct mqp_clients *t, struct mqp_client *c)
{
    HASH_ADD_KEYPTR(hh, t->by_id, c->id, strlen(c->id), c);
    return c->hh.tbl != NULL;
}

struct mqp_client *mqp_clients_put(struct mqp_clients *t, const char *id,
                                   const struct mqp_identity *ident, const struct mqp_config *cfg,
                                   const void *conn)
{
    struct mqp_client *c = client_new(id, ident, cfg, conn);
    struct mqp_client *old, *stored = NULL;

    if (!c || mqp_grant_compute(cfg, ident, &c->grant) != 0)
        goto out;
    old = mqp_clients_find(t, id);
    if (old)
        HASH_DEL(t->by_id, old);
    if (!table_add(t, c)) {
        if (old && !table_add(t, old))
            mqp_client_free(old);
        goto out;
    }
    mqp_client_free(old);
    if (c->exp < t->earliest_exp)
        t->earliest_exp = c->exp;
    stored = c;
    c = NULL;
out:
    mqp_client_free(c);
    return stored;
}

struct mqp_client *mqp_clients_restore(struct mqp_clients *t, const char *id,
                                       const struct mqp_identity *ident, const char *owner,
                                       const struct mqp_config *cfg)
{
    struct mqp_client *c = mqp_clients_put(t, id, ident, cfg, NULL);

    if (c == NULL)
        return NULL;
    c->online = false;
    c->restored = true;
    /* The owner key came from the token's "sub", which is not kept. */
    if (owner && c->grant.tenant != NULL)
        snprintf(c->grant.owner, sizeof(c->grant.owner), "%s", owner);
    return c;
}

struct mqp_client *mqp_clients_find(const struct mqp_clients *t, const char *id)
{
    struct mqp_client *c = NULL;

    if (id)
        HASH_FIND(hh, t->by_id, id, strlen(id), c);
    return c;
}

void mqp_clients_remove(struct mqp_clients *t, struct mqp_client *c)
{
    if (!c)
        return;
    HASH_DEL(t->by_id, c);
    mqp_client_free(c);
}

size_t mqp_clients_count(const struct mqp_clients *t)
{
    return HASH_COUNT(t->by_id);
}

const struct mqp_grant *mqp_client_grant(struct mqp_client *c, const struct mqp_config *cfg)
{
    char owner[MQP_OWNER_KEY_LEN + 1];
    struct mqp_identity view;

    if (c->grant.generation == cfg->generation)
        return &c->grant;
    /* A view over the stored fields: the grant depends on kind, tenant and roles only. */
    memset(&view, 0, sizeof(view));
    view.kind = c->kind;
    view.tenant = (char *)c->tenant;
    view.roles = c->roles;
    view.n_roles = c->n_roles;
    view.exp = c->exp;
    /* The owner key comes from the token's "sub", which is not kept; it does not depend on
     * the configuration, so it carries over. */
    memcpy(owner, c->grant.owner, sizeof(owner));
    mqp_grant_clear(&c->grant);
    /* On failure core leaves a grant that denies everything: fail closed. */
    (void)mqp_grant_compute(cfg, &view, &c->grant);
    if (c->grant.tenant != NULL)
        memcpy(c->grant.owner, owner, sizeof(owner));
    return &c->grant;
}

struct mqp_client *mqp_clients_take_expired(struct mqp_clients *t, int64_t cutoff)
{
    struct mqp_client *c, *tmp, *list = NULL;
    int64_t earliest = INT64_MAX;

    if (cutoff <= t->earliest_exp)
        return NULL;
    HASH_ITER(hh, t->by_id, c, tmp)
    {
        if (c->exp < cutoff) {
            HASH_DEL(t->by_id, c);
            c->next = list;
            list = c;
        } else if (c->exp < earliest) {
            earliest = c->exp;
        }
    }
    t->earliest_exp = earliest;
    return list;
}

void mqp_clients_clear(struct mqp_clients *t)
{
    struct mqp_client *c;

    while ((c = t->by_id) != NULL) {
        HASH_DEL(t->by_id, c);
        mqp_client_free(c);
    }
    t->earliest_exp = INT64_MAX;
}
