/*
 * Broker messages into the hub: the topic and body come from the broker, so from whoever may
 * publish there. Input: "<topic>\n<body>" followed optionally by "\n\x01<cursor>" to attach a
 * resuming consumer. Every event the hub accepts must come out as one well-formed SSE frame.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"

static void on_wake(void *o)
{
    (void)o;
}

static void on_drop(void *o, const char *reason)
{
    (void)reason;
    *(struct hub_consumer **)o = NULL;
}

static const struct hub_consumer_ops ops = {on_wake, on_drop};

static void check_frame(const struct hub_event *ev)
{
    size_t i, lf = 0;

    for (i = 0; i < ev->sse_len; i++)
        lf += ev->sse[i] == '\n';
    if (lf != 3 || memcmp(ev->sse, "id: ", 4) != 0 || strlen(ev->json) != ev->json_len)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input is not NUL-terminated: copy exactly n bytes (strndup may look further). */
static char *copy(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static const uint8_t *find_mark(const uint8_t *d, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i++)
        if (d[i] == '\n' && d[i + 1] == 1)
            return d + i;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uv_loop_t loop;
    static int ready;
    struct hub_params p = {4, 300, 4096};
    struct hub *hub;
    struct hub_consumer *c = NULL, *r = NULL;
    const struct hub_event *ev;
    enum hub_resume res;
    size_t replay;
    const uint8_t *nl = memchr(data, '\n', size), *mark;
    char *topic;

    if (!ready) {
        uv_loop_init(&loop);
        ready = 1;
    }
    if (nl == NULL || hub_new(&loop, &p, NULL, NULL, &hub) != 0)
        return 0;
    topic = copy((const char *)data, (size_t)(nl - data));
    hub_attach(hub, "t", "s", NULL, &ops, &c, &c, &res, &replay);
    size -= (size_t)(nl + 1 - data);
    data = nl + 1;
    mark = find_mark(data, size);
    hub_on_message(hub, topic, data, mark ? (size_t)(mark - data) : size);
    hub_on_message(hub, "t/s/ns:n", data, mark ? (size_t)(mark - data) : size);
    while (c && (ev = hub_consumer_peek(c)) != NULL) {
        check_frame(ev);
        hub_consumer_advance(c);
    }
    if (mark) {
        char *cursor = copy((const char *)mark + 2, size - (size_t)(mark + 2 - data));

        hub_attach(hub, "t", "s", cursor, &ops, &r, &r, &res, &replay);
        while (r && (ev = hub_consumer_peek(r)) != NULL) {
            check_frame(ev);
            hub_consumer_advance(r);
        }
        free(cursor);
    }
    free(topic);
    hub_free(hub);
    uv_run(&loop, UV_RUN_NOWAIT);
    return 0;
}
