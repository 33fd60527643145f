/*
 * Registered JWT claims and the JOSE "typ" header, read strictly: a claim of the wrong JSON
 * type is reported, never coerced (json-c would turn "123" into 123).
 */
#include "claims.h"

#include <string.h>
#include <strings.h>

int mqp_claim_numeric_date(json_object *claims, const char *name, int64_t *out)
{
    json_object *v;
    double d;

    if (!json_object_object_get_ex(claims, name, &v))
        return 1;
    if (json_object_is_type(v, json_type_int)) {
        /* json-c saturates integers beyond int64 at INT64_MIN/INT64_MAX. */
        *out = json_object_get_int64(v);
        return 0;
    }
    if (!json_object_is_type(v, json_type_double))
        return -1;
    d = json_object_get_double(v);
    /* NaN compares false both ways: refuse it rather than convert it (undefined). */
    if (!(d == d))
        return -1;
    if (d >= 9.2e18)
        *out = INT64_MAX;
    else if (d <= -9.2e18)
        *out = INT64_MIN;
    else
        *out = (int64_t)d;
    return 0;
}

int mqp_claim_string(json_object *claims, const char *name, const char **out)
{
    json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(claims, name, &v))
        return 0;
    if (!json_object_is_type(v, json_type_string) ||
        strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
        return -1;
    *out = json_object_get_string(v);
    return 0;
}

static bool same_string(json_object *v, const char *s)
{
    return json_object_is_type(v, json_type_string) &&
           (size_t)json_object_get_string_len(v) == strlen(s) &&
           memcmp(json_object_get_string(v), s, strlen(s)) == 0;
}

int mqp_claim_aud_contains(json_object *claims, const char *audience)
{
    json_object *aud;
    int found = 0;

    if (!json_object_object_get_ex(claims, "aud", &aud))
        return 0;
    if (json_object_is_type(aud, json_type_string))
        return audience != NULL && same_string(aud, audience);
    if (!json_object_is_type(aud, json_type_array))
        return -1;
    for (size_t i = 0; i < json_object_array_length(aud); i++) {
        json_object *a = json_object_array_get_idx(aud, i);

        /* Every member is checked for its type, also after a match: a malformed "aud" is
         * malformed wherever the bad member stands. */
        if (!json_object_is_type(a, json_type_string))
            return -1;
        if (audience != NULL && same_string(a, audience))
            found = 1;
    }
    return found;
}

bool mqp_jose_typ_is(const char *typ, const char *want)
{
    if (typ == NULL || want == NULL)
        return false;
    if (strncasecmp(typ, "application/", 12) == 0)
        typ += 12;
    if (strncasecmp(want, "application/", 12) == 0)
        want += 12;
    return strcasecmp(typ, want) == 0;
}
