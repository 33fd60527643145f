/*
 * What the broker link's packets mean: CONNACK, messages in (acknowledged once kept),
 * subscriptions and their SUBACKs, and the outbox of our QoS 1 PUBLISHes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/link_int.h"

static bool id_used(const struct mqlink *l, uint16_t id)
{
    return l->ids[id >> 3] & (1u << (id & 7));
}

static void id_release(struct mqlink *l, uint16_t id)
{
    l->ids[id >> 3] &= (uint8_t) ~(1u << (id & 7));
}

/* A packet identifier not in use (2.2.1: non-zero, unique among unacknowledged packets), or
 * 0 when all 65,535 are. */
static uint16_t id_take(struct mqlink *l)
{
    unsigned i;

    for (i = 0; i < 65535; i++) {
        uint16_t id = ++l->next_id;

        if (id == 0)
            id = l->next_id = 1;
        if (!id_used(l, id)) {
            l->ids[id >> 3] |= (uint8_t)(1u << (id & 7));
            return id;
        }
    }
    return 0;
}

static bool is_shared(const char *filter)
{
    return strncmp(filter, "$share/", 7) == 0;
}

static void send_subscribe(struct mqlink *l, struct mqlink_sub *s)
{
    struct mqc_buf b = {0};
    uint16_t id = id_take(l);

    if (id == 0 ||
        mqc_put_subscribe(&b, id, s->filter, 1 /* QoS 1 */,
                          is_shared(s->filter) ? MQLINK_SUBID_SHARED : MQLINK_SUBID_PLAIN) != 0) {
        if (id)
            id_release(l, id);
        free(b.p);
        mqlink__log("SUBSCRIBE %s not sent: out of memory or packet ids", s->filter);
        return;
    }
    s->mid = id;
    mqlink__send(l, &b);
}

static void send_unsubscribe(struct mqlink *l, const char *filter)
{
    struct mqc_buf b = {0};
    uint16_t id = id_take(l);

    if (id == 0 || mqc_put_unsubscribe(&b, id, filter) != 0) {
        if (id)
            id_release(l, id);
        free(b.p);
        return;
    }
    mqlink__send(l, &b);
}

/* Send what the broker's Receive Maximum allows of the outbox, oldest first (4.9). */
static void outbox_pump(struct mqlink *l)
{
    struct mqlink_out *o;

    for (o = l->out_head; o && l->up && l->out_inflight < l->peer_receive_max; o = o->next) {
        struct mqc_buf b;

        if (o->sent)
            continue;
        b.p = malloc(o->len);
        if (b.p == NULL)
            return;
        /* 3.3.1.1: a PUBLISH sent again carries DUP. */
        if (o->ever_sent)
            o->pkt[0] |= 0x08;
        memcpy(b.p, o->pkt, o->len);
        b.len = b.cap = o->len;
        o->sent = o->ever_sent = true;
        l->out_inflight++;
        if (mqlink__send(l, &b) != 0)
            return;
    }
}

void mqlink__outbox_unsent(struct mqlink *l)
{
    struct mqlink_out *o;

    for (o = l->out_head; o; o = o->next)
        o->sent = false;
    l->out_inflight = 0;
}

void mqlink__outbox_free(struct mqlink *l)
{
    struct mqlink_out *o = l->out_head, *next;

    for (; o; o = next) {
        next = o->next;
        free(o->pkt);
        free(o);
    }
    l->out_head = l->out_tail = NULL;
    l->out_n = l->out_inflight = 0;
}

static void on_puback(struct mqlink *l, const struct mqc_ack *a)
{
    struct mqlink_out **pp, *o;
    void (*done)(void *, bool) = NULL;
    void *arg = NULL;

    for (pp = &l->out_head; (o = *pp) != NULL; pp = &o->next) {
        if (o->id != a->id)
            continue;
        *pp = o->next;
        if (l->out_tail == o) {
            struct mqlink_out *t = l->out_head;

            while (t && t->next)
                t = t->next;
            l->out_tail = t;
        }
        if (o->sent && l->out_inflight)
            l->out_inflight--;
        l->out_n--;
        id_release(l, o->id);
        done = o->done;
        arg = o->arg;
        free(o->pkt);
        free(o);
        break;
    }
    /* 3.4.2.1: 0x10 "no matching subscribers" is a success; 0x80 and above refuse. */
    if (a->code >= 0x80)
        mqlink__log("PUBLISH %u refused: reason 0x%02x", a->id, a->code);
    outbox_pump(l);
    if (done)
        done(arg, a->code < 0x80);
}

