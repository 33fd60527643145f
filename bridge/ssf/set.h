/*
 * Security Event Tokens (RFC 8417) as the Shared Signals Framework 1.0 profiles them (section
 * 4.1), checked the way a push receiver must (RFC 8935 section 2): first the shape
 * (ssf_set_parse(), no keys needed, what the fuzz target drives), then the signature and the
 * claims that need the transmitter's configuration (ssf_set_verify()). Every refusal comes with
 * the RFC 8935 section 2.4 error code and a message id that bridge/ssf/lang.c words for the
 * transmitter. Nothing here touches the bridge: the module links with core alone.
 */
#ifndef BRIDGE_SSF_SET_H
#define BRIDGE_SSF_SET_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "jwk.h"
#include "jwt.h"

/* Largest SET accepted (the body of one request). */
#define SSF_SET_MAX_BYTES (64 * 1024)
/* How far "iat" may lie ahead of the receiver's clock. */
#define SSF_SET_IAT_LEEWAY_S 60

/* RFC 8935 section 2.4.1 error codes (IANA "Security Event Token Error Codes"). */
enum ssf_err {
    SSF_OK = 0,
    SSF_INVALID_REQUEST,
    SSF_INVALID_KEY,
    SSF_INVALID_ISSUER,
    SSF_INVALID_AUDIENCE,
    SSF_AUTHENTICATION_FAILED,
    SSF_ACCESS_DENIED,
};

/* "invalid_request", ... (static); NULL for SSF_OK. */
const char *ssf_err_code(enum ssf_err e);

/* Why a SET or its request was refused; the "description" of the reply (bridge/ssf/lang.c). */
enum ssf_msg {
    SSF_MSG_NONE = 0,
    SSF_MSG_CONTENT_TYPE, /* not application/secevent+jwt */
    SSF_MSG_NO_BODY,
    SSF_MSG_TOO_LARGE,
    SSF_MSG_NOT_JWS, /* not a compact JWS with JSON object header and payload */
    SSF_MSG_TYP,     /* "typ" missing or not secevent+jwt */
    SSF_MSG_CLAIMS,  /* iss, iat, jti or events missing or mistyped, "aud" mistyped */
    SSF_MSG_EXP,     /* "exp" present */
    SSF_MSG_EVENTS,  /* not exactly one event, or an event that is not an object */
    SSF_MSG_SUBJECT, /* no Subject Identifier */
    SSF_MSG_IAT_FUTURE,
    SSF_MSG_ALG,         /* none, HS*, or another algorithm not accepted */
    SSF_MSG_KEY_UNKNOWN, /* no key of the transmitter fits kid and alg */
    SSF_MSG_SIGNATURE,
    SSF_MSG_ISSUER,
    SSF_MSG_AUDIENCE,
    SSF_MSG_AUTH_MISSING,
    SSF_MSG_AUTH_BAD,
    SSF_MSG_ACCESS,
    SSF_MSG_COUNT
};

/* A SET whose shape passed ssf_set_parse(). All pointers are borrowed from jwt's claims. */
struct ssf_set {
    struct mqp_jwt jwt; /* owned */
    const char *iss;
    const char *jti;
    int64_t iat;
    const char *type;    /* the event type URI: the only key of "events" */
    json_object *event;  /* its value, an object */
    json_object *sub_id; /* top-level "sub_id", else the event's "subject" (older CAEP) */
};

/*
 * Check the shape of a SET of len bytes (white space around it is ignored): a compact JWS of
 * at most SSF_SET_MAX_BYTES; "typ" secevent+jwt (RFC 8417 section 2.3, SSF 4.1.1); string "iss"
 * and "jti", NumericDate "iat" (RFC 8417 section 2.2); no "exp" (SSF 4.1.7); "aud", when
 * present, a string or an array of strings; "events" an object with exactly one member whose
 * value is an object (SSF 4.2.1: "SHOULD contain only one event"; alternative URIs for one
 * event would publish it twice, so one it is); a subject: "sub_id", else the event's "subject",
 * an object with a string "format" (RFC 9493 section 3). The signature is NOT checked, and an
 * algorithm that ssf_set_verify() refuses still parses. Returns SSF_OK and fills *out (free
 * with ssf_set_clear(), also after an error), else SSF_INVALID_REQUEST with *why set.
 */
enum ssf_err ssf_set_parse(const char *buf, size_t len, struct ssf_set *out, enum ssf_msg *why);
void ssf_set_clear(struct ssf_set *set);

/*
 * The checks that need the transmitter: algorithm RS256, ES256 or EdDSA, a key of jwks
 * (borrowed, may be NULL: no keys) that fits kid and alg (mqp_jwks_find(): a key of another
 * type never matches, which stops HS/RS confusion), the signature (all three SSF_INVALID_KEY),
 * "aud" containing audience (SSF_INVALID_AUDIENCE), "iat" at most SSF_SET_IAT_LEEWAY_S after
 * now (SSF_INVALID_REQUEST). Returns SSF_OK, or the error with *why set.
 */
enum ssf_err ssf_set_verify(const struct ssf_set *set, const struct mqp_jwks *jwks,
                            const char *audience, int64_t now, enum ssf_msg *why);

/*
 * The event name an event type URI is published under: its last segment, the text after the
 * last '/', ':' or '#' once trailing ones are dropped
 * ("https://schemas.openid.net/secevent/caep/event-type/session-revoked" gives
 * "session-revoked", "urn:example:event:x" gives "x"), each byte outside [A-Za-z0-9._-]
 * replaced by '-', cut to MQP_ID_MAX bytes. Writes it NUL-terminated to out (cap >= 2) and
 * returns 0, or -1 when nothing is left (the URI is all separators).
 */
int ssf_set_event_name(const char *type, char *out, size_t cap);

#endif
