/*
 * One connection of the load client: TCP connect, CONNECT/CONNACK, SUBSCRIBE/SUBACK, then the
 * packets of a running client. Counters and latency samples go into the run.
 */
#include "mqload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

/* Subscribers read big chunks; the others only ever get acknowledgements. */
#define SUB_READ_CHUNK 65536
#define SMALL_READ_CHUNK 4096
#define READS_PER_WAKEUP 4
/* Incoming packets larger than this end the run: nothing in the benchmark sends them. */
#define MAX_PACKET_FLOOR (1u << 20)

/* Record the first fatal error and end the run. */
void run_fail(struct run *r, const char *fmt, ...)
{
    va_list ap;

    if (!r->error[0]) {
        va_start(ap, fmt);
        vsnprintf(r->error, sizeof(r->error), fmt, ap);
        va_end(ap);
    }
    r->phase = PH_DONE;
}

bool run_in_window(const struct run *r)
{
    return r->meas_started && !r->meas_ended;
}

static size_t max_packet(const struct run *r)
{
    size_t want = r->o->size + 65536;
    return want > MAX_PACKET_FLOOR ? want : MAX_PACKET_FLOOR;
}

static void client_ready(struct run *r, struct client *c)
{
    c->state = CS_READY;
    r->handshaking--;
    r->ready++;
}

void client_start(struct run *r, struct client *c, int64_t now)
{
    c->fd = net_connect_start(&r->addr);
    if (c->fd < 0) {
        run_fail(r, "%s: connect to %s:%d: %s", c->id, r->o->host, r->o->port, strerror(errno));
        return;
    }
    c->state = CS_TCP;
    c->last_tx = now;
    r->started++;
    r->handshaking++;
}

void client_on_connected(struct run *r, struct client *c)
{
    const struct options *o = r->o;
    struct wire_connect wc = {
        .client_id = c->id,
        .username = c->role == ROLE_PUB ? o->pub_user : o->sub_user,
        .password = c->role == ROLE_PUB ? o->pub_pass : o->sub_pass,
        .keepalive = MQLOAD_KEEPALIVE_S,
    };
    int err = net_connect_result(c->fd);

    if (err) {
        run_fail(r, "%s: connect to %s:%d: %s", c->id, o->host, o->port, strerror(err));
        return;
    }
    if (wire_put_connect(&c->out, &wc)) {
        run_fail(r, "%s: cannot encode CONNECT (credentials too long?)", c->id);
        return;
    }
    c->state = CS_CONNACK;
}

static void on_connack(struct run *r, struct client *c, const struct wire_packet *pk)
{
    const struct options *o = r->o;
    struct wire_connack ack;

    if (c->state != CS_CONNACK || wire_parse_connack(pk, &ack)) {
        run_fail(r, "%s: unexpected or malformed CONNACK", c->id);
        return;
    }
    if (ack.reason != 0) {
        run_fail(r, "%s: connection refused, CONNACK 0x%02x (%s)", c->id, ack.reason,
                 mosquitto_reason_string(ack.reason));
        return;
    }
    /* MQTT 5.0 section 3.2.2.3.3: never exceed the server's Receive Maximum */
    c->inflight_max = o->inflight < ack.receive_maximum ? o->inflight : ack.receive_maximum;
    if (c->role == ROLE_SUB || (c->role == ROLE_IDLE && o->idle_subscribe)) {
        if (wire_put_subscribe(&c->out, 1, o->sub_topics, o->n_sub_topics, o->sub_qos)) {
            run_fail(r, "%s: cannot encode SUBSCRIBE", c->id);
            return;
        }
        c->state = CS_SUBACK;
        return;
    }
    client_ready(r, c);
}

static void on_suback(struct run *r, struct client *c, const struct wire_packet *pk)
{
    const struct options *o = r->o;
    const uint8_t *reasons;
    size_t n, i;
    uint16_t pid;

    if (c->state != CS_SUBACK || wire_parse_suback(pk, &pid, &reasons, &n) ||
        n != o->n_sub_topics) {
        run_fail(r, "%s: unexpected or malformed SUBACK", c->id);
        return;
    }
    for (i = 0; i < n; i++) {
        if (reasons[i] >= 0x80) {
            run_fail(r, "%s: subscription to '%s' refused, SUBACK 0x%02x (%s)", c->id,
                     o->sub_topics[i], reasons[i], mosquitto_reason_string(reasons[i]));
            return;
        }
    }
    client_ready(r, c);
}

