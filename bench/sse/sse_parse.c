#include "sse_parse.h"

#include <string.h>
#include <strings.h>

enum { PH_HEAD, PH_BODY, PH_CHUNKED, PH_DONE };
enum { L_START, L_NAME, L_VALUE_START, L_VALUE, L_COMMENT };
enum { F_OTHER, F_ID, F_EVENT, F_DATA };
enum { CH_SIZE0, CH_SIZE, CH_EXT, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER0, CH_TRAILER };
enum { S_IDLE, S_Q, S_T, S_S1, S_S2, S_S3, S_COLON, S_NUM0, S_NUM, S_DONE, S_BAD_NUM };
enum { KEY_T = 1, KEY_SEQ = 2 };

/* head_flags */
#define HF_STATUS 1u
#define HF_CTYPE 2u
#define HF_CHUNKED 4u

void sse_parser_init(struct sse_parser *p)
{
    memset(p, 0, sizeof(*p));
}

int sse_parser_streaming(const struct sse_parser *p)
{
    return p->phase != PH_HEAD;
}

const char *sse_strerror(int err)
{
    switch (err) {
    case SSE_OK:
        return "ok";
    case SSE_E_STATUS:
        return "status is not 200";
    case SSE_E_HEAD:
        return "malformed response head, or not text/event-stream";
    case SSE_E_CHUNK:
        return "malformed chunked body";
    case SSE_E_ENDED:
        return "bytes after the last chunk";
    }
    return "unknown error";
}

/* ---- response head ---------------------------------------------------------------------- */

static const char *skip_ows(const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    return v;
}

static int head_line_end(struct sse_parser *p)
{
    size_t len =
        p->head_line_len < sizeof(p->head_line) - 1 ? p->head_line_len : sizeof(p->head_line) - 1;
    char *line = p->head_line, *colon;
    const char *v;

    line[len] = '\0';
    if (!(p->head_flags & HF_STATUS)) {
        /* RFC 9112 4: HTTP-version SP 3DIGIT SP [reason] */
        if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' ||
            (len > 12 && line[12] != ' '))
            return SSE_E_HEAD;
        for (int i = 9; i < 12; i++) {
            if (line[i] < '0' || line[i] > '9')
                return SSE_E_HEAD;
            p->status = (uint16_t)(p->status * 10 + (line[i] - '0'));
        }
        p->head_flags |= HF_STATUS;
        return SSE_OK;
    }
    if (p->head_line_len == 0) {
        if (p->status != 200)
            return SSE_E_STATUS;
        if (!(p->head_flags & HF_CTYPE))
            return SSE_E_HEAD;
        p->phase = (p->head_flags & HF_CHUNKED) ? PH_CHUNKED : PH_BODY;
        return SSE_OK;
    }
    colon = strchr(line, ':');
    if (colon == NULL)
        return SSE_OK; /* a header cut short by our line buffer: not one we look at */
    *colon = '\0';
    v = skip_ows(colon + 1);
    if (strcasecmp(line, "content-type") == 0) {
        /* text/event-stream, possibly with parameters (RFC 9110 8.3.1) */
        if (strncasecmp(v, "text/event-stream", 17) == 0 &&
            (v[17] == '\0' || v[17] == ';' || v[17] == ' ' || v[17] == '\t'))
            p->head_flags |= HF_CTYPE;
    } else if (strcasecmp(line, "transfer-encoding") == 0) {
        size_t vl = strlen(v);

        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        /* any other coding (gzip, ...) would need decoding we do not do */
        if (vl != 7 || strncasecmp(v, "chunked", 7) != 0)
            return SSE_E_HEAD;
        p->head_flags |= HF_CHUNKED;
    }
    return SSE_OK;
}

/* Consume head bytes; *used says how many, less than n once the body began. */
static int head_bytes(struct sse_parser *p, const char *buf, size_t n, size_t *used)
{
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];

        if (++p->head_len > SSE_HEAD_MAX)
            return SSE_E_HEAD;
        if (c == '\n') {
            int rc = head_line_end(p);

            p->head_line_len = 0;
            if (rc != SSE_OK)
                return rc;
            if (p->phase != PH_HEAD) {
                *used = i + 1;
                return SSE_OK;
            }
            continue;
        }
        if (c == '\r') /* RFC 9112 2.2: CRLF, and a recipient may accept a bare LF */
            continue;
        if (p->head_line_len < sizeof(p->head_line) - 1)
            p->head_line[p->head_line_len] = c;
        if (p->head_line_len < UINT16_MAX)
            p->head_line_len++;
    }
    *used = n;
    return SSE_OK;
}

