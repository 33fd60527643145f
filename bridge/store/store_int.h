/* Engines behind store.h; only store.c picks between them. */
#ifndef BRIDGE_STORE_INT_H
#define BRIDGE_STORE_INT_H

#include "store.h"

extern const struct store_ops store__sqlite_ops;
int store__sqlite_schema_latest(void);

#endif
