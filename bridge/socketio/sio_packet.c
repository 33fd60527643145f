/*
 * Socket.IO v5 packet codec.
 */
#include "socketio/sio_packet.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "event.h" /* core: mqp_json_has_non_json_number() */

/* Event names a client may not emit: the socket.io client library gives them other meanings. */
static const char *const reserved_events[] = {"connect",       "connect_error", "disconnect",
                                              "disconnecting", "newListener",   "removeListener"};

static int fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s", why);
    return -1;
}

static int payload_fits(enum sio_type type, json_object *data, char *err, size_t errlen)
{
    json_object *first;
    size_t i;

    switch (type) {
    case SIO_CONNECT:
        if (data && !json_object_is_type(data, json_type_object))
            return fail(err, errlen, "CONNECT payload must be an object");
        return 0;
    case SIO_DISCONNECT:
        if (data)
            return fail(err, errlen, "DISCONNECT has no payload");
        return 0;
    case SIO_CONNECT_ERROR:
        if (!data || !(json_object_is_type(data, json_type_object) ||
                       json_object_is_type(data, json_type_string)))
            return fail(err, errlen, "CONNECT_ERROR payload must be an object or a string");
        return 0;
    case SIO_EVENT:
    case SIO_BINARY_EVENT:
        if (!data || !json_object_is_type(data, json_type_array) ||
            json_object_array_length(data) == 0)
            return fail(err, errlen, "EVENT payload must be a non-empty array");
        first = json_object_array_get_idx(data, 0);
        if (json_object_is_type(first, json_type_int) ||
            json_object_is_type(first, json_type_double))
            return 0;
        if (!json_object_is_type(first, json_type_string))
            return fail(err, errlen, "EVENT name must be a string or a number");
        for (i = 0; i < sizeof(reserved_events) / sizeof(reserved_events[0]); i++)
            if (strcmp(json_object_get_string(first), reserved_events[i]) == 0)
                return fail(err, errlen, "EVENT name is reserved");
        return 0;
    case SIO_ACK:
    case SIO_BINARY_ACK:
        if (!data || !json_object_is_type(data, json_type_array))
            return fail(err, errlen, "ACK payload must be an array");
        return 0;
    }
    return fail(err, errlen, "unknown packet type");
}

int sio_packet_decode(const char *s, size_t len, unsigned max_attachments, struct sio_packet *out,
                      char *err, size_t errlen)
{
    size_t i = 1;

    memset(out, 0, sizeof(*out));
    out->id = -1;
    strcpy(out->nsp, "/");
    if (len == 0 || s[0] < '0' || s[0] > '6')
        return fail(err, errlen, "unknown packet type");
    out->type = (enum sio_type)(s[0] - '0');
    if (out->type == SIO_BINARY_EVENT || out->type == SIO_BINARY_ACK) {
        unsigned long n = 0;
        size_t start = i;

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            n = n * 10 + (unsigned long)(s[i] - '0');
            if (n > max_attachments)
                return fail(err, errlen, "too many attachments");
            i++;
        }
        if (i == start || i >= len || s[i] != '-')
            return fail(err, errlen, "binary packet without attachment count");
        out->attachments = (unsigned)n;
        i++;
    }
    if (i < len && s[i] == '/') {
        size_t start = i;

        while (i < len && s[i] != ',')
            i++;
        if (i - start > SIO_NSP_MAX)
            return fail(err, errlen, "namespace too long");
        memcpy(out->nsp, s + start, i - start);
        out->nsp[i - start] = '\0';
        if (memchr(out->nsp, '\0', i - start))
            return fail(err, errlen, "namespace holds a NUL byte");
        if (i < len)
            i++; /* the ',' */
    }
    if (i < len && s[i] >= '0' && s[i] <= '9') {
        int64_t id = 0;

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            id = id * 10 + (s[i] - '0');
            if (id > SIO_ID_MAX)
                return fail(err, errlen, "ack id too large");
            i++;
        }
        out->id = id;
    }
    if (i < len) {
        struct json_tokener *tok = json_tokener_new();

        if (tok == NULL)
            return fail(err, errlen, "out of memory");
        /* Strict: only RFC 8259 JSON (json-c otherwise takes "2e", comments, single quotes). */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        out->data = json_tokener_parse_ex(tok, s + i, (int)(len - i));
        if (out->data == NULL || json_tokener_get_error(tok) != json_tokener_success ||
            (size_t)tok->char_offset != len - i || mqp_json_has_non_json_number(out->data)) {
            json_tokener_free(tok);
            sio_packet_clear(out);
            return fail(err, errlen, "payload is not one JSON value");
        }
        json_tokener_free(tok);
    }
    if (payload_fits(out->type, out->data, err, errlen) != 0) {
        sio_packet_clear(out);
        return -1;
    }
    return 0;
}

char *sio_packet_encode(const struct sio_packet *p, size_t *len)
{
    const char *js = p->data ? json_object_to_json_string_ext(
                                   p->data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                             : "";
    bool main_nsp = strcmp(p->nsp, "/") == 0;
    size_t cap = strlen(js) + strlen(p->nsp) + 48;
    char *out = malloc(cap);
    int n = 0;

    if (out == NULL)
        return NULL;
    n += snprintf(out + n, cap - (size_t)n, "%d", (int)p->type);
    if (p->type == SIO_BINARY_EVENT || p->type == SIO_BINARY_ACK)
        n += snprintf(out + n, cap - (size_t)n, "%u-", p->attachments);
    if (!main_nsp)
        n += snprintf(out + n, cap - (size_t)n, "%s,", p->nsp);
    if (p->id >= 0)
        n += snprintf(out + n, cap - (size_t)n, "%lld", (long long)p->id);
    n += snprintf(out + n, cap - (size_t)n, "%s", js);
    *len = (size_t)n;
    return out;
}

void sio_packet_clear(struct sio_packet *p)
{
    json_object_put(p->data);
    p->data = NULL;
}
