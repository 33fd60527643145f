/*
 * mqpush plugin for Mosquitto 2.0 (plugin API version 5): entry points and callback
 * registration. Each broker event is handled in a file of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "plugin_int.h"
#include "state.h"

static const struct {
    int event;
    MOSQ_FUNC_generic_callback cb;
} callbacks[] = {
    {MOSQ_EVT_BASIC_AUTH, mqp_plugin__on_basic_auth},
    {MOSQ_EVT_ACL_CHECK, mqp_plugin__on_acl_check},
    {MOSQ_EVT_MESSAGE, mqp_plugin__on_message},
    {MOSQ_EVT_RELOAD, mqp_plugin__on_reload},
    {MOSQ_EVT_TICK, mqp_plugin__on_tick},
    {MOSQ_EVT_DISCONNECT, mqp_plugin__on_disconnect},
};
#define N_CALLBACKS (sizeof(callbacks) / sizeof(callbacks[0]))

MQP_PLUGIN_EXPORT int mosquitto_plugin_version(int supported_version_count,
                                               const int *supported_versions)
{
    for (int i = 0; i < supported_version_count; i++) {
        if (supported_versions[i] == MOSQ_PLUGIN_VERSION)
            return MOSQ_PLUGIN_VERSION;
    }
    return -1;
}

void mqp_plugin__log_errors(int level, const struct mqp_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        mosquitto_log_printf(level, MQP_LOG_PREFIX "%s", errs->msgs[i]);
}

void mqp_plugin__state_save(struct mqp_plugin *p)
{
    if (p->state_path == NULL)
        return;
    if (mqp_state_save(&p->clients, p->state_path) != 0)
        mosquitto_log_printf(MOSQ_LOG_WARNING, MQP_LOG_PREFIX "cannot write %s: %s", p->state_path,
                             strerror(errno));
    else
        p->state_dirty = false;
}

const struct mqp_grant *mqp_plugin__foreign_grant(struct mqp_plugin *p)
{
    if (p->foreign.generation != p->cfg->generation) {
        mqp_grant_clear(&p->foreign);
        /* Without an identity there is nothing to allocate, so this cannot fail. */
        (void)mqp_grant_compute(p->cfg, NULL, &p->foreign);
    }
    return &p->foreign;
}

static void plugin_free(struct mqp_plugin *p)
{
    if (!p)
        return;
    mqp_clients_clear(&p->clients);
    mqp_grant_clear(&p->foreign);
    mqp_plugin__parsed_clear(p);
    mqp_config_free(p->cfg);
    free(p->config_path);
    free(p->state_path);
    free(p->spool_path);
    mqp_spool_clear(&p->spool);
    free(p);
}

/* The streams file named by "plugin_opt_config"; NULL (logged) when absent or repeated.
 * *state: "plugin_opt_state_file", or NULL. */
static const char *config_option(const struct mosquitto_opt *options, int option_count,
                                 const char **state)
{
    const char *path = NULL;

    *state = NULL;
    for (int i = 0; i < option_count; i++) {
        if (strcmp(options[i].key, "state_file") == 0 && options[i].value && options[i].value[0]) {
            *state = options[i].value;
            continue;
        }
        if (strcmp(options[i].key, "config") != 0) {
            mosquitto_log_printf(MOSQ_LOG_WARNING,
                                 MQP_LOG_PREFIX "ignoring unknown option plugin_opt_%s",
                                 options[i].key);
            continue;
        }
        if (path) {
            mosquitto_log_printf(MOSQ_LOG_ERR, MQP_LOG_PREFIX "plugin_opt_config given twice");
            return NULL;
        }
        path = options[i].value;
    }
    if (!path || !*path)
        mosquitto_log_printf(MOSQ_LOG_ERR,
                             MQP_LOG_PREFIX "plugin_opt_config <path to streams.json> is required");
    return path && *path ? path : NULL;
}

MQP_PLUGIN_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
                                            struct mosquitto_opt *options, int option_count)
{
    struct mqp_errors errs = {0};
    struct mqp_plugin *p = NULL;
    const char *path, *state;
    size_t registered = 0;
    int rc = MOSQ_ERR_INVAL;

