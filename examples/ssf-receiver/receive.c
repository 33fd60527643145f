/*
 * One push, checked in the order of docs/ssf.md (the bridge's own receiver): the media type,
 * the SET's shape, the issuer, then the signature, the audience and the time (ssf_set_verify()).
 * The first failure answers; the error codes are RFC 8935 section 2.4.1's and the descriptions
 * the bridge's (bridge/ssf/lang.c), in the language Accept-Language asks for.
 */
#include "receive.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <json-c/json.h>

#include "ssf/lang.h"
#include "ssf/set.h"

/* RFC 8935 section 2.1: the body is a SET of media type application/secevent+jwt; parameters
 * (";charset=...") are allowed after it. */
static int media_type_ok(const char *ct)
{
    static const char want[] = "application/secevent+jwt";
    size_t n = sizeof(want) - 1;

    if (ct == NULL || strncasecmp(ct, want, n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static void refuse(struct rx_answer *ans, enum ssf_err e, enum ssf_msg why,
                   const char *accept_language)
{
    enum ssf_lang lang = ssf_lang_pick(accept_language, SSF_LANG_ALL);
    json_object *o = json_object_new_object();

    ans->status = 400;
    ans->language = ssf_lang_tag(lang);
    json_object_object_add(o, "err", json_object_new_string(ssf_err_code(e)));
    json_object_object_add(o, "description", json_object_new_string(ssf_lang_text(why, lang)));
    snprintf(
        ans->body, sizeof(ans->body), "%s",
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

static void print_accepted(const struct ssf_set *set)
{
    json_object *o = json_object_new_object(), *aud;

    json_object_object_add(o, "iss", json_object_new_string(set->iss));
    json_object_object_add(o, "jti", json_object_new_string(set->jti));
    json_object_object_add(o, "iat", json_object_new_int64(set->iat));
    if (json_object_object_get_ex(set->jwt.claims, "aud", &aud))
        json_object_object_add(o, "aud", json_object_get(aud));
    json_object_object_add(o, "type", json_object_new_string(set->type));
    json_object_object_add(o, "sub_id", json_object_get(set->sub_id));
    json_object_object_add(o, "event", json_object_get(set->event));
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    fflush(stdout);
    json_object_put(o);
}

void rx_receive(const struct rx_config *cfg, const char *content_type, const char *accept_language,
                const char *body, size_t len, struct rx_answer *ans)
{
    struct ssf_set set;
    enum ssf_msg why = SSF_MSG_NONE;
    enum ssf_err e;

    memset(&set, 0, sizeof(set));
    memset(ans, 0, sizeof(*ans));
    if (!media_type_ok(content_type)) {
        refuse(ans, SSF_INVALID_REQUEST, SSF_MSG_CONTENT_TYPE, accept_language);
        goto out;
    }
    e = ssf_set_parse(body, len, &set, &why);
    if (e != SSF_OK) {
        refuse(ans, e, why, accept_language);
        goto out;
    }
    /* RFC 8935 section 2.4.1: invalid_issuer before any key is looked at, since the issuer
     * decides which keys apply */
    if (strcmp(set.iss, cfg->issuer) != 0) {
        refuse(ans, SSF_INVALID_ISSUER, SSF_MSG_ISSUER, accept_language);
        goto out;
    }
    e = ssf_set_verify(&set, cfg->jwks, cfg->audience, (int64_t)time(NULL), &why);
    if (e != SSF_OK) {
        refuse(ans, e, why, accept_language);
        goto out;
    }
    ans->status = 202;
    print_accepted(&set);
out:
    ssf_set_clear(&set);
}
