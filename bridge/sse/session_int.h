/*
 * Inside the stream-session module: the session and registry structures shared by
 * session.c (writing, waking, timers) and session_open.c (reading a request, refusing it or
 * starting a session).
 */
#ifndef BRIDGE_SSE_SESSION_INT_H
#define BRIDGE_SSE_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "criteria.h"
#include "hub.h"
#include "sse/session.h"
#include "token.h"

enum wake_queue { Q_NONE = 0, Q_NOW, Q_DEFERRED };

struct stream_sess {
    struct conn *c;
    struct stream_registry *reg;
    struct hub_consumer *hc;
    struct mqp_identity *id;       /* NULL: anonymous */
    struct mqp_criteria *criteria; /* NULL: everything */
    char *tenant;
    char *stream;
    struct mqp_stream_ref model; /* the stream in b->streams, for its subscriber criteria */
    int64_t exp;
    uint64_t last_write_ms;
    size_t replay_left, replayed;
    enum hub_resume resume;
    char ready_id[HUB_ID_LEN + 1];
    bool ws, preamble_done, ready_sent, hb_due, close_after_write, killed;
    bool key_due; /* send mqpush:vapid-key (a Web Push stream: after ready, on rotation) */
    const char *end_reason; /* set: send mqpush:reconnect and end */
    enum wake_queue queued; /* waiting on reg->now or reg->deferred */
    struct stream_sess *prev, *next;
    struct stream_sess *dprev, *dnext;
};

struct stream_registry {
    struct bridge *b;
    uv_timer_t timer;
    unsigned tick_ms;
    uint64_t last_probe_ms;
    uv_timer_t flush;             /* coalescing: serves the deferred sessions */
    uv_check_t check;             /* end of the loop turn: serves the sessions woken in it */
    struct stream_sess *now;      /* woken this turn */
    struct stream_sess *deferred; /* woken, but wrote less than coalesce_ms ago */
    int open_handles;
    struct stream_sess *head;
    size_t n;
    unsigned char *scratch;
    size_t scratch_cap;
};

/* Create the registry of b on first use. Returns 0 or -1. */
int session__registry_init(struct bridge *b);

/* How the hub reaches a session. */
extern const struct hub_consumer_ops session__consumer_ops;

/* Enter a fully built session into the registry (and the connection gauges). */
void session__link(struct bridge *b, struct stream_sess *ss);

#endif
