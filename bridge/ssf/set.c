/*
 * Security Event Tokens: shape first, then keys and claims. The order of the checks decides
 * which error code a SET with several faults gets; it follows what a transmitter can act on:
 * a SET it built wrong (invalid_request) before the keys it signed with (invalid_key).
 */
#include "ssf/set.h"

#include <string.h>
#include "claims.h"
#include "event.h"
#include "stream.h"

/* RFC 8417 section 2.3: the media type application/secevent+jwt, "application/" optional. */
#define SET_TYP "secevent+jwt"

const char *ssf_err_code(enum ssf_err e)
{
    switch (e) {
    case SSF_OK:
        return NULL;
    case SSF_INVALID_REQUEST:
        return "invalid_request";
    case SSF_INVALID_KEY:
        return "invalid_key";
    case SSF_INVALID_ISSUER:
        return "invalid_issuer";
    case SSF_INVALID_AUDIENCE:
        return "invalid_audience";
    case SSF_AUTHENTICATION_FAILED:
        return "authentication_failed";
    case SSF_ACCESS_DENIED:
        return "access_denied";
    }
    return "invalid_request";
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A Subject Identifier (RFC 9493 section 3): an object with a string "format". */
static bool subject_ok(json_object *s)
{
    const char *format;

    return json_object_is_type(s, json_type_object) &&
           mqp_claim_string(s, "format", &format) == 0 && format != NULL && format[0] != '\0';
}

/* The only member of "events", RFC 8417 section 2.2; SSF 4.2.1. */
static enum ssf_msg take_event(struct ssf_set *set)
{
    json_object *events;

    if (!json_object_object_get_ex(set->jwt.claims, "events", &events))
        return SSF_MSG_CLAIMS;
    if (!json_object_is_type(events, json_type_object) || json_object_object_length(events) != 1)
        return SSF_MSG_EVENTS;
    json_object_object_foreach(events, key, value)
    {
        if (key[0] == '\0' || !json_object_is_type(value, json_type_object))
            return SSF_MSG_EVENTS;
        set->type = key;
        set->event = value;
    }
    return SSF_MSG_NONE;
}

static enum ssf_msg check_shape(struct ssf_set *set)
{
    json_object *claims = set->jwt.claims, *v;
    int64_t iat;
    enum ssf_msg m;

    if (!mqp_jose_typ_is(set->jwt.typ, SET_TYP))
        return SSF_MSG_TYP;
    if (mqp_claim_string(claims, "iss", &set->iss) != 0 || set->iss == NULL ||
        set->iss[0] == '\0' || mqp_claim_string(claims, "jti", &set->jti) != 0 ||
        set->jti == NULL || set->jti[0] == '\0' ||
        mqp_claim_numeric_date(claims, "iat", &iat) != 0 ||
        mqp_claim_aud_contains(claims, NULL) < 0)
        return SSF_MSG_CLAIMS;
    set->iat = iat;
    /* SSF 4.1.7, RFC 8417 section 4.5: a SET has no "exp", so no validator of ID tokens or
     * access tokens takes it for one; a JWT that has one is some other kind of token. */
    if (json_object_object_get_ex(claims, "exp", NULL))
        return SSF_MSG_EXP;
    m = take_event(set);
    if (m != SSF_MSG_NONE)
        return m;
    /* SSF 3.1: the primary subject is the top-level "sub_id"; CAEP and RISC events defined
     * before it may carry it as the event's "subject". */
    if (json_object_object_get_ex(claims, "sub_id", &v))
        set->sub_id = v;
    else if (json_object_object_get_ex(set->event, "subject", &v))
        set->sub_id = v;
    if (!subject_ok(set->sub_id))
        return SSF_MSG_SUBJECT;
    return SSF_MSG_NONE;
}

enum ssf_err ssf_set_parse(const char *buf, size_t len, struct ssf_set *out, enum ssf_msg *why)
{
    enum ssf_msg m;

    memset(out, 0, sizeof(*out));
    *why = SSF_MSG_NONE;
    if (buf == NULL)
        len = 0;
    while (len > 0 && is_space(buf[0])) {
        buf++;
        len--;
    }
    while (len > 0 && is_space(buf[len - 1]))
        len--;
    if (len == 0) {
        *why = SSF_MSG_NO_BODY;
        return SSF_INVALID_REQUEST;
    }
    if (len > SSF_SET_MAX_BYTES) {
        *why = SSF_MSG_TOO_LARGE;
        return SSF_INVALID_REQUEST;
    }
    /* json-c reads NaN and Infinity even in strict mode; they are not JSON (RFC 8259 section
     * 6), and the event is published on as JSON. */
    if (mqp_jwt_decode(buf, len, SSF_SET_MAX_BYTES, &out->jwt, NULL, 0) != 0 ||
        mqp_json_has_non_json_number(out->jwt.header) ||
        mqp_json_has_non_json_number(out->jwt.claims)) {
        *why = SSF_MSG_NOT_JWS;
        return SSF_INVALID_REQUEST;
    }
    m = check_shape(out);
    if (m != SSF_MSG_NONE) {
        *why = m;
        return SSF_INVALID_REQUEST;
    }
    return SSF_OK;
}

void ssf_set_clear(struct ssf_set *set)
{
    if (set == NULL)
        return;
    mqp_jwt_clear(&set->jwt);
    memset(set, 0, sizeof(*set));
}

static enum ssf_err fail(enum ssf_msg *why, enum ssf_msg m, enum ssf_err e)
{
    *why = m;
    return e;
}

enum ssf_err ssf_set_verify(const struct ssf_set *set, const struct mqp_jwks *jwks,
                            const char *audience, int64_t now, enum ssf_msg *why)
{
    EVP_PKEY *key;

    *why = SSF_MSG_NONE;
    /* RFC 8725 section 3.1: the algorithm comes from an allow-list, never from the token;
     * "none" (RFC 7519 section 6) and HMAC are refused before any key is looked at. */
    if (set->jwt.alg == MQP_ALG_UNKNOWN)
        return fail(why, SSF_MSG_ALG, SSF_INVALID_KEY);
    key = jwks ? mqp_jwks_find(jwks, set->jwt.kid, set->jwt.alg) : NULL;
    if (key == NULL)
        return fail(why, SSF_MSG_KEY_UNKNOWN, SSF_INVALID_KEY);
    if (mqp_jwt_verify(&set->jwt, key) != 0)
        return fail(why, SSF_MSG_SIGNATURE, SSF_INVALID_KEY);
    /* SSF 4.1.8: "aud" names the receiver; without one configured nothing matches. */
    if (audience == NULL || mqp_claim_aud_contains(set->jwt.claims, audience) != 1)
        return fail(why, SSF_MSG_AUDIENCE, SSF_INVALID_AUDIENCE);
    /* RFC 7519 section 4.1.6 leaves the judgement of "iat" to the recipient; one from the
     * future beyond clock skew is a transmitter's error, not something to act on. */
    if (now <= INT64_MAX - SSF_SET_IAT_LEEWAY_S && set->iat > now + SSF_SET_IAT_LEEWAY_S)
        return fail(why, SSF_MSG_IAT_FUTURE, SSF_INVALID_REQUEST);
    return SSF_OK;
}

static bool id_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

static bool separator(char c)
{
    return c == '/' || c == ':' || c == '#';
}

int ssf_set_event_name(const char *type, char *out, size_t cap)
{
    size_t end = strlen(type), start, n;

    if (cap < 2)
        return -1;
    while (end > 0 && separator(type[end - 1]))
        end--;
    for (start = end; start > 0 && !separator(type[start - 1]); start--)
        ;
    for (n = 0; start + n < end && n < MQP_ID_MAX && n < cap - 1; n++)
        out[n] = id_char(type[start + n]) ? type[start + n] : '-';
    out[n] = '\0';
    return n > 0 ? 0 : -1;
}
