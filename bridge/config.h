/*
 * bridge.json (schemas/bridge.schema.json): what the mqpush-bridge daemon listens on, which
 * broker it reads, where it keeps state, and one section per delivery channel.
 */
#ifndef BRIDGE_CONFIG_H
#define BRIDGE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include "core/config.h" /* struct mqp_errors */

/* A POST route of the "errors in the body" SSE style, e.g. POST /events/client. */
struct bridge_sse_route {
    char *path; /* exact path, starts with '/' */
    char *tenant;
    char *stream;
};

/* A stream whose events are also sent by a push channel ("webpush.streams",
 * "unifiedpush.streams"). */
struct bridge_webpush_stream {
    char *tenant;
    char *stream;
    bool is_default;  /* the tenant's stream for subscriptions that name none */
    unsigned ttl_s;   /* TTL header (RFC 8030 5.2) */
    char *urgency;    /* "very-low", "low", "normal", "high" (RFC 8030 5.3) */
    char *topic_path; /* event path whose value collapses messages (RFC 8030 5.4), or NULL */
};

/* The UnifiedPush push provider ("unifiedpush.provider"): endpoints for distributors. */
struct bridge_up_provider {
    bool enabled;           /* default: true when the object is present, whatever
                               unifiedpush.enabled says (that is the application-server side) */
    unsigned rate_per_min;  /* messages per endpoint and minute (token bucket), default 60 */
    unsigned burst;         /* bucket size, default rate_per_min */
    unsigned max_age_s;     /* an unreceived message is dropped after this, default 604800 */
    unsigned max_endpoints; /* endpoints per user (tenant, sub), default 100 */
};

/* Settings of a push channel ("webpush", "unifiedpush"). */
struct bridge_push_settings {
    bool enabled;             /* default: true when the section is present */
    char *subject;            /* VAPID "sub": mailto: or https: URL, required for Web Push */
    unsigned jwt_ttl_s;       /* VAPID JWT lifetime, 60 .. 86400, default 43200 */
    unsigned rotate_period_s; /* rotate the VAPID key this often; 0 never (default) */
    unsigned ttl_s;           /* default TTL, 0 .. 2419200, default 86400 */
    char *urgency;            /* default "normal" */
    unsigned padding;         /* bytes of padding per encrypted message, default 0 */
    bool expire_with_token;   /* abandon a subscription when its token expires */
    unsigned max_per_user;    /* subscriptions per (tenant, sub), default 20 */
    unsigned max_inflight;    /* concurrent requests, default 256 */
    unsigned retry_min_ms;    /* first retry delay, default 1000 */
    unsigned retry_max_ms;    /* cap of the backoff, default 300000 */
    struct bridge_webpush_stream *streams;
    size_t n_streams;
    struct bridge_up_provider provider; /* "unifiedpush" only */
};

/* A transmitter of Security Event Tokens to the SSF receiver ("ssf.receiver.transmitters"). */
struct bridge_ssf_transmitter {
    char *tenant;        /* the tenant whose event topic its SETs go to */
    char *issuer;        /* the exact "iss" of its SETs */
    char *audience;      /* what their "aud" must contain */
    char *jwks_file;     /* absolute path, or NULL */
    char *jwks_uri;      /* http(s) URL fetched by the bridge, or NULL (one of the two is set) */
    char *authorization; /* the exact Authorization header it sends, or NULL: none required */
};

/* An event type URI published under a name chosen in bridge.json ("ssf.receiver.event_names"). */
struct bridge_ssf_event_name {
    char *type;
    char *name;
};

/* An mqpush event a transmitter stream may carry as a SET ("ssf.transmitter.streams[].events"). */
struct bridge_ssf_tx_event {
    char *namespace_;
    char *name;
    char *type;         /* the SSF event type URI, or NULL: urn:mqpush:<tenant>:event:<ns>:<name> */
    char *subject_path; /* event path (core/jsonpath.h) of the SET's "sub_id", or NULL */
};

/* A stream of the streams file whose events the transmitter offers ("ssf.transmitter.streams"). */
struct bridge_ssf_tx_stream {
    char *tenant;
    char *stream;
    struct bridge_ssf_tx_event *events; /* mappings; events not listed get the URN */
    size_t n_events;
};

