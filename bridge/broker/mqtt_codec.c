/*
 * MQTT 5.0 packet encoding and decoding; section numbers are those of the OASIS standard.
 */
#include "broker/mqtt_codec.h"

#include <stdlib.h>
#include <string.h>

/* A cursor over borrowed input; every read checks what is left. */
struct rd {
    const unsigned char *p;
    size_t left;
};

static int rd_u8(struct rd *r, uint8_t *v)
{
    if (r->left < 1)
        return -1;
    *v = r->p[0];
    r->p++;
    r->left--;
    return 0;
}

static int rd_u16(struct rd *r, uint16_t *v)
{
    if (r->left < 2)
        return -1;
    *v = (uint16_t)(r->p[0] << 8 | r->p[1]);
    r->p += 2;
    r->left -= 2;
    return 0;
}

static int rd_u32(struct rd *r, uint32_t *v)
{
    if (r->left < 4)
        return -1;
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    r->left -= 4;
    return 0;
}

/* Variable Byte Integer (1.5.5): at most four bytes. */
static int rd_varint(struct rd *r, uint32_t *v)
{
    uint32_t val = 0;
    unsigned shift = 0;
    uint8_t b;

    do {
        if (shift > 21 || rd_u8(r, &b) != 0)
            return -1;
        val |= (uint32_t)(b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    *v = val;
    return 0;
}

static int rd_bytes(struct rd *r, const unsigned char **p, size_t *len)
{
    uint16_t n;

    if (rd_u16(r, &n) != 0 || r->left < n)
        return -1;
    *p = r->p;
    *len = n;
    r->p += n;
    r->left -= n;
    return 0;
}

static int rd_string(struct rd *r, const char **s, size_t *len)
{
    const unsigned char *p;

    if (rd_bytes(r, &p, len) != 0 || !mqc_utf8_valid((const char *)p, *len))
        return -1;
    *s = (const char *)p;
    return 0;
}

bool mqc_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    while (p < end) {
        uint32_t cp;
        size_t n, i;

        if (*p == 0)
            return false; /* 1.5.4: U+0000 must not appear */
        if (*p < 0x80) {
            p++;
            continue;
        }
        if ((*p & 0xe0) == 0xc0) {
            n = 1;
            cp = *p & 0x1f;
        } else if ((*p & 0xf0) == 0xe0) {
            n = 2;
            cp = *p & 0x0f;
        } else if ((*p & 0xf8) == 0xf0) {
            n = 3;
            cp = *p & 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - p) <= n)
            return false;
        for (i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are not UTF-8 (RFC 3629 3). */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return false;
        p += n + 1;
    }
    return true;
}

/*
 * The properties of one packet (2.2.2): a length, then identifier and value pairs. Known
 * identifiers are checked by type; an unknown one is a malformed packet, since its length
 * cannot be known.
 */
static int rd_props(struct rd *r, struct mqc_props *pr)
{
    uint32_t len, v32;
    uint16_t v16;
    uint8_t v8;
    struct rd in;
    const unsigned char *bp;
    const char *sp;
    size_t bl;

    memset(pr, 0, sizeof(*pr));
    if (rd_varint(r, &len) != 0 || r->left < len)
        return -1;
    in.p = r->p;
    in.left = len;
    r->p += len;
    r->left -= len;
    while (in.left > 0) {
        uint32_t id;

        if (rd_varint(&in, &id) != 0)
            return -1;
        switch (id) {
        case 0x01: /* payload format indicator */
        case 0x17: /* request problem information */
        case 0x19: /* request response information */
        case 0x25: /* retain available */
        case 0x28: /* wildcard subscription available */
        case 0x29: /* subscription identifiers available */
        case 0x2a: /* shared subscription available */
            if (rd_u8(&in, &v8) != 0)
                return -1;
            break;
        case 0x24: /* maximum QoS */
            if (rd_u8(&in, &pr->max_qos) != 0 || pr->max_qos > 1)
                return -1;
            pr->has_max_qos = true;
            break;
        case 0x02: /* message expiry interval */
        case 0x18: /* will delay interval */
            if (rd_u32(&in, &v32) != 0)
                return -1;
            break;
        case 0x11:
            if (rd_u32(&in, &pr->session_expiry) != 0)
                return -1;
            pr->has_session_expiry = true;
            break;
        case 0x27: /* maximum packet size: 0 is a protocol error (3.2.2.3.6) */
            if (rd_u32(&in, &pr->max_packet) != 0 || pr->max_packet == 0)
                return -1;
            break;
        case 0x13:
            if (rd_u16(&in, &pr->server_keepalive) != 0)
                return -1;
            pr->has_server_keepalive = true;
            break;
        case 0x21: /* receive maximum: 0 is a protocol error (3.2.2.3.3) */
            if (rd_u16(&in, &pr->receive_max) != 0 || pr->receive_max == 0)
                return -1;
            break;
        case 0x22: /* topic alias maximum */
            if (rd_u16(&in, &v16) != 0)
                return -1;
            break;
        case 0x23:
            if (rd_u16(&in, &pr->topic_alias) != 0 || pr->topic_alias == 0)
                return -1;
            break;
        case 0x0b: /* subscription identifier: 1 to 268,435,455 (3.3.2.3.8) */
            if (rd_varint(&in, &v32) != 0 || v32 == 0)
                return -1;
            if (v32 < 32)
                pr->sub_ids |= 1u << v32;
            else
                pr->sub_id_other = true;
            break;
        case 0x03: /* content type */
        case 0x08: /* response topic */
        case 0x12: /* assigned client identifier */
        case 0x15: /* authentication method */
        case 0x1a: /* response information */
        case 0x1c: /* server reference */
            if (rd_string(&in, &sp, &bl) != 0)
                return -1;
            break;
        case 0x1f:
            if (rd_string(&in, &pr->reason, &pr->reason_len) != 0)
                return -1;
            break;
        case 0x09: /* correlation data */
        case 0x16: /* authentication data */
            if (rd_bytes(&in, &bp, &bl) != 0)
                return -1;
            break;
        case 0x26: /* user property: a string pair */
            if (rd_string(&in, &sp, &bl) != 0 || rd_string(&in, &sp, &bl) != 0)
                return -1;
            break;
        default:
            return -1;
        }
    }
    return 0;
}

int mqc_frame(const unsigned char *buf, size_t len, size_t max, struct mqc_packet *pkt,
              size_t *total)
{
    uint32_t rem = 0;
    size_t i;

    if (len < 2)
        return 0;
    for (i = 1; i <= 4; i++) {
        if (i >= len)
            return 0;
        rem |= (uint32_t)(buf[i] & 0x7f) << (7 * (i - 1));
        if ((buf[i] & 0x80) == 0)
            break;
    }
    if (i > 4 || buf[0] >> 4 == 0)
        return -1;
    if ((size_t)rem + i + 1 > max)
        return -1;
    if (len < (size_t)rem + i + 1)
        return 0;
    pkt->type = buf[0] >> 4;
    pkt->flags = buf[0] & 0x0f;
    pkt->body = buf + i + 1;
    pkt->body_len = rem;
    *total = rem + i + 1;
    return 1;
}

int mqc_decode_connack(const struct mqc_packet *p, bool *session_present, uint8_t *reason,
                       struct mqc_props *props)
{
    struct rd r = {p->body, p->body_len};
    uint8_t flags;

    if (p->type != MQC_CONNACK || p->flags != 0 || rd_u8(&r, &flags) != 0 || (flags & 0xfe) ||
        rd_u8(&r, reason) != 0)
        return -1;
    *session_present = flags & 1;
    if (rd_props(&r, props) != 0 || r.left != 0)
        return -1;
    return 0;
}

int mqc_decode_publish(const struct mqc_packet *p, struct mqc_publish *out)
{
    struct rd r = {p->body, p->body_len};

    memset(out, 0, sizeof(*out));
    if (p->type != MQC_PUBLISH)
        return -1;
    out->dup = p->flags & 0x08;
    out->qos = (p->flags >> 1) & 3;
    out->retain = p->flags & 1;
    /* 3.3.1.2: QoS 3 is malformed; DUP must be 0 for QoS 0 (3.3.1.1). */
    if (out->qos == 3 || (out->qos == 0 && out->dup))
        return -1;
    if (rd_string(&r, &out->topic, &out->topic_len) != 0)
        return -1;
    if (out->qos > 0 && (rd_u16(&r, &out->id) != 0 || out->id == 0))
        return -1;
    if (rd_props(&r, &out->props) != 0)
        return -1;
    out->payload = r.p;
    out->payload_len = r.left;
    return 0;
}

int mqc_decode_ack(const struct mqc_packet *p, struct mqc_ack *out)
{
    struct rd r = {p->body, p->body_len};

    memset(out, 0, sizeof(*out));
    if ((p->type != MQC_PUBACK && p->type != MQC_SUBACK && p->type != MQC_UNSUBACK) ||
        p->flags != 0 || rd_u16(&r, &out->id) != 0 || out->id == 0)
        return -1;
    if (p->type == MQC_PUBACK) {
        /* 3.4.2.1: reason and properties may be left out when there are none. */
        if (r.left == 0)
            return 0;
        if (rd_u8(&r, &out->code) != 0)
            return -1;
        out->codes = &p->body[2];
        out->n_codes = 1;
        if (r.left == 0)
            return 0;
        if (rd_props(&r, &out->props) != 0 || r.left != 0)
            return -1;
        return 0;
    }
    if (rd_props(&r, &out->props) != 0 || r.left == 0)
        return -1;
    out->codes = r.p;
    out->n_codes = r.left;
    out->code = r.p[0];
    return 0;
}

int mqc_decode_disconnect(const struct mqc_packet *p, uint8_t *reason, struct mqc_props *props)
{
    struct rd r = {p->body, p->body_len};

    memset(props, 0, sizeof(*props));
    *reason = 0;
    if (p->type != MQC_DISCONNECT || p->flags != 0)
        return -1;
    if (r.left == 0)
        return 0;
    if (rd_u8(&r, reason) != 0)
        return -1;
    if (r.left == 0)
        return 0;
    if (rd_props(&r, props) != 0 || r.left != 0)
        return -1;
    return 0;
}

/* Encoding. */

static int reserve(struct mqc_buf *b, size_t n)
{
    size_t cap;
    unsigned char *p;

    if (b->cap - b->len >= n)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    p = realloc(b->p, cap);
    if (p == NULL)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static size_t varint_len(uint32_t v)
{
    return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

/* Writes at p (enough room reserved); returns the bytes written. */
static size_t put_varint(unsigned char *p, uint32_t v)
{
    size_t n = 0;

    do {
        uint8_t byte = v & 0x7f;

        v >>= 7;
        p[n++] = byte | (v ? 0x80 : 0);
    } while (v);
    return n;
}

/* Packet assembly: the body is built first, then framed. */
struct pk {
    unsigned char *p;
    size_t len, cap;
    int err;
};

static void pk_raw(struct pk *k, const void *src, size_t n)
{
    if (k->err)
        return;
    if (k->cap - k->len < n) {
        size_t cap = k->cap ? k->cap : 128;
        unsigned char *p;

        while (cap - k->len < n)
            cap *= 2;
        p = realloc(k->p, cap);
        if (p == NULL) {
            k->err = 1;
            return;
        }
        k->p = p;
        k->cap = cap;
    }
    memcpy(k->p + k->len, src, n);
    k->len += n;
}

static void pk_u8(struct pk *k, uint8_t v)
{
    pk_raw(k, &v, 1);
}

static void pk_u16(struct pk *k, uint16_t v)
{
    unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};

    pk_raw(k, b, 2);
}

static void pk_u32(struct pk *k, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};

    pk_raw(k, b, 4);
}

static void pk_varint(struct pk *k, uint32_t v)
{
    unsigned char b[4];

    pk_raw(k, b, put_varint(b, v));
}

/* A length-prefixed string or binary (1.5.4, 1.5.6): at most 65,535 bytes. */
static void pk_bytes(struct pk *k, const void *s, size_t n)
{
    if (n > 65535) {
        k->err = 1;
        return;
    }
    pk_u16(k, (uint16_t)n);
    pk_raw(k, s, n);
}

static int frame(struct mqc_buf *b, uint8_t first, struct pk *k)
{
    size_t hl;
    int rc = -1;

    if (k->err || k->len > MQC_REMAINING_MAX)
        goto cleanup;
    hl = 1 + varint_len((uint32_t)k->len);
    if (reserve(b, hl + k->len) != 0)
        goto cleanup;
    b->p[b->len] = first;
    put_varint(b->p + b->len + 1, (uint32_t)k->len);
    if (k->len)
        memcpy(b->p + b->len + hl, k->p, k->len);
    b->len += hl + k->len;
    rc = 0;
cleanup:
    free(k->p);
    return rc;
}

int mqc_put_connect(struct mqc_buf *b, const struct mqc_connect *c)
{
    struct pk k = {0}, props = {0};
    uint8_t flags = c->clean_start ? 0x02 : 0;

    if (c->username)
        flags |= 0x80;
    if (c->password)
        flags |= 0x40;
    pk_bytes(&k, "MQTT", 4); /* 3.1.2.1 */
    pk_u8(&k, 5);
    pk_u8(&k, flags);
    pk_u16(&k, c->keepalive_s);
    if (c->session_expiry_s) {
        pk_u8(&props, 0x11);
        pk_u32(&props, c->session_expiry_s);
    }
    if (c->receive_max) {
        pk_u8(&props, 0x21);
        pk_u16(&props, c->receive_max);
    }
    if (c->max_packet) {
        pk_u8(&props, 0x27);
        pk_u32(&props, c->max_packet);
    }
    if (props.err)
        k.err = 1;
    pk_varint(&k, (uint32_t)props.len);
    if (props.len)
        pk_raw(&k, props.p, props.len);
    free(props.p);
    pk_bytes(&k, c->client_id, strlen(c->client_id));
    if (c->username)
        pk_bytes(&k, c->username, strlen(c->username));
    if (c->password)
        pk_bytes(&k, c->password, strlen(c->password));
    return frame(b, MQC_CONNECT << 4, &k);
}

int mqc_put_subscribe(struct mqc_buf *b, uint16_t id, const char *filter, uint8_t options,
                      uint32_t sub_id)
{
    struct pk k = {0};
    unsigned char vi[4];
    size_t n = sub_id ? put_varint(vi, sub_id) : 0;

    if (sub_id > MQC_REMAINING_MAX)
        return -1;
    pk_u16(&k, id);
    pk_varint(&k, sub_id ? (uint32_t)(1 + n) : 0);
    if (sub_id) {
        pk_u8(&k, 0x0b);
        pk_raw(&k, vi, n);
    }
    pk_bytes(&k, filter, strlen(filter));
    pk_u8(&k, options);
    /* 3.8.1: the fixed header's reserved flags are 0010. */
    return frame(b, MQC_SUBSCRIBE << 4 | 0x02, &k);
}

int mqc_put_unsubscribe(struct mqc_buf *b, uint16_t id, const char *filter)
{
    struct pk k = {0};

    pk_u16(&k, id);
    pk_varint(&k, 0);
    pk_bytes(&k, filter, strlen(filter));
    return frame(b, MQC_UNSUBSCRIBE << 4 | 0x02, &k);
}

int mqc_put_publish(struct mqc_buf *b, const char *topic, const void *payload, size_t len,
                    uint8_t qos, uint16_t id, bool dup)
{
    struct pk k = {0};

    if (qos > 1 || len > MQC_REMAINING_MAX)
        return -1;
    pk_bytes(&k, topic, strlen(topic));
    if (qos)
        pk_u16(&k, id);
    pk_varint(&k, 0);
    if (len)
        pk_raw(&k, payload, len);
    return frame(b, (uint8_t)(MQC_PUBLISH << 4 | (dup && qos ? 0x08 : 0) | qos << 1), &k);
}

int mqc_put_puback(struct mqc_buf *b, uint16_t id, uint8_t reason)
{
    struct pk k = {0};

    pk_u16(&k, id);
    if (reason) /* 3.4.2.1: success may go without a reason code */
        pk_u8(&k, reason);
    return frame(b, MQC_PUBACK << 4, &k);
}

int mqc_put_pingreq(struct mqc_buf *b)
{
    struct pk k = {0};

    return frame(b, MQC_PINGREQ << 4, &k);
}

int mqc_put_disconnect(struct mqc_buf *b, uint8_t reason)
{
    struct pk k = {0};

    if (reason)
        pk_u8(&k, reason);
    return frame(b, MQC_DISCONNECT << 4, &k);
}