/* ---- the "t" and "seq" members in event data -------------------------------------------- */

static int json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void scan_store(struct sse_parser *p)
{
    if (p->num_key == KEY_T) {
        p->t = p->num;
        p->got |= KEY_T;
    } else {
        p->seq = p->num;
        p->got |= KEY_SEQ;
    }
    p->scan = p->got == (KEY_T | KEY_SEQ) ? S_DONE : S_IDLE;
}

/*
 * Look for "t" and "seq" followed by ':' and an unsigned integer. In valid JSON a quote, the
 * key and a quote in a row can only be that string, and a ':' after it makes it a member name,
 * so matching raw bytes is exact for the data we publish. Between candidates, memchr() jumps
 * to the next quote; once both numbers are found the rest of the data is skipped.
 */
static void scan_bytes(struct sse_parser *p, const char *s, size_t n)
{
    const char *e = s + n;

    while (s < e) {
        char c;

        if (p->scan == S_DONE)
            return;
        if (p->scan == S_IDLE) {
            /* Fast path, where most of the client's time goes: decide at each quote from the
             * bytes after it, and leave it to the states below only near the end of the input. */
            const char *q = s;

            /* the gaps between quotes are short: a plain loop beats memchr()'s set-up */
            while (q < e && *q != '"')
                q++;
            if (q == e)
                return;
            if (e - q < 5) {
                p->scan = S_Q;
                s = q + 1;
                continue;
            }
            if (q[1] == 't' && q[2] == '"') {
                p->num_key = KEY_T;
                p->scan = S_COLON;
                s = q + 3;
            } else if (q[1] == 's' && q[2] == 'e' && q[3] == 'q' && q[4] == '"') {
                p->num_key = KEY_SEQ;
                p->scan = S_COLON;
                s = q + 5;
            } else {
                s = q + 1;
            }
            continue;
        }
        c = *s;
        switch (p->scan) {
        case S_Q:
            p->scan = c == 't' ? S_T : c == 's' ? S_S1 : c == '"' ? S_Q : S_IDLE;
            break;
        case S_T:
        case S_S3:
            if (c == '"') {
                p->num_key = p->scan == S_T ? KEY_T : KEY_SEQ;
                p->scan = S_COLON;
            } else {
                p->scan = S_IDLE;
            }
            break;
        case S_S1:
            p->scan = c == 'e' ? S_S2 : c == '"' ? S_Q : S_IDLE;
            break;
        case S_S2:
            p->scan = c == 'q' ? S_S3 : c == '"' ? S_Q : S_IDLE;
            break;
        case S_COLON:
            if (c == ':')
                p->scan = S_NUM0;
            else if (!json_ws(c)) {
                p->scan = S_IDLE;
                continue; /* this byte may open the next string */
            }
            break;
        case S_NUM0:
            if (c >= '0' && c <= '9') {
                p->num = (uint64_t)(c - '0');
                p->scan = S_NUM;
            } else if (!json_ws(c)) {
                p->scan = S_IDLE;
                continue;
            }
            break;
        case S_NUM:
        case S_BAD_NUM:
            if (c >= '0' && c <= '9') {
                unsigned d = (unsigned)(c - '0');

                if (p->num > (UINT64_MAX - d) / 10)
                    p->scan = S_BAD_NUM; /* too large: not one of ours */
                else
                    p->num = p->num * 10 + d;
                break;
            }
            if (p->scan == S_NUM)
                scan_store(p);
            else
                p->scan = S_IDLE;
            continue;
        }
        s++;
    }
}

/* ---- the event stream (HTML 9.2.6) ------------------------------------------------------ */

static void reset_event(struct sse_parser *p)
{
    p->name_len = 0;
    p->name[0] = '\0';
    p->name_long = 0;
    p->has_data = 0;
    p->data_len = 0;
    p->id_set = 0;
    p->scan = S_IDLE;
    p->got = 0;
}

