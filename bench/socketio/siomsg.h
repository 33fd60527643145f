/*
 * Reading one Engine.IO v4 packet carried by a WebSocket text message, and the Socket.IO v5
 * packet inside an Engine.IO "message" packet, as far as the benchmark client needs them: the
 * open packet, pings, the namespace CONNECT answer or refusal, DISCONNECT, and EVENT packets.
 * For an EVENT it finds the event name, the two integers the benchmark publisher put into
 * every event, "t" (CLOCK_MONOTONIC nanoseconds at publish) and "seq", and an optional second
 * argument (the bridge's offset; the Node peer sends none). Nothing is copied: the result
 * points into the message.
 */
#ifndef SIO_SIOMSG_H
#define SIO_SIOMSG_H

#include <stddef.h>
#include <stdint.h>

enum siomsg_kind {
    SIOMSG_BAD,           /* not a packet this client understands */
    SIOMSG_EIO_OPEN,      /* Engine.IO 0{...} */
    SIOMSG_EIO_CLOSE,     /* Engine.IO 1 */
    SIOMSG_EIO_PING,      /* Engine.IO 2: answer with 3 */
    SIOMSG_EIO_NOOP,      /* Engine.IO 6, or an Engine.IO packet without meaning here */
    SIOMSG_CONNECT,       /* Socket.IO 0: the namespace accepted the socket */
    SIOMSG_DISCONNECT,    /* Socket.IO 1: the server left the namespace */
    SIOMSG_EVENT,         /* Socket.IO 2 */
    SIOMSG_CONNECT_ERROR, /* Socket.IO 4: the namespace refused the socket */
    SIOMSG_OTHER_NSP,     /* a Socket.IO packet for another namespace */
    SIOMSG_OTHER,         /* any other Socket.IO packet (ACK, binary) */
};

/* One packet. Pointers are borrowed from the message. */
struct siomsg {
    enum siomsg_kind kind;
    const char *json; /* the Socket.IO payload (after namespace and ack id), or NULL */
    size_t json_len;
    const char *name; /* EVENT: the event name, raw (escapes not decoded) */
    size_t name_len;
    const char *offset; /* EVENT: the second argument, raw (a string without its quotes) */
    size_t offset_len;
    int has_offset;
    int has_t, has_seq;
    uint64_t t, seq;
    int args; /* EVENT: arguments after the name */
};

/*
 * Read the packet in msg[0..len) (a whole WebSocket text message) for namespace nsp (e.g.
 * "/bench"; "/" is the main namespace, which Socket.IO writes without a name). Returns the
 * kind, also stored in out.
 */
enum siomsg_kind siomsg_parse(const char *msg, size_t len, const char *nsp, struct siomsg *out);

#endif
