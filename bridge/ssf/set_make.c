/*
 * SETs of the transmitter. RFC 8417 2.2 defines the claims; SSF 1.0 section 4.1 profiles them:
 * "sub_id" at the top level (4.1.2), one event per SET (4.2.1 says should), no "sub" (the
 * subject is sub_id's) and no "exp" (4.1.7: a SET is not a token that expires).
 */
#include "ssf/set_make.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jwt.h"

json_object *ssf_set_make(const struct ssf_set_in *in)
{
    json_object *o = NULL, *events = NULL, *fmt;

    if (!in->iss || !in->aud || !in->jti || !in->type || !in->sub_id ||
        !json_object_is_type(in->sub_id, json_type_object) ||
        !json_object_object_get_ex(in->sub_id, "format", &fmt) ||
        (in->event && !json_object_is_type(in->event, json_type_object)))
        return NULL;
    o = json_object_new_object();
    events = json_object_new_object();
    if (o == NULL || events == NULL)
        goto fail;
    if (json_object_object_add(o, "iss", json_object_new_string(in->iss)) ||
        json_object_object_add(o, "aud", json_object_new_string(in->aud)) ||
        json_object_object_add(o, "iat", json_object_new_int64(in->iat)) ||
        json_object_object_add(o, "jti", json_object_new_string(in->jti)) ||
        json_object_object_add(o, "sub_id", json_object_get(in->sub_id)))
        goto fail;
    if (in->txn && json_object_object_add(o, "txn", json_object_new_string(in->txn)))
        goto fail;
    if (json_object_object_add(events, in->type,
                               in->event ? json_object_get(in->event) : json_object_new_object()))
        goto fail;
    if (json_object_object_add(o, "events", events))
        goto fail;
    return o;
fail:
    json_object_put(events);
    json_object_put(o);
    return NULL;
}

int ssf_set_jti(const char *event_id, const char *stream_id, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s.%s", event_id, stream_id);

    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static json_object *opaque(const char *id)
{
    json_object *o = json_object_new_object();

    if (o == NULL)
        return NULL;
    /* RFC 9493 3.2.4: an opaque identifier */
    json_object_object_add(o, "format", json_object_new_string("opaque"));
    json_object_object_add(o, "id", json_object_new_string(id));
    return o;
}

json_object *ssf_set_subject(json_object *value, const char *fallback)
{
    json_object *fmt;

    if (json_object_is_type(value, json_type_object) &&
        json_object_object_get_ex(value, "format", &fmt) &&
        json_object_is_type(fmt, json_type_string))
        return json_object_get(value);
    if (json_object_is_type(value, json_type_string) || json_object_is_type(value, json_type_int) ||
        json_object_is_type(value, json_type_double))
        return opaque(json_object_get_string(value));
    return opaque(fallback);
}

json_object *ssf_set_event_claims(json_object *stream_event, int64_t iat)
{
    static const char *const stamped[] = {"id", "namespace", "name", "timestamp"};
    json_object *o = json_object_new_object(), *payload;

    if (o == NULL)
        return NULL;
    if (json_object_object_get_ex(stream_event, "payload", &payload) &&
        json_object_is_type(payload, json_type_object)) {
        json_object_object_foreach(payload, k, v) json_object_object_add(o, k, json_object_get(v));
    } else if (json_object_is_type(stream_event, json_type_object)) {
        json_object_object_foreach(stream_event, k, v)
        {
            bool skip = false;

            for (size_t i = 0; i < 4; i++)
                skip = skip || strcmp(k, stamped[i]) == 0;
            if (!skip)
                json_object_object_add(o, k, json_object_get(v));
        }
    }
    if (!json_object_object_get_ex(o, "event_timestamp", NULL))
        json_object_object_add(o, "event_timestamp", json_object_new_int64(iat));
    return o;
}

char *ssf_set_sign(const char *claims, EVP_PKEY *key, const char *kid)
{
    json_object *h = json_object_new_object();
    char *jws = NULL;

    /* the claims are signed as the outbox keeps them: ssf_set_make()'s own serialisation */
    if (h && claims && claims[0] == '{') {
        json_object_object_add(h, "typ", json_object_new_string(SSF_SET_TYP));
        json_object_object_add(h, "kid", json_object_new_string(kid));
        jws = mqp_jws_sign_text(key, h, claims, strlen(claims));
    }
    json_object_put(h);
    return jws;
}
