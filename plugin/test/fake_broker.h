/*
 * A stand-in for the parts of Mosquitto 2.0's plugin API that mqpush_plugin.so calls. The test
 * executable exports these functions (ENABLE_EXPORTS), loads the built plugin with dlopen()
 * and drives its callbacks the way the broker does.
 */
#ifndef MQP_PLUGIN_TEST_FAKE_BROKER_H
#define MQP_PLUGIN_TEST_FAKE_BROKER_H

#include <stdbool.h>
#include <stddef.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

/* A client connection as the broker sees it; the plugin only passes the pointer around. */
struct mosquitto {
    char id[64];
    bool connected;
};

#define FAKE_MAX_LOG 64
#define FAKE_MAX_COPIES 16
#define FAKE_MAX_CONNS 16
#define FAKE_EVENTS 11

struct fake_copy {
    char topic[256];
    char *body;
    int len;
    int qos;
    bool retain;
};

struct fake_broker {
    struct {
        MOSQ_FUNC_generic_callback cb;
        void *userdata;
    } callbacks[FAKE_EVENTS];
    int n_registered;
    char log[FAKE_MAX_LOG][512];
    size_t n_log;
    struct fake_copy copies[FAKE_MAX_COPIES];
    size_t n_copies;
    char kicked[FAKE_MAX_CONNS][64];
    size_t n_kicked;
    bool fail_publish;
    /* Connections by client id, for kicks (the broker's contexts_by_id). */
    struct mosquitto *conns[FAKE_MAX_CONNS];
};

extern struct fake_broker fake;

/* Forget logs, copies and kicks (registrations stay). */
void fake_reset_records(void);
/* Drop the copies' bodies too; call at the end of a test. */
void fake_clear(void);
/* Number of log lines containing all of the given strings (NULL-terminated list). */
size_t fake_log_count(const char *needle, ...);

/* Deliver an event to the registered callback; MOSQ_ERR_NOT_FOUND when none is registered. */
int fake_fire(int event, void *event_data);

int fake_auth(struct mosquitto *c, const char *username, const char *password);
int fake_acl(struct mosquitto *c, const char *topic, int access);
int fake_message(struct mosquitto *c, const char *topic, const char *payload, int qos,
                 char **topic_out, void **payload_out);
int fake_reload(void);
int fake_tick(void);
/* The broker closing c: DISCONNECT event, then c is offline. */
void fake_disconnect(struct mosquitto *c);
/* Make c the connection the broker knows under its id. */
void fake_connect(struct mosquitto *c);

#endif
