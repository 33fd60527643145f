#include "ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <openssl/evp.h>

enum { PH_HEAD, PH_HEADER, PH_PAYLOAD, PH_CLOSED };

/* head_flags */
#define HF_STATUS 1u
#define HF_UPGRADE 2u
#define HF_CONNECTION 4u
#define HF_ACCEPT 8u
#define HF_EXTENSION 16u
#define HF_CR 32u /* the last head byte was a CR */

/* RFC 6455 1.3: the GUID appended to the key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int ws_accept_for(const char *key, char accept[WS_ACCEPT_LEN + 1])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    char joined[WS_KEY_LEN + sizeof(ws_guid)];
    size_t klen = strlen(key);
    unsigned int dlen = 0;

    if (klen != WS_KEY_LEN)
        return -1;
    memcpy(joined, key, klen);
    memcpy(joined + klen, ws_guid, sizeof(ws_guid) - 1);
    if (EVP_Digest(joined, klen + sizeof(ws_guid) - 1, digest, &dlen, EVP_sha1(), NULL) != 1 ||
        dlen != 20)
        return -1;
    return EVP_EncodeBlock((unsigned char *)accept, digest, dlen) == WS_ACCEPT_LEN ? 0 : -1;
}

int ws_parser_init(struct ws_parser *p, char key[WS_KEY_LEN + 1])
{
    unsigned char nonce[16];

    memset(p, 0, sizeof(*p));
    /* RFC 6455 4.1: the nonce is 16 random octets, fresh for every connection */
    if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
        return -1;
    if (EVP_EncodeBlock((unsigned char *)key, nonce, sizeof(nonce)) != WS_KEY_LEN)
        return -1;
    return ws_accept_for(key, p->accept);
}

void ws_parser_free(struct ws_parser *p)
{
    free(p->msg);
    p->msg = NULL;
    p->msg_len = p->msg_cap = 0;
}

int ws_parser_open(const struct ws_parser *p)
{
    return p->phase != PH_HEAD;
}

const char *ws_strerror(int err)
{
    switch (err) {
    case WS_OK:
        return "ok";
    case WS_E_STATUS:
        return "the handshake was not answered with 101";
    case WS_E_HEAD:
        return "malformed handshake answer, or not an upgrade to websocket";
    case WS_E_ACCEPT:
        return "Sec-WebSocket-Accept missing or wrong";
    case WS_E_FRAME:
        return "malformed frame";
    case WS_E_TOO_BIG:
        return "message too big";
    case WS_E_NOMEM:
        return "out of memory";
    case WS_E_CLOSED:
        return "data after the close frame";
    }
    return "unknown error";
}