struct bridge_config {
    char *listen_host; /* from "listen": "127.0.0.1:8080" (also "[::1]:8080") */
    int listen_port;
    char *public_url; /* default "http://<listen>" */
    char *broker_host;
    int broker_port;         /* default 1883 */
    char *broker_token;      /* from broker.token or the file broker.token_file */
    char *broker_client_id;  /* default "mqpush-bridge" */
    /* Set when several bridges share the outbound pushes: their durable channels subscribe
     * through "$share/<group>/" so that one of them delivers each event. NULL: not shared. */
    char *broker_share_group;
    int broker_keepalive_s;  /* default 30 */
    char *broker_token_file; /* absolute path, or NULL when the token is inline */
    char *streams_file;      /* resolved against the bridge.json directory: absolute */
    char *store_url;         /* default "sqlite://<dir of bridge.json>/mqpush.db" */
    char **outbound_allow;   /* CIDR strings exempt from the SSRF guard */
    size_t n_outbound_allow;
    struct {
        size_t max_connections;  /* default 20000 */
        size_t max_header_bytes; /* default 8192 */
        size_t max_body_bytes;   /* default 65536 */
        size_t send_queue_bytes; /* per connection, default 1 MiB */
    } limits;
    struct {
        unsigned heartbeat_ms;     /* default 15000 */
        unsigned retry_ms;         /* the SSE "retry:" field, default 3000 */
        unsigned coalesce_ms;      /* least time between two writes to a busy client, 5 */
        size_t replay_max_events;  /* per stream, default 1000 */
        unsigned replay_max_age_s; /* default 300 */
        struct bridge_sse_route *routes;
        size_t n_routes;
    } sse;
    struct {
        bool enabled;                /* default true */
        unsigned ping_interval_ms;   /* default 25000 */
        unsigned ping_timeout_ms;    /* default 20000 */
        size_t max_payload;          /* default 1000000 */
        unsigned connect_timeout_ms; /* default 45000 */
        unsigned recovery_window_s;  /* default 120; 0: no connection state recovery */
        char **cors_origins;         /* "*" or "<scheme>://<host>[:port]" */
        size_t n_cors_origins;
        char *client_script; /* absolute path, or NULL */
    } socketio;
    struct bridge_push_settings webpush;
    /* UnifiedPush ("unifiedpush"): the same settings; subject, jwt_ttl_s and rotate_period_s
     * are Web Push's (its VAPID key also signs UnifiedPush's Web Push form). */
    struct bridge_push_settings unifiedpush;
    struct {
        bool enabled;            /* "ssf.receiver" is present */
        char *namespace_;        /* event namespace of received SETs, default "ssf" */
        unsigned languages;      /* descriptions offered: bits 1 << enum ssf_lang, default all */
        unsigned jwks_refresh_s; /* jwks_uri fetched again this often, default 3600 */
        struct bridge_ssf_transmitter *transmitters;
        size_t n_transmitters;
        struct bridge_ssf_event_name *event_names;
        size_t n_event_names;
        struct {
            bool enabled;           /* "ssf.transmitter" is present */
            int alg;                /* enum mqp_jws_alg: MQP_ALG_ES256 (default) or MQP_ALG_RS256 */
            unsigned rsa_bits;      /* RS256 key size, 2048 .. 4096, default 2048 */
            unsigned key_overlap_s; /* a retired key stays in the JWKS this long, default 86400 */
            char *key_file; /* absolute path of a PEM signing key, or NULL: made and kept by
                               the bridge; the key's type sets alg */
            /* SET delivery (bridge/ssf/delivery.c) */
            unsigned retry_s;      /* a push SET is given up this long after it was made */
            unsigned retry_min_ms; /* first backoff, default 1000 */
            unsigned retry_max_ms; /* backoff cap, default 300000 */
            unsigned auth_retries; /* access_denied/authentication_failed tries, default 3 */
            unsigned poll_wait_s;  /* RFC 8936 long poll: longest wait, default 30 */
            unsigned max_pending;  /* SETs held per stream, default 10000 */
            char *accept_language; /* sent as Accept-Language, or NULL */
            struct bridge_ssf_tx_stream *streams;
            size_t n_streams;
        } tx;
    } ssf;
    char *path;       /* the file loaded */
    json_object *doc; /* the whole document, for channel sections added later */
};

/*
 * Load and validate path (RFC 8259 JSON of at most 1 MiB). Relative paths in it are resolved
 * against the file's directory into absolute ones; the token file is read now. Returns 0 and
 * *out (caller frees with bridge_config_free()), or -1 with the errors ("<json path>:
 * <message>") appended to errs (start from {0}; caller clears with mqp_errors_clear(); may be
 * NULL): at most 100, then "$: N more errors not listed".
 */
int bridge_config_load(const char *path, struct bridge_config **out, struct mqp_errors *errs);
void bridge_config_free(struct bridge_config *cfg);

/*
 * The broker token now: broker_token_file read again (a rotated token is picked up on
 * reconnect), or a copy of the inline token. Returns 0 and *out (caller frees), or -1 with a
 * message in err.
 */
int bridge_config_read_token(const struct bridge_config *cfg, char **out, char *err, size_t errlen);

#endif
