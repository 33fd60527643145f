/*
 * MOSQ_EVT_TICK: Mosquitto 2.0.11 calls it at the end of every main-loop iteration (several
 * times a second when idle, far more under load), so the expiry sweep runs at most once per
 * second and skips the scan while no token can have expired.
 */
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>

#include "plugin_int.h"
#include "state.h"

static time_t monotonic_seconds(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return ts.tv_sec;
}

int mqp_plugin__on_tick(int event, void *event_data, void *userdata)
{
    struct mqp_plugin *p = userdata;
    struct mqp_client *expired, *c;
    time_t mono = monotonic_seconds();
    int64_t cutoff;

    /* The re-check that follows a reload has finished: it runs before the tick. */
    p->reauth_window = false;
    /* The copies of what came before the previous tick were routed at the top of this
     * iteration (src/loop.c: queue_plugin_msgs(), then the network, then the tick). */
    mqp_spool_tick(&p->spool);
    if (mono == p->last_sweep)
        return MOSQ_ERR_SUCCESS;
    p->last_sweep = mono;

    /* Same rule as token verification: expired once exp + leeway lies in the past. */
    cutoff = (int64_t)time(NULL) - p->cfg->limits.leeway_seconds;
    expired = mqp_clients_take_expired(&p->clients, cutoff);

    /*
     * The entries are out of the table before anyone is kicked: a kick runs the disconnect
     * callback (and the broker's own bookkeeping) right away. An offline session whose token
     * expired keeps running with the rights of a client without a token.
     */
    while (expired) {
        c = expired;
        expired = c->next;
        if (c->online) {
            mosquitto_log_printf(MOSQ_LOG_NOTICE,
                                 MQP_LOG_PREFIX "client %s: token expired, disconnecting", c->id);
            mosquitto_kick_client_by_clientid(c->id, false);
        }
        mqp_client_free(c);
        p->state_dirty = true;
    }
    if (p->state_dirty && mono - p->last_save >= STATE_SAVE_S) {
        p->last_save = mono;
        mqp_plugin__state_save(p);
    }
    return MOSQ_ERR_SUCCESS;
}
