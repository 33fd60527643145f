/*
 * Subject Identifiers (RFC 9493 section 3) read as token sessions.
 */
#include "ssf/subject.h"

#include <string.h>
#include "claims.h"

#define CAEP_SESSION_REVOKED "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
#define RISC_SESSIONS_REVOKED "https://schemas.openid.net/secevent/risc/event-type/sessions-revoked"

bool ssf_subject_ends_sessions(const char *type)
{
    return type != NULL &&
           (strcmp(type, CAEP_SESSION_REVOKED) == 0 || strcmp(type, RISC_SESSIONS_REVOKED) == 0);
}

/* A non-empty string member of an identifier, or NULL. */
static const char *member(json_object *id, const char *name)
{
    const char *s;

    if (mqp_claim_string(id, name, &s) != 0 || s == NULL || s[0] == '\0')
        return NULL;
    return s;
}

static bool format_is(json_object *id, const char *format)
{
    const char *f = member(id, "format");

    return f != NULL && strcmp(f, format) == 0;
}

enum match { NONE, OK, FOREIGN };

/* iss_sub of our issuer: *user. */
static enum match read_user(json_object *id, const char *token_iss, const char **user)
{
    const char *iss = member(id, "iss"), *sub = member(id, "sub");

    if (!format_is(id, "iss_sub") || iss == NULL || sub == NULL)
        return NONE;
    if (token_iss == NULL || strcmp(iss, token_iss) != 0)
        return FOREIGN;
    *user = sub;
    return OK;
}

/* opaque, or jwt_id of our issuer: *session. */
static enum match read_session(json_object *id, const char *token_iss, const char **session)
{
    const char *s;

    if (format_is(id, "opaque")) {
        s = member(id, "id");
        if (s == NULL)
            return NONE;
        *session = s;
        return OK;
    }
    if (format_is(id, "jwt_id")) {
        const char *iss = member(id, "iss");

        s = member(id, "jti");
        if (iss == NULL || s == NULL)
            return NONE;
        if (token_iss == NULL || strcmp(iss, token_iss) != 0)
            return FOREIGN;
        *session = s;
        return OK;
    }
    return NONE;
}

int ssf_subject_sessions(json_object *sub_id, const char *token_iss, const char **user,
                         const char **session)
{
    json_object *u = NULL, *s = NULL;
    enum match mu = NONE, ms = NONE;

    *user = *session = NULL;
    if (!json_object_is_type(sub_id, json_type_object))
        return 0;
    if (!format_is(sub_id, "complex")) {
        if (format_is(sub_id, "iss_sub"))
            mu = read_user(sub_id, token_iss, user);
        else
            ms = read_session(sub_id, token_iss, session);
        if (mu == FOREIGN || ms == FOREIGN)
            goto none;
        return *user != NULL || *session != NULL;
    }
    if (json_object_object_get_ex(sub_id, "user", &u) && json_object_is_type(u, json_type_object))
        mu = read_user(u, token_iss, user);
    if (json_object_object_get_ex(sub_id, "session", &s) &&
        json_object_is_type(s, json_type_object))
        ms = read_session(s, token_iss, session);
    /* SSF 3.3.1: all members describe one principal; one of another issuer makes it theirs. */
    if (mu == FOREIGN || ms == FOREIGN)
        goto none;
    return *user != NULL || *session != NULL;
none:
    *user = *session = NULL;
    return 0;
}
