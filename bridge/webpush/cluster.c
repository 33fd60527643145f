/*
 * Web Push and UnifiedPush with several bridges on one store (broker.share_group).
 *
 * Each bridge keeps an index of the subscriptions in memory; another bridge may add or remove
 * one. Whoever changes the subscriptions in the store also rewrites a marker next to them, and
 * a bridge reads the marker before it fans an event out: when it moved, the index is brought
 * in line with the store first. A subscription whose API call has returned is therefore served
 * for every event published after that, by whichever bridge the broker gives the event to.
 *
 * Pending messages belong to the bridge that wrote them (store.h); a bridge that stops beating
 * has them adopted by another (webpush_adopt()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "webpush/webpush.h"
#include "webpush/webpush_int.h"

#define MARK_NS "cluster"

static bool shared(const struct webpush *wp)
{
    return wp->b->cfg->broker_share_group != NULL;
}

void wp_subs_changed(struct webpush *wp)
{
    static uint64_t seq;
    struct store *st = wp->b->store;
    char mark[sizeof(wp->subs_mark)];

    if (!shared(wp))
        return;
    /* Unique over the bridges: the node, a counter and the time. */
    snprintf(mark, sizeof(mark), "%.63s:%llu:%lld", st->node, (unsigned long long)++seq,
             (long long)wp_wall_ms());
    if (st->ops->kv_put(st, MARK_NS, wp->channel, mark, strlen(mark)) != 0) {
        fprintf(stderr,
                "mqpush-bridge: %s: cannot mark a subscription change for the other "
                "bridges\n",
                wp->channel);
        return;
    }
    /* Our own index has the change already. */
    snprintf(wp->subs_mark, sizeof(wp->subs_mark), "%s", mark);
}

static int visit(void *ctx, const struct store_sub *rec)
{
    struct webpush *wp = ctx;
    struct wp_sub *s = wp_sub_find(wp, rec->id);

    /* Moved to another user or session (a re-subscription): take the store's. */
    if (s && (strcmp(s->user, rec->user) != 0 || strcmp(s->session, rec->session) != 0 ||
              s->expires_at != rec->expires_at)) {
        wp_sub_remove(wp, s, false);
        s = NULL;
    }
    if (s == NULL && wp_sub_add(wp, rec) < 0)
        return 0; /* unreadable: skipped, as at start */
    s = wp_sub_find(wp, rec->id);
    if (s)
        s->seen = wp->sync_gen;
    return 0;
}

int wp_subs_sync(struct webpush *wp, bool force)
{
    struct store *st;
    struct wp_sub *s, *tmp;
    void *val = NULL;
    size_t len = 0;
    int found;

    if (wp == NULL || !shared(wp))
        return 0;
    st = wp->b->store;
    found = st->ops->kv_get(st, MARK_NS, wp->channel, &val, &len);
    if (found < 0)
        return -1;
    if (!force && found == 1 && len == strlen(wp->subs_mark) &&
        memcmp(val, wp->subs_mark, len) == 0) {
        free(val);
        return 0;
    }
    if (found == 1)
        snprintf(wp->subs_mark, sizeof(wp->subs_mark), "%.*s", (int)len, (const char *)val);
    free(val);
    if (found == 0 && !force)
        return 0;
    wp->sync_gen++;
    if (wp_key_reload(wp) != 0 || st->ops->sub_each(st, wp->channel, visit, wp) != 0) {
        wp->subs_mark[0] = '\0'; /* try again with the next event */
        return -1;
    }
    HASH_ITER(hh, wp->subs, s, tmp)
    {
        if (s->seen != wp->sync_gen)
            wp_sub_remove(wp, s, false);
    }
    return 0;
}

static int adopt(struct webpush *wp)
{
    struct store *st;
    int n;

    if (wp == NULL || wp->closing)
        return 0;
    st = wp->b->store;
    /* The dead bridge's messages may be for subscriptions made through it. */
    if (wp_subs_sync(wp, false) != 0)
        return -1;
    n = st->ops->msg_adopt(st, wp->channel, wp_wall_ms(), wp_load_msg, wp);
    if (n > 0) {
        fprintf(stderr,
                "mqpush-bridge: %s: took over %d pending messages of a bridge that stopped\n",
                wp->channel, n);
        wp_pump(wp);
    }
    return n < 0 ? -1 : 0;
}

int webpush_adopt(struct bridge *b)
{
    int a = adopt(b->webpush), u = adopt(b->unifiedpush);

    return a < 0 || u < 0 ? -1 : 0;
}
