/*
 * Inside the Web Push channel: the in-memory index of subscriptions per stream, the queue of
 * pending messages (a heap by due time; the store's outbox is the durable copy), and the state
 * kept per push service origin (Retry-After, backoff). Loop thread only.
 */
#ifndef BRIDGE_WEBPUSH_INT_H
#define BRIDGE_WEBPUSH_INT_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include <uthash.h>
#include <uv.h>
#include "bridge.h"
#include "jsonpath.h"
#include "token.h"
#include "webpush/ece.h"
#include "webpush/vapid.h"
#include "webpush/webpush.h"

struct wp_stream;
struct wp_origin;

struct wp_sub {
    int64_t id;
    char *endpoint;
    char *origin; /* RFC 6454 origin of the endpoint: VAPID "aud", backoff key */
    unsigned char p256dh[WEBPUSH_KEY_LEN];
    unsigned char auth[WEBPUSH_AUTH_LEN];
    bool has_keys; /* messages are encrypted (Web Push, UnifiedPush's Web Push form) */
    char *tenant;
    char *user;
    char *session;
    struct mqp_identity *identity;
    int64_t expires_at; /* token exp, seconds */
    struct wp_stream *ws;
    uint32_t seen;       /* cluster.c: the resync that last found it in the store */
    struct wp_sub *next; /* in ws->subs */
    UT_hash_handle hh;   /* webpush.subs, by id */
};

/* A stream listed in webpush.streams. */
struct wp_stream {
    const struct bridge_webpush_stream *cfg; /* borrowed from b->cfg */
    char *key;                               /* "<tenant>/<stream>" */
    char *filter;                            /* "<tenant>/<stream>/#" */
    struct mqp_path *topic;                  /* NULL when no Topic header */
    struct wp_sub *subs;
    size_t n_subs;
    UT_hash_handle hh;
};

/* A Topic header (RFC 8030 5.4): at most 32 characters, and its NUL. */
#define WP_TOPIC_SIZE 33

struct wp_msg {
    int64_t id; /* outbox row */
    int64_t sub_id;
    char event_id[48];
    char topic[WP_TOPIC_SIZE]; /* "" when the stream sets none */
    char *body;                /* the stream event JSON, or its compact form */
    size_t len;
    int64_t created_ms, expires_ms, due_ms; /* wall clock */
    int attempts;
    bool compact;        /* UnifiedPush: refused as too large (413): sent again in compact form */
    struct wp_msg *next; /* while parked at its origin (wp_origin.parked) */
    struct wp_origin *parked_at; /* let go by this origin's park, not yet taken up */
};

struct wp_origin {
    char *origin;
    int64_t blocked_until_ms; /* 429/503 Retry-After, or backoff */
    unsigned backoff_ms;
    uint64_t rejected; /* 4xx answers other than 404/410/429: our requests it refused */
    unsigned inflight; /* requests to it in flight */
    unsigned cap;      /* how many it may have now (sender.c) */
    /* Due messages waiting for one of its slots, oldest first: each request that ends there
     * sends the next one back to the queue, so a busy service is served at its own pace. */
    struct wp_msg *parked, *parked_tail;
    UT_hash_handle hh;
};

enum wp_kind {
    WP_WEBPUSH = 0, /* browsers' push services (RFC 8030) */
    WP_UNIFIEDPUSH, /* UnifiedPush endpoints: SERV 1.0.1, or the Web Push form */
};

