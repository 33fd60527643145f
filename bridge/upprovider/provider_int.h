/* Shared inside the UnifiedPush provider (bridge/upprovider/). */
#ifndef BRIDGE_UPPROVIDER_PROVIDER_INT_H
#define BRIDGE_UPPROVIDER_PROVIDER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include <uthash.h>
#include "access.h"
#include "http/request.h"
#include "upprovider/provider.h"

/* 18 random bytes (144 bits), base64url: 24 characters, no padding. */
#define UPP_ID_BYTES 18
#define UPP_ID_LEN 24
/* UnifiedPush SERV 1.0.1: a push message carries at most 4096 bytes, 4000 of content. */
#define UPP_MAX_MESSAGE 4000

/* A token bucket of one endpoint (unifiedpush.provider.rate_per_min, burst). */
struct upp_bucket {
    UT_hash_handle hh; /* up_provider.buckets, keyed by id */
    char id[UPP_ID_LEN + 1];
    double tokens;
    uint64_t at_ms; /* loop time of the last refill */
};

struct upp_sse;

struct up_provider {
    struct bridge *b;
    uv_timer_t timer; /* expiry, heartbeats, token expiry of SSE connections */
    bool timer_open;
    struct upp_bucket *buckets; /* one per endpoint that received a message lately */
    struct upp_sse *sessions;   /* open SSE connections (utlist DL) */
    uint64_t last_expire_ms;
    up_provider_wake_fn wake; /* the socket.io side, or NULL */
    void *wake_ud;
};

/* The caller of a distributor API: a tenant token with a "sub". 0 and who/owner filled (clear
 * who with http_caller_clear()), or 1 when an error reply was sent (*rc is its result). */
int upp__caller(struct conn *c, struct http_caller *who, char owner[MQP_OWNER_KEY_LEN + 1],
                int *rc);

/* Wall-clock milliseconds: message times outlive the process, unlike loop time. */
int64_t upp__wall_ms(void);

/* Reply with a JSON object (consumed). */
int upp__reply_json(struct conn *c, int status, json_object *o);

/* Take a token of endpoint id's bucket: 0, or the seconds to wait (Retry-After). */
unsigned upp__rate_take(struct up_provider *p, const char *id);
void upp__rate_forget(struct up_provider *p, const char *id);

/* "<tenant>/~unifiedpush/<owner>/<id>" (id "#": the owner's filter) into buf; 0 or -1. */
int upp__topic(char *buf, size_t cap, const char *tenant, const char *owner, const char *id);

/* SSE (provider_sse.c): open one for the caller; wake the owner's connections for a new
 * message; heartbeat and token expiry from the timer; end all at shutdown. */
int upp__sse_open(struct up_provider *p, struct conn *c);
void upp__sse_notify(struct up_provider *p, const char *tenant, const char *owner);
void upp__sse_tick(struct up_provider *p, uint64_t now_ms);

#endif
