/*
 * Identities in and out of the store as one JSON object, so that a new claim needs no schema
 * change.
 */
#include "store/identity.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

static void put_str(json_object *o, const char *key, const char *v)
{
    if (v)
        json_object_object_add(o, key, json_object_new_string(v));
}

char *store_identity_encode(const struct mqp_identity *id)
{
    json_object *o = json_object_new_object(), *roles = json_object_new_array();
    char *text = NULL;
    size_t i;

    if (o == NULL || roles == NULL) {
        json_object_put(o);
        json_object_put(roles);
        return NULL;
    }
    json_object_object_add(o, "kind", json_object_new_int(id->kind));
    put_str(o, "tenant", id->tenant);
    for (i = 0; i < id->n_roles; i++)
        json_object_array_add(roles, json_object_new_string(id->roles[i]));
    json_object_object_add(o, "roles", roles);
    put_str(o, "sub", id->sub);
    put_str(o, "sid", id->sid);
    put_str(o, "jti", id->jti);
    json_object_object_add(o, "exp", json_object_new_int64(id->exp));
    if (id->claims)
        json_object_object_add(o, "claims", json_object_get(id->claims));
    text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return text;
}

static int get_str(json_object *o, const char *key, char **out)
{
    json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return -1;
    *out = strdup(json_object_get_string(v));
    return *out ? 0 : -1;
}

int store_identity_decode(const char *text, struct mqp_identity **out)
{
    /* claims may nest as deep as a token may (core/jwt.c), one more level here */
    json_tokener *tok = json_tokener_new_ex(64);
    json_object *o = tok ? json_tokener_parse_ex(tok, text, (int)strlen(text)) : NULL, *v;
    struct mqp_identity *id = calloc(1, sizeof(*id));
    size_t i, n;
    int rc = -1;

    *out = NULL;
    if (o == NULL || id == NULL || !json_object_is_type(o, json_type_object))
        goto out;
    if (!json_object_object_get_ex(o, "kind", &v) || !json_object_is_type(v, json_type_int))
        goto out;
    id->kind = (enum mqp_identity_kind)json_object_get_int(v);
    if (id->kind != MQP_IDENTITY_TENANT && id->kind != MQP_IDENTITY_SERVICE)
        goto out;
    if (get_str(o, "tenant", &id->tenant) || get_str(o, "sub", &id->sub) ||
        get_str(o, "sid", &id->sid) || get_str(o, "jti", &id->jti))
        goto out;
    id->exp = json_object_object_get_ex(o, "exp", &v) ? json_object_get_int64(v) : INT64_MAX;
    if (json_object_object_get_ex(o, "roles", &v)) {
        if (!json_object_is_type(v, json_type_array))
            goto out;
        n = json_object_array_length(v);
        id->roles = calloc(n ? n : 1, sizeof(*id->roles));
        if (id->roles == NULL)
            goto out;
        for (i = 0; i < n; i++) {
            json_object *r = json_object_array_get_idx(v, i);

            if (!json_object_is_type(r, json_type_string))
                goto out;
            id->roles[id->n_roles] = strdup(json_object_get_string(r));
            if (id->roles[id->n_roles] == NULL)
                goto out;
            id->n_roles++;
        }
    }
    if (json_object_object_get_ex(o, "claims", &v))
        id->claims = json_object_get(v);
    *out = id;
    id = NULL;
    rc = 0;
out:
    mqp_identity_free(id);
    json_object_put(o);
    json_tokener_free(tok);
    return rc;
}
