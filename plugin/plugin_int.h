/*
 * Internals of the mqpush Mosquitto plugin, shared by plugin.c (registration) and the one file
 * per broker event (auth.c, acl.c, message.c, reload.c, tick.c, disconnect.c).
 *
 * Mosquitto runs every callback on its single main thread, so nothing here is locked.
 */
#ifndef MQP_PLUGIN_INT_H
#define MQP_PLUGIN_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "access.h"
#include "clients.h"
#include "spool.h"
#include "config.h"

/* Every log line of the plugin starts with this, so operators can grep the broker log. */
#define MQP_LOG_PREFIX "mqpush: "

/* Symbols the broker looks up with dlsym(); everything else stays hidden. */
#define MQP_PLUGIN_EXPORT __attribute__((visibility("default")))

struct mosquitto_plugin_id_t;

/*
 * The stream event last parsed for subscriber criteria. Mosquitto runs the ACL check for the
 * subscribers of a message one after the other with the same payload, so one parse serves them
 * all. The entry is keyed by the payload bytes, never by their address: a later message stored
 * at a reused address is not mistaken for this one.
 */
struct mqp_parsed_payload {
    unsigned char *bytes; /* owned copy of the payload; NULL: no entry */
    size_t len;
    json_object *event; /* owned; NULL: the payload is not a JSON object */
};

struct mqp_plugin {
    struct mosquitto_plugin_id_t *pid; /* borrowed from the broker */
    char *config_path;                 /* owned; reloads read the same file */
    struct mqp_config *cfg;            /* owned; replaced whole on reload */
    struct mqp_clients clients;
    /* Rights of clients that hold no state here (anonymous, or admitted by a password file),
     * recomputed when cfg->generation moves on. */
    struct mqp_grant foreign;
    /*
     * Set by the reload callback, cleared by the next tick. In between, Mosquitto 2.0.11's
     * mosquitto_security_apply() re-runs the basic-auth check for every client it knows,
     * connected or not (src/loop.c: reload happens after the network has been serviced and
     * before the tick, so no new CONNECT can land in that window).
     */
    bool reauth_window;
    time_t last_sweep; /* CLOCK_MONOTONIC seconds of the last expiry sweep */
    char *state_path;  /* plugin_opt_state_file (state.h), or NULL */
    bool state_dirty;  /* clients changed since the state file was written */
    time_t last_save;  /* CLOCK_MONOTONIC seconds */
    /* With a state file: events whose copies may not be routed yet at a stop (spool.h), and
     * where they go then ("<state file>.pending"). */
    struct mqp_spool spool;
    char *spool_path;
    struct mqp_parsed_payload parsed;
};

/* Fan an event out again (spool.h replay): as MOSQ_EVT_MESSAGE does, without a publisher. */
void mqp_plugin__fan_again(void *p, const char *topic, const void *payload, size_t len, int qos);

/* Write the clients to the state file when one is configured (logged on failure). */
void mqp_plugin__state_save(struct mqp_plugin *p);

/* Rights of clients without state, valid under p->cfg. Never NULL. */
const struct mqp_grant *mqp_plugin__foreign_grant(struct mqp_plugin *p);

/* Drop p->parsed. */
void mqp_plugin__parsed_clear(struct mqp_plugin *p);

/* Log every message in errs at level, one line each. */
void mqp_plugin__log_errors(int level, const struct mqp_errors *errs);

/* Broker callbacks (MOSQ_FUNC_generic_callback); userdata is the struct mqp_plugin. */
int mqp_plugin__on_basic_auth(int event, void *event_data, void *userdata);
int mqp_plugin__on_acl_check(int event, void *event_data, void *userdata);
int mqp_plugin__on_message(int event, void *event_data, void *userdata);
int mqp_plugin__on_reload(int event, void *event_data, void *userdata);
int mqp_plugin__on_tick(int event, void *event_data, void *userdata);
int mqp_plugin__on_disconnect(int event, void *event_data, void *userdata);

#endif