static void dispatch(struct sse_parser *p, sse_event_cb cb, void *ud)
{
    struct sse_event ev = {0};

    /* "If the data buffer is an empty string, set the data buffer and the event type buffer
     * to the empty string and return." A data field, even empty, makes it non-empty. */
    if (p->has_data) {
        p->name[p->name_len] = '\0';
        p->id[p->id_len] = '\0';
        ev.name = p->name;
        if (p->name_len == 0 || strcmp(p->name, "message") == 0)
            ev.kind = SSE_MESSAGE;
        else if (!p->name_long && strcmp(p->name, "mqpush:ready") == 0)
            ev.kind = SSE_READY;
        else
            ev.kind = SSE_OTHER;
        ev.id = p->id;
        ev.id_len = p->id_len;
        ev.id_set = p->id_set;
        ev.id_too_long = p->id_long;
        ev.has_t = (p->got & KEY_T) != 0;
        ev.has_seq = (p->got & KEY_SEQ) != 0;
        ev.t = p->t;
        ev.seq = p->seq;
        ev.data_len = p->data_len ? p->data_len - 1 : 0; /* the last LF is removed */
        if (cb)
            cb(ud, &ev);
    }
    reset_event(p);
}

static int field_of(const struct sse_parser *p)
{
    if (p->field_len == 2 && memcmp(p->field_name, "id", 2) == 0)
        return F_ID;
    if (p->field_len == 4 && memcmp(p->field_name, "data", 4) == 0)
        return F_DATA;
    if (p->field_len == 5 && memcmp(p->field_name, "event", 5) == 0)
        return F_EVENT;
    return F_OTHER; /* "retry" and unknown fields: nothing the benchmark needs */
}

static void value_begin(struct sse_parser *p)
{
    switch (p->field) {
    case F_ID:
        p->id_len = 0;
        p->id_long = 0;
        break;
    case F_EVENT:
        p->name_len = 0;
        p->name_long = 0;
        break;
    case F_DATA:
        p->has_data = 1;
        break;
    }
}

static void value_bytes(struct sse_parser *p, const char *s, size_t n)
{
    size_t room;

    switch (p->field) {
    case F_ID:
        room = SSE_ID_MAX - p->id_len;
        if (n > room)
            p->id_long = 1;
        memcpy(p->id + p->id_len, s, n < room ? n : room);
        p->id_len = (uint8_t)(p->id_len + (n < room ? n : room));
        break;
    case F_EVENT:
        room = SSE_NAME_MAX - p->name_len;
        if (n > room)
            p->name_long = 1;
        memcpy(p->name + p->name_len, s, n < room ? n : room);
        p->name_len = (uint8_t)(p->name_len + (n < room ? n : room));
        break;
    case F_DATA:
        p->data_len += (uint32_t)n;
        scan_bytes(p, s, n);
        break;
    }
}

static void value_end(struct sse_parser *p)
{
    switch (p->field) {
    case F_ID:
        p->id_set = 1;
        break;
    case F_DATA:
        /* data lines join with a LF, which JSON reads as whitespace */
        p->data_len++;
        scan_bytes(p, "\n", 1);
        break;
    }
}

/* The first CR or LF in [s, e), or e. */
static const char *find_eol(const char *s, const char *e)
{
    const char *lf = memchr(s, '\n', (size_t)(e - s));
    const char *cr = memchr(s, '\r', (size_t)((lf ? lf : e) - s));

    return cr ? cr : lf ? lf : e;
}

