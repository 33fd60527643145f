/*
 * The raw Engine.IO echo of the conformance server: every message a session receives, text or
 * binary, is sent back to it unchanged (the reference server of socket.io's
 * docs/engine.io-protocol/v4-current.md, "Test suite"). Loop thread only.
 */
#ifndef EXAMPLES_SIO_CONFORMANCE_ECHO_EIO_H
#define EXAMPLES_SIO_CONFORMANCE_ECHO_EIO_H

#include <uv.h>
#include "socketio/eio_server.h"

/* An Engine.IO server running the echo, with params (strings borrowed). Returns 0 and *out
 * (free with eio_server_free() once its connections are gone), or -1. */
int echo_eio_new(uv_loop_t *loop, const struct eio_server_params *params, struct eio_server **out);

#endif