static void on_suback(struct mqlink *l, const struct mqc_ack *a)
{
    struct mqlink_sub *s, *tmp;

    id_release(l, a->id);
    HASH_ITER(hh, l->subs, s, tmp)
    {
        bool ok;

        if (s->mid != a->id)
            continue;
        s->mid = 0;
        /* SUBACK reason codes of 0x80 and above refuse the filter (3.9.3). */
        ok = a->code < 0x80;
        if (!ok)
            mqlink__log("subscription %s refused: reason 0x%02x", s->filter, a->code);
        if (l->ops->on_subscribed)
            l->ops->on_subscribed(l->ud, s->filter, ok);
        return;
    }
}

static int on_connack(struct mqlink *l, const struct mqc_packet *pkt)
{
    struct mqlink_sub *s, *tmp;
    struct mqc_props pr;
    bool present;
    uint8_t rc;
    char why[96];

    if (l->up || mqc_decode_connack(pkt, &present, &rc, &pr) != 0) {
        mqlink__down(l, "unexpected or malformed CONNACK");
        return -1;
    }
    if (rc != 0) {
        /* 3.2.2.2; Mosquitto answers a bad password with 0x87 (not authorized). */
        snprintf(why, sizeof(why), "CONNACK refused: reason 0x%02x%s", rc,
                 rc == 0x86 || rc == 0x87 ? " (bad credentials or not authorized)" : "");
        mqlink__down(l, why);
        return -1;
    }
    l->up = true;
    /* After a message that could not be kept (a store failing), every reconnect has it
     * redelivered first and dropped again: the backoff goes on growing over those reconnects,
     * or a store that stays broken would be retried every backoff_min_ms for as long as it
     * lasts. Without a session the message is gone and so is the reason. */
    if (!present)
        l->unkept = false;
    if (!l->unkept)
        l->attempt = 0;
    l->connects++;
    l->peer_receive_max = pr.receive_max ? pr.receive_max : 65535;
    l->peer_max_packet = pr.max_packet;
    /* 3.2.2.3.14: the broker's keep alive replaces ours. */
    if (pr.has_server_keepalive)
        l->keepalive_ms = (unsigned)pr.server_keepalive * 1000;
    if (!l->resumed_logged && present)
        mqlink__log("the broker kept this client id's session from an earlier connection");
    l->resumed_logged = true;
    /* The broker may have lost the session (restart without persistence): subscribe again
     * whatever the session-present flag says; a repeated SUBSCRIBE replaces the subscription
     * (3.8.4), it never doubles deliveries. */
    HASH_ITER(hh, l->subs, s, tmp)
    {
        if (s->mid)
            id_release(l, s->mid);
        s->mid = 0;
        if (s->refs)
            send_subscribe(l, s);
    }
    outbox_pump(l);
    l->ops->on_state(l->ud, true);
    return 0;
}

static int on_publish(struct mqlink *l, const struct mqc_packet *pkt)
{
    struct mqc_publish m;
    char stack[256], *topic = stack;
    unsigned via = 0;
    int rc = -1;

    if (mqc_decode_publish(pkt, &m) != 0 || m.qos > 1 || m.props.topic_alias != 0) {
        /* QoS 2 and topic aliases were not asked for (subscriptions are QoS 1, no Topic Alias
         * Maximum in CONNECT: 3.2.2.3.8). */
        mqlink__down(l, "malformed or unexpected PUBLISH");
        return -1;
    }
    if (m.topic_len >= sizeof(stack) && (topic = malloc(m.topic_len + 1)) == NULL) {
        mqlink__down(l, "out of memory");
        return -1;
    }
    memcpy(topic, m.topic, m.topic_len);
    topic[m.topic_len] = '\0';
    if (m.props.sub_ids & (1u << MQLINK_SUBID_PLAIN))
        via |= MQLINK_VIA_PLAIN;
    if (m.props.sub_ids & (1u << MQLINK_SUBID_SHARED))
        via |= MQLINK_VIA_SHARED;
    if (l->ops->on_message(l->ud, topic, m.payload, m.payload_len, via) != 0 && m.qos == 1) {
        /* Not kept: no PUBACK. PUBACKs go in the order of the PUBLISHes (4.6), so none may
         * follow either; the session redelivers this one first after the reconnect. */
        l->unkept = true;
        mqlink__down(l, "a message could not be kept; left unacknowledged for redelivery");
        goto cleanup;
    }
    if (m.qos == 1 && l->unkept) {
        l->unkept = false;
        l->attempt = 0;
    }
    if (m.qos == 1) {
        struct mqc_buf b = {0};

        if (mqc_put_puback(&b, m.id, 0) != 0) {
            free(b.p);
            mqlink__down(l, "out of memory");
            goto cleanup;
        }
        if (mqlink__send(l, &b) != 0)
            goto cleanup;
    }
    rc = 0;
cleanup:
    if (topic != stack)
        free(topic);
    return rc;
}

