/*
 * The part of MQTT 5.0 (OASIS standard, 7 March 2019) the load client speaks.
 * Out: CONNECT, SUBSCRIBE, PUBLISH (QoS 0/1), PUBACK, PINGREQ, DISCONNECT.
 * In:  CONNACK, SUBACK, PUBLISH, PUBACK, PINGRESP, DISCONNECT.
 * Encoders append to a growable buffer; decoders work on views into the receive buffer and
 * never allocate. Every length read from the peer is checked against what is left.
 */
#ifndef MQLOAD_WIRE_H
#define MQLOAD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A byte buffer: data[0..len) is valid, cap is allocated. Zero-initialise before use. */
struct wire_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

/* Make room for extra more bytes. Returns 0, or -1 when out of memory. */
int wire_buf_reserve(struct wire_buf *b, size_t extra);
/* Drop the first n bytes (n <= len). */
void wire_buf_consume(struct wire_buf *b, size_t n);
/* Release the memory (accepts a zeroed or already freed buffer). */
void wire_buf_free(struct wire_buf *b);

struct wire_connect {
    const char *client_id; /* borrowed */
    const char *username;  /* borrowed, NULL: none */
    const char *password;  /* borrowed, NULL: none */
    uint16_t keepalive;    /* seconds */
};

/* Encoders: append one packet to b. Return 0, or -1 (out of memory, or a field too long). */
int wire_put_connect(struct wire_buf *b, const struct wire_connect *c);
int wire_put_subscribe(struct wire_buf *b, uint16_t pid, const char *const *filters,
                       size_t n_filters, int qos);
int wire_put_publish(struct wire_buf *b, const char *topic, uint16_t pid, int qos,
                     const void *payload, size_t len);
int wire_put_puback(struct wire_buf *b, uint16_t pid);
int wire_put_pingreq(struct wire_buf *b);
int wire_put_disconnect(struct wire_buf *b);

/* One packet found in a receive buffer; body points into that buffer. */
struct wire_packet {
    uint8_t type;  /* control packet type, 1..15 (MQTT 5.0 section 2.1.2) */
    uint8_t flags; /* low nibble of the first byte */
    const uint8_t *body;
    size_t body_len; /* the Remaining Length */
    size_t total;    /* bytes taken from the buffer, fixed header included */
};

/*
 * Find the packet at the start of p (len bytes). Returns 1 with *pk filled, 0 when more bytes
 * are needed, -1 when the fixed header is malformed or the packet exceeds max_packet bytes.
 */
int wire_next(const uint8_t *p, size_t len, size_t max_packet, struct wire_packet *pk);

struct wire_connack {
    uint8_t reason;           /* 0 = success, >= 0x80 refused (section 3.2.2.2) */
    uint16_t receive_maximum; /* 65535 when the server sent none (section 3.2.2.3.3) */
    uint32_t max_packet_size; /* 0 when the server sent none */
};

struct wire_publish {
    const char *topic; /* not NUL-terminated */
    size_t topic_len;
    uint16_t pid; /* 0 for QoS 0 */
    int qos;
    const uint8_t *payload;
    size_t payload_len;
};

/* Decoders: return 0, or -1 when the packet is malformed. */
int wire_parse_connack(const struct wire_packet *pk, struct wire_connack *out);
int wire_parse_publish(const struct wire_packet *pk, struct wire_publish *out);
/* reasons points into the packet; one reason code per requested filter. */
int wire_parse_suback(const struct wire_packet *pk, uint16_t *pid, const uint8_t **reasons,
                      size_t *n_reasons);
/* A PUBACK without a reason code means success (section 3.4.2.1). */
int wire_parse_puback(const struct wire_packet *pk, uint16_t *pid, uint8_t *reason);
/* A DISCONNECT without a reason code means normal disconnection (section 3.14.2.1). */
int wire_parse_disconnect(const struct wire_packet *pk, uint8_t *reason);

#endif
