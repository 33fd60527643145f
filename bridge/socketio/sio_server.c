/*
 * Socket.IO v5 over Engine.IO: namespaces, events, acks, binary attachments.
 */
#include "socketio/sio_server.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "b64url.h"
#include "socketio/sio_packet.h"

#define TICK_MS 250

struct sio_socket {
    struct sio_conn *conn;
    struct sio_socket *next;
    char *nsp; /* owned; short strings here keep an idle socket small */
    char sid[SIO_SID_LEN + 1];
    char *pid;
    void *app;
    bool connected; /* accepted by the application: on_disconnect is owed */
    bool acked;     /* the CONNECT answer went out */
};

struct sio_conn {
    struct sio_server *srv;
    struct eio_sess *eio;
    void *app;
    struct sio_socket *sockets;
    uint64_t deadline; /* loop time by which a namespace must be joined; 0 once one was */
    struct sio_conn *prev, *next;
    /* a binary packet waiting for its attachments */
    struct sio_packet *pending; /* owned; allocated only while attachments are due */
    struct sio_blob *blobs;
    size_t n_blobs;
};

struct sio_server {
    uv_loop_t *loop;
    struct sio_params p;
    const struct sio_app_ops *ops;
    void *ud;
    struct eio_server *eio;
    struct sio_conn *conns;
    uv_timer_t tick;
    size_t n_sockets;
    bool tick_closed, freeing;
};

static void clear_pending(struct sio_conn *c)
{
    size_t i;

    if (c->pending) {
        sio_packet_clear(c->pending);
        free(c->pending);
    }
    c->pending = NULL;
    for (i = 0; i < c->n_blobs; i++)
        free((void *)c->blobs[i].data);
    free(c->blobs);
    c->blobs = NULL;
    c->n_blobs = 0;
}

int sio_random_id(char out[SIO_SID_LEN + 1])
{
    unsigned char raw[15];
    size_t n = 0;
    char *id;

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return -1;
    id = mqp_b64url_encode(raw, sizeof(raw), &n);
    if (id == NULL || n != SIO_SID_LEN) {
        free(id);
        return -1;
    }
    memcpy(out, id, SIO_SID_LEN + 1);
    free(id);
    return 0;
}

/* Encode and queue p (and its attachments). */
static int send_packet(struct sio_conn *c, struct sio_packet *p, const struct sio_blob *blobs,
                       size_t n_blobs)
{
    size_t len, i;
    char *s = sio_packet_encode(p, &len);
    int rc;

    if (s == NULL)
        return -1;
    rc = eio_sess_send(c->eio, s, len, false);
    free(s);
    for (i = 0; rc == 0 && i < n_blobs; i++)
        rc = eio_sess_send(c->eio, blobs[i].data, blobs[i].len, true);
    return rc;
}

static void socket_free(struct sio_socket *sk)
{
    free(sk->nsp);
    free(sk->pid);
    free(sk);
}

/* Unlink sk from its connection, tell the application, free it. */
static void socket_remove(struct sio_socket *sk, const char *reason)
{
    struct sio_conn *c = sk->conn;
    struct sio_socket **pp;

    for (pp = &c->sockets; *pp; pp = &(*pp)->next)
        if (*pp == sk) {
            *pp = sk->next;
            break;
        }
    if (sk->connected) {
        c->srv->n_sockets--;
        c->srv->ops->on_disconnect(c->srv->ud, sk, reason);
    }
    socket_free(sk);
}

static struct sio_socket *socket_find(struct sio_conn *c, const char *nsp)
{
    struct sio_socket *sk;

    for (sk = c->sockets; sk; sk = sk->next)
        if (strcmp(sk->nsp, nsp) == 0)
            return sk;
    return NULL;
}

