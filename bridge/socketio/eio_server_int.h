/*
 * Inside the Engine.IO server: the structures and helpers shared by eio_server.c (sessions,
 * writes) and eio_transport.c (polling and WebSocket).
 */
#ifndef BRIDGE_SOCKETIO_EIO_SERVER_INT_H
#define BRIDGE_SOCKETIO_EIO_SERVER_INT_H

#include "socketio/eio_server.h"
#include "socketio/eio_session.h"

/* The most a WebSocket write gathers before it lets other clients have the loop. */
#define WS_WRITE_BUDGET (256 * 1024)
#define PROBE_INTERVAL_MS 1000
#define MAX_PACKETS_PER_BODY 1024

enum role { ROLE_NONE = 0, ROLE_GET, ROLE_POST, ROLE_WS };

struct eio_sess {
    struct eio_server *srv;
    struct eio_session *core;
    void *app;
    struct eio_conn *get;  /* the long poll being held */
    struct eio_conn *post; /* a POST being received */
    struct eio_conn *ws;   /* a WebSocket: probing, or carrying the session */
    bool ws_only;          /* opened on the WebSocket */
    bool probe_reply;      /* "3probe" to write on ws */
    bool upgrading;        /* probed: polls are answered at once */
    bool want;             /* the application has output */
    bool opened;           /* the application accepted it */
    bool closed;
    bool ready; /* on srv->ready */
    struct eio_sess *hnext;
    struct eio_sess *rnext; /* srv->ready, then srv->dead */
};

struct eio_server {
    uv_loop_t *loop;
    struct eio_server_params p;
    const struct eio_app_ops *ops;
    void *ud;
    struct eio_sess **buckets;
    size_t nbuckets, n;
    uv_check_t check; /* end of the loop turn: writes and frees */
    uv_idle_t idle;   /* active with check: the loop must not sleep in poll before it runs */
    uv_timer_t probe; /* held polls whose client left */
    int open_handles;
    struct eio_sess *ready, *dead;
    struct eio_buf out; /* the write being built */
    bool out_ws, out_full;
    size_t out_budget;
    unsigned out_msgs;
};

/* The session with id sid, or NULL. */
struct eio_sess *eio__find(struct eio_server *srv, const char *sid);
/* A new session, entered in the table; NULL when out of memory. */
struct eio_sess *eio__sess_new(struct eio_server *srv);
bool eio__has_output(const struct eio_sess *s);
/* Is the session on its WebSocket (opened there, or upgraded)? */
bool eio__ws_carries(const struct eio_sess *s);
/* Output is waiting: arrange a write on the transport that carries s. */
void eio__schedule(struct eio_sess *s);
/* Start a write in srv->out (frames when ws) of at most budget bytes. */
void eio__out_begin(struct eio_server *srv, bool ws, size_t budget);
/* Control packets, then the application's output, into srv->out. */
void eio__gather(struct eio_sess *s);
/* Write what s has on its WebSocket; -1 when the connection must close. */
int eio__ws_flush(struct eio_sess *s);
/* End a WebSocket: its close frame goes at the next WRITEABLE. */
void eio__ws_end(struct eio_conn *c);
/* Headers now, the body (copied) at the next WRITEABLE; extra: raw header lines or NULL. */
int eio__reply(struct eio_conn *c, int status, const char *ctype, const char *body, size_t len,
               bool cors, const char *extra);
/* Has the peer of a connection lws is not reading closed it? */
bool eio__peer_gone(struct lws *wsi);
void eio__start_check(struct eio_server *srv);

#endif