size_t ws_request(char *out, size_t cap, const char *host, int port, const char *target,
                  const char *key)
{
    int n = snprintf(out, cap,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     target, host, port, key);

    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

size_t ws_frame(char *out, size_t cap, int opcode, const char *data, size_t len, uint32_t mask)
{
    unsigned char *o = (unsigned char *)out;
    unsigned char key[4] = {(unsigned char)(mask >> 24), (unsigned char)(mask >> 16),
                            (unsigned char)(mask >> 8), (unsigned char)mask};
    size_t h = 2;

    if (cap < 14 || len > cap - 14)
        return 0;
    o[0] = (unsigned char)(0x80 | (opcode & 0x0f));
    /* RFC 6455 5.2: 7-bit length, or 126 + 16 bits, or 127 + 64 bits; the mask bit is set */
    if (len < 126) {
        o[1] = (unsigned char)(0x80 | len);
    } else if (len <= 0xffff) {
        o[1] = 0x80 | 126;
        o[2] = (unsigned char)(len >> 8);
        o[3] = (unsigned char)len;
        h = 4;
    } else {
        o[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            o[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
        h = 10;
    }
    memcpy(o + h, key, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        o[h + i] = (unsigned char)data[i] ^ key[i & 3];
    return h + len;
}

/* ---- the 101 answer ---------------------------------------------------------------------- */

static const char *trim(char *v)
{
    char *e;

    while (*v == ' ' || *v == '\t')
        v++;
    e = v + strlen(v);
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    return v;
}

static int contains_token(const char *v, const char *tok)
{
    size_t n = strlen(tok);

    for (; *v; v++)
        if (strncasecmp(v, tok, n) == 0)
            return 1;
    return 0;
}

static int head_line_end(struct ws_parser *p)
{
    size_t len = p->line_len < sizeof(p->line) - 1 ? p->line_len : sizeof(p->line) - 1;
    char *line = p->line, *colon;
    const char *v;

    line[len] = '\0';
    if (!(p->head_flags & HF_STATUS)) {
        /* RFC 9112 4: HTTP-version SP 3DIGIT SP [reason] */
        if (len < 12 || memcmp(line, "HTTP/1.1 ", 9) != 0 || (len > 12 && line[12] != ' '))
            return WS_E_HEAD;
        for (int i = 9; i < 12; i++) {
            if (line[i] < '0' || line[i] > '9')
                return WS_E_HEAD;
            p->status = (uint16_t)(p->status * 10 + (line[i] - '0'));
        }
        p->head_flags |= HF_STATUS;
        /* a refusal ends here: its headers and body say nothing the benchmark needs */
        return p->status == 101 ? WS_OK : WS_E_STATUS;
    }
    if (p->line_len == 0) {
        /* RFC 6455 4.1: the client fails the connection unless all of these hold */
        if (!(p->head_flags & HF_UPGRADE) || !(p->head_flags & HF_CONNECTION) ||
            (p->head_flags & HF_EXTENSION))
            return WS_E_HEAD;
        if (!(p->head_flags & HF_ACCEPT))
            return WS_E_ACCEPT;
        p->phase = PH_HEADER;
        return WS_OK;
    }
    colon = strchr(line, ':');
    if (colon == NULL)
        return WS_E_HEAD;
    *colon = '\0';
    v = trim(colon + 1);
    if (strcasecmp(line, "upgrade") == 0 && strcasecmp(v, "websocket") == 0)
        p->head_flags |= HF_UPGRADE;
    else if (strcasecmp(line, "connection") == 0 && contains_token(v, "upgrade"))
        p->head_flags |= HF_CONNECTION;
    else if (strcasecmp(line, "sec-websocket-extensions") == 0)
        p->head_flags |= HF_EXTENSION; /* none was offered, none may be accepted */
    else if (strcasecmp(line, "sec-websocket-accept") == 0) {
        if (strcmp(v, p->accept) != 0)
            return WS_E_ACCEPT;
        p->head_flags |= HF_ACCEPT;
    }
    return WS_OK;
}

/* Consume head bytes; returns how many were taken, or a negative error. */
static long head_feed(struct ws_parser *p, const char *buf, size_t n)
{
    size_t i;

    for (i = 0; i < n && p->phase == PH_HEAD; i++) {
        char c = buf[i];
        int rc;

        if (++p->head_len > WS_HEAD_MAX)
            return WS_E_HEAD;
        if (c == '\r') {
            p->head_flags |= HF_CR;
            continue;
        }
        if (c != '\n') {
            if (p->head_flags & HF_CR)
                return WS_E_HEAD; /* a bare CR inside a head line */
            if (p->line_len < sizeof(p->line) - 1)
                p->line[p->line_len] = c;
            if (p->line_len < UINT16_MAX)
                p->line_len++;
            continue;
        }
        p->head_flags &= (uint8_t)~HF_CR;
        rc = head_line_end(p);
        if (rc != WS_OK)
            return rc;
        p->line_len = 0;
    }
    return (long)i;
}

/* ---- frames ------------------------------------------------------------------------------ */

/* How many header bytes the frame whose first bytes are in hdr needs in all. */
static size_t header_size(const struct ws_parser *p)
{
    size_t need = 2;

    if (p->hdr_len < 2)
        return need;
    if ((p->hdr[1] & 0x7f) == 126)
        need += 2;
    else if ((p->hdr[1] & 0x7f) == 127)
        need += 8;
    return need;
}

/* The header is complete: check it against RFC 6455 5.2 and 5.5. */
static int header_done(struct ws_parser *p)
{
    uint8_t b0 = p->hdr[0], b1 = p->hdr[1], len7 = b1 & 0x7f;
    uint64_t len = len7;

    if (b0 & 0x70)
        return WS_E_FRAME; /* RSV1-3 without a negotiated extension */
    if (b1 & 0x80)
        return WS_E_FRAME; /* 5.1: a server must not mask */
    if (len7 == 126) {
        len = (uint64_t)p->hdr[2] << 8 | p->hdr[3];
        if (len < 126)
            return WS_E_FRAME; /* 5.2: the minimal number of bytes must be used */
    } else if (len7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | p->hdr[2 + i];
        if (len >> 63 || len <= 0xffff)
            return WS_E_FRAME;
    }
    p->opcode = b0 & 0x0f;
    p->fin = (b0 & 0x80) != 0;
    p->left = len;
    switch (p->opcode) {
    case WS_CONT:
        if (p->msg_op == 0)
            return WS_E_FRAME; /* a continuation with no message started */
        break;
    case WS_TEXT:
    case WS_BINARY:
        if (p->msg_op != 0)
            return WS_E_FRAME; /* 5.4: a new message inside a fragmented one */
        break;
    case WS_CLOSE:
    case WS_PING:
    case WS_PONG:
        if (!p->fin || len > sizeof(p->ctl))
            return WS_E_FRAME; /* 5.5: control frames are final and short */
        p->ctl_len = 0;
        break;
    default:
        return WS_E_FRAME;
    }
    if (p->opcode < WS_CLOSE) {
        size_t so_far = p->opcode == WS_CONT ? p->msg_len : 0;

        if (len > WS_MSG_MAX - so_far)
            return WS_E_TOO_BIG;
        if (p->opcode != WS_CONT) {
            p->msg_op = p->opcode;
            p->msg_len = 0;
        }
    }
    p->phase = PH_PAYLOAD;
    return WS_OK;
}

static int msg_append(struct ws_parser *p, const char *data, size_t n)
{
    if (p->msg_len + n > p->msg_cap) {
        size_t cap = p->msg_cap ? p->msg_cap : 1024;
        char *m;

        while (cap < p->msg_len + n)
            cap *= 2;
        m = realloc(p->msg, cap);
        if (m == NULL)
            return WS_E_NOMEM;
        p->msg = m;
        p->msg_cap = cap;
    }
    memcpy(p->msg + p->msg_len, data, n);
    p->msg_len += n;
    return WS_OK;
}

/* The current frame's payload is complete: deliver what it completes. */
static int frame_done(struct ws_parser *p, ws_message_cb cb, void *ud)
{
    int op = p->opcode, rc = 0;

    p->phase = PH_HEADER;
    p->hdr_len = 0;
    if (op >= WS_CLOSE) {
        if (op == WS_CLOSE)
            p->phase = PH_CLOSED;
        return cb(ud, op, p->ctl, p->ctl_len);
    }
    if (p->fin) {
        op = p->msg_op;
        p->msg_op = 0;
        rc = cb(ud, op, p->msg ? p->msg : "", p->msg_len);
        p->msg_len = 0;
    }
    return rc;
}

int ws_parser_feed(struct ws_parser *p, const char *buf, size_t n, ws_message_cb cb, void *ud)
{
    size_t i = 0;
    int rc;

    if (p->phase == PH_HEAD) {
        long used = head_feed(p, buf, n);

        if (used < 0)
            return (int)used;
        i = (size_t)used;
    }
    while (i < n) {
        if (p->phase == PH_CLOSED)
            return WS_E_CLOSED;
        if (p->phase == PH_HEADER) {
            size_t need;

            p->hdr[p->hdr_len++] = (uint8_t)buf[i++];
            need = header_size(p);
            if (p->hdr_len < need)
                continue;
            rc = header_done(p);
            if (rc != WS_OK)
                return rc;
            if (p->left > 0)
                continue;
            /* an empty payload completes the frame at once */
        } else {
            size_t avail = n - i, take = p->left < avail ? (size_t)p->left : avail;

            /* the common case: a whole single-frame message in this read, passed in place */
            if (p->opcode != WS_CONT && p->opcode < WS_CLOSE && p->fin && p->msg_len == 0 &&
                p->left <= avail) {
                p->phase = PH_HEADER;
                p->hdr_len = 0;
                p->msg_op = 0;
                i += take;
                p->left = 0;
                rc = cb(ud, p->opcode, buf + i - take, take);
                if (rc != 0)
                    return rc;
                continue;
            }
            if (p->opcode >= WS_CLOSE) {
                memcpy(p->ctl + p->ctl_len, buf + i, take);
                p->ctl_len = (uint8_t)(p->ctl_len + take);
            } else if ((rc = msg_append(p, buf + i, take)) != WS_OK) {
                return rc;
            }
            i += take;
            p->left -= take;
            if (p->left > 0)
                continue;
        }
        rc = frame_done(p, cb, ud);
        if (rc != 0)
            return rc;
    }
    return WS_OK;
}
