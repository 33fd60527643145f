/*
 * Base64url over OpenSSL's standard base64 (EVP_EncodeBlock / EVP_DecodeBlock): this file only
 * maps the alphabet (RFC 4648 section 5: '-' for '+', '_' for '/') and the padding.
 */
#include "b64url.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

/* EVP_{En,De}codeBlock count in int; stay well inside it. */
#define B64_MAX_INPUT ((size_t)INT_MAX / 4 * 3 - 4)

static bool is_b64url_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Value of one base64url character (the caller checked is_b64url_char). */
static unsigned b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : 63;
}

char *mqp_b64url_encode(const void *src, size_t len, size_t *out_len)
{
    char *out = NULL;
    size_t n;
    int written;

    if (len > B64_MAX_INPUT || (src == NULL && len > 0))
        return NULL;
    out = malloc((len + 2) / 3 * 4 + 1);
    if (out == NULL)
        return NULL;
    written = len ? EVP_EncodeBlock((unsigned char *)out, src, (int)len) : 0;
    out[written] = '\0';
    n = (size_t)written;
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    if (out_len != NULL)
        *out_len = n;
    return out;
}

unsigned char *mqp_b64url_decode(const char *src, size_t len, size_t *out_len)
{
    unsigned char *result = NULL, *buf = NULL;
    char *std = NULL;
    size_t data_len = len, pad, std_len;
    int decoded;

    if (src == NULL || len > B64_MAX_INPUT)
        goto out;
    /* Padding is optional, but when present it must complete the last quantum exactly. */
    while (data_len > 0 && src[data_len - 1] == '=' && len - data_len < 2)
        data_len--;
    if (data_len < len && len % 4 != 0)
        goto out;
    /* A single character left over carries only 6 bits: no whole byte (RFC 4648 section 4). */
    if (data_len % 4 == 1)
        goto out;
    pad = (4 - data_len % 4) % 4;
    for (size_t i = 0; i < data_len; i++) {
        if (!is_b64url_char((unsigned char)src[i]))
            goto out;
    }
    /*
     * RFC 4648 section 3.5: the unused low bits of the last character must be zero. Refusing
     * other spellings keeps one text per byte string, so no two tokens carry the same bytes.
     */
    if (pad > 0) {
        unsigned last = b64url_value((unsigned char)src[data_len - 1]);
        if ((pad == 2 && (last & 0x0f)) || (pad == 1 && (last & 0x03)))
            goto out;
    }
    std_len = data_len + pad;
    std = malloc(std_len + 1);
    buf = malloc(std_len / 4 * 3 + 1);
    if (std == NULL || buf == NULL)
        goto out;
    for (size_t i = 0; i < data_len; i++) {
        char c = src[i];
        std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    memset(std + data_len, '=', pad);
    std[std_len] = '\0';
    decoded = std_len ? EVP_DecodeBlock(buf, (unsigned char *)std, (int)std_len) : 0;
    /* EVP_DecodeBlock counts the zero bytes that stand for padding; they are not data. */
    if (decoded < 0 || (size_t)decoded < pad)
        goto out;
    decoded -= (int)pad;
    buf[decoded] = '\0';
    if (out_len != NULL)
        *out_len = (size_t)decoded;
    result = buf;
    buf = NULL;
out:
    free(buf);
    free(std);
    return result;
}
