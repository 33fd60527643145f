/*
 * Engine.IO v4 packets and payloads (socket.io's docs/engine.io-protocol/v4-current.md,
 * "Packet encoding"): a packet is one type digit and its data; a WebSocket frame holds one
 * packet (binary frames are message data as is); an HTTP long-polling body holds packets
 * joined by the record separator 0x1e, binary ones as "b" + base64.
 */
#ifndef BRIDGE_SOCKETIO_EIO_PACKET_H
#define BRIDGE_SOCKETIO_EIO_PACKET_H

#include <stdbool.h>
#include <stddef.h>

enum eio_type {
    EIO_OPEN = 0,
    EIO_CLOSE = 1,
    EIO_PING = 2,
    EIO_PONG = 3,
    EIO_MESSAGE = 4,
    EIO_UPGRADE = 5,
    EIO_NOOP = 6,
};

#define EIO_SEPARATOR '\x1e'

/* One decoded packet. data is borrowed from the input, or for binary polling packets points to
 * decoded bytes owned by the payload decoder (valid during the callback only). */
struct eio_packet {
    enum eio_type type;
    bool binary; /* message data that is bytes, not text */
    const char *data;
    size_t len;
};

/*
 * A text packet: a WebSocket text frame, or one text segment of a polling body. Returns 0, or
 * -1 when s is empty or its first byte is not a packet type.
 */
int eio_packet_parse(const char *s, size_t len, struct eio_packet *out);

/*
 * Split a polling body into packets and call cb for each, in order, stopping at the first
 * that cb refuses (non-zero). At most max_packets packets. Returns the number of packets, or
 * -1 when the body is malformed (empty segment, bad type, bad base64, too many packets) or cb
 * refused one; nothing after a malformed segment is passed on.
 */
int eio_payload_parse(const char *body, size_t len, size_t max_packets,
                      int (*cb)(void *ud, const struct eio_packet *p), void *ud);

/* A growable output buffer; free data with free(). */
struct eio_buf {
    char *data;
    size_t len, cap;
};

/*
 * Append packet (type, data) to a polling body in b, with a separator before it unless b is
 * empty. Binary data goes as "b" + base64. Returns 0, or -1 when out of memory.
 */
int eio_payload_append(struct eio_buf *b, enum eio_type type, const void *data, size_t len,
                       bool binary);

/* Append raw bytes. Returns 0 or -1. */
int eio_buf_put(struct eio_buf *b, const void *data, size_t len);

#endif