static void sse_bytes(struct sse_parser *p, const char *s, size_t n, sse_event_cb cb, void *ud)
{
    const char *e = s + n, *eol;

    while (s < e) {
        char c = *s;

        /* a CR LF pair is one line end: the LF after a CR that ended a line is skipped */
        if (p->cr) {
            p->cr = 0;
            if (c == '\n') {
                s++;
                continue;
            }
        }
        switch (p->line) {
        case L_START:
            if (c == '\r' || c == '\n') {
                dispatch(p, cb, ud);
                p->cr = c == '\r';
                s++;
                continue;
            }
            p->field_len = 0;
            p->line = c == ':' ? L_COMMENT : L_NAME;
            if (c == ':')
                s++;
            continue;
        case L_NAME:
            if (c == ':' || c == '\r' || c == '\n') {
                p->field = (uint8_t)field_of(p);
                value_begin(p);
                if (c == ':') {
                    p->line = L_VALUE_START;
                    s++;
                    continue;
                }
                value_end(p); /* "data" alone on a line is an empty data line */
                p->line = L_START;
                p->cr = c == '\r';
                s++;
                continue;
            }
            if (p->field_len < sizeof(p->field_name))
                p->field_name[p->field_len] = c;
            if (p->field_len < UINT8_MAX)
                p->field_len++;
            s++;
            continue;
        case L_VALUE_START:
            p->line = L_VALUE;
            if (c == ' ') /* one space after the colon is not part of the value */
                s++;
            continue;
        case L_VALUE:
        case L_COMMENT:
            eol = find_eol(s, e);
            if (p->line == L_VALUE)
                value_bytes(p, s, (size_t)(eol - s));
            if (eol == e)
                return;
            if (p->line == L_VALUE)
                value_end(p);
            p->line = L_START;
            p->cr = *eol == '\r';
            s = eol + 1;
            continue;
        }
    }
}

/* ---- chunked framing (RFC 9112 7.1) ------------------------------------------------------ */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int chunk_bytes(struct sse_parser *p, const char *s, size_t n, sse_event_cb cb, void *ud)
{
    const char *e = s + n;

    while (s < e) {
        char c = *s;
        int h;

        switch (p->chunk) {
        case CH_SIZE0:
        case CH_SIZE:
            h = hex_value(c);
            if (h >= 0) {
                if (p->chunk_left >> 56)
                    return SSE_E_CHUNK;
                p->chunk_left = p->chunk_left * 16 + (uint64_t)h;
                p->chunk = CH_SIZE;
            } else if (p->chunk == CH_SIZE0) {
                return SSE_E_CHUNK;
            } else if (c == ';' || c == ' ' || c == '\t' || c == '\r') {
                p->chunk = CH_EXT; /* chunk extensions carry nothing for us */
            } else if (c == '\n') {
                p->chunk = p->chunk_left ? CH_DATA : CH_TRAILER0;
            } else {
                return SSE_E_CHUNK;
            }
            s++;
            break;
        case CH_EXT:
            if (c == '\n')
                p->chunk = p->chunk_left ? CH_DATA : CH_TRAILER0;
            s++;
            break;
        case CH_DATA: {
            size_t k = (size_t)(e - s) < p->chunk_left ? (size_t)(e - s) : (size_t)p->chunk_left;

            sse_bytes(p, s, k, cb, ud);
            s += k;
            p->chunk_left -= k;
            if (p->chunk_left == 0)
                p->chunk = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
        case CH_DATA_LF:
            /* the CRLF that ends chunk data; a bare LF is tolerated */
            if (c == '\r' && p->chunk == CH_DATA_CR)
                p->chunk = CH_DATA_LF;
            else if (c == '\n')
                p->chunk = CH_SIZE0;
            else
                return SSE_E_CHUNK;
            s++;
            break;
        case CH_TRAILER0:
            if (c == '\n') {
                p->phase = PH_DONE;
                return s + 1 < e ? SSE_E_ENDED : SSE_OK;
            }
            if (c != '\r')
                p->chunk = CH_TRAILER;
            s++;
            break;
        case CH_TRAILER:
            if (c == '\n')
                p->chunk = CH_TRAILER0;
            s++;
            break;
        }
    }
    return SSE_OK;
}

int sse_parser_feed(struct sse_parser *p, const char *buf, size_t n, sse_event_cb cb, void *ud)
{
    while (n > 0) {
        size_t used;
        int rc;

        switch (p->phase) {
        case PH_HEAD:
            rc = head_bytes(p, buf, n, &used);
            if (rc != SSE_OK)
                return rc;
            buf += used;
            n -= used;
            break;
        case PH_BODY:
            sse_bytes(p, buf, n, cb, ud);
            return SSE_OK;
        case PH_CHUNKED:
            return chunk_bytes(p, buf, n, cb, ud);
        default:
            return SSE_E_ENDED;
        }
    }
    return SSE_OK;
}
