/*
 * The broker side of the plugin API, reduced to what the tests observe. See fake_broker.h.
 */
#include "fake_broker.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_broker fake;

void mosquitto_log_printf(int level, const char *fmt, ...)
{
    va_list ap;
    char line[512];

    (void)level;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (getenv("MQP_TEST_VERBOSE"))
        fprintf(stderr, "log: %s\n", line);
    if (fake.n_log < FAKE_MAX_LOG)
        memcpy(fake.log[fake.n_log++], line, sizeof(line));
}

const char *mosquitto_client_id(const struct mosquitto *client)
{
    return client && client->id[0] ? client->id : NULL;
}

int mosquitto_callback_register(mosquitto_plugin_id_t *identifier, int event,
                                MOSQ_FUNC_generic_callback cb_func, const void *event_data,
                                void *userdata)
{
    (void)identifier;
    (void)event_data;
    if (event <= 0 || event >= FAKE_EVENTS || !cb_func)
        return MOSQ_ERR_INVAL;
    if (fake.callbacks[event].cb)
        return MOSQ_ERR_ALREADY_EXISTS;
    fake.callbacks[event].cb = cb_func;
    fake.callbacks[event].userdata = userdata;
    fake.n_registered++;
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_callback_unregister(mosquitto_plugin_id_t *identifier, int event,
                                  MOSQ_FUNC_generic_callback cb_func, const void *event_data)
{
    (void)identifier;
    (void)event_data;
    if (event <= 0 || event >= FAKE_EVENTS || fake.callbacks[event].cb != cb_func)
        return MOSQ_ERR_NOT_FOUND;
    fake.callbacks[event].cb = NULL;
    fake.callbacks[event].userdata = NULL;
    fake.n_registered--;
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_broker_publish_copy(const char *clientid, const char *topic, int payloadlen,
                                  const void *payload, int qos, bool retain,
                                  mosquitto_property *properties)
{
    struct fake_copy *c;

    if (clientid || properties || !topic || payloadlen < 0 || fake.fail_publish ||
        fake.n_copies == FAKE_MAX_COPIES)
        return fake.fail_publish ? MOSQ_ERR_NOMEM : MOSQ_ERR_INVAL;
    c = &fake.copies[fake.n_copies];
    c->body = malloc((size_t)payloadlen + 1);
    if (!c->body)
        return MOSQ_ERR_NOMEM;
    memcpy(c->body, payload, (size_t)payloadlen);
    c->body[payloadlen] = '\0';
    snprintf(c->topic, sizeof(c->topic), "%s", topic);
    c->len = payloadlen;
    c->qos = qos;
    c->retain = retain;
    fake.n_copies++;
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_kick_client_by_clientid(const char *clientid, bool with_will)
{
    (void)with_will;
    if (fake.n_kicked < FAKE_MAX_CONNS)
        snprintf(fake.kicked[fake.n_kicked++], sizeof(fake.kicked[0]), "%s", clientid);
    /* Like the broker: a connected client is disconnected at once, with the event. */
    for (size_t i = 0; i < FAKE_MAX_CONNS; i++) {
        if (fake.conns[i] && strcmp(fake.conns[i]->id, clientid) == 0) {
            if (fake.conns[i]->connected)
                fake_disconnect(fake.conns[i]);
            return MOSQ_ERR_SUCCESS;
        }
    }
    return MOSQ_ERR_NOT_FOUND;
}

void fake_reset_records(void)
{
    for (size_t i = 0; i < fake.n_copies; i++)
        free(fake.copies[i].body);
    fake.n_copies = 0;
    fake.n_log = 0;
    fake.n_kicked = 0;
    fake.fail_publish = false;
}

void fake_clear(void)
{
    fake_reset_records();
    memset(fake.conns, 0, sizeof(fake.conns));
}

size_t fake_log_count(const char *needle, ...)
{
    size_t count = 0;

    for (size_t i = 0; i < fake.n_log; i++) {
        va_list ap;
        const char *s = needle;
        bool all = true;

        va_start(ap, needle);
        while (s) {
            if (!strstr(fake.log[i], s))
                all = false;
            s = va_arg(ap, const char *);
        }
        va_end(ap);
        if (all)
            count++;
    }
    return count;
}

int fake_fire(int event, void *event_data)
{
    if (!fake.callbacks[event].cb)
        return MOSQ_ERR_NOT_FOUND;
    return fake.callbacks[event].cb(event, event_data, fake.callbacks[event].userdata);
}

void fake_connect(struct mosquitto *c)
{
    size_t free_slot = FAKE_MAX_CONNS;

    for (size_t i = 0; i < FAKE_MAX_CONNS; i++) {
        if (fake.conns[i] && strcmp(fake.conns[i]->id, c->id) == 0) {
            fake.conns[i] = c;
            c->connected = true;
            return;
        }
        if (!fake.conns[i] && free_slot == FAKE_MAX_CONNS)
            free_slot = i;
    }
    if (free_slot < FAKE_MAX_CONNS)
        fake.conns[free_slot] = c;
    c->connected = true;
}

int fake_auth(struct mosquitto *c, const char *username, const char *password)
{
    struct mosquitto_evt_basic_auth ed;

    memset(&ed, 0, sizeof(ed));
    ed.client = c;
    ed.username = (char *)username;
    ed.password = (char *)password;
    return fake_fire(MOSQ_EVT_BASIC_AUTH, &ed);
}

int fake_acl(struct mosquitto *c, const char *topic, int access)
{
    struct mosquitto_evt_acl_check ed;

    memset(&ed, 0, sizeof(ed));
    ed.client = c;
    ed.topic = topic;
    ed.access = access;
    return fake_fire(MOSQ_EVT_ACL_CHECK, &ed);
}

int fake_message(struct mosquitto *c, const char *topic, const char *payload, int qos,
                 char **topic_out, void **payload_out)
{
    struct mosquitto_evt_message ed;
    int rc;

    memset(&ed, 0, sizeof(ed));
    ed.client = c;
    ed.topic = (char *)topic;
    ed.payload = (void *)payload;
    ed.payloadlen = (uint32_t)strlen(payload);
    ed.qos = (uint8_t)qos;
    rc = fake_fire(MOSQ_EVT_MESSAGE, &ed);
    if (topic_out)
        *topic_out = ed.topic;
    if (payload_out)
        *payload_out = ed.payload;
    return rc;
}

int fake_reload(void)
{
    struct mosquitto_evt_reload ed;

    memset(&ed, 0, sizeof(ed));
    return fake_fire(MOSQ_EVT_RELOAD, &ed);
}

int fake_tick(void)
{
    struct mosquitto_evt_tick ed;

    memset(&ed, 0, sizeof(ed));
    return fake_fire(MOSQ_EVT_TICK, &ed);
}

void fake_disconnect(struct mosquitto *c)
{
    struct mosquitto_evt_disconnect ed;

    memset(&ed, 0, sizeof(ed));
    ed.client = c;
    ed.reason = -1;
    fake_fire(MOSQ_EVT_DISCONNECT, &ed);
    c->connected = false;
}
