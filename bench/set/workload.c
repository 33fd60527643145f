/*
 * What setbench signs: CAEP session-revoked events of about 330 bytes and the SET the bridge's
 * transmitter makes of each. peer/setbench.mjs builds the same events and claims for jose.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "setbench.h"
#include "ssf/set_make.h"

void setb_events_init(struct setb_events *e, unsigned seed)
{
    e->x = 2463534242u + seed * 7919u;
    e->seq = 0;
}

static uint32_t rnd(struct setb_events *e)
{
    /* xorshift32: variety, not secrecy */
    e->x ^= e->x << 13;
    e->x ^= e->x >> 17;
    e->x ^= e->x << 5;
    return e->x;
}

size_t setb_event_next(struct setb_events *e, char *buf)
{
    static const char *const reasons[] = {"admin_logout", "password_changed", "risk_detected",
                                          "device_lost"};
    static const char *const initiators[] = {"admin", "user", "policy", "system"};
    uint32_t a = rnd(e), b = rnd(e), c = rnd(e), d = rnd(e);
    int n;

    e->seq++;
    n = snprintf(buf, SETB_EVENT_MAX,
                 "{\"id\":\"%08x-%04x-4%03x-%04x-%08x%04x\",\"namespace\":\"auth\","
                 "\"name\":\"logout\",\"timestamp\":\"2026-05-%02uT%02u:%02u:%02u.%03uZ\","
                 "\"payload\":{\"user\":\"user-%06u\",\"session\":\"sid-%08x%08x\","
                 "\"reason\":\"%s\",\"initiating_entity\":\"%s\",\"ip\":\"203.0.113.%u\","
                 "\"seq\":%llu}}",
                 a, b >> 16, b & 0xfff, 0x8000 | (c >> 18), d, c & 0xffff, 1 + a % 28, b % 24,
                 c % 60, d % 60, a % 1000, d % 1000000, a, c, reasons[b % 4], initiators[c % 4],
                 d % 256, (unsigned long long)e->seq);
    return (size_t)n;
}

char *setb_claims_from_event(const char *event, int64_t iat)
{
    json_object *doc = json_tokener_parse(event), *payload, *user = NULL, *id, *claims = NULL;
    struct ssf_set_in in = {.iss = SETB_ISS, .aud = SETB_AUD, .iat = iat, .type = SETB_TYPE};
    char jti[128];
    const char *text;
    char *out = NULL;

    if (doc == NULL || !json_object_object_get_ex(doc, "id", &id))
        goto out;
    if (json_object_object_get_ex(doc, "payload", &payload))
        json_object_object_get_ex(payload, "user", &user);
    in.sub_id = ssf_set_subject(user, "bench/security");
    in.event = ssf_set_event_claims(doc, iat);
    in.txn = json_object_get_string(id);
    if (ssf_set_jti(json_object_get_string(id), SETB_STREAM_ID, jti, sizeof(jti)) != 0)
        goto out;
    in.jti = jti;
    claims = ssf_set_make(&in);
    /* the bridge keeps the claims as text in its outbox and signs that text */
    text = claims ? json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE)
                  : NULL;
    out = text ? strdup(text) : NULL;
out:
    json_object_put(claims);
    json_object_put(in.sub_id);
    json_object_put(in.event);
    json_object_put(doc);
    return out;
}

char *setb_sign_claims(const char *claims, EVP_PKEY *key, const char *kid)
{
    return ssf_set_sign(claims, key, kid);
}

char *setb_set_from_event(const char *event, EVP_PKEY *key, const char *kid, int64_t iat)
{
    char *claims = setb_claims_from_event(event, iat), *set = NULL;

    if (claims)
        set = ssf_set_sign(claims, key, kid);
    free(claims);
    return set;
}
