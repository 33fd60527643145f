/*
 * Socket.IO conformance behaviour: the "auth" emit, the "message" echo and the ack echo.
 */
#include "echo_sio.h"

#include <stdio.h>
#include <string.h>

static int on_handshake(void *ud, struct lws *wsi, void **conn_app)
{
    (void)ud;
    (void)wsi;
    *conn_app = NULL; /* nothing of the handshake request is needed */
    return 0;
}

static void on_conn_close(void *ud, void *conn_app)
{
    (void)ud;
    (void)conn_app;
}

static bool served_nsp(const char *nsp)
{
    return strcmp(nsp, "/") == 0 || strcmp(nsp, "/custom") == 0;
}

/* ["auth", auth] where auth is the CONNECT payload, or {} when the client sent none (the
 * reference server's socket.handshake.auth). */
static int emit_auth(struct sio_socket *sk, json_object *auth)
{
    json_object *args = json_object_new_array();
    json_object *copy = auth ? json_object_get(auth) : json_object_new_object();
    int rc = -1;

    if (args == NULL || copy == NULL) {
        json_object_put(copy);
        goto out;
    }
    json_object_array_add(args, json_object_new_string("auth"));
    json_object_array_add(args, copy);
    rc = sio_socket_emit(sk, args, -1, NULL, 0);
out:
    json_object_put(args);
    return rc;
}

static int on_connect(void *ud, struct sio_socket *sk, json_object *auth, json_object **err)
{
    (void)ud;
    if (!served_nsp(sio_socket_nsp(sk))) {
        /* the reference server's words for a namespace nobody declared */
        *err = json_object_new_object();
        if (*err)
            json_object_object_add(*err, "message", json_object_new_string("Invalid namespace"));
        return -1;
    }
    /* The CONNECT answer must go before the "auth" event (a reference server emits from its
     * "connection" handler, which runs once the socket is connected): accept now, emit, and
     * return 1 so that the server does not answer a second time. */
    sio_socket_accept(sk);
    if (emit_auth(sk, auth) != 0)
        fprintf(stderr, "mqpush-sio-conformance: cannot emit auth to %s\n", sio_socket_id(sk));
    return 1;
}

/* A new array holding args[from..] (references taken, not copies). */
static json_object *tail(json_object *args, size_t from)
{
    json_object *out = json_object_new_array();
    size_t i, n = json_object_array_length(args);

    for (i = from; out && i < n; i++)
        json_object_array_add(out, json_object_get(json_object_array_get_idx(args, i)));
    return out;
}

static void on_event(void *ud, struct sio_socket *sk, json_object *args, int64_t ack,
                     const struct sio_blob *blobs, size_t n_blobs)
{
    const char *name;
    json_object *out = NULL;

    (void)ud;
    /* only the main namespace has handlers in the reference server */
    if (strcmp(sio_socket_nsp(sk), "/") != 0)
        return;
    if (!json_object_is_type(json_object_array_get_idx(args, 0), json_type_string))
        return;
    name = json_object_get_string(json_object_array_get_idx(args, 0));
    if (strcmp(name, "message") == 0) {
        /* The placeholders keep their indexes, so the attachments go back in the same order. */
        out = tail(args, 0);
        if (out == NULL)
            goto out;
        json_object_array_put_idx(out, 0, json_object_new_string("message-back"));
        if (sio_socket_emit(sk, out, -1, blobs, n_blobs) != 0)
            fprintf(stderr, "mqpush-sio-conformance: echo to %s dropped\n", sio_socket_id(sk));
    } else if (strcmp(name, "message-with-ack") == 0 && ack >= 0) {
        out = tail(args, 1);
        if (out == NULL)
            goto out;
        if (sio_socket_ack(sk, ack, out, blobs, n_blobs) != 0)
            fprintf(stderr, "mqpush-sio-conformance: ack to %s dropped\n", sio_socket_id(sk));
    }
out:
    json_object_put(out);
}

static void on_disconnect(void *ud, struct sio_socket *sk, const char *reason)
{
    (void)ud;
    (void)sk;
    (void)reason;
}

static const struct sio_app_ops echo_ops = {
    .on_handshake = on_handshake,
    .on_conn_close = on_conn_close,
    .on_connect = on_connect,
    .on_event = on_event,
    .on_disconnect = on_disconnect,
};

int echo_sio_new(uv_loop_t *loop, const struct sio_params *params, struct sio_server **out)
{
    return sio_server_new(loop, params, &echo_ops, NULL, out);
}
