/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A ring of entries in arrival order plus a chained hash on the ct id:
 * O(1) put and get, no allocation after natcache_new(), and the oldest
 * entry is the one pushed out.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "natcache.h"

struct entry {
	struct natmap map;
	int32_t next; /* hash chain, -1 ends */
	bool used;
};

struct natcache {
	size_t size, nbuckets;
	size_t head; /* next slot of the ring to fill */
	int32_t *buckets;
	struct entry *entries;
	struct natcache_stats stats;
};

/* ct ids are hashes of kernel pointers already; mix anyway for the modulo */
static size_t bucket_of(const struct natcache *c, uint32_t id)
{
	return (size_t)((id * 2654435761u) >> 7) % c->nbuckets;
}

int natcache_new(size_t size, struct natcache **ret)
{
	struct natcache *c;

	if (size == 0 || size > INT32_MAX / 2)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->size = size;
	c->nbuckets = size * 2;
	c->buckets = malloc(c->nbuckets * sizeof(*c->buckets));
	c->entries = calloc(size, sizeof(*c->entries));
	if (!c->buckets || !c->entries) {
		natcache_free(c);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->nbuckets; i++)
		c->buckets[i] = -1;
	*ret = c;
	return 0;
}

struct natcache *natcache_free(struct natcache *c)
{
	if (!c)
		return NULL;
	free(c->buckets);
	free(c->entries);
	free(c);
	return NULL;
}

static int32_t find(const struct natcache *c, uint32_t id)
{
	for (int32_t i = c->buckets[bucket_of(c, id)]; i >= 0; i = c->entries[i].next)
		if (c->entries[i].map.ct_id == id)
			return i;
	return -1;
}

static void unlink_entry(struct natcache *c, int32_t idx)
{
	int32_t *p = &c->buckets[bucket_of(c, c->entries[idx].map.ct_id)];

	while (*p >= 0 && *p != idx)
		p = &c->entries[*p].next;
	if (*p == idx)
		*p = c->entries[idx].next;
	c->entries[idx].used = false;
}

void natcache_put(struct natcache *c, const struct natmap *m)
{
	struct entry *e;
	size_t b;
	int32_t idx;

	if (!m->has_ct_id)
		return;
	idx = find(c, m->ct_id);
	if (idx >= 0) {
		c->entries[idx].map = *m;
		c->stats.updated++;
		return;
	}
	idx = (int32_t)c->head;
	c->head = (c->head + 1) % c->size;
	e = &c->entries[idx];
	if (e->used) {
		unlink_entry(c, idx);
		c->stats.evicted++;
	}
	e->map = *m;
	e->used = true;
	b = bucket_of(c, m->ct_id);
	e->next = c->buckets[b];
	c->buckets[b] = idx;
	c->stats.stored++;
}

const struct natmap *natcache_get(const struct natcache *c, uint32_t ct_id)
{
	int32_t idx = find(c, ct_id);

	return idx < 0 ? NULL : &c->entries[idx].map;
}

const struct natcache_stats *natcache_stats(const struct natcache *c)
{
	return &c->stats;
}
