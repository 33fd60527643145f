/*
 * From a SET's subject to the token sessions it ends: the bridge binds Web Push subscriptions
 * to the user ("sub") and session ("sid", else "jti") of the token that made them, and a CAEP
 * session-revoked event names its session by a Subject Identifier (RFC 9493, SSF 1.0 section
 * 3). Only identifiers that can be compared with those token claims are understood; see
 * ssf_subject_sessions().
 */
#ifndef BRIDGE_SSF_SUBJECT_H
#define BRIDGE_SSF_SUBJECT_H

#include <stdbool.h>
#include <json-c/json.h>

/* CAEP 1.0 section 3.1 session-revoked, and RISC's older sessions-revoked: event types after
 * which the subject's sessions are over. */
bool ssf_subject_ends_sessions(const char *type);

/*
 * The sessions sub_id (a Subject Identifier) names among the tokens of issuer token_iss:
 *   opaque {id}              the session whose sid (else jti) is id, of any user
 *   jwt_id {iss, jti}        (SSF 3.5.1) the session of that jti, when iss is token_iss
 *   iss_sub {iss, sub}       every session of user sub, when iss is token_iss
 *   complex                  (SSF 3.3) its "user" member read as iss_sub and its "session"
 *                            member as opaque or jwt_id, both when present; other members
 *                            (device, application, tenant, ...) cannot be compared with a
 *                            token and are ignored, which widens the match to every session of
 *                            the user rather than leave a revoked one running
 * An iss_sub or jwt_id of another issuer names a principal of another identity provider: no
 * match, whatever else the subject says. Other formats (email, phone_number, ...) match
 * nothing. Returns 1 with *user and *session set (borrowed from sub_id; one of them may be
 * NULL, meaning any), or 0 when nothing matches (both NULL).
 */
int ssf_subject_sessions(json_object *sub_id, const char *token_iss, const char **user,
                         const char **session);

#endif
