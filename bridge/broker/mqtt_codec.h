/*
 * MQTT 5.0 packets as bytes, both ways, for the bridge's broker link: only what a subscribing
 * and QoS 1 publishing client needs (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PUBLISH, PUBACK,
 * PINGREQ, DISCONNECT out; CONNACK, PUBLISH, PUBACK, SUBACK, UNSUBACK, PINGRESP, DISCONNECT
 * in). No I/O and no allocation on the decoding side: decoded packets borrow the input.
 *
 * The link owns the protocol's state (packet ids, acknowledgements); this module only checks
 * that bytes are well formed (MQTT 5.0 section 1.5 data types, section 2 packet format) so that
 * a broken or hostile peer gives an error rather than a read past the input.
 */
#ifndef BRIDGE_BROKER_MQTT_CODEC_H
#define BRIDGE_BROKER_MQTT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mqc_type {
    MQC_CONNECT = 1,
    MQC_CONNACK = 2,
    MQC_PUBLISH = 3,
    MQC_PUBACK = 4,
    MQC_PUBREC = 5,
    MQC_PUBREL = 6,
    MQC_PUBCOMP = 7,
    MQC_SUBSCRIBE = 8,
    MQC_SUBACK = 9,
    MQC_UNSUBSCRIBE = 10,
    MQC_UNSUBACK = 11,
    MQC_PINGREQ = 12,
    MQC_PINGRESP = 13,
    MQC_DISCONNECT = 14,
    MQC_AUTH = 15,
};

/* The largest remaining length a four-byte variable byte integer holds (MQTT 5.0 1.5.5). */
#define MQC_REMAINING_MAX 268435455u

/* Properties the link acts on; every other valid property is checked and skipped. */
struct mqc_props {
    uint32_t session_expiry;
    bool has_session_expiry;
    uint16_t receive_max; /* 0: not given (the peer's default is 65535) */
    uint32_t max_packet;  /* 0: not given (no limit beyond the protocol's) */
    uint16_t server_keepalive;
    bool has_server_keepalive;
    uint16_t topic_alias; /* 0: none */
    uint8_t max_qos;
    bool has_max_qos;
    /* Subscription identifiers of a PUBLISH (3.3.2.3.8): bit n set for identifier n, n in
     * 1..31; larger ones set sub_id_other. */
    uint32_t sub_ids;
    bool sub_id_other;
    const char *reason; /* Reason String, borrowed, not NUL-terminated; NULL when absent */
    size_t reason_len;
};

/* One whole packet found in the input, borrowed from it. */
struct mqc_packet {
    uint8_t type;              /* enum mqc_type */
    uint8_t flags;             /* the low four bits of the first byte */
    const unsigned char *body; /* the variable header and payload */
    size_t body_len;
};

/*
 * Find the packet at the start of buf (len bytes). Returns 1 and *pkt, *total (its size with
 * the fixed header) when it is all there; 0 when more bytes are needed; -1 when the remaining
 * length is malformed (MQTT 5.0 1.5.5) or the packet would exceed max bytes.
 */
int mqc_frame(const unsigned char *buf, size_t len, size_t max, struct mqc_packet *pkt,
              size_t *total);

/* Decoders: 0, or -1 when the packet is malformed (the link then closes the connection with
 * reason 0x81, as 4.13 asks). Outputs borrow the packet's bytes. */
int mqc_decode_connack(const struct mqc_packet *p, bool *session_present, uint8_t *reason,
                       struct mqc_props *props);

struct mqc_publish {
    const char *topic; /* not NUL-terminated; never contains NUL */
    size_t topic_len;
    uint8_t qos;
    bool dup, retain;
    uint16_t id; /* 0 for QoS 0 */
    struct mqc_props props;
    const unsigned char *payload;
    size_t payload_len;
};
int mqc_decode_publish(const struct mqc_packet *p, struct mqc_publish *out);

/* PUBACK, SUBACK or UNSUBACK: the packet id and the reason codes (one for PUBACK, success
 * when the packet omits it as 3.4.2.1 allows; one per filter for the others). */
struct mqc_ack {
    uint16_t id;
    const uint8_t *codes;
    size_t n_codes;
    uint8_t code; /* PUBACK's, also when omitted */
    struct mqc_props props;
};
int mqc_decode_ack(const struct mqc_packet *p, struct mqc_ack *out);

/* A DISCONNECT from the broker; reason 0 when it has none (3.14.2.1). */
int mqc_decode_disconnect(const struct mqc_packet *p, uint8_t *reason, struct mqc_props *props);

/* Growing output buffer; the encoders append one packet each. p is malloc()ed, owned by the
 * buffer's user (free(b->p)). */
struct mqc_buf {
    unsigned char *p;
    size_t len, cap;
};

struct mqc_connect {
    const char *client_id;
    const char *username; /* NULL: none */
    const char *password; /* NULL: none */
    uint16_t keepalive_s;
    bool clean_start;
    uint32_t session_expiry_s;
    uint16_t receive_max; /* 0: not sent */
    uint32_t max_packet;  /* 0: not sent */
};

/* Encoders: 0, or -1 when out of memory or a string or the packet is too long for MQTT. */
int mqc_put_connect(struct mqc_buf *b, const struct mqc_connect *c);
/* options: the subscription options byte (3.8.3.1); sub_id 0 sends no identifier. */
int mqc_put_subscribe(struct mqc_buf *b, uint16_t id, const char *filter, uint8_t options,
                      uint32_t sub_id);
int mqc_put_unsubscribe(struct mqc_buf *b, uint16_t id, const char *filter);
/* qos 0 or 1; id is used for QoS 1 only. */
int mqc_put_publish(struct mqc_buf *b, const char *topic, const void *payload, size_t len,
                    uint8_t qos, uint16_t id, bool dup);
int mqc_put_puback(struct mqc_buf *b, uint16_t id, uint8_t reason);
int mqc_put_pingreq(struct mqc_buf *b);
int mqc_put_disconnect(struct mqc_buf *b, uint8_t reason);

/* Is s (len bytes) a well-formed MQTT UTF-8 string (1.5.4): valid UTF-8, no U+0000, no
 * surrogates? */
bool mqc_utf8_valid(const char *s, size_t len);

#endif
