/*
 * Engine.IO v4 packet and payload codec. Base64 is OpenSSL's (EVP_EncodeBlock and
 * EVP_DecodeBlock, standard alphabet with padding, as the protocol uses).
 */
#include "socketio/eio_packet.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int eio_packet_parse(const char *s, size_t len, struct eio_packet *out)
{
    if (len == 0 || s[0] < '0' || s[0] > '6')
        return -1;
    out->type = (enum eio_type)(s[0] - '0');
    out->binary = false;
    out->data = s + 1;
    out->len = len - 1;
    return 0;
}

/*
 * EVP_DecodeBlock skips leading and trailing blanks, so " " alone would decode to nothing:
 * accept only the standard alphabet, with '=' as the last one or two characters.
 */
static bool base64_strict(const char *s, size_t len)
{
    size_t i, pad = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '=') {
            pad++;
            continue;
        }
        if (pad > 0)
            return false;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return false;
    }
    return pad <= 2;
}

/* Decode "b<base64>" into a fresh buffer; *n gets its length. */
static unsigned char *unbase64(const char *s, size_t len, size_t *n)
{
    unsigned char *buf;
    int got;
    size_t pad = 0;

    if (len == 0 || len % 4 != 0 || len > (size_t)INT32_MAX || !base64_strict(s, len))
        return NULL;
    buf = malloc(len / 4 * 3 + 1);
    if (buf == NULL)
        return NULL;
    got = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
    if (got < 0) {
        free(buf);
        return NULL;
    }
    /* EVP_DecodeBlock counts the padding as data: take it off. */
    if (s[len - 1] == '=')
        pad++;
    if (s[len - 2] == '=')
        pad++;
    *n = (size_t)got - pad;
    return buf;
}

int eio_payload_parse(const char *body, size_t len, size_t max_packets,
                      int (*cb)(void *ud, const struct eio_packet *p), void *ud)
{
    const char *p = body, *end = body + len;
    int n = 0;

    if (len == 0)
        return -1;
    for (;;) {
        const char *sep = memchr(p, EIO_SEPARATOR, (size_t)(end - p));
        const char *seg_end = sep ? sep : end;
        size_t seg_len = (size_t)(seg_end - p);
        struct eio_packet pk;

        if ((size_t)n >= max_packets)
            return -1;
        if (seg_len > 0 && p[0] == 'b') {
            size_t blen = 0;
            unsigned char *bytes = unbase64(p + 1, seg_len - 1, &blen);
            int rc;

            if (bytes == NULL)
                return -1;
            pk.type = EIO_MESSAGE;
            pk.binary = true;
            pk.data = (const char *)bytes;
            pk.len = blen;
            rc = cb(ud, &pk);
            free(bytes);
            if (rc != 0)
                return -1;
        } else {
            if (eio_packet_parse(p, seg_len, &pk) != 0 || cb(ud, &pk) != 0)
                return -1;
        }
        n++;
        if (sep == NULL)
            return n;
        p = sep + 1;
    }
}

int eio_buf_put(struct eio_buf *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *n;

        while (cap < b->len + len + 1)
            cap *= 2;
        n = realloc(b->data, cap);
        if (n == NULL)
            return -1;
        b->data = n;
        b->cap = cap;
    }
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int eio_payload_append(struct eio_buf *b, enum eio_type type, const void *data, size_t len,
                       bool binary)
{
    char sep = EIO_SEPARATOR, t = (char)('0' + (int)type);

    if (b->len && eio_buf_put(b, &sep, 1) != 0)
        return -1;
    if (!binary)
        return eio_buf_put(b, &t, 1) || eio_buf_put(b, data, len) ? -1 : 0;
    {
        size_t out = 4 * ((len + 2) / 3);
        char *tmp;
        int rc;

        if (len > (size_t)INT32_MAX / 2)
            return -1;
        tmp = malloc(out + 2);
        if (tmp == NULL)
            return -1;
        tmp[0] = 'b';
        EVP_EncodeBlock((unsigned char *)tmp + 1, data, (int)len);
        rc = eio_buf_put(b, tmp, out + 1);
        free(tmp);
        return rc;
    }
}