static void on_connect_packet(struct sio_conn *c, struct sio_packet *p)
{
    struct sio_server *srv = c->srv;
    struct sio_socket *sk = socket_find(c, p->nsp);
    json_object *err = NULL;
    struct sio_packet out;
    int rc;

    if (sk)
        socket_remove(sk, "client namespace disconnect"); /* a second CONNECT starts over */
    sk = calloc(1, sizeof(*sk));
    if (sk == NULL || sio_random_id(sk->sid) != 0) {
        free(sk);
        eio_sess_close(c->eio, "server error");
        return;
    }
    sk->conn = c;
    sk->nsp = strdup(p->nsp);
    if (sk->nsp == NULL) {
        free(sk);
        eio_sess_close(c->eio, "server error");
        return;
    }
    sk->next = c->sockets;
    c->sockets = sk;
    memset(&out, 0, sizeof(out));
    memcpy(out.nsp, p->nsp, sizeof(out.nsp));
    out.id = -1;
    rc = srv->ops->on_connect(srv->ud, sk, p->data, &err);
    if (rc < 0) {
        out.type = SIO_CONNECT_ERROR;
        out.data = err ? err : json_object_new_string("refused");
        c->sockets = sk->next;
        socket_free(sk);
        send_packet(c, &out, NULL, 0);
        json_object_put(out.data);
        return;
    }
    sk->connected = true;
    srv->n_sockets++;
    c->deadline = 0;
    if (rc == 0)
        sio_socket_accept(sk);
}

void sio_socket_accept(struct sio_socket *sk)
{
    struct sio_packet out;
    json_object *ok;

    if (sk->acked)
        return;
    sk->acked = true;
    memset(&out, 0, sizeof(out));
    snprintf(out.nsp, sizeof(out.nsp), "%s", sk->nsp);
    out.id = -1;
    ok = json_object_new_object();
    json_object_object_add(ok, "sid", json_object_new_string(sk->sid));
    if (sk->pid)
        json_object_object_add(ok, "pid", json_object_new_string(sk->pid));
    out.type = SIO_CONNECT;
    out.data = ok;
    /* The answer goes before anything the application has for the socket: pull() runs only
     * at write time, after the queued packets. */
    send_packet(sk->conn, &out, NULL, 0);
    json_object_put(ok);
}

/* A complete packet (with its attachments, for binary ones). */
static void dispatch(struct sio_conn *c, struct sio_packet *p, const struct sio_blob *blobs,
                     size_t n_blobs)
{
    struct sio_server *srv = c->srv;
    struct sio_socket *sk;

    if (p->type == SIO_CONNECT) {
        on_connect_packet(c, p);
        return;
    }
    sk = socket_find(c, p->nsp);
    if (sk == NULL || !sk->acked)
        return; /* not joined (or just left): nothing to do with it */
    switch (p->type) {
    case SIO_DISCONNECT:
        socket_remove(sk, "client namespace disconnect");
        break;
    case SIO_EVENT:
    case SIO_BINARY_EVENT:
        if (srv->ops->on_event)
            srv->ops->on_event(srv->ud, sk, p->data, p->id, blobs, n_blobs);
        break;
    case SIO_ACK:
    case SIO_BINARY_ACK:
        if (srv->ops->on_ack && p->id >= 0)
            srv->ops->on_ack(srv->ud, sk, p->id, p->data, blobs, n_blobs);
        break;
    default:
        eio_sess_close(c->eio, "parse error");
        break;
    }
}

