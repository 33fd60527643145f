/*
 * The broker link's state, shared by its files: link.c (connection, keepalive, lifecycle) and
 * link_proto.c (what the packets mean: subscriptions, messages in, the QoS 1 outbox).
 */
#ifndef BRIDGE_BROKER_LINK_INT_H
#define BRIDGE_BROKER_LINK_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>
#include <uv.h>

#include "broker/link.h"
#include "broker/mqtt_codec.h"

#define MQLINK_TICK_MS 500
#define MQLINK_CONNECT_TIMEOUT_MS 10000
#define MQLINK_DEFAULT_SESSION_EXPIRY_S 3600
#define MQLINK_DEFAULT_BACKOFF_MIN_MS 250
#define MQLINK_DEFAULT_KEEPALIVE_S 30
/* What the broker may send at most: QoS 1 messages unacknowledged (3.1.2.11.3) and the size
 * of a packet (3.1.2.11.4; larger ones the broker does not send to us). Events are far
 * smaller (the plugin bounds them). */
#define MQLINK_RECEIVE_MAX 1024
#define MQLINK_PACKET_MAX (16u * 1024 * 1024)
/* Subscription identifiers (3.8.2.1.2) that tell how a message came. */
#define MQLINK_SUBID_PLAIN 1
#define MQLINK_SUBID_SHARED 2

struct mqlink_sub {
    char *filter;
    unsigned refs;
    uint16_t mid; /* of the SUBSCRIBE awaiting its SUBACK, or 0 */
    UT_hash_handle hh;
};

/* A QoS 1 PUBLISH of ours, kept until its PUBACK. */
struct mqlink_out {
    uint16_t id;
    bool sent; /* on the current connection */
    bool ever_sent;
    unsigned char *pkt;
    size_t len;
    void (*done)(void *arg, bool accepted); /* mqlink_publish_then(), or NULL */
    void *arg;
    struct mqlink_out *next;
};

/* One TCP connection; freed when its handle closes. */
struct mqlink_conn {
    uv_tcp_t tcp; /* first: the close callback frees the struct through it */
    uv_connect_t creq;
    struct mqlink *l;
};

struct mqlink {
    uv_loop_t *loop;
    char *host, *client_id;
    struct mqlink_params p;
    const struct mqlink_ops *ops;
    void *ud;
    struct mqlink_conn *conn; /* NULL while down */
    char *token;              /* for the CONNECT being made */
    unsigned char *in;        /* bytes read and not yet a whole packet */
    size_t in_len, in_cap;
    uv_timer_t tick, retry;
    bool started, up, stopping, resumed_logged;
    unsigned attempt; /* failed connects since the last accepted one */
    /* The last connection ended on a message that could not be kept: a CONNACK does not reset
     * the backoff, keeping the first message kept after it does (see on_connack). */
    bool unkept;
    uint64_t connects;
    unsigned keepalive_ms;
    uint64_t connect_started_ms, last_sent_ms, last_recv_ms, ping_sent_ms;
    uint16_t peer_receive_max; /* the broker's Receive Maximum (3.2.2.3.3) */
    uint32_t peer_max_packet;  /* 0: no limit given */
    struct mqlink_sub *subs;
    struct mqlink_out *out_head, *out_tail;
    unsigned out_n, out_inflight;
    uint16_t next_id;
    uint8_t ids[65536 / 8]; /* packet identifiers in use (2.2.1) */
    int open_handles;
    void (*stop_done)(void *);
    void *stop_arg;
};

__attribute__((format(printf, 1, 2))) void mqlink__log(const char *fmt, ...);
/* Queue b's bytes on the connection (b->p is taken over, also on failure): 0, or -1 when
 * there is no connection or the write failed (the link is then down). */
int mqlink__send(struct mqlink *l, struct mqc_buf *b);
/* The connection is gone or never came up: tell, drop it, try again after the backoff. */
void mqlink__down(struct mqlink *l, const char *why);
/* One packet from the broker: 0, or -1 when the connection was ended because of it. */
int mqlink__handle(struct mqlink *l, const struct mqc_packet *pkt);
/* After a drop: every queued PUBLISH goes again on the next connection. */
void mqlink__outbox_unsent(struct mqlink *l);
void mqlink__outbox_free(struct mqlink *l);

#endif
