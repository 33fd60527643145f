/*
 * MOSQ_EVT_ACL_CHECK: runs for every PUBLISH received, every SUBSCRIBE/UNSUBSCRIBE filter and
 * once per subscriber for every message delivered (online or queued for an offline session),
 * so it is a hash lookup and a few comparisons: no I/O, no JSON, no token parsing.
 */
#include <mosquitto.h>
#include <mosquitto_broker.h>

#include "plugin_int.h"

int mqp_plugin__on_acl_check(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_acl_check *ed = event_data;
    struct mqp_plugin *p = userdata;
    struct mqp_client *c = mqp_clients_find(&p->clients, mosquitto_client_id(ed->client));
    const struct mqp_grant *g;

    /*
     * Rights belong to the connection that presented the token; a persistent session keeps that
     * connection object while offline. Another connection under the same client id that never
     * passed our basic-auth check (a TLS identity, extended auth) gets no more than anyone.
     */
    if (c && c->conn == ed->client)
        g = mqp_client_grant(c, p->cfg);
    else
        g = mqp_plugin__foreign_grant(p);

    /* Subscribe filters arrive with any "$share/<group>/" prefix; core strips it. */
    switch (mqp_access_check(p->cfg, g, ed->topic, ed->access)) {
    case MQP_ALLOW:
        return MOSQ_ERR_SUCCESS;
    case MQP_DEFER:
        return MOSQ_ERR_PLUGIN_DEFER;
    case MQP_DENY:
    default:
        return MOSQ_ERR_ACL_DENIED;
    }
}
