/*
 * MOSQ_EVT_ACL_CHECK: runs for every PUBLISH received, every SUBSCRIBE/UNSUBSCRIBE filter and
 * once per subscriber for every message delivered (online or queued for an offline session),
 * so it is a hash lookup and a few comparisons: no I/O, no JSON, no token parsing. The one
 * exception is a delivery on a stream with subscriber criteria, which compares the event with
 * the subscriber's claims; without such streams in the configuration it costs one flag test.
 */
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>

#include "plugin_int.h"
#include "subscriber.h"

void mqp_plugin__parsed_clear(struct mqp_plugin *p)
{
    free(p->parsed.bytes);
    json_object_put(p->parsed.event);
    memset(&p->parsed, 0, sizeof(p->parsed));
}

/* The stream event in payload (borrowed from p until the next call), or NULL. */
static json_object *parsed_event(struct mqp_plugin *p, const void *payload, size_t len)
{
    struct mqp_parsed_payload *last = &p->parsed;

    if (last->bytes != NULL && last->len == len && memcmp(last->bytes, payload, len) == 0)
        return last->event;
    mqp_plugin__parsed_clear(p);
    /* Out of memory the event is not parsed at all, which matches nobody: fail closed. */
    if (payload == NULL || len == 0 || (last->bytes = malloc(len)) == NULL)
        return NULL;
    memcpy(last->bytes, payload, len);
    last->len = len;
    last->event = mqp_subscriber_parse_event(payload, len);
    return last->event;
}

/*
 * A delivery the grant allows, on a stream that may have subscriber criteria. c is the client
 * that presented a token on this connection, NULL for anyone else.
 */
static enum mqp_decision subscriber_check(struct mqp_plugin *p, const struct mqp_client *c,
                                          const struct mosquitto_evt_acl_check *ed)
{
    const struct mqp_stream *s = mqp_subscriber_stream(p->cfg, ed->topic);
    struct mqp_identity view;
    json_object *event = NULL;

    if (s == NULL)
        return MQP_ALLOW;
    if (c == NULL)
        return mqp_stream_subscriber_match(s, NULL, NULL) ? MQP_ALLOW : MQP_DENY;
    memset(&view, 0, sizeof(view));
    view.kind = c->kind;
    view.claims = c->claims;
    /* A service passes whatever the event holds and a holder without claims nothing: neither
     * needs the payload parsed. */
    if (c->kind != MQP_IDENTITY_SERVICE && c->claims != NULL)
        event = parsed_event(p, ed->payload, ed->payloadlen);
    return mqp_stream_subscriber_match(s, &view, event) ? MQP_ALLOW : MQP_DENY;
}

int mqp_plugin__on_acl_check(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_acl_check *ed = event_data;
    struct mqp_plugin *p = userdata;
    struct mqp_client *c = mqp_clients_find(&p->clients, mosquitto_client_id(ed->client));
    const struct mqp_grant *g;
    enum mqp_decision d;

    /*
     * Rights belong to the connection that presented the token; a persistent session keeps that
     * connection object while offline. Another connection under the same client id that never
     * passed our basic-auth check (a TLS identity, extended auth) gets no more than anyone.
     */
    /* A session restored at start from Mosquitto's persistence (no connection yet: no peer
     * address) gets the rights its client had when the broker stopped (state.h), and from
     * then on only that session. */
    if (c && c->restored && c->conn == NULL && mosquitto_client_address(ed->client) == NULL)
        c->conn = ed->client;
    if (c && c->conn == ed->client) {
        g = mqp_client_grant(c, p->cfg);
    } else {
        c = NULL;
        g = mqp_plugin__foreign_grant(p);
    }

    /* Subscribe filters arrive with any "$share/<group>/" prefix; core strips it. */
    d = mqp_access_check(p->cfg, g, ed->topic, ed->access);
    if (d == MQP_ALLOW && ed->access == MQP_ACCESS_READ && p->cfg->has_subscriber_criteria)
        d = subscriber_check(p, c, ed);
    switch (d) {
    case MQP_ALLOW:
        return MOSQ_ERR_SUCCESS;
    case MQP_DEFER:
        return MOSQ_ERR_PLUGIN_DEFER;
    case MQP_DENY:
    default:
        return MOSQ_ERR_ACL_DENIED;
    }
}