int mqlink__handle(struct mqlink *l, const struct mqc_packet *pkt)
{
    struct mqc_ack a;
    struct mqc_props pr;
    uint8_t reason;
    char why[128];

    if (!l->up && pkt->type != MQC_CONNACK && pkt->type != MQC_DISCONNECT) {
        mqlink__down(l, "a packet before CONNACK");
        return -1;
    }
    switch (pkt->type) {
    case MQC_CONNACK:
        return on_connack(l, pkt);
    case MQC_PUBLISH:
        return on_publish(l, pkt);
    case MQC_PUBACK:
    case MQC_SUBACK:
    case MQC_UNSUBACK:
        if (mqc_decode_ack(pkt, &a) != 0)
            break;
        if (pkt->type == MQC_PUBACK)
            on_puback(l, &a);
        else if (pkt->type == MQC_SUBACK)
            on_suback(l, &a);
        else
            id_release(l, a.id);
        return 0;
    case MQC_PINGRESP:
        if (pkt->flags || pkt->body_len)
            break;
        l->ping_sent_ms = 0;
        return 0;
    case MQC_DISCONNECT:
        if (mqc_decode_disconnect(pkt, &reason, &pr) != 0)
            break;
        /* 3.14.2.1; 0x8e is "session taken over" by another connection with our id. */
        snprintf(why, sizeof(why), "DISCONNECT from the broker: reason 0x%02x%s%.*s", reason,
                 pr.reason ? ": " : "", pr.reason ? (int)pr.reason_len : 0,
                 pr.reason ? pr.reason : "");
        mqlink__down(l, why);
        return -1;
    default:
        break;
    }
    mqlink__down(l, "malformed or unexpected packet from the broker");
    return -1;
}

void mqlink_subscribe(void *arg, const char *filter)
{
    struct mqlink *l = arg;
    struct mqlink_sub *s = NULL;

    HASH_FIND_STR(l->subs, filter, s);
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL || (s->filter = strdup(filter)) == NULL) {
            free(s);
            mqlink__log("out of memory: %s not subscribed", filter);
            return;
        }
        HASH_ADD_KEYPTR(hh, l->subs, s->filter, strlen(s->filter), s);
    }
    s->refs++;
    /* Each new holder waits for a SUBACK before it tells its clients they are live: ask again
     * unless one is on its way (a repeated SUBSCRIBE replaces the subscription, 3.8.4). */
    if (l->up && s->mid == 0)
        send_subscribe(l, s);
}

void mqlink_unsubscribe(void *arg, const char *filter)
{
    struct mqlink *l = arg;
    struct mqlink_sub *s = NULL;

    HASH_FIND_STR(l->subs, filter, s);
    if (s == NULL || s->refs == 0)
        return;
    if (--s->refs > 0)
        return;
    if (l->up)
        send_unsubscribe(l, filter);
    /* While down nothing is sent: the next connect subscribes only what is referenced, and a
     * subscription the session still holds shows up as a stale message (mqlink_drop_stale). */
    if (s->mid)
        id_release(l, s->mid);
    HASH_DEL(l->subs, s);
    free(s->filter);
    free(s);
}

void mqlink_drop_stale(struct mqlink *l, const char *filter)
{
    struct mqlink_sub *s = NULL;

    HASH_FIND_STR(l->subs, filter, s);
    if ((s && s->refs) || !l->up)
        return;
    send_unsubscribe(l, filter);
}

void mqlink_publish_forget(struct mqlink *l, void *arg)
{
    struct mqlink_out *o;

    for (o = l->out_head; o; o = o->next)
        if (o->arg == arg)
            o->done = NULL;
}

int mqlink_publish(struct mqlink *l, const char *topic, const void *payload, size_t len)
{
    return mqlink_publish_then(l, topic, payload, len, NULL, NULL);
}

int mqlink_publish_then(struct mqlink *l, const char *topic, const void *payload, size_t len,
                        void (*done)(void *arg, bool accepted), void *arg)
{
    struct mqc_buf b = {0};
    struct mqlink_out *o;
    uint16_t id;

    if (!l->up || len > MQC_REMAINING_MAX)
        return -1;
    id = id_take(l);
    if (id == 0)
        return -1;
    o = calloc(1, sizeof(*o));
    if (o == NULL || mqc_put_publish(&b, topic, payload, len, 1, id, false) != 0 ||
        (l->peer_max_packet && b.len > l->peer_max_packet)) {
        mqlink__log("PUBLISH to %s not sent: %s", topic,
                    o && b.p ? "larger than the broker's maximum packet size" : "out of memory");
        free(b.p);
        free(o);
        id_release(l, id);
        return -1;
    }
    o->id = id;
    o->pkt = b.p;
    o->len = b.len;
    o->done = done;
    o->arg = arg;
    if (l->out_tail)
        l->out_tail->next = o;
    else
        l->out_head = o;
    l->out_tail = o;
    l->out_n++;
    outbox_pump(l);
    return 0;
}
