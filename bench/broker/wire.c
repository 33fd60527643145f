#include "wire.h"

#include <stdlib.h>
#include <string.h>
#include <mqtt_protocol.h>

/* MQTT 5.0 section 1.5.5: a Variable Byte Integer holds at most 268,435,455 in 4 bytes. */
#define VBI_MAX 268435455u

int wire_buf_reserve(struct wire_buf *b, size_t extra)
{
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 4096;
    uint8_t *p;

    if (need <= b->cap)
        return 0;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

void wire_buf_consume(struct wire_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void wire_buf_free(struct wire_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* The unchecked writers below run after wire_buf_reserve() made room for the whole packet. */
static void put_u8(struct wire_buf *b, uint8_t v)
{
    b->data[b->len++] = v;
}

static void put_u16(struct wire_buf *b, uint16_t v)
{
    put_u8(b, (uint8_t)(v >> 8));
    put_u8(b, (uint8_t)v);
}

static void put_vbi(struct wire_buf *b, uint32_t v)
{
    do {
        uint8_t byte = v % 128;
        v /= 128;
        put_u8(b, v ? (uint8_t)(byte | 128) : byte);
    } while (v);
}

static size_t vbi_len(size_t v)
{
    return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

static void put_bytes(struct wire_buf *b, const void *p, size_t n)
{
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* Section 1.5.4/1.5.6: strings and binary data carry a two-byte length. */
static void put_str(struct wire_buf *b, const char *s, size_t n)
{
    put_u16(b, (uint16_t)n);
    put_bytes(b, s, n);
}

/* Reserve room for a packet of body_len bytes and write its fixed header (section 2.1.1). */
static int begin_packet(struct wire_buf *b, uint8_t first, size_t body_len)
{
    if (body_len > VBI_MAX)
        return -1;
    if (wire_buf_reserve(b, 1 + vbi_len(body_len) + body_len))
        return -1;
    put_u8(b, first);
    put_vbi(b, (uint32_t)body_len);
    return 0;
}

int wire_put_connect(struct wire_buf *b, const struct wire_connect *c)
{
    size_t id_len = strlen(c->client_id);
    size_t user_len = c->username ? strlen(c->username) : 0;
    size_t pass_len = c->password ? strlen(c->password) : 0;
    size_t body;
    uint8_t flags = 0x02; /* Clean Start, section 3.1.2.4 */

    if (id_len > UINT16_MAX || user_len > UINT16_MAX || pass_len > UINT16_MAX)
        return -1;
    /* protocol name, level, flags, keep alive, empty properties */
    body = 2 + 4 + 1 + 1 + 2 + 1 + 2 + id_len;
    if (c->username) {
        flags |= 0x80;
        body += 2 + user_len;
    }
    if (c->password) {
        flags |= 0x40;
        body += 2 + pass_len;
    }
    if (begin_packet(b, CMD_CONNECT, body))
        return -1;
    put_str(b, PROTOCOL_NAME, 4);
    put_u8(b, PROTOCOL_VERSION_v5);
    put_u8(b, flags);
    put_u16(b, c->keepalive);
    put_vbi(b, 0);
    put_str(b, c->client_id, id_len);
    if (c->username)
        put_str(b, c->username, user_len);
    if (c->password)
        put_str(b, c->password, pass_len);
    return 0;
}

int wire_put_subscribe(struct wire_buf *b, uint16_t pid, const char *const *filters,
                       size_t n_filters, int qos)
{
    size_t body = 2 + 1;
    size_t i;

    for (i = 0; i < n_filters; i++) {
        size_t n = strlen(filters[i]);
        if (n > UINT16_MAX)
            return -1;
        body += 2 + n + 1;
    }
    /* Section 3.8.1: bits 3..0 of the SUBSCRIBE fixed header are 0010. */
    if (begin_packet(b, CMD_SUBSCRIBE | 0x02, body))
        return -1;
    put_u16(b, pid);
    put_vbi(b, 0);
    for (i = 0; i < n_filters; i++) {
        put_str(b, filters[i], strlen(filters[i]));
        put_u8(b, (uint8_t)(qos & 0x03));
    }
    return 0;
}

int wire_put_publish(struct wire_buf *b, const char *topic, uint16_t pid, int qos,
                     const void *payload, size_t len)
{
    size_t topic_len = strlen(topic);
    size_t body = 2 + topic_len + (qos > 0 ? 2 : 0) + 1 + len;

    if (topic_len > UINT16_MAX)
        return -1;
    if (begin_packet(b, (uint8_t)(CMD_PUBLISH | ((qos & 0x03) << 1)), body))
        return -1;
    put_str(b, topic, topic_len);
    if (qos > 0)
        put_u16(b, pid);
    put_vbi(b, 0);
    put_bytes(b, payload, len);
    return 0;
}

int wire_put_puback(struct wire_buf *b, uint16_t pid)
{
    /* Section 3.4.2.1: reason 0x00 with no properties may be left out. */
    if (begin_packet(b, CMD_PUBACK, 2))
        return -1;
    put_u16(b, pid);
    return 0;
}

int wire_put_pingreq(struct wire_buf *b)
{
    return begin_packet(b, CMD_PINGREQ, 0);
}

int wire_put_disconnect(struct wire_buf *b)
{
    return begin_packet(b, CMD_DISCONNECT, 0);
}

int wire_next(const uint8_t *p, size_t len, size_t max_packet, struct wire_packet *pk)
{
    size_t value = 0, mult = 1, i;

    if (len < 2)
        return 0;
    for (i = 1;; i++) {
        if (i > 4)
            return -1;
        if (i >= len)
            return 0;
        value += (size_t)(p[i] & 127) * mult;
        mult *= 128;
        if (!(p[i] & 128))
            break;
    }
    if (1 + i + value > max_packet)
        return -1;
    if (len < 1 + i + value)
        return 0;
    pk->type = p[0] >> 4;
    pk->flags = p[0] & 0x0f;
    pk->body = p + 1 + i;
    pk->body_len = value;
    pk->total = 1 + i + value;
    return 1;
}

/* A read cursor over a packet body. */
struct cursor {
    const uint8_t *p;
    size_t left;
};

static int get_u8(struct cursor *c, uint8_t *v)
{
    if (c->left < 1)
        return -1;
    *v = c->p[0];
    c->p++;
    c->left--;
    return 0;
}

static int get_u16(struct cursor *c, uint16_t *v)
{
    if (c->left < 2)
        return -1;
    *v = (uint16_t)(c->p[0] << 8 | c->p[1]);
    c->p += 2;
    c->left -= 2;
    return 0;
}

static int get_u32(struct cursor *c, uint32_t *v)
{
    if (c->left < 4)
        return -1;
    *v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
    c->p += 4;
    c->left -= 4;
    return 0;
}

static int get_vbi(struct cursor *c, uint32_t *v)
{
    uint32_t value = 0, mult = 1;
    int i;

    for (i = 0; i < 4; i++) {
        uint8_t byte;
        if (get_u8(c, &byte))
            return -1;
        value += (uint32_t)(byte & 127) * mult;
        mult *= 128;
        if (!(byte & 128)) {
            *v = value;
            return 0;
        }
    }
    return -1;
}

static int skip(struct cursor *c, size_t n)
{
    if (c->left < n)
        return -1;
    c->p += n;
    c->left -= n;
    return 0;
}

static int skip_str(struct cursor *c)
{
    uint16_t n;
    return get_u16(c, &n) || skip(c, n) ? -1 : 0;
}

/* The wire type of a property identifier (section 2.2.2.2), 0 when unknown. */
static int prop_type(uint32_t id)
{
    switch (id) {
    case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR:
    case MQTT_PROP_REQUEST_PROBLEM_INFORMATION:
    case MQTT_PROP_REQUEST_RESPONSE_INFORMATION:
    case MQTT_PROP_MAXIMUM_QOS:
    case MQTT_PROP_RETAIN_AVAILABLE:
    case MQTT_PROP_WILDCARD_SUB_AVAILABLE:
    case MQTT_PROP_SUBSCRIPTION_ID_AVAILABLE:
    case MQTT_PROP_SHARED_SUB_AVAILABLE:
        return MQTT_PROP_TYPE_BYTE;
    case MQTT_PROP_SERVER_KEEP_ALIVE:
    case MQTT_PROP_RECEIVE_MAXIMUM:
    case MQTT_PROP_TOPIC_ALIAS_MAXIMUM:
    case MQTT_PROP_TOPIC_ALIAS:
        return MQTT_PROP_TYPE_INT16;
    case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL:
    case MQTT_PROP_SESSION_EXPIRY_INTERVAL:
    case MQTT_PROP_WILL_DELAY_INTERVAL:
    case MQTT_PROP_MAXIMUM_PACKET_SIZE:
        return MQTT_PROP_TYPE_INT32;
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER:
        return MQTT_PROP_TYPE_VARINT;
    case MQTT_PROP_CORRELATION_DATA:
    case MQTT_PROP_AUTHENTICATION_DATA:
        return MQTT_PROP_TYPE_BINARY;
    case MQTT_PROP_CONTENT_TYPE:
    case MQTT_PROP_RESPONSE_TOPIC:
    case MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER:
    case MQTT_PROP_AUTHENTICATION_METHOD:
    case MQTT_PROP_RESPONSE_INFORMATION:
    case MQTT_PROP_SERVER_REFERENCE:
    case MQTT_PROP_REASON_STRING:
        return MQTT_PROP_TYPE_STRING;
    case MQTT_PROP_USER_PROPERTY:
        return MQTT_PROP_TYPE_STRING_PAIR;
    default:
        return 0;
    }
}

/*
 * Walk a property list (section 2.2.2). When ack is not NULL, the CONNACK properties the client
 * obeys are stored in it. Leaves c after the list.
 */
static int read_props(struct cursor *c, struct wire_connack *ack)
{
    uint32_t len;
    struct cursor props;

    if (get_vbi(c, &len) || c->left < len)
        return -1;
    props.p = c->p;
    props.left = len;
    c->p += len;
    c->left -= len;
    while (props.left > 0) {
        uint32_t id, u32;
        uint16_t u16;
        uint8_t u8;
        int rc;

        if (get_vbi(&props, &id))
            return -1;
        switch (prop_type(id)) {
        case MQTT_PROP_TYPE_BYTE:
            rc = get_u8(&props, &u8);
            break;
        case MQTT_PROP_TYPE_INT16:
            rc = get_u16(&props, &u16);
            if (!rc && ack && id == MQTT_PROP_RECEIVE_MAXIMUM)
                ack->receive_maximum = u16;
            break;
        case MQTT_PROP_TYPE_INT32:
            rc = get_u32(&props, &u32);
            if (!rc && ack && id == MQTT_PROP_MAXIMUM_PACKET_SIZE)
                ack->max_packet_size = u32;
            break;
        case MQTT_PROP_TYPE_VARINT:
            rc = get_vbi(&props, &u32);
            break;
        case MQTT_PROP_TYPE_BINARY:
        case MQTT_PROP_TYPE_STRING:
            rc = skip_str(&props);
            break;
        case MQTT_PROP_TYPE_STRING_PAIR:
            rc = skip_str(&props) || skip_str(&props) ? -1 : 0;
            break;
        default:
            return -1;
        }
        if (rc)
            return -1;
    }
    return 0;
}

int wire_parse_connack(const struct wire_packet *pk, struct wire_connack *out)
{
    struct cursor c = {pk->body, pk->body_len};
    uint8_t ack_flags;

    out->receive_maximum = UINT16_MAX;
    out->max_packet_size = 0;
    if (pk->type != CMD_CONNACK >> 4 || get_u8(&c, &ack_flags) || get_u8(&c, &out->reason))
        return -1;
    /* Section 3.2.2.3: a refusal may come without properties from older peers. */
    if (c.left == 0)
        return 0;
    return read_props(&c, out);
}

int wire_parse_publish(const struct wire_packet *pk, struct wire_publish *out)
{
    struct cursor c = {pk->body, pk->body_len};
    uint16_t topic_len;

    if (pk->type != CMD_PUBLISH >> 4)
        return -1;
    out->qos = (pk->flags >> 1) & 0x03;
    if (out->qos == 3 || get_u16(&c, &topic_len) || c.left < topic_len)
        return -1;
    out->topic = (const char *)c.p;
    out->topic_len = topic_len;
    skip(&c, topic_len);
    out->pid = 0;
    if (out->qos > 0 && get_u16(&c, &out->pid))
        return -1;
    if (read_props(&c, NULL))
        return -1;
    out->payload = c.p;
    out->payload_len = c.left;
    return 0;
}

int wire_parse_suback(const struct wire_packet *pk, uint16_t *pid, const uint8_t **reasons,
                      size_t *n_reasons)
{
    struct cursor c = {pk->body, pk->body_len};

    if (pk->type != CMD_SUBACK >> 4 || get_u16(&c, pid) || read_props(&c, NULL))
        return -1;
    *reasons = c.p;
    *n_reasons = c.left;
    return 0;
}

int wire_parse_puback(const struct wire_packet *pk, uint16_t *pid, uint8_t *reason)
{
    struct cursor c = {pk->body, pk->body_len};

    if (pk->type != CMD_PUBACK >> 4 || get_u16(&c, pid))
        return -1;
    *reason = 0;
    if (c.left > 0 && get_u8(&c, reason))
        return -1;
    return 0;
}

int wire_parse_disconnect(const struct wire_packet *pk, uint8_t *reason)
{
    struct cursor c = {pk->body, pk->body_len};

    if (pk->type != CMD_DISCONNECT >> 4)
        return -1;
    *reason = 0;
    if (c.left > 0 && get_u8(&c, reason))
        return -1;
    return 0;
}
