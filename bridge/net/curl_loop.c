/*
 * curl multi-socket on libuv: CURLMOPT_SOCKETFUNCTION says which socket to watch for what,
 * CURLMOPT_TIMERFUNCTION when to call back; we answer with uv_poll and uv_timer and report
 * activity with curl_multi_socket_action() (libcurl's "multi_socket" interface, as its
 * documentation describes for event-based applications).
 */
#include "net/curl_loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct transfer {
    CURL *easy;
    curl_loop_done_fn done;
    void *ud;
    struct transfer *prev, *next;
};

struct watch {
    uv_poll_t poll;
    curl_socket_t fd;
    struct curl_loop *cl;
};

struct curl_loop {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    int running;
    int open_handles; /* the timer and the polls being closed */
    int closing;
    struct transfer *transfers; /* in flight */
};

static void unlink_transfer(struct curl_loop *cl, struct transfer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        cl->transfers = t->next;
    if (t->next)
        t->next->prev = t->prev;
}

static void maybe_free(struct curl_loop *cl)
{
    if (cl->closing && cl->open_handles == 0) {
        curl_multi_cleanup(cl->multi);
        free(cl);
    }
}

static void watch_closed(uv_handle_t *h)
{
    struct watch *w = h->data;
    struct curl_loop *cl = w->cl;

    free(w);
    cl->open_handles--;
    maybe_free(cl);
}

static void timer_closed(uv_handle_t *h)
{
    struct curl_loop *cl = h->data;

    cl->open_handles--;
    maybe_free(cl);
}

/* Hand finished transfers back to their owners. */
static void reap(struct curl_loop *cl)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(cl->multi, &left)) != NULL) {
        struct transfer *t = NULL;
        CURL *easy = msg->easy_handle;
        CURLcode result = msg->data.result;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(cl->multi, easy);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        if (t) {
            unlink_transfer(cl, t);
            t->done(t->ud, easy, result);
            free(t);
        }
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct watch *w = h->data;
    struct curl_loop *cl = w->cl;
    int flags = 0;

    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(cl->multi, w->fd, flags, &cl->running);
    reap(cl);
}

static void on_timeout(uv_timer_t *t)
{
    struct curl_loop *cl = t->data;

    curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &cl->running);
    reap(cl);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
    struct curl_loop *cl = arg;
    struct watch *w = socketp;
    int events = 0;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (w) {
            uv_poll_stop(&w->poll);
            curl_multi_assign(cl->multi, fd, NULL);
            cl->open_handles++;
            uv_close((uv_handle_t *)&w->poll, watch_closed);
        }
        return 0;
    }
    if (w == NULL) {
        w = calloc(1, sizeof(*w));
        if (w == NULL || uv_poll_init_socket(cl->loop, &w->poll, fd) != 0) {
            free(w);
            return -1;
        }
        w->fd = fd;
        w->cl = cl;
        w->poll.data = w;
        curl_multi_assign(cl->multi, fd, w);
    }
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    return uv_poll_start(&w->poll, events, on_poll) == 0 ? 0 : -1;
}

static int timer_cb(CURLM *multi, long ms, void *arg)
{
    struct curl_loop *cl = arg;

    (void)multi;
    if (ms < 0)
        uv_timer_stop(&cl->timer);
    else
        uv_timer_start(&cl->timer, on_timeout, (uint64_t)ms, 0);
    return 0;
}

int curl_loop_new(uv_loop_t *loop, struct curl_loop **out)
{
    struct curl_loop *cl = calloc(1, sizeof(*cl));

    *out = NULL;
    if (cl == NULL)
        return -1;
    cl->loop = loop;
    cl->multi = curl_multi_init();
    if (cl->multi == NULL) {
        free(cl);
        return -1;
    }
    curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
    curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
    uv_timer_init(loop, &cl->timer);
    cl->timer.data = cl;
    cl->open_handles = 1;
    *out = cl;
    return 0;
}

int curl_loop_add(struct curl_loop *cl, CURL *easy, curl_loop_done_fn done, void *ud)
{
    struct transfer *t = calloc(1, sizeof(*t));

    if (t == NULL || cl->closing)
        goto fail;
    t->easy = easy;
    t->done = done;
    t->ud = ud;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
    if (curl_multi_add_handle(cl->multi, easy) != CURLM_OK)
        goto fail;
    t->next = cl->transfers;
    if (t->next)
        t->next->prev = t;
    cl->transfers = t;
    return 0;
fail:
    curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
    free(t);
    return -1;
}

int curl_loop_running(const struct curl_loop *cl)
{
    return cl->running;
}

void curl_loop_close(struct curl_loop *cl)
{
    if (cl == NULL)
        return;
    cl->closing = 1;
    while (cl->transfers) {
        struct transfer *t = cl->transfers;

        unlink_transfer(cl, t);
        /* Removing the handle makes curl close its socket: socket_cb closes the poll. */
        curl_multi_remove_handle(cl->multi, t->easy);
        curl_easy_setopt(t->easy, CURLOPT_PRIVATE, NULL);
        t->done(t->ud, t->easy, CURLE_ABORTED_BY_CALLBACK);
        free(t);
    }
    uv_timer_stop(&cl->timer);
    uv_close((uv_handle_t *)&cl->timer, timer_closed);
}

size_t curl_loop_keep_body(char *data, size_t size, size_t n, void *body)
{
    struct curl_loop_body *b = body;
    size_t len = size * n, room = CURL_LOOP_KEEP - b->len, take = len < room ? len : room;

    b->seen += len;
    if (b->seen > CURL_LOOP_BODY_MAX) {
        b->cut = 1;
        return 0; /* curl ends the transfer (CURLE_WRITE_ERROR) */
    }
    memcpy(b->text + b->len, data, take);
    b->len += take;
    b->text[b->len] = '\0';
    return len;
}

int curl_loop_header(struct curl_slist **list, const char *name, const char *value)
{
    char line[2048];
    struct curl_slist *l;

    if ((size_t)snprintf(line, sizeof(line), "%s%s", name, value) >= sizeof(line))
        return -1;
    l = curl_slist_append(*list, line);
    if (l == NULL)
        return -1;
    *list = l;
    return 0;
}