/* One push channel; the bridge has one of each kind that is configured. */
struct webpush {
    struct bridge *b;
    enum wp_kind kind;
    const char *channel;                    /* "webpush", "unifiedpush": the store's name */
    const struct bridge_push_settings *set; /* borrowed from b->cfg */
    enum metrics_push_channel mch;
    EVP_PKEY *key;               /* Web Push only; UnifiedPush borrows Web Push's signer */
    struct webpush_vapid *vapid; /* a reference; NULL for UnifiedPush without Web Push */
    int64_t key_created;         /* seconds */
    struct wp_stream *streams;
    struct wp_sub *subs;
    size_t n_subs;
    struct wp_msg **heap; /* min-heap by (due_ms, id) */
    size_t heap_len, heap_cap;
    size_t parked; /* messages parked at their origins */
    struct wp_origin *origins;
    unsigned inflight;
    uv_timer_t timer;
    uv_timer_t rotate_timer; /* webpush.rotate_period_s */
    bool timer_open;
    bool closing;
    /* cluster.c: the store's subscription marker as last read, and the resync count */
    char subs_mark[96];
    uint32_t sync_gen;
};

/* Wall clock in milliseconds (outbox times survive restarts). */
int64_t wp_wall_ms(void);

/* cluster.c: several bridges on one store (broker.share_group). wp_subs_changed() marks a change
 * of the channel's subscriptions in the store; wp_subs_sync() brings the index in line with the
 * store when the marker moved (always when force): 0, or -1 when the store failed. Both do
 * nothing without a share group. */
void wp_subs_changed(struct webpush *wp);
int wp_subs_sync(struct webpush *wp, bool force);
/* webpush.c: take the VAPID key from the store when another bridge rotated it; 0 or -1. */
int wp_key_reload(struct webpush *wp);
/* webpush.c: a stored message into the queue (used at start and by adoption); 0 or -1. */
int wp_load_msg(void *wp, const struct store_msg *rec);

/* webpush.c: the index. */
struct wp_sub *wp_sub_find(struct webpush *wp, int64_t id);
/* Forget sub (and delete it from the store when drop_store): its queued messages are skipped
 * when they come up. */
void wp_sub_remove(struct webpush *wp, struct wp_sub *s, bool drop_store);
/* Add a stored subscription to the index. 0, or -1 (bad identity JSON, out of memory). */
int wp_sub_add(struct webpush *wp, const struct store_sub *rec);
struct wp_stream *wp_stream_find(struct webpush *wp, const char *tenant, const char *stream);
/* The stream a subscription without one goes to: NULL when the tenant has no default. */
struct wp_stream *wp_stream_default(struct webpush *wp, const char *tenant);
/* Replace the VAPID key: a new one in the store, every subscription of the old gone. */
int wp_rotate(struct webpush *wp, char *err, size_t errlen);

/* The largest body any form sends (UnifiedPush SERV 1.0.1: 4000 bytes); a Web Push record
 * holds WEBPUSH_MAX_PLAINTEXT. */
#define WP_PLAIN_MAX 4000

/* Messages a channel holds in memory (and the outbox) at most. */
#define WP_PENDING_MAX 200000

/* The compact form of an event, {"id", "namespace", "name", "stream"} (string members only):
 * text (caller frees) of *out_len bytes, or NULL when out of memory. */
char *wp_compact(const char *body, size_t len, const char *stream, size_t *out_len);

/* The Topic of event on ws (RFC 8030 5.4): the value at the stream's topic path as it is when
 * it is 1 to 32 characters of the base64url alphabet, else the first 32 characters of its
 * SHA-256 in base64url; "" when the stream has no topic or the event no such value. */
void wp_topic(const struct wp_stream *ws, json_object *event, char out[WP_TOPIC_SIZE]);

/* sender.c: the queue. */
int wp_queue_push(struct webpush *wp, struct wp_msg *m);
/* Start what is due, within max_inflight, and arm the timer for the rest. */
void wp_pump(struct webpush *wp);
void wp_msg_free(struct wp_msg *m);
void wp_queue_clear(struct webpush *wp);

/* The key a send to s is held back by (429, Retry-After): the push service's origin for Web
 * Push (RFC 8030 8.4), the endpoint itself for UnifiedPush (its distributors throttle per
 * application). */
const char *wp_block_key(const struct webpush *wp, const struct wp_sub *s);

/* api.c */
int wp_api(struct conn *c, struct webpush *wp, const char *path, const char *body, size_t len);

#endif
