/*
 * The Socket.IO side of the conformance server: what socket.io's
 * docs/socket.io-protocol/v5-current.md ("Test suite") expects of its reference server.
 *
 *   "/"        on connection: emit "auth" with the CONNECT payload ({} without one);
 *              "message" -> emit "message-back" with the same arguments and attachments;
 *              "message-with-ack" -> answer the ack with the same arguments and attachments.
 *   "/custom"  on connection: emit "auth" with the CONNECT payload.
 *   any other  refused: CONNECT_ERROR {"message":"Invalid namespace"}.
 *
 * Loop thread only.
 */
#ifndef EXAMPLES_SIO_CONFORMANCE_ECHO_SIO_H
#define EXAMPLES_SIO_CONFORMANCE_ECHO_SIO_H

#include <uv.h>
#include "socketio/sio_server.h"

/* A Socket.IO server running the behaviour above, with params (strings borrowed). Returns 0
 * and *out (free with sio_server_free() once its connections are gone), or -1. */
int echo_sio_new(uv_loop_t *loop, const struct sio_params *params, struct sio_server **out);

#endif
