/*
 * Raw Engine.IO echo: the application side of an eio_server that only sends messages back.
 */
#include "echo_eio.h"

#include <stdio.h>

static int on_open(void *ud, struct eio_sess *s, struct lws *wsi)
{
    (void)ud;
    (void)s;
    (void)wsi;
    return 0;
}

static void on_message(void *ud, struct eio_sess *s, const char *data, size_t len, bool binary)
{
    (void)ud;
    /* eio_sess_send() copies and queues behind the control packets, so the echo keeps the
     * order of what came in; over the queue limit the server closes the session itself. */
    if (eio_sess_send(s, data, len, binary) != 0)
        fprintf(stderr, "mqpush-sio-conformance: echo to %s dropped\n", eio_sess_id(s));
}

/* Nothing is ever pending outside the session queue: eio_sess_want_write() is not used. */
static void pull(void *ud, struct eio_sess *s)
{
    (void)ud;
    (void)s;
}

static void on_close(void *ud, struct eio_sess *s, const char *reason)
{
    (void)ud;
    (void)s;
    (void)reason;
}

static const struct eio_app_ops echo_ops = {
    .on_open = on_open,
    .on_message = on_message,
    .pull = pull,
    .on_close = on_close,
};

int echo_eio_new(uv_loop_t *loop, const struct eio_server_params *params, struct eio_server **out)
{
    return eio_server_new(loop, params, &echo_ops, NULL, out);
}
