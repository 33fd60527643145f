/*
 * Building the Security Event Tokens the SSF transmitter sends (RFC 8417, profiled by OpenID
 * SSF 1.0 section 4): the claims of one SET from an mqpush stream event, and its signing.
 * No bridge state: callable from any thread, and unit-tested on its own.
 */
#ifndef BRIDGE_SSF_SET_MAKE_H
#define BRIDGE_SSF_SET_MAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <openssl/evp.h>

/* RFC 8417 2.3, SSF 1.0 section 4.1.8: the "typ" of every SET. */
#define SSF_SET_TYP "secevent+jwt"
/* SSF 1.0 section 8.1.4 and 8.1.5. */
#define SSF_EVENT_VERIFICATION "https://schemas.openid.net/secevent/ssf/event-type/verification"
#define SSF_EVENT_STREAM_UPDATED "https://schemas.openid.net/secevent/ssf/event-type/stream-updated"

/* What one SET says; everything borrowed. */
struct ssf_set_in {
    const char *iss;     /* the transmitter's issuer, exactly as in its metadata */
    const char *aud;     /* the stream's "aud" */
    const char *jti;     /* unique per SET, stable across redeliveries (ssf_set_jti()) */
    const char *txn;     /* RFC 8417 2.2 "txn", or NULL */
    int64_t iat;         /* seconds */
    const char *type;    /* the event type URI */
    json_object *sub_id; /* an RFC 9493 Subject Identifier (object with "format") */
    json_object *event;  /* the event's claims (object), or NULL for {} */
};

/*
 * The claims of a SET: iss, aud, iat, jti, sub_id (top level, SSF 1.0 section 4.1.2), txn
 * when given, and "events" holding exactly one event. Never "sub" nor "exp" (SSF 4.1.7).
 * Returns a new object (caller frees with json_object_put()), or NULL when a member is
 * missing or memory is out.
 */
json_object *ssf_set_make(const struct ssf_set_in *in);

/*
 * The jti of the SET carrying event event_id to stream stream_id: "<event_id>.<stream_id>",
 * so a redelivery of the event by the broker yields the same jti and every stream its own.
 * Returns 0, or -1 when it does not fit in cap.
 */
int ssf_set_jti(const char *event_id, const char *stream_id, char *buf, size_t cap);

/*
 * The sub_id of an event from the value its subject_path found (borrowed, may be NULL): an
 * object with a string "format" is taken as it is; a string s or a number becomes
 * {"format": "opaque", "id": s}; anything else (or nothing) {"format": "opaque", "id":
 * fallback}. New object (caller frees with json_object_put()), or NULL when out of memory.
 */
json_object *ssf_set_subject(json_object *value, const char *fallback);

/*
 * The event claims of a stream event (a stream copy: id, namespace, name, timestamp and the
 * event's members): the members of its "payload" object when it has one, else its members
 * other than id, namespace, name and timestamp; plus "event_timestamp" (CAEP 1.0 section
 * 2: seconds) = iat when absent. New object (caller frees with json_object_put()), or NULL.
 */
json_object *ssf_set_event_claims(json_object *stream_event, int64_t iat);

/*
 * Sign claims (the JSON text of ssf_set_make()) with key, header {"alg", "typ":
 * "secevent+jwt", "kid": kid}. Returns the compact JWS (caller frees with free()), or NULL.
 * Thread-safe for a key that is not freed meanwhile (hold a reference).
 */
char *ssf_set_sign(const char *claims, EVP_PKEY *key, const char *kid);

#endif