static void on_publish(struct run *r, struct client *c, const struct wire_packet *pk, int64_t now)
{
    struct wire_publish m;
    uint64_t sent;

    if (c->state != CS_READY || wire_parse_publish(pk, &m)) {
        run_fail(r, "%s: unexpected or malformed PUBLISH", c->id);
        return;
    }
    if (m.qos == 1 && wire_put_puback(&c->out, m.pid)) {
        run_fail(r, "%s: out of memory", c->id);
        return;
    }
    if (c->role != ROLE_SUB)
        return;
    c->received++;
    r->delivered++;
    if (!run_in_window(r))
        return;
    r->delivered_in_window++;
    r->rx_bytes_in_window += m.payload_len;
    if (payload_find_ts(m.payload, m.payload_len, &sent) == 0 && (int64_t)sent <= now)
        hist_add(&r->latency, (uint64_t)(now - (int64_t)sent));
    else
        r->no_timestamp++;
}

static void on_puback(struct run *r, struct client *c, const struct wire_packet *pk)
{
    uint16_t pid;
    uint8_t reason;

    if (c->role != ROLE_PUB || wire_parse_puback(pk, &pid, &reason)) {
        run_fail(r, "%s: unexpected or malformed PUBACK", c->id);
        return;
    }
    if (c->inflight > 0)
        c->inflight--;
    if (reason == MQTT_RC_NO_MATCHING_SUBSCRIBERS)
        r->pub_no_subs++;
    else if (reason >= 0x80)
        r->pub_refused++;
}

static void handle_packet(struct run *r, struct client *c, const struct wire_packet *pk,
                          int64_t now)
{
    uint8_t reason;

    switch (pk->type << 4) {
    case CMD_CONNACK:
        on_connack(r, c, pk);
        break;
    case CMD_SUBACK:
        on_suback(r, c, pk);
        break;
    case CMD_PUBLISH:
        on_publish(r, c, pk, now);
        break;
    case CMD_PUBACK:
        on_puback(r, c, pk);
        break;
    case CMD_PINGRESP:
        break;
    case CMD_DISCONNECT:
        if (wire_parse_disconnect(pk, &reason))
            reason = MQTT_RC_MALFORMED_PACKET;
        run_fail(r, "%s: disconnected by the broker, reason 0x%02x (%s)", c->id, reason,
                 mosquitto_reason_string(reason));
        break;
    default:
        run_fail(r, "%s: unexpected packet type %u", c->id, pk->type);
        break;
    }
}

void client_on_readable(struct run *r, struct client *c)
{
    size_t chunk = c->role == ROLE_SUB ? SUB_READ_CHUNK : SMALL_READ_CHUNK;
    size_t pos = 0;
    int64_t now;
    int i;

    for (i = 0; i < READS_PER_WAKEUP; i++) {
        ssize_t n = net_read(c->fd, &c->in, chunk);
        if (n == -2)
            break;
        if (n == 0) {
            run_fail(r, "%s: connection closed by the broker", c->id);
            return;
        }
        if (n < 0) {
            run_fail(r, "%s: read: %s", c->id, strerror(errno));
            return;
        }
        if ((size_t)n < chunk)
            break;
    }
    /* one clock reading per batch: every packet in it was in our socket by now */
    now = mono_ns();
    while (r->phase != PH_DONE) {
        struct wire_packet pk;
        int rc = wire_next(c->in.data + pos, c->in.len - pos, max_packet(r), &pk);
        if (rc == 0)
            break;
        if (rc < 0) {
            run_fail(r, "%s: malformed or oversized packet from the broker", c->id);
            return;
        }
        handle_packet(r, c, &pk, now);
        pos += pk.total;
    }
    wire_buf_consume(&c->in, pos);
}
