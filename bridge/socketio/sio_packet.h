/*
 * Socket.IO v5 packets (socket.io's docs/socket.io-protocol/v5-current.md, "Packet encoding"):
 *
 *   <type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
 *
 * carried as the data of an Engine.IO message packet. Binary attachments follow as separate
 * Engine.IO messages; the JSON holds {"_placeholder":true,"num":n} where they belong.
 */
#ifndef BRIDGE_SOCKETIO_SIO_PACKET_H
#define BRIDGE_SOCKETIO_SIO_PACKET_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

enum sio_type {
    SIO_CONNECT = 0,
    SIO_DISCONNECT = 1,
    SIO_EVENT = 2,
    SIO_ACK = 3,
    SIO_CONNECT_ERROR = 4,
    SIO_BINARY_EVENT = 5,
    SIO_BINARY_ACK = 6,
};

#define SIO_NSP_MAX 256
/* Ack ids are JavaScript numbers: integers up to 2^53 - 1 survive a round trip. */
#define SIO_ID_MAX 9007199254740991LL

struct sio_packet {
    enum sio_type type;
    unsigned attachments;      /* binary types only */
    char nsp[SIO_NSP_MAX + 1]; /* "/" when the packet names none */
    int64_t id;                /* -1: no ack id */
    json_object *data;         /* owned; NULL when the packet has no payload */
};

/*
 * Decode s (len bytes, not NUL-terminated). Checks what a receiver must: the namespace starts
 * with '/' and ends at ',', attachments only on binary types and below max_attachments, an
 * id within SIO_ID_MAX, the payload is one JSON value filling the rest, and its shape fits the
 * type (CONNECT: object or nothing; DISCONNECT: nothing; CONNECT_ERROR: object or string;
 * EVENT: a non-empty array whose first element is a number or an event name that is not
 * reserved; ACK: array). Returns 0 and *out (clear with sio_packet_clear()), or -1 with a short
 * reason in err.
 */
int sio_packet_decode(const char *s, size_t len, unsigned max_attachments, struct sio_packet *out,
                      char *err, size_t errlen);

/* Encode p; returns a malloc()ed NUL-terminated string (caller frees) and its length, or NULL. */
char *sio_packet_encode(const struct sio_packet *p, size_t *len);

void sio_packet_clear(struct sio_packet *p);

#endif
