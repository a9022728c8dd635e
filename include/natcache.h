/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_NATCACHE_H
#define NATTRACED_NATCACHE_H

/*
 * The recent NAT mappings by conntrack id, so a packet timeline can name
 * the mapping of its connection. Fixed size, allocated once: when full,
 * the oldest entry is overwritten and counted. Destroyed mappings stay
 * until pushed out, so a timeline that ends after its connection still
 * finds it.
 */
#include <stddef.h>
#include <stdint.h>

#include "natmap.h"

#define NATCACHE_DEFAULT_SIZE 4096

struct natcache;

struct natcache_stats {
	uint64_t stored;  /* new entries */
	uint64_t updated; /* entries changed in place */
	uint64_t evicted; /* live entries pushed out by newer ones */
};

/* size: entries kept (at least 1). 0 or -ENOMEM. */
int natcache_new(size_t size, struct natcache **ret);
struct natcache *natcache_free(struct natcache *c);

/* Store or update the mapping of m->ct_id; ignored without a ct id. */
void natcache_put(struct natcache *c, const struct natmap *m);
/* The mapping of ct id, or NULL. Valid until the next natcache_put(). */
const struct natmap *natcache_get(const struct natcache *c, uint32_t ct_id);
const struct natcache_stats *natcache_stats(const struct natcache *c);

#endif
