/*
 * The bridge's durable state behind one small interface, so that another engine can be added
 * next to the embedded default (SQLite, WAL). Channels keep their subscriptions and outboxes
 * here. The schema is versioned; opening a store migrates it to the newest version.
 * Calls may block on disk: run them off the event loop (libuv thread pool) or batch them.
 */
#ifndef BRIDGE_STORE_H
#define BRIDGE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Engine operations; a store is a vtable plus the engine's own state. */
struct store_ops {
    const char *scheme; /* "sqlite" */
    int (*open)(const char *location, struct store **out, char *err, size_t errlen);
    void (*close)(struct store *st);
    int (*schema_version)(struct store *st);
    int (*kv_put)(struct store *st, const char *ns, const char *key, const void *val, size_t len);
    /* *val is malloc()ed, caller frees; returns 1 found, 0 absent, -1 error. */
    int (*kv_get)(struct store *st, const char *ns, const char *key, void **val, size_t *len);
    int (*kv_del)(struct store *st, const char *ns, const char *key);
};

struct store {
    const struct store_ops *ops;
};

/*
 * Open the store named by url ("sqlite:///abs/path.db", "sqlite://relative.db" or
 * "sqlite::memory:"), creating and migrating it. Returns 0 and *out (close with store_close()),
 * or -1 with a message in err (unknown scheme, cannot open, migration failed, newer schema).
 */
int store_open(const char *url, struct store **out, char *err, size_t errlen);
void store_close(struct store *st);

/* The newest schema version this build knows. */
int store_schema_latest(void);

#endif