static void on_message(void *ud, struct eio_sess *s, const char *data, size_t len, bool binary)
{
    struct sio_server *srv = ud;
    struct sio_conn *c = eio_sess_app(s);
    struct sio_packet p;
    char err[96];

    (void)srv;
    if (c == NULL)
        return;
    if (binary) {
        struct sio_blob *nb;
        unsigned char *copy;

        if (c->pending == NULL) {
            eio_sess_close(s, "parse error");
            return;
        }
        nb = realloc(c->blobs, (c->n_blobs + 1) * sizeof(*nb));
        copy = malloc(len ? len : 1);
        if (nb == NULL || copy == NULL) {
            free(copy);
            if (nb)
                c->blobs = nb;
            eio_sess_close(s, "server error");
            return;
        }
        c->blobs = nb;
        memcpy(copy, data, len);
        c->blobs[c->n_blobs].data = copy;
        c->blobs[c->n_blobs].len = len;
        c->n_blobs++;
        if (c->n_blobs == c->pending->attachments) {
            dispatch(c, c->pending, c->blobs, c->n_blobs);
            clear_pending(c);
        }
        return;
    }
    if (c->pending) {
        /* attachments of a binary packet come before anything else */
        eio_sess_close(s, "parse error");
        return;
    }
    if (sio_packet_decode(data, len, srv->p.max_attachments, &p, err, sizeof(err)) != 0) {
        eio_sess_close(s, "parse error");
        return;
    }
    if ((p.type == SIO_BINARY_EVENT || p.type == SIO_BINARY_ACK) && p.attachments > 0) {
        c->pending = malloc(sizeof(*c->pending));
        if (c->pending == NULL) {
            sio_packet_clear(&p);
            eio_sess_close(s, "server error");
            return;
        }
        *c->pending = p;
        return;
    }
    dispatch(c, &p, NULL, 0);
    sio_packet_clear(&p);
}

static void on_pull(void *ud, struct eio_sess *s)
{
    struct sio_server *srv = ud;
    struct sio_conn *c = eio_sess_app(s);
    struct sio_socket *sk;

    if (c == NULL || srv->ops->pull == NULL)
        return;
    for (sk = c->sockets; sk; sk = sk->next)
        if (sk->acked)
            srv->ops->pull(srv->ud, sk);
}

static int on_open(void *ud, struct eio_sess *s, struct lws *wsi)
{
    struct sio_server *srv = ud;
    struct sio_conn *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return -1;
    if (srv->ops->on_handshake(srv->ud, wsi, &c->app) != 0) {
        free(c);
        return -1;
    }
    c->srv = srv;
    c->eio = s;
    c->deadline = uv_now(srv->loop) + srv->p.connect_timeout_ms;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    eio_sess_set_app(s, c);
    return 0;
}

/* Engine.IO's reasons, in the words socket.io uses for a socket. */
static const char *sio_reason(const char *eio_reason)
{
    if (strcmp(eio_reason, "client close") == 0)
        return "transport close";
    if (strcmp(eio_reason, "server shutdown") == 0)
        return "server shutting down";
    return eio_reason;
}

