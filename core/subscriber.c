/*
 * Subscriber criteria: event path = claim path, for every entry. See subscriber.h.
 */
#include "subscriber.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "criteria.h"
#include "errmsg.h"
#include "event.h"
#include "jsonpath.h"
#include "topic.h"

#define CLAIM_FORM "must be {\"claim\": \"<path into the token's claims>\"}"

struct entry {
    struct mqp_path *event;
    struct mqp_path *claim;
};

struct mqp_subscriber_criteria {
    size_t n;
    struct entry e[];
};

void mqp_subscriber_criteria_free(struct mqp_subscriber_criteria *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        mqp_path_free(c->e[i].event);
        mqp_path_free(c->e[i].claim);
    }
    free(c);
}

/*
 * The value of one entry: exactly {"claim": "<path>"}. Other members are refused rather than
 * ignored: a misspelt or imagined option must not quietly change who receives what.
 */
static int compile_claim(json_object *value, struct mqp_path **out, char *err, size_t errlen)
{
    char perr[160];
    json_object *claim;

    if (!json_object_is_type(value, json_type_object)) {
        mqp_errmsg(err, errlen, CLAIM_FORM);
        return -1;
    }
    json_object_object_foreach(value, key, v)
    {
        (void)v;
        if (strcmp(key, "claim") != 0) {
            mqp_errmsg(err, errlen, "member \"%.64s\" is not allowed: %s", key, CLAIM_FORM);
            return -1;
        }
    }
    if (!json_object_object_get_ex(value, "claim", &claim) ||
        !json_object_is_type(claim, json_type_string)) {
        mqp_errmsg(err, errlen, CLAIM_FORM);
        return -1;
    }
    if (strlen(json_object_get_string(claim)) != (size_t)json_object_get_string_len(claim)) {
        mqp_errmsg(err, errlen, "claim: must not contain NUL characters");
        return -1;
    }
    if (mqp_path_compile(json_object_get_string(claim), out, perr, sizeof(perr)) != 0) {
        mqp_errmsg(err, errlen, "claim: %s", perr);
        return -1;
    }
    return 0;
}

int mqp_subscriber_criteria_compile(json_object *spec, struct mqp_subscriber_criteria **out,
                                    const char **where, char *err, size_t errlen)
{
    struct mqp_subscriber_criteria *c = NULL;
    const char *bad = NULL;
    char perr[160];
    size_t n;
    int rc = -1;

    *out = NULL;
    if (!json_object_is_type(spec, json_type_object)) {
        mqp_errmsg(err, errlen, "must be an object of event path -> {\"claim\": \"<path>\"}");
        goto out;
    }
    n = (size_t)json_object_object_length(spec);
    if (n == 0) {
        /* {} would read as "no restriction" to some and "nobody" to others: say which. */
        mqp_errmsg(err, errlen, "must name at least one event path; leave it out for none");
        goto out;
    }
    if (n > MQP_SUBSCRIBER_MAX_ENTRIES) {
        mqp_errmsg(err, errlen, "more than %d event paths", MQP_SUBSCRIBER_MAX_ENTRIES);
        goto out;
    }
    c = calloc(1, sizeof(*c) + n * sizeof(c->e[0]));
    if (c == NULL) {
        mqp_errmsg(err, errlen, "out of memory");
        goto out;
    }
    json_object_object_foreach(spec, key, value)
    {
        struct entry *e = &c->e[c->n];

        bad = key;
        if (mqp_path_compile(key, &e->event, perr, sizeof(perr)) != 0) {
            mqp_errmsg(err, errlen, "%s", perr);
            goto out;
        }
        c->n++;
        if (compile_claim(value, &e->claim, err, errlen) != 0)
            goto out;
    }
    bad = NULL;
    *out = c;
    c = NULL;
    rc = 0;
out:
    if (where != NULL)
        *where = bad;
    mqp_subscriber_criteria_free(c);
    return rc;
}

bool mqp_stream_subscriber_match(const struct mqp_stream *s, const struct mqp_identity *id,
                                 json_object *event)
{
    const struct mqp_subscriber_criteria *c;

    if (s == NULL)
        return false;
    c = s->subscriber_criteria;
    if (c == NULL)
        return true;
    if (id == NULL)
        return false;
    if (id->kind == MQP_IDENTITY_SERVICE)
        return true;
    for (size_t i = 0; i < c->n; i++) {
        int have_event, have_claim;
        json_object *ev = mqp_path_get(c->e[i].event, event, &have_event);
        json_object *claim = mqp_path_get(c->e[i].claim, id->claims, &have_claim);

        /* mqp_path_get() returns NULL for an explicit JSON null too: a null claim is no claim. */
        if (!have_event || !have_claim || claim == NULL || !mqp_json_equal(ev, claim))
            return false;
    }
    return true;
}

const struct mqp_stream *mqp_subscriber_stream(const struct mqp_config *cfg, const char *topic)
{
    struct mqp_topic_view v;
    const struct mqp_tenant *t;
    const struct mqp_stream *s;

    if (cfg == NULL || !cfg->has_subscriber_criteria || topic == NULL)
        return NULL;
    mqp_topic_split(topic, &v);
    if (v.n < 3)
        return NULL;
    t = mqp_config_tenant(cfg, v.level[0].s, v.level[0].len);
    if (t == NULL || !t->has_subscriber_criteria)
        return NULL;
    s = mqp_tenant_stream(t, v.level[1].s, v.level[1].len);
    return s != NULL && s->subscriber_criteria != NULL ? s : NULL;
}

json_object *mqp_subscriber_parse_event(const void *body, size_t len)
{
    json_tokener *tok;
    json_object *obj = NULL;

    if (body == NULL || len == 0 || len >= INT_MAX)
        return NULL;
    tok = json_tokener_new_ex(MQP_EVENT_MAX_DEPTH);
    if (tok == NULL)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, body, (int)len);
    /* Strict mode refuses trailing text but stops quietly at a NUL byte: all bytes must be
     * taken. An object always ends itself, so json_tokener_continue means cut short. */
    if (json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len || !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        obj = NULL;
    }
    json_tokener_free(tok);
    return obj;
}
