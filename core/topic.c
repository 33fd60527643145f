/*
 * The mqpush topic space, as views into the caller's string. These run on every ACL check and
 * every published event, so they neither allocate nor copy.
 */
#include <stdio.h>
#include <string.h>

#include "topic.h"
#include "stream.h"

#define SHARE_PREFIX "$share/"

void mqp_topic_split(const char *topic, struct mqp_topic_view *v)
{
    const char *p;

    memset(v, 0, sizeof(*v));
    if (topic == NULL)
        return;
    p = topic;
    v->n = 1;
    v->level[0].s = p;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);

        if (v->n <= 3)
            v->level[v->n - 1].len = len;
        if (slash == NULL)
            break;
        p = slash + 1;
        v->n++;
        if (v->n <= 3)
            v->level[v->n - 1].s = p;
        if (v->n == 3)
            v->rest = p;
    }
}

static bool level_plain(const struct mqp_level *l)
{
    /* MQTT 5 section 4.7.1: '+' and '#' may not appear anywhere in a topic name. */
    return l->len > 0 && memchr(l->s, '+', l->len) == NULL && memchr(l->s, '#', l->len) == NULL;
}

bool mqp_topic_parse_event(const char *topic, struct mqp_level *tenant, struct mqp_level *ns,
                           struct mqp_level *name)
{
    struct mqp_topic_view v;
    struct mqp_level last;

    mqp_topic_split(topic, &v);
    if (v.n != 4 || !mqp_level_eq(&v.level[1], MQP_EVENTS_LEVEL))
        return false;
    last.s = v.level[2].s + v.level[2].len + 1;
    last.len = strlen(last.s);
    if (!level_plain(&v.level[0]) || !level_plain(&v.level[2]) || !level_plain(&last))
        return false;
    if (tenant)
        *tenant = v.level[0];
    if (ns)
        *ns = v.level[2];
    if (name)
        *name = last;
    return true;
}

int mqp_topic_parse_stream(const char *topic, char *tenant, char *stream, char *ns, char *name)
{
    const char *s1 = strchr(topic, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    const char *colon = s2 ? strchr(s2 + 1, ':') : NULL;

    if (colon == NULL || strchr(s2 + 1, '/') || s1 - topic > MQP_ID_MAX ||
        s2 - s1 - 1 > MQP_ID_MAX || colon - s2 - 1 > MQP_ID_MAX || strlen(colon + 1) > MQP_ID_MAX)
        return -1;
    snprintf(tenant, MQP_ID_MAX + 1, "%.*s", (int)(s1 - topic), topic);
    snprintf(stream, MQP_ID_MAX + 1, "%.*s", (int)(s2 - s1 - 1), s1 + 1);
    snprintf(ns, MQP_ID_MAX + 1, "%.*s", (int)(colon - s2 - 1), s2 + 1);
    snprintf(name, MQP_ID_MAX + 1, "%s", colon + 1);
    return 0;
}

size_t mqp_topic_stream(char *buf, size_t cap, const char *tenant, const char *stream,
                        const char *ns, const char *name)
{
    size_t lt, ls, ln, lm, total;
    char *p;

    if (buf == NULL || tenant == NULL || stream == NULL || ns == NULL || name == NULL)
        return 0;
    lt = strlen(tenant);
    ls = strlen(stream);
    ln = strlen(ns);
    lm = strlen(name);
    total = lt + 1 + ls + 1 + ln + 1 + lm;
    if (total >= cap) {
        if (cap > 0)
            buf[0] = '\0';
        return 0;
    }
    p = buf;
    memcpy(p, tenant, lt);
    p += lt;
    *p++ = '/';
    memcpy(p, stream, ls);
    p += ls;
    *p++ = '/';
    memcpy(p, ns, ln);
    p += ln;
    *p++ = ':';
    memcpy(p, name, lm);
    p += lm;
    *p = '\0';
    return total;
}

const char *mqp_topic_strip_share(const char *filter)
{
    const char *group, *slash;

    if (filter == NULL)
        return NULL;
    if (strncmp(filter, SHARE_PREFIX, strlen(SHARE_PREFIX)) != 0)
        return filter;
    /* MQTT 5 section 4.8.2: "$share/{ShareName}/{filter}", ShareName at least one character
     * and free of '/', '+' and '#', followed by a non-empty filter. */
    group = filter + strlen(SHARE_PREFIX);
    slash = strchr(group, '/');
    if (slash == NULL || slash == group)
        return NULL;
    if (memchr(group, '+', (size_t)(slash - group)) || memchr(group, '#', (size_t)(slash - group)))
        return NULL;
    if (slash[1] == '\0')
        return NULL;
    return slash + 1;
}

bool mqp_level_is_wildcard(const struct mqp_level *l)
{
    return l != NULL && l->s != NULL && l->len == 1 && (l->s[0] == '+' || l->s[0] == '#');
}

bool mqp_level_eq(const struct mqp_level *l, const char *s)
{
    size_t len;

    if (l == NULL || l->s == NULL || s == NULL)
        return false;
    len = strlen(s);
    return l->len == len && memcmp(l->s, s, len) == 0;
}
