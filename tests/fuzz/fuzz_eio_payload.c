/*
 * Engine.IO long-polling bodies come from any HTTP client. Whatever the bytes, the decoder
 * answers with packets or a refusal; packets it accepts must survive an encode/decode round.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socketio/eio_packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct acc {
    struct eio_buf out;
    int n;
};

static int reencode(void *ud, const struct eio_packet *p)
{
    struct acc *a = ud;

    if (p->type > EIO_NOOP || (p->binary && p->type != EIO_MESSAGE))
        abort();
    a->n++;
    return eio_payload_append(&a->out, p->type, p->data, p->len, p->binary);
}

static int count(void *ud, const struct eio_packet *p)
{
    (void)p;
    (*(int *)ud)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct acc a = {{0}, 0};
    int n = eio_payload_parse((const char *)data, size, 64, reencode, &a);

    if (n > 0) {
        int again = 0;

        if (n != a.n || eio_payload_parse(a.out.data, a.out.len, 64, count, &again) != n)
            abort();
    }
    free(a.out.data);
    return 0;
}
