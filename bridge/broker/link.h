/*
 * The bridge's one connection to the broker: libmosquitto's client driven from the bridge's
 * libuv loop (the external-loop API: mosquitto_socket(), mosquitto_loop_read/write/misc), MQTT
 * v5, QoS 1, a persistent session, reference-counted subscriptions, and reconnection with
 * capped exponential backoff and full jitter.
 */
#ifndef BRIDGE_BROKER_LINK_H
#define BRIDGE_BROKER_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct mqlink;

struct mqlink_ops {
    /* A PUBLISH arrived; QoS 1 is acknowledged after this returns. */
    void (*on_message)(void *ud, const char *topic, const void *payload, size_t len);
    /* The link came up (CONNACK accepted) or went down. */
    void (*on_state)(void *ud, bool up);
    /* The broker acknowledged SUBSCRIBE of filter; granted is false when it refused it. */
    void (*on_subscribed)(void *ud, const char *filter, bool granted);
};

struct mqlink_params {
    const char *host; /* an IP literal or localhost: the first connect resolves it */
    int port;
    const char *client_id; /* also the MQTT username */
    int keepalive_s;
    unsigned session_expiry_s; /* how long the broker keeps the session across a drop */
    /* The password (the bridge's service token), asked before every connect so that a
     * rotated token file is picked up: malloc()ed, or NULL to try again later. */
    char *(*get_token)(void *ud);
    unsigned backoff_min_ms;
    unsigned backoff_max_ms;
};

/* Returns 0 and *out (free with mqlink_free()), or -1. Strings in p are copied. */
int mqlink_new(uv_loop_t *loop, const struct mqlink_params *p, const struct mqlink_ops *ops,
               void *ud, struct mqlink **out);
/* Begin connecting. The first attempt's TCP connect is the only call that may wait (on
 * loopback it does not); every reconnect is asynchronous. Returns 0 or -1. */
int mqlink_start(struct mqlink *l);

/* Reference-counted: the first subscribe of a filter sends SUBSCRIBE (QoS 1), the last
 * unsubscribe sends UNSUBSCRIBE. While down, the set is remembered and sent on connect.
 * Signatures fit struct hub_link_ops. */
void mqlink_subscribe(void *l, const char *filter);
void mqlink_unsubscribe(void *l, const char *filter);
/* A message came for filter although nobody holds it (a session left by an earlier process):
 * unsubscribe it at the broker unless it is referenced. */
void mqlink_drop_stale(struct mqlink *l, const char *filter);

bool mqlink_is_up(const struct mqlink *l);
uint64_t mqlink_connects(const struct mqlink *l);

/* Leave cleanly (DISCONNECT when up, keeping the session), close the handles, then call
 * done(arg) from the loop. */
void mqlink_stop(struct mqlink *l, void (*done)(void *arg), void *arg);
/* After mqlink_stop() completed, or before mqlink_start(). Accepts NULL. */
void mqlink_free(struct mqlink *l);

/* Delay before reconnect attempt n (0-based): full jitter over min(max, min_ms * 2^n), never
 * below min_ms. r is a uniform random number in [0, 1). */
unsigned mqlink_backoff_ms(unsigned attempt, unsigned min_ms, unsigned max_ms, double r);

#endif
