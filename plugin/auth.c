/*
 * MOSQ_EVT_BASIC_AUTH: the MQTT password is a bearer token (the username is ignored).
 *
 * Mosquitto 2.0.11 runs this for every CONNECT, with or without a username (MQTT 5 allows a
 * password alone, MQTT 3.1.1 needs some username next to it; src/handle_connect.c), and again
 * for every client it knows after a SIGHUP (mosquitto_security_apply()).
 */
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>

#include "plugin_int.h"

/*
 * Not a token: the client belongs to another authentication method (password file, another
 * plugin) or is anonymous, which Mosquitto admits on its own when allow_anonymous is set and
 * every plugin deferred. Its client id must not keep the rights of an earlier token holder.
 */
static int not_ours(struct mqp_plugin *p, const char *id)
{
    mqp_clients_remove(&p->clients, mqp_clients_find(&p->clients, id));
    return MOSQ_ERR_PLUGIN_DEFER;
}

/* The detail quotes claims of an unverified token: keep its control characters out of the log. */
static void log_refusal(const char *id, enum mqp_token_status st, char *detail)
{
    for (char *c = detail; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    }
    mosquitto_log_printf(MOSQ_LOG_NOTICE, MQP_LOG_PREFIX "client %s: token refused: %s%s%s", id,
                         mqp_token_status_str(st), *detail ? ": " : "", detail);
}

int mqp_plugin__on_basic_auth(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_basic_auth *ed = event_data;
    struct mqp_plugin *p = userdata;
    const char *id = mosquitto_client_id(ed->client);
    struct mqp_identity *ident = NULL;
    struct mqp_client *held;
    enum mqp_token_status st;
    char detail[256] = "";
    bool was_online = true;
    size_t len;
    int rc = MOSQ_ERR_AUTH;

    len = ed->password ? strlen(ed->password) : 0;
    if (len == 0 || !mqp_token_looks_like_jwt(ed->password, len))
        return not_ours(p, id);
    if (!id)
        goto out;

    held = mqp_clients_find(&p->clients, id);
    st = mqp_token_verify(p->cfg, ed->password, len, (int64_t)time(NULL), &ident, detail,
                          sizeof(detail));
    if (st != MQP_TOKEN_OK) {
        log_refusal(id, st, detail);
        /*
         * A refused token leaves the state of id alone: it may belong to another, still valid
         * connection. Only the re-check after a reload concerns the holder of that state
         * itself, whose token no longer passes under the new configuration.
         */
        if (p->reauth_window && held && held->conn == ed->client)
            mqp_clients_remove(&p->clients, held);
        goto out;
    }
    /* The re-check after a reload also covers offline sessions: keep their online flag. */
    if (p->reauth_window && held)
        was_online = held->online;
    held = mqp_clients_put(&p->clients, id, ident, p->cfg, ed->client);
    if (!held) {
        mosquitto_log_printf(MOSQ_LOG_ERR, MQP_LOG_PREFIX "client %s: out of memory", id);
        rc = MOSQ_ERR_NOMEM;
        goto out;
    }
    held->online = was_online;
    p->state_dirty = true;
    mosquitto_log_printf(
        MOSQ_LOG_DEBUG, MQP_LOG_PREFIX "client %s: token accepted (%s%s, %zu roles)", id,
        held->tenant ? "tenant " : "service", held->tenant ? held->tenant : "", held->n_roles);
    rc = MOSQ_ERR_SUCCESS;
out:
    mqp_identity_free(ident);
    return rc;
}
