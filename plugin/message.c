/*
 * MOSQ_EVT_MESSAGE: a domain event published on <tenant>/events/<namespace>/<name> is fanned out
 * to the stream topics <tenant>/<stream>/<namespace>:<name> that carry it. The broker has
 * already checked that the publisher may write the event topic.
 *
 * The original message is left as it is: Mosquitto 2.0.11's plugin__handle_message() leaks a
 * replaced topic, and subscribers of the event topic itself get the event unchanged.
 */
#include <limits.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>

#include "event.h"
#include "plugin_int.h"

struct publish_ctx {
    int qos;
};

/*
 * Copies go through mosquitto_broker_publish_copy(), which queues them on the broker's plugin
 * message list; the main loop delivers that list at the top of its next iteration, which follows
 * the servicing of the current network events without waiting (src/loop.c).
 */
static int publish_copy(void *ctx, const struct mqp_stream *stream, const char *topic,
                        const char *body, size_t body_len)
{
    const struct publish_ctx *pc = ctx;

    if (body_len > INT_MAX)
        return -1;
    /* Stream copies are never retained: a late subscriber must not get a stale event. */
    if (mosquitto_broker_publish_copy(NULL, topic, (int)body_len, body, pc->qos, false, NULL) !=
        MOSQ_ERR_SUCCESS)
        return -1;
    return 0;
}

void mqp_plugin__fan_again(void *arg, const char *topic, const void *payload, size_t len, int qos)
{
    struct mqp_plugin *p = arg;
    struct publish_ctx pc = {.qos = qos};
    enum mqp_event_status st =
        mqp_event_fanout(p->cfg, topic, len ? payload : "", len, publish_copy, &pc, NULL);

    if (st == MQP_EVENT_OK)
        (void)mqp_spool_add(&p->spool, topic, len ? payload : "", len, qos);
}

int mqp_plugin__on_message(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_message *ed = event_data;
    struct mqp_plugin *p = userdata;
    struct publish_ctx pc = {.qos = ed->qos};
    enum mqp_event_status st;
    const char *id;

    st = mqp_event_fanout(p->cfg, ed->topic, ed->payloadlen ? ed->payload : "", ed->payloadlen,
                          publish_copy, &pc, NULL);
    /* Kept until its copies are routed, for a stop in between (spool.h). */
    if (st == MQP_EVENT_OK && p->spool_path &&
        mqp_spool_add(&p->spool, ed->topic, ed->payloadlen ? ed->payload : "",
                      (size_t)ed->payloadlen, ed->qos) != 0)
        mosquitto_log_printf(MOSQ_LOG_WARNING,
                             MQP_LOG_PREFIX "out of memory: the event on %s is not spooled",
                             ed->topic);
    switch (st) {
    case MQP_EVENT_OK:
    case MQP_EVENT_NOT_EVENT_TOPIC:
    case MQP_EVENT_UNKNOWN_TENANT:
        return MOSQ_ERR_SUCCESS;
    default:
        break;
    }
    id = mosquitto_client_id(ed->client);
    mosquitto_log_printf(MOSQ_LOG_WARNING, MQP_LOG_PREFIX "client %s: event on %s refused: %s",
                         id ? id : "?", ed->topic, mqp_event_status_str(st));
    /*
     * ACL_DENIED is the one refusal that keeps the publisher connected: Mosquitto answers it
     * with reason code 0x87 (Not authorized) on PUBACK/PUBREC (MQTT 5 section 3.4.2.1); any
     * other error closes the connection.
     */
    return MOSQ_ERR_ACL_DENIED;
}