    path = config_option(options, option_count, &state);
    if (!path)
        goto out;
    rc = MOSQ_ERR_NOMEM;
    p = calloc(1, sizeof(*p));
    if (!p)
        goto out;
    mqp_clients_init(&p->clients);
    p->pid = identifier;
    p->config_path = strdup(path);
    if (!p->config_path)
        goto out;
    if (mqp_config_load_file(path, &p->cfg, &errs) != 0) {
        mqp_plugin__log_errors(MOSQ_LOG_ERR, &errs);
        mosquitto_log_printf(MOSQ_LOG_ERR, MQP_LOG_PREFIX "cannot load %s, not starting", path);
        rc = MOSQ_ERR_INVAL;
        goto out;
    }
    if (state) {
        int n;

        p->state_path = strdup(state);
        if (!p->state_path)
            goto out;
        n = mqp_state_load(&p->clients, state, p->cfg, (int64_t)time(NULL));
        if (n < 0)
            /* The sessions then get no more than anyone until their clients reconnect. */
            mosquitto_log_printf(MOSQ_LOG_WARNING,
                                 MQP_LOG_PREFIX "cannot read %s, clients' rights not restored",
                                 state);
        else if (n > 0)
            mosquitto_log_printf(MOSQ_LOG_INFO,
                                 MQP_LOG_PREFIX "rights of %d clients restored from %s", n, state);
        p->spool_path = malloc(strlen(state) + sizeof(".pending"));
        if (!p->spool_path)
            goto out;
        snprintf(p->spool_path, strlen(state) + sizeof(".pending"), "%s.pending", state);
        /* After the rights: the restored sessions may read the copies. */
        n = mqp_spool_replay(p->spool_path, mqp_plugin__fan_again, p);
        if (n < 0)
            mosquitto_log_printf(MOSQ_LOG_WARNING, MQP_LOG_PREFIX "cannot read %s", p->spool_path);
        else if (n > 0)
            mosquitto_log_printf(MOSQ_LOG_INFO,
                                 MQP_LOG_PREFIX "%d events of the last run fanned out again", n);
    }
    for (registered = 0; registered < N_CALLBACKS; registered++) {
        rc = mosquitto_callback_register(identifier, callbacks[registered].event,
                                         callbacks[registered].cb, NULL, p);
        if (rc != MOSQ_ERR_SUCCESS) {
            mosquitto_log_printf(MOSQ_LOG_ERR, MQP_LOG_PREFIX "cannot register event %d (error %d)",
                                 callbacks[registered].event, rc);
            goto out;
        }
    }
    mosquitto_log_printf(MOSQ_LOG_INFO, MQP_LOG_PREFIX "loaded %s (%zu tenants)", path,
                         p->cfg->n_tenants);
    *userdata = p;
    p = NULL;
    rc = MOSQ_ERR_SUCCESS;
out:
    if (p) {
        while (registered > 0) {
            registered--;
            mosquitto_callback_unregister(identifier, callbacks[registered].event,
                                          callbacks[registered].cb, NULL);
        }
    }
    mqp_errors_clear(&errs);
    plugin_free(p);
    return rc;
}

MQP_PLUGIN_EXPORT int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options,
                                               int option_count)
{
    struct mqp_plugin *p = userdata;

    if (!p)
        return MOSQ_ERR_SUCCESS;
    for (size_t i = 0; i < N_CALLBACKS; i++)
        mosquitto_callback_unregister(p->pid, callbacks[i].event, callbacks[i].cb, NULL);
    /* Mosquitto writes its persistence at this stop too: the sessions and their rights go
     * together. */
    mqp_plugin__state_save(p);
    if (p->spool_path && mqp_spool_save(&p->spool, p->spool_path) != 0)
        mosquitto_log_printf(MOSQ_LOG_WARNING, MQP_LOG_PREFIX "cannot write %s: %s", p->spool_path,
                             strerror(errno));
    plugin_free(p);
    return MOSQ_ERR_SUCCESS;
}
