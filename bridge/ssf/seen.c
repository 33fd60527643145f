/*
 * A bounded memory of published SETs: a hash for the lookup, a ring for the order of
 * forgetting. Keys are "<tenant>\n<iss>\n<jti>" (none of the three is compared across tenants).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include "ssf/receiver_int.h"

struct seen_entry {
    char *key;
    UT_hash_handle hh;
};

struct ssf_seen {
    struct seen_entry *by_key;
    struct seen_entry *ring[SSF_SEEN_MAX];
    size_t next; /* ring slot to fill (and whose entry to forget) next */
};

int ssf__seen_new(struct ssf_seen **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : -1;
}

void ssf__seen_free(struct ssf_seen *s)
{
    struct seen_entry *e, *tmp;

    if (s == NULL)
        return;
    HASH_ITER(hh, s->by_key, e, tmp)
    {
        HASH_DEL(s->by_key, e);
        free(e->key);
        free(e);
    }
    free(s);
}

/* The key, malloc()ed; NULL when out of memory. */
static char *make_key(const char *tenant, const char *iss, const char *jti)
{
    size_t n = strlen(tenant) + strlen(iss) + strlen(jti) + 3;
    char *k = malloc(n);

    if (k)
        snprintf(k, n, "%s\n%s\n%s", tenant, iss, jti);
    return k;
}

bool ssf__seen_has(const struct ssf_seen *s, const char *tenant, const char *iss, const char *jti)
{
    struct seen_entry *e = NULL;
    char *k = make_key(tenant, iss, jti);

    if (k == NULL)
        return false;
    HASH_FIND_STR(s->by_key, k, e);
    free(k);
    return e != NULL;
}

void ssf__seen_add(struct ssf_seen *s, const char *tenant, const char *iss, const char *jti)
{
    struct seen_entry *e, *old = s->ring[s->next];

    if (ssf__seen_has(s, tenant, iss, jti))
        return;
    e = calloc(1, sizeof(*e));
    if (e == NULL || (e->key = make_key(tenant, iss, jti)) == NULL) {
        free(e);
        return;
    }
    if (old) {
        HASH_DEL(s->by_key, old);
        free(old->key);
        free(old);
    }
    HASH_ADD_KEYPTR(hh, s->by_key, e->key, strlen(e->key), e);
    s->ring[s->next] = e;
    s->next = (s->next + 1) % SSF_SEEN_MAX;
}
