/*
 * A Socket.IO v5 server over the Engine.IO server (socket.io's
 * docs/socket.io-protocol/v5-current.md): namespaces joined with CONNECT (and its auth
 * payload), refused with CONNECT_ERROR, left with DISCONNECT; events and acks both ways,
 * binary ones with their attachments; several namespaces on one Engine.IO session. Which
 * namespaces exist and what a socket receives is the application's (the mqpush stream mapping,
 * or the conformance echo server). Loop thread only.
 */
#ifndef BRIDGE_SOCKETIO_SIO_SERVER_H
#define BRIDGE_SOCKETIO_SIO_SERVER_H

#include <json-c/json.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>
#include "socketio/eio_server.h"

/* 20 characters of base64url, as the reference server's socket ids. */
#define SIO_SID_LEN 20

/* A fresh random id of SIO_SID_LEN base64url characters (socket ids, recovery pids).
 * Returns 0, or -1 when the random generator fails. */
int sio_random_id(char out[SIO_SID_LEN + 1]);

struct sio_server;
struct sio_conn;   /* one Engine.IO session */
struct sio_socket; /* one namespace joined on it */

/* Binary attachments of an event or ack (borrowed for the call). */
struct sio_blob {
    const unsigned char *data;
    size_t len;
};

struct sio_app_ops {
    /* An Engine.IO session opened: read what is needed from the handshake request (wsi,
     * readable now only) into *conn_app. Return 0, or -1 to refuse the session. */
    int (*on_handshake)(void *ud, struct lws *wsi, void **conn_app);
    /* The session ended, after every socket's on_disconnect. */
    void (*on_conn_close)(void *ud, void *conn_app);
    /*
     * CONNECT to the socket's namespace. auth is the payload (an object) or NULL, borrowed.
     * Return 0 to accept, 1 to accept later with sio_socket_accept() (on_disconnect is owed
     * from now), or -1 with *err set to the CONNECT_ERROR payload (an object with "message"
     * and optionally "data"; the server takes ownership).
     */
    int (*on_connect)(void *ud, struct sio_socket *sk, json_object *auth, json_object **err);
    /* An EVENT: args is the array (event name first; placeholders left in place for binary
     * events), borrowed; ack is its ack id or -1. */
    void (*on_event)(void *ud, struct sio_socket *sk, json_object *args, int64_t ack,
                     const struct sio_blob *blobs, size_t n_blobs);
    /* An ACK from the client to an event the server emitted with an ack id (args borrowed).
     * May be NULL. */
    void (*on_ack)(void *ud, struct sio_socket *sk, int64_t id, json_object *args,
                   const struct sio_blob *blobs, size_t n_blobs);
    /* The socket left (reason as socket.io names it: "client namespace disconnect",
     * "server namespace disconnect", "transport close", "ping timeout", "parse error",
     * "server shutting down", ...). It is freed after this returns. */
    void (*on_disconnect)(void *ud, struct sio_socket *sk, const char *reason);
    /* The transport can take data: put packets with sio_socket_put() until it refuses.
     * Called after sio_socket_want_write(). May be NULL. */
    void (*pull)(void *ud, struct sio_socket *sk);
};

struct sio_params {
    struct eio_server_params eio;
    unsigned connect_timeout_ms;
    unsigned max_attachments; /* per packet */
};

/* Returns 0 and *out (free with sio_server_free()), or -1. */
int sio_server_new(uv_loop_t *loop, const struct sio_params *p, const struct sio_app_ops *ops,
                   void *ud, struct sio_server **out);
/* The Engine.IO server, for the host's lws callback (borrowed). */
struct eio_server *sio_server_eio(struct sio_server *srv);
/* Close every session; every socket gets on_disconnect("server shutting down"). */
void sio_server_shutdown(struct sio_server *srv);
void sio_server_free(struct sio_server *srv);
size_t sio_server_sockets(const struct sio_server *srv);

/* A socket's namespace ("/" or "/<name>"), id and application data. */
const char *sio_socket_nsp(const struct sio_socket *sk);
const char *sio_socket_id(const struct sio_socket *sk);
/* The private session id handed out for recovery, or NULL. */
const char *sio_socket_pid(const struct sio_socket *sk);
void *sio_socket_conn_app(const struct sio_socket *sk);
void sio_socket_set_app(struct sio_socket *sk, void *app);
void *sio_socket_app(const struct sio_socket *sk);
/* In on_connect: use this socket id (a recovered socket keeps its old one) and hand out pid
 * (connection state recovery), both copied; pid NULL for none. */
int sio_socket_set_ids(struct sio_socket *sk, const char *sid, const char *pid);

/* Send the CONNECT answer of a socket whose on_connect returned 1. It may be called from
 * on_connect itself (which then returns 1), so that what the application emits there goes
 * after the answer, as from a socket.io "connection" handler. */
void sio_socket_accept(struct sio_socket *sk);

/* Queue an EVENT (args: a JSON array, borrowed), with binary attachments when blobs (their
 * placeholders must be in args already). ack: the id the client should answer, or -1.
 * Returns 0, or -1 when the session is closed or over its queue limit. */
int sio_socket_emit(struct sio_socket *sk, json_object *args, int64_t ack,
                    const struct sio_blob *blobs, size_t n_blobs);
/* Answer the client's event ack with args (an array, borrowed) and attachments. */
int sio_socket_ack(struct sio_socket *sk, int64_t id, json_object *args,
                   const struct sio_blob *blobs, size_t n_blobs);
/* Output is waiting for pull(). */
void sio_socket_want_write(struct sio_socket *sk);
/* In pull(): one encoded Socket.IO packet (for example "2/ns,[...]"). Returns 0, or 1 when the
 * write is full (stop; pull() comes again). */
int sio_socket_put(struct sio_socket *sk, const char *packet, size_t len);
/* Leave the namespace from the server side: DISCONNECT is sent, on_disconnect called with
 * "server namespace disconnect", the socket freed. */
void sio_socket_disconnect(struct sio_socket *sk);
/* Close the whole Engine.IO session of sk (reason for its sockets' on_disconnect). */
void sio_socket_close_conn(struct sio_socket *sk, const char *reason);

#endif
