/*
 * The clients' rights across a broker restart: see state.h. One JSON object per client, in an
 * array: {"id", "kind", "tenant", "roles", "exp", "owner", "claims"}.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

static json_object *entry_json(const struct mqp_client *c)
{
    json_object *o = json_object_new_object(), *roles = json_object_new_array();

    if (o == NULL || roles == NULL) {
        json_object_put(o);
        json_object_put(roles);
        return NULL;
    }
    json_object_object_add(o, "id", json_object_new_string(c->id));
    json_object_object_add(o, "kind", json_object_new_int(c->kind));
    if (c->tenant)
        json_object_object_add(o, "tenant", json_object_new_string(c->tenant));
    for (size_t i = 0; i < c->n_roles; i++)
        json_object_array_add(roles, json_object_new_string(c->roles[i]));
    json_object_object_add(o, "roles", roles);
    json_object_object_add(o, "exp", json_object_new_int64(c->exp));
    if (c->grant.owner[0])
        json_object_object_add(o, "owner", json_object_new_string(c->grant.owner));
    if (c->claims)
        json_object_object_add(o, "claims", json_object_get(c->claims));
    return o;
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, s, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

int mqp_state_save(const struct mqp_clients *t, const char *path)
{
    json_object *all = json_object_new_array();
    const struct mqp_client *c, *tmp;
    size_t plen = strlen(path);
    char *tmpname = malloc(plen + 5);
    const char *text;
    int fd = -1, rc = -1, saved;

    if (all == NULL || tmpname == NULL)
        goto cleanup;
    HASH_ITER(hh, t->by_id, c, tmp)
    {
        json_object *o = entry_json(c);

        if (o == NULL || json_object_array_add(all, o) != 0) {
            json_object_put(o);
            goto cleanup;
        }
    }
    text = json_object_to_json_string_ext(all, JSON_C_TO_STRING_PLAIN);
    snprintf(tmpname, plen + 5, "%s.tmp", path);
    /* Claims and roles are the clients' own: readable by the broker's user only. */
    fd = open(tmpname, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0)
        goto cleanup;
    if (close(fd) != 0) {
        fd = -1;
        goto cleanup;
    }
    fd = -1;
    if (rename(tmpname, path) != 0)
        goto cleanup;
    rc = 0;
cleanup:
    saved = errno;
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmpname)
        unlink(tmpname);
    free(tmpname);
    json_object_put(all);
    errno = saved;
    return rc;
}

static const char *get_string(json_object *o, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* One entry into t; 1 restored, 0 skipped (expired), -1 malformed. */
static int restore_one(struct mqp_clients *t, json_object *o, const struct mqp_config *cfg,
                       int64_t now)
{
    struct mqp_identity ident;
    json_object *kind, *exp, *roles, *claims = NULL;
    const char *id = get_string(o, "id"), *owner = get_string(o, "owner");
    char *role_ptrs[256];
    size_t n = 0;

    memset(&ident, 0, sizeof(ident));
    if (id == NULL || !json_object_object_get_ex(o, "kind", &kind) ||
        !json_object_is_type(kind, json_type_int) || !json_object_object_get_ex(o, "exp", &exp) ||
        !json_object_is_type(exp, json_type_int) ||
        !json_object_object_get_ex(o, "roles", &roles) ||
        !json_object_is_type(roles, json_type_array) ||
        json_object_array_length(roles) > sizeof(role_ptrs) / sizeof(role_ptrs[0]))
        return -1;
    ident.kind = json_object_get_int(kind);
    if (ident.kind != MQP_IDENTITY_TENANT && ident.kind != MQP_IDENTITY_SERVICE)
        return -1;
    ident.exp = json_object_get_int64(exp);
    if (ident.exp <= now)
        return 0;
    ident.tenant = (char *)get_string(o, "tenant");
    if ((ident.kind == MQP_IDENTITY_TENANT) != (ident.tenant != NULL))
        return -1;
    for (n = 0; n < json_object_array_length(roles); n++) {
        json_object *r = json_object_array_get_idx(roles, n);

        if (!json_object_is_type(r, json_type_string))
            return -1;
        role_ptrs[n] = (char *)json_object_get_string(r);
    }
    ident.roles = role_ptrs;
    ident.n_roles = n;
    if (json_object_object_get_ex(o, "claims", &claims) &&
        json_object_is_type(claims, json_type_object))
        ident.claims = claims;
    if (owner && strlen(owner) != MQP_OWNER_KEY_LEN)
        return -1;
    return mqp_clients_restore(t, id, &ident, owner, cfg) ? 1 : -1;
}

int mqp_state_load(struct mqp_clients *t, const char *path, const struct mqp_config *cfg,
                   int64_t now)
{
    json_object *all;
    size_t i;
    int n = 0;

    if (access(path, F_OK) != 0 && errno == ENOENT)
        return 0;
    all = json_object_from_file(path);
    if (all == NULL || !json_object_is_type(all, json_type_array)) {
        json_object_put(all);
        return -1;
    }
    for (i = 0; i < json_object_array_length(all); i++) {
        int rc = restore_one(t, json_object_array_get_idx(all, i), cfg, now);

        if (rc < 0) {
            json_object_put(all);
            return -1;
        }
        n += rc;
    }
    json_object_put(all);
    return n;
}
