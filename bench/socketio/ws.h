/*
 * The client side of RFC 6455 WebSocket, as much as the socket.io benchmark client needs: the
 * opening handshake (a request with a fresh Sec-WebSocket-Key, the 101 answer checked against
 * the expected Sec-WebSocket-Accept), masked client frames, and an incremental reader of the
 * server's frames. Bytes go in as read() returns them, cut anywhere; complete messages come out
 * through a callback, in place when a whole unfragmented message is in one read, else assembled
 * in a buffer of the parser's own. No extension is offered, so RSV bits must be clear.
 */
#ifndef SIO_WS_H
#define SIO_WS_H

#include <stddef.h>
#include <stdint.h>

/* Longest message assembled (Engine.IO's default maxPayload is 1,000,000 bytes). */
#define WS_MSG_MAX (1024 * 1024)
/* Longest response head accepted. */
#define WS_HEAD_MAX 8192
/* A Sec-WebSocket-Key is 16 random octets in base64 (RFC 6455 4.1): 24 characters. */
#define WS_KEY_LEN 24
/* The accept value is base64 of a SHA-1: 28 characters. */
#define WS_ACCEPT_LEN 28

enum ws_err {
    WS_OK = 0,
    WS_E_STATUS = -1,  /* the answer is not 101: see ws_parser.status */
    WS_E_HEAD = -2,    /* malformed head, or not an upgrade to websocket */
    WS_E_ACCEPT = -3,  /* Sec-WebSocket-Accept missing or wrong */
    WS_E_FRAME = -4,   /* a frame breaks RFC 6455 5 (mask bit, RSV bits, opcode, lengths) */
    WS_E_TOO_BIG = -5, /* a message over WS_MSG_MAX */
    WS_E_NOMEM = -6,   /* the message buffer could not grow */
    WS_E_CLOSED = -7,  /* bytes after the server's close frame */
};

enum ws_opcode {
    WS_CONT = 0x0,
    WS_TEXT = 0x1,
    WS_BINARY = 0x2,
    WS_CLOSE = 0x8,
    WS_PING = 0x9,
    WS_PONG = 0xa,
};

/*
 * One complete message (WS_TEXT, WS_BINARY) or control frame (WS_CLOSE, WS_PING, WS_PONG).
 * data is borrowed: valid only during the callback. Returns 0 to go on, anything else stops
 * the feed, which then returns that value.
 */
typedef int (*ws_message_cb)(void *ud, int opcode, const char *data, size_t len);

/* Per connection. Zero it or call ws_parser_init() before the first byte. */
struct ws_parser {
    uint8_t phase;   /* head, frame header, payload, closed */
    uint8_t hdr_len; /* header bytes held in hdr */
    uint8_t opcode;  /* of the frame being read */
    uint8_t fin;     /* of the frame being read */
    uint8_t msg_op;  /* opcode of the fragmented message in progress, 0: none */
    uint8_t head_flags;
    uint8_t ctl_len;
    uint16_t status;
    uint16_t line_len;
    uint32_t head_len;
    uint64_t left; /* payload bytes of the current frame still to come */
    uint8_t hdr[14];
    char ctl[125]; /* a control frame's payload (RFC 6455 5.5: at most 125 octets) */
    char line[64]; /* the start of the current head line: enough for what is matched */
    char accept[WS_ACCEPT_LEN + 1];
    char *msg; /* owned: the message being assembled */
    size_t msg_len, msg_cap;
};

/*
 * Make a key for one connection and remember the accept value the server must answer with.
 * key receives WS_KEY_LEN characters and a NUL. Returns 0, or -1 when no randomness or
 * hashing is available.
 */
int ws_parser_init(struct ws_parser *p, char key[WS_KEY_LEN + 1]);

/* The Sec-WebSocket-Accept a server answers key with (RFC 6455 4.2.2): base64 of the SHA-1
 * of the key and the protocol's GUID. Returns 0, or -1 when hashing is not available. */
int ws_accept_for(const char *key, char accept[WS_ACCEPT_LEN + 1]);

/* Free what the parser holds; the parser can be initialised again afterwards. */
void ws_parser_free(struct ws_parser *p);

/*
 * Parse n more bytes from the server. Calls cb for every complete message and control frame.
 * Returns WS_OK, a negative enum ws_err, or the callback's non-zero value; after anything but
 * WS_OK the parser must not be fed again.
 */
int ws_parser_feed(struct ws_parser *p, const char *buf, size_t n, ws_message_cb cb, void *ud);

/* 1 once the 101 answer was read and frames follow. */
int ws_parser_open(const struct ws_parser *p);

/* The opening request for host:port and target (a path with query) with key into out.
 * Returns its length, or 0 when out is too small. */
size_t ws_request(char *out, size_t cap, const char *host, int port, const char *target,
                  const char *key);

/*
 * One final client frame of opcode with payload data, masked with mask (RFC 6455 5.3), into
 * out. Returns its length, or 0 when out is too small.
 */
size_t ws_frame(char *out, size_t cap, int opcode, const char *data, size_t len, uint32_t mask);

/* A short text for an enum ws_err. */
const char *ws_strerror(int err);

#endif