static void on_close(void *ud, struct eio_sess *s, const char *reason)
{
    struct sio_server *srv = ud;
    struct sio_conn *c = eio_sess_app(s);

    if (c == NULL)
        return;
    while (c->sockets)
        socket_remove(c->sockets, sio_reason(reason));
    clear_pending(c);
    if (srv->ops->on_conn_close)
        srv->ops->on_conn_close(srv->ud, c->app);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

static const struct eio_app_ops eio_ops = {on_open, on_message, on_pull, on_close};

/* Sessions that joined no namespace in time are closed (socket.io's connectTimeout). */
static void on_tick(uv_timer_t *t)
{
    struct sio_server *srv = t->data;
    uint64_t now = uv_now(srv->loop);
    struct sio_conn *c, *next;

    for (c = srv->conns; c; c = next) {
        next = c->next;
        if (c->deadline && now >= c->deadline)
            eio_sess_close(c->eio, "connect timeout");
    }
}

int sio_server_new(uv_loop_t *loop, const struct sio_params *p, const struct sio_app_ops *ops,
                   void *ud, struct sio_server **out)
{
    struct sio_server *srv = calloc(1, sizeof(*srv));

    *out = NULL;
    if (srv == NULL)
        return -1;
    srv->loop = loop;
    srv->p = *p;
    srv->ops = ops;
    srv->ud = ud;
    if (eio_server_new(loop, &p->eio, &eio_ops, srv, &srv->eio) != 0) {
        free(srv);
        return -1;
    }
    uv_timer_init(loop, &srv->tick);
    srv->tick.data = srv;
    uv_timer_start(&srv->tick, on_tick, TICK_MS, TICK_MS);
    *out = srv;
    return 0;
}

struct eio_server *sio_server_eio(struct sio_server *srv)
{
    return srv->eio;
}

void sio_server_shutdown(struct sio_server *srv)
{
    if (srv)
        eio_server_shutdown(srv->eio);
}

static void tick_closed(uv_handle_t *h)
{
    free(h->data);
}

void sio_server_free(struct sio_server *srv)
{
    if (srv == NULL)
        return;
    eio_server_free(srv->eio);
    uv_timer_stop(&srv->tick);
    uv_close((uv_handle_t *)&srv->tick, tick_closed);
}

size_t sio_server_sockets(const struct sio_server *srv)
{
    return srv ? srv->n_sockets : 0;
}

const char *sio_socket_nsp(const struct sio_socket *sk)
{
    return sk->nsp;
}

const char *sio_socket_id(const struct sio_socket *sk)
{
    return sk->sid;
}

const char *sio_socket_pid(const struct sio_socket *sk)
{
    return sk->pid;
}

void *sio_socket_conn_app(const struct sio_socket *sk)
{
    return sk->conn->app;
}

void sio_socket_set_app(struct sio_socket *sk, void *app)
{
    sk->app = app;
}

void *sio_socket_app(const struct sio_socket *sk)
{
    return sk->app;
}

int sio_socket_set_ids(struct sio_socket *sk, const char *sid, const char *pid)
{
    if (sid) {
        if (strlen(sid) != SIO_SID_LEN)
            return -1;
        memcpy(sk->sid, sid, SIO_SID_LEN + 1);
    }
    free(sk->pid);
    sk->pid = pid ? strdup(pid) : NULL;
    return pid && sk->pid == NULL ? -1 : 0;
}

static int send_args(struct sio_socket *sk, enum sio_type type, json_object *args, int64_t id,
                     const struct sio_blob *blobs, size_t n_blobs)
{
    struct sio_packet p;

    memset(&p, 0, sizeof(p));
    p.type = n_blobs ? (type == SIO_EVENT ? SIO_BINARY_EVENT : SIO_BINARY_ACK) : type;
    p.attachments = (unsigned)n_blobs;
    snprintf(p.nsp, sizeof(p.nsp), "%s", sk->nsp);
    p.id = id;
    p.data = args;
    return send_packet(sk->conn, &p, blobs, n_blobs);
}

int sio_socket_emit(struct sio_socket *sk, json_object *args, int64_t ack,
                    const struct sio_blob *blobs, size_t n_blobs)
{
    return send_args(sk, SIO_EVENT, args, ack, blobs, n_blobs);
}

int sio_socket_ack(struct sio_socket *sk, int64_t id, json_object *args,
                   const struct sio_blob *blobs, size_t n_blobs)
{
    return send_args(sk, SIO_ACK, args, id, blobs, n_blobs);
}

void sio_socket_want_write(struct sio_socket *sk)
{
    eio_sess_want_write(sk->conn->eio);
}

int sio_socket_put(struct sio_socket *sk, const char *packet, size_t len)
{
    return eio_sess_put(sk->conn->eio, packet, len, false);
}

void sio_socket_disconnect(struct sio_socket *sk)
{
    struct sio_packet p;

    memset(&p, 0, sizeof(p));
    p.type = SIO_DISCONNECT;
    snprintf(p.nsp, sizeof(p.nsp), "%s", sk->nsp);
    p.id = -1;
    send_packet(sk->conn, &p, NULL, 0);
    socket_remove(sk, "server namespace disconnect");
}

void sio_socket_close_conn(struct sio_socket *sk, const char *reason)
{
    eio_sess_close(sk->conn->eio, reason);
}
