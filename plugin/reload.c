/*
 * MOSQ_EVT_RELOAD (SIGHUP): read the streams file again from the path given at start-up (the
 * event carries no options in Mosquitto 2.0.11). A file that does not load leaves the running
 * configuration in place.
 */
#include <mosquitto.h>
#include <mosquitto_broker.h>

#include "plugin_int.h"

int mqp_plugin__on_reload(int event, void *event_data, void *userdata)
{
    struct mqp_plugin *p = userdata;
    struct mqp_errors errs = {0};
    struct mqp_config *fresh = NULL;
    struct mqp_config *old;

    if (mqp_config_load_file(p->config_path, &fresh, &errs) != 0) {
        mqp_plugin__log_errors(MOSQ_LOG_ERR, &errs);
        mosquitto_log_printf(
            MOSQ_LOG_ERR, MQP_LOG_PREFIX "reload of %s failed, keeping the running configuration",
            p->config_path);
        mqp_errors_clear(&errs);
    } else {
        /*
         * Grants hold pointers into the configuration they were computed under; each is
         * recomputed before use once its generation differs from the new one, so nothing
         * reads the old configuration after this point.
         */
        old = p->cfg;
        p->cfg = fresh;
        mqp_config_free(old);
        mosquitto_log_printf(MOSQ_LOG_INFO, MQP_LOG_PREFIX "reloaded %s (%zu tenants)",
                             p->config_path, p->cfg->n_tenants);
    }
    p->reauth_window = true;

    /*
     * Always defer. In Mosquitto 2.0.11 (src/security.c, security__init_single()) any other
     * result stops the reload chain at this plugin: later plugins' reload callbacks and the
     * security_init of v2-v4 plugins would not run. An error would also skip
     * mosquitto_security_init_default(), so the password and ACL files the broker has just
     * freed would not be read again, and mosquitto_security_apply() would then disconnect every
     * client they admitted. The broker ignores the overall result (src/loop.c).
     */
    return MOSQ_ERR_PLUGIN_DEFER;
}
