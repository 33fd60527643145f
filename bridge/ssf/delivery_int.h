/*
 * Inside SET delivery: the pending SETs of each SSF stream, in order (the store's outbox is
 * the durable copy), shared by delivery.c (fan-out, queues), push.c and poll.c. Loop thread.
 */
#ifndef BRIDGE_SSF_DELIVERY_INT_H
#define BRIDGE_SSF_DELIVERY_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>
#include <uv.h>
#include <json-c/json.h>
#include "bridge.h"
#include "ssf/delivery.h"

/* RFC 8935 2.4 error codes, counted per stream; SSF_ERR_OTHER for anything else. */
enum ssf_err_code {
    SSF_ERR_INVALID_REQUEST = 0,
    SSF_ERR_INVALID_KEY,
    SSF_ERR_INVALID_ISSUER,
    SSF_ERR_INVALID_AUDIENCE,
    SSF_ERR_AUTHENTICATION_FAILED,
    SSF_ERR_ACCESS_DENIED,
    SSF_ERR_OTHER,
    SSF_ERR_COUNT
};

/* One outbox row. */
struct ssf_item {
    int64_t id;
    char *jti;
    char *claims; /* JSON text, signed when sent */
    int64_t created_ms, due_ms;
    int attempts;
    struct ssf_item *next;
};

struct ssf_poll_wait;

/* The delivery state of one SSF stream. */
struct ssf_dstream {
    char *id; /* stream_id; the hash key */
    char *tenant;
    struct ssf_item *head, *tail;
    size_t n;
    bool sending;           /* push: the head is in flight */
    unsigned auth_failures; /* consecutive access_denied/authentication_failed */
    uint64_t errors[SSF_ERR_COUNT];
    struct ssf_poll_wait *waiters; /* RFC 8936 long polls */
    UT_hash_handle hh;
};

struct ssf_delivery {
    struct bridge *b;
    struct ssf_dstream *streams;
    size_t pending;
    unsigned inflight;
    uv_timer_t timer;
    bool timer_open;
    bool closing;
};

/* Wall clock in milliseconds (outbox times survive restarts). */
int64_t ssf__wall_ms(void);
struct ssf_delivery *ssf__delivery(const struct bridge *b);
/* The stream's state, made when absent (NULL when out of memory). */
struct ssf_dstream *ssf__dstream(struct ssf_delivery *d, const char *tenant, const char *id);
struct ssf_dstream *ssf__dstream_find(struct ssf_delivery *d, const char *id);
/* Remove item (in ds's queue) from the queue and, when drop_row, from the outbox. */
void ssf__item_remove(struct ssf_delivery *d, struct ssf_dstream *ds, struct ssf_item *it,
                      bool drop_row);
/* Drop the stream's queued SETs (all but one in flight) from memory and the outbox. */
void ssf__drop_all(struct ssf_delivery *d, struct ssf_dstream *ds);
/* Queue a control SET (verification, stream-updated) of event type with claims event
 * (borrowed) for the stream. 0 or -1. */
int ssf__queue_control(struct ssf_delivery *d, const char *tenant, const char *stream_id,
                       const char *aud, const char *type, json_object *event);
enum ssf_err_code ssf__err_code(const char *err);

/* push.c: start what is due and arm the timer for the rest. */
void ssf__push_pump(struct ssf_delivery *d);

/* poll.c: new SETs or a status change for ds: answer its waiting long polls. */
void ssf__poll_wake(struct ssf_delivery *d, struct ssf_dstream *ds);
/* Answer what still waits (shutdown). */
void ssf__poll_close(struct ssf_delivery *d, struct ssf_dstream *ds);

#endif
