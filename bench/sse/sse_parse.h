/*
 * An incremental parser for one HTTP/1.1 response that carries a Server-Sent Events stream,
 * as the benchmark client reads it from mqpush-bridge. Bytes go in as read() returns them, cut
 * anywhere; the parser keeps a fixed, small state per connection (no allocation, no buffered
 * frame) and reports every complete event through a callback.
 *
 * What it understands:
 * - the status line and the headers (RFC 9112 2-6): the status code, Content-Type, and
 *   Transfer-Encoding: chunked (RFC 9112 7.1), which it decodes;
 * - the event stream (HTML Living Standard 9.2.6): lines end with CRLF, LF or CR; ':' starts a
 *   comment; "id", "event" and "data" fields; a blank line dispatches the event.
 *
 * It does not keep the data of an event. Instead it scans the data for the two integers the
 * benchmark publisher puts in every event, "t" (CLOCK_MONOTONIC nanoseconds at publish time)
 * and "seq" (the publish sequence number), as JSON members anywhere in the data.
 */
#ifndef SSE_PARSE_H
#define SSE_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Longest id and event name kept; longer ones are flagged, not stored. */
#define SSE_ID_MAX 64
#define SSE_NAME_MAX 24
/* Longest response head accepted (status line and headers). */
#define SSE_HEAD_MAX 16384

enum sse_err {
    SSE_OK = 0,
    SSE_E_STATUS = -1, /* the status is not 200: see sse_parser.status */
    SSE_E_HEAD = -2,   /* malformed head, too long, or not text/event-stream */
    SSE_E_CHUNK = -3,  /* malformed chunked framing */
    SSE_E_ENDED = -4,  /* bytes after the last chunk */
};

enum sse_kind {
    SSE_MESSAGE, /* an unnamed event (or named "message"): a stream event */
    SSE_READY,   /* event: mqpush:ready */
    SSE_OTHER,   /* any other named event (mqpush:reset, mqpush:reconnect, ...) */
};

/* One dispatched event. Pointers are borrowed: valid only during the callback. */
struct sse_event {
    enum sse_kind kind;
    const char *name; /* event name, "" for SSE_MESSAGE without one */
    const char *id;   /* the last event id (HTML 9.2.6: it persists across events) */
    size_t id_len;
    int id_set;      /* this event carried an id field */
    int id_too_long; /* the id was over SSE_ID_MAX and is not in id */
    int has_t, has_seq;
    uint64_t t, seq;
    size_t data_len; /* bytes of data, field values joined with '\n' as the standard says */
};

typedef void (*sse_event_cb)(void *ud, const struct sse_event *ev);

/* The parser's state; zero it (or call sse_parser_init()) before the first byte. */
struct sse_parser {
    uint8_t phase; /* head, identity body, chunked body */
    uint8_t line;  /* where in an SSE line we are */
    uint8_t field; /* which field the current line holds */
    uint8_t chunk; /* where in the chunked framing we are */
    uint8_t scan;  /* where in the search for "t" and "seq" we are */
    uint8_t num_key;
    uint8_t cr; /* the last byte was a CR (a following LF ends nothing) */
    uint8_t head_flags;
    uint8_t name_len, id_len, name_long, id_long, field_len;
    uint8_t has_data, id_set, got;
    char field_name[8];
    uint16_t head_line_len;
    uint16_t status;
    uint32_t head_len;
    uint64_t chunk_left;
    uint64_t num, t, seq;
    uint32_t data_len;
    char name[SSE_NAME_MAX + 1];
    char id[SSE_ID_MAX + 1];
    char head_line[48]; /* the start of the current head line: enough for what we match */
};

void sse_parser_init(struct sse_parser *p);

/*
 * Parse n more bytes of the response. Calls cb for every event completed by them. Returns
 * SSE_OK, or a negative enum sse_err; after an error the parser must not be fed again.
 */
int sse_parser_feed(struct sse_parser *p, const char *buf, size_t n, sse_event_cb cb, void *ud);

/* 1 once the head was parsed and the body (the event stream) began. */
int sse_parser_streaming(const struct sse_parser *p);

/* A short text for an enum sse_err. */
const char *sse_strerror(int err);

#endif
