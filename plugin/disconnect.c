/*
 * MOSQ_EVT_DISCONNECT: the state stays, since a persistent session is still ACL-checked while
 * its client is offline; the tick frees it once the token has expired.
 */
#include <mosquitto.h>
#include <mosquitto_broker.h>

#include "plugin_int.h"

int mqp_plugin__on_disconnect(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_disconnect *ed = event_data;
    struct mqp_plugin *p = userdata;
    struct mqp_client *c = mqp_clients_find(&p->clients, mosquitto_client_id(ed->client));

    /*
     * When a client reconnects under the same id, Mosquitto authenticates the new connection
     * first and disconnects the old one afterwards (connect__on_authorised()): that late event
     * is about a connection the state no longer belongs to.
     */
    if (c && c->conn == ed->client)
        c->online = false;
    return MOSQ_ERR_SUCCESS;
}
