/*
 * The bridge's one connection to the broker: an MQTT 5 client on the bridge's libuv loop, QoS 1,
 * a persistent session, reference-counted subscriptions, and reconnection with capped
 * exponential backoff and full jitter. A QoS 1 message is acknowledged only once the bridge
 * has kept it (see on_message).
 *
 * Filters that begin with "$share/<group>/" are shared subscriptions (MQTT 5 4.8.2): the broker
 * gives each message to one of the group's members. Each message says by which kind of
 * subscription it came (MQLINK_VIA_*, from the subscription identifiers the link sets).
 */
#ifndef BRIDGE_BROKER_LINK_H
#define BRIDGE_BROKER_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct mqlink;

/* How a message came: through a plain subscription, a shared one, or both. 0 when the broker
 * did not say (no subscription identifiers): treat it as both. */
#define MQLINK_VIA_PLAIN 1u
#define MQLINK_VIA_SHARED 2u

struct mqlink_ops {
    /* A PUBLISH arrived; topic and payload are borrowed for the call. Return 0 once it is
     * safe (QoS 1 is acknowledged then), or non-zero when it could not be kept: it is left
     * unacknowledged, the connection is dropped and the broker's session delivers it again
     * after the reconnect (backoff as for any drop). May call
     * mqlink_subscribe()/unsubscribe()/drop_stale()/publish(). */
    int (*on_message)(void *ud, const char *topic, const void *payload, size_t len, unsigned via);
    /* The link came up (CONNACK accepted) or went down. */
    void (*on_state)(void *ud, bool up);
    /* The broker acknowledged SUBSCRIBE of filter (borrowed); granted is false when it
     * refused it. Optional (NULL). */
    void (*on_subscribed)(void *ud, const char *filter, bool granted);
};

struct mqlink_params {
    /* An IP literal, or localhost (taken as 127.0.0.1): no name lookup blocks the loop. */
    const char *host;
    int port;
    const char *client_id; /* also the MQTT username */
    int keepalive_s;
    unsigned session_expiry_s; /* how long the broker keeps the session across a drop */
    /* The password (the bridge's service token), asked before every connect so that a
     * rotated token file is picked up: the link frees it (after wiping it), or NULL to try
     * again after the backoff. */
    char *(*get_token)(void *ud);
    unsigned backoff_min_ms;
    unsigned backoff_max_ms;
};

/* Returns 0 and *out (caller frees with mqlink_free()), or -1 when host or client_id is
 * missing, the port is outside 1..65535 or memory ran out. The
 * strings in p are copied; ops and ud are borrowed and must outlive the link. Zero backoff_min_ms,
 * session_expiry_s or keepalive_s take the defaults 250 ms, 3600 s and 30 s; backoff_max_ms below
 * the minimum is raised to it. */
int mqlink_new(uv_loop_t *loop, const struct mqlink_params *p, const struct mqlink_ops *ops,
               void *ud, struct mqlink **out);
/* Begin connecting: a non-blocking TCP connect, then CONNECT when the socket is writable.
 * Failures are retried on the loop with backoff and logged; -1 only when called twice or
 * after mqlink_stop(). */
int mqlink_start(struct mqlink *l);

/* Reference-counted: a subscribe sends SUBSCRIBE (QoS 1) unless one is awaiting its SUBACK,
 * so that every holder sees on_subscribed; the last unsubscribe sends UNSUBSCRIBE. While down,
 * the set is remembered and sent on connect.
 * Signatures fit struct hub_link_ops. */
void mqlink_subscribe(void *l, const char *filter);
void mqlink_unsubscribe(void *l, const char *filter);
/* A message came for filter although nobody holds it (a session left by an earlier process,
 * or an unsubscribe while down): unsubscribe it at the broker unless it is referenced. */
void mqlink_drop_stale(struct mqlink *l, const char *filter);

/* Publish payload (len bytes, copied) on topic, QoS 1, not retained. Returns 0 once the
 * PUBLISH is queued on an up link: it is sent again (with DUP) until the PUBACK comes, also
 * after a reconnect of this process, and no more than the broker's Receive Maximum are in
 * flight. -1 when the link is down, out of packet ids or memory, or the packet is larger than
 * the broker accepts; the caller decides whether to try later. A PUBACK that refuses the message
 * (reason code 0x80 or above, e.g. the broker's ACL) is only logged. */
int mqlink_publish(struct mqlink *l, const char *topic, const void *payload, size_t len);
/* The same, and done(arg, accepted) once the broker's PUBACK came (accepted: a reason code
 * below 0x80); not called when the link is freed first, nor after mqlink_publish_forget(l, arg)
 * (call it when arg goes away). */
int mqlink_publish_then(struct mqlink *l, const char *topic, const void *payload, size_t len,
                        void (*done)(void *arg, bool accepted), void *arg);
void mqlink_publish_forget(struct mqlink *l, void *arg);

/* Up: CONNACK accepted and the connection not lost since. */
bool mqlink_is_up(const struct mqlink *l);
/* When down and waiting out the backoff: connect now, with the backoff from its start (the
 * reason for the wait is gone, e.g. the store takes writes again). Otherwise nothing. */
void mqlink_retry_now(struct mqlink *l);
/* Accepted connects since mqlink_new(), for /metrics. */
uint64_t mqlink_connects(const struct mqlink *l);

/* Leave cleanly (DISCONNECT when up, keeping the session), close the handles, then call
 * done(arg) from the loop; done is called at once when the link was never started. Nothing
 * reaches ops after this call. A second call does nothing. */
void mqlink_stop(struct mqlink *l, void (*done)(void *arg), void *arg);
/* After mqlink_stop() completed, or before mqlink_start(). Accepts NULL. */
void mqlink_free(struct mqlink *l);

/* Delay before reconnect attempt n (0-based) after n earlier failures: uniform over
 * [min_ms, min(max_ms, min_ms * 2^n)] (full jitter above the floor). r is a uniform random
 * number in [0, 1). Exposed for the unit test. */
unsigned mqlink_backoff_ms(unsigned attempt, unsigned min_ms, unsigned max_ms, double r);

#endif
