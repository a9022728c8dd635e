/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rule cache's store: listed chains in an LRU bounded by
 * RULECACHE_MAX_BYTES, their texts in blocks deflated with zlib, the ring
 * of deleted rule texts, and the epoch that retires what they drop.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "hash.h"
#include "rulecache_int.h"

/* Rules per text block: one inflation costs microseconds. */
#define BLOCK_RULES 32

/* ---- keys ---- */

static uint32_t hash_table(uint8_t family, const char *table)
{
	uint32_t h = HASH_FNV1A_INIT;

	h = hash_fnv1a(h, &family, sizeof(family));
	return hash_fnv1a(h, table, strlen(table) + 1);
}

uint32_t rulecache_chain_hash(uint8_t family, const char *table, const char *chain)
{
	return hash_fnv1a(hash_table(family, table), chain, strlen(chain));
}

uint32_t rulecache_rule_hash(uint8_t family, const char *table, uint64_t handle)
{
	return hash_fnv1a(hash_table(family, table), &handle, sizeof(handle));
}

static uint32_t handle_slot(uint64_t handle)
{
	handle ^= handle >> 33;
	handle *= 0xff51afd7ed558ccdull;
	handle ^= handle >> 33;
	return (uint32_t)handle;
}

/* name and table, one after the other, into dst; returns the table's copy */
const char *rulecache_copy_names(char *dst, const char *name, const char *table)
{
	size_t n = strlen(name) + 1;

	memcpy(dst, name, n);
	memcpy(dst + n, table, strlen(table) + 1);
	return dst + n;
}

/* ---- epochs: nothing handed out is freed before the epoch ends ---- */

static void hot_free_now(struct rulecache *c, struct hot_block *h)
{
	(void)c;
	free(h);
}

void rulecache_listed_free_now(struct rulecache *c, struct listed *l)
{
	if (!l)
		return;
	for (unsigned int b = 0; l->hot && b < l->nblocks; b++) {
		struct hot_block *h = l->hot[b];

		if (!h)
			continue;
		for (unsigned int i = 0; i < HOT_BLOCKS; i++)
			if (c->hot[i] == h)
				c->hot[i] = NULL;
		free(h);
	}
	free(l->handles);
	free(l->dead);
	free(l->index);
	free(l->block_off);
	free(l->block_len);
	free(l->store);
	free(l->hot);
	free(l);
}

static void retire_hot(struct rulecache *c, struct hot_block *h)
{
	h->retired_next = c->retired_hot;
	c->retired_hot = h;
}

static void retire_listed(struct rulecache *c, struct listed *l)
{
	l->retired_next = c->retired_listed;
	c->retired_listed = l;
}

static void retire_deleted(struct rulecache *c, struct deleted *d)
{
	d->retired_next = c->retired_deleted;
	c->retired_deleted = d;
}

void rulecache_epoch_end(struct rulecache *c)
{
	while (c->retired_hot) {
		struct hot_block *h = c->retired_hot;

		c->retired_hot = h->retired_next;
		hot_free_now(c, h);
	}
	while (c->retired_listed) {
		struct listed *l = c->retired_listed;

		c->retired_listed = l->retired_next;
		rulecache_listed_free_now(c, l);
	}
	while (c->retired_deleted) {
		struct deleted *d = c->retired_deleted;

		c->retired_deleted = d->retired_next;
		free(d);
	}
}

/* ---- listed chains ---- */

struct listed **rulecache_listed_slot(struct rulecache *c, uint32_t hash, uint8_t family,
				      const char *table, const char *name)
{
	struct listed **pp = &c->listed[hash & (LISTED_BUCKETS - 1)];

	for (; *pp; pp = &(*pp)->next) {
		struct listed *l = *pp;

		if (l->hash == hash && l->family == family && strcmp(l->table, table) == 0 &&
		    strcmp(l->name, name) == 0)
			break;
	}
	return pp;
}

/* The live listed chain of that name, NULL if none. */
struct listed *rulecache_live(struct rulecache *c, uint8_t family, const char *table,
			      const char *chain)
{
	return *rulecache_listed_slot(c, rulecache_chain_hash(family, table, chain), family, table,
				      chain);
}

void rulecache_lru_unlink(struct rulecache *c, struct listed *l)
{
	if (l->newer)
		l->newer->older = l->older;
	else
		c->newest = l->older;
	if (l->older)
		l->older->newer = l->newer;
	else
		c->oldest = l->newer;
	l->newer = l->older = NULL;
}

static void lru_push(struct rulecache *c, struct listed *l)
{
	l->older = c->newest;
	l->newer = NULL;
	if (c->newest)
		c->newest->newer = l;
	else
		c->oldest = l;
	c->newest = l;
}

void rulecache_lru_touch(struct rulecache *c, struct listed *l)
{
	if (c->newest == l)
		return;
	rulecache_lru_unlink(c, l);
	lru_push(c, l);
}

/* Out of the bucket: a live chain becomes a deleted one. */
static void bucket_unlink(struct rulecache *c, struct listed *l)
{
	struct listed **pp = &c->listed[l->hash & (LISTED_BUCKETS - 1)];

	while (*pp && *pp != l)
		pp = &(*pp)->next;
	if (*pp)
		*pp = l->next;
	l->next = NULL;
}

/* Gone from the cache entirely. */
void rulecache_listed_drop(struct rulecache *c, struct listed *l)
{
	if (!l->gone)
		bucket_unlink(c, l);
	rulecache_lru_unlink(c, l);
	c->bytes -= l->bytes;
	c->stats.bytes = c->bytes;
	c->stats.chains_listed--;
	retire_listed(c, l);
}

void rulecache_listed_make_gone(struct rulecache *c, struct listed *l)
{
	if (l->gone)
		return;
	bucket_unlink(c, l);
	l->gone = true;
	/* nothing to say about a chain that never had texts */
	if (l->missing || l->too_big || l->n == 0)
		rulecache_listed_drop(c, l);
}

/* Oldest first, never keep: down to the budget. */
static void lru_trim(struct rulecache *c, const struct listed *keep)
{
	struct listed *l = c->oldest;

	while (c->bytes > RULECACHE_MAX_BYTES && l) {
		struct listed *newer = l->newer;

		if (l != keep) {
			rulecache_listed_drop(c, l);
			c->stats.evicted++;
		}
		l = newer;
	}
}

int rulecache_index_find(const struct listed *l, uint64_t handle)
{
	uint32_t i;

	if (!l->index)
		return -1;
	for (i = handle_slot(handle) & l->index_mask; l->index[i]; i = (i + 1) & l->index_mask)
		if (l->handles[l->index[i] - 1] == handle)
			return (int)(l->index[i] - 1);
	return -1;
}

bool rulecache_is_dead(const struct listed *l, unsigned int i)
{
	return l->dead[i / 8] & (1u << (i % 8));
}

/* The inflated text of block b into buf (block_len[b] bytes). */
static int inflate_block(const struct listed *l, unsigned int b, char *buf)
{
	uLongf len = l->block_len[b];
	uint32_t stored = l->block_off[b + 1] - l->block_off[b];

	if (stored == l->block_len[b]) {
		memcpy(buf, l->store + l->block_off[b], stored);
		return 0;
	}
	if (uncompress((Bytef *)buf, &len, l->store + l->block_off[b], stored) != Z_OK ||
	    len != l->block_len[b])
		return -EIO;
	return 0;
}

/* The k-th NUL-terminated text of a block. */
static const char *nth_text(const char *p, unsigned int k)
{
	while (k--)
		p += strlen(p) + 1;
	return p;
}

/* Rule i's text, from the store as it is or from a hot block. */
const char *rulecache_text_of(struct rulecache *c, struct listed *l, unsigned int i)
{
	unsigned int b = i / BLOCK_RULES;
	struct hot_block *h;

	if (l->block_off[b + 1] - l->block_off[b] == l->block_len[b])
		return nth_text((const char *)l->store + l->block_off[b], i % BLOCK_RULES);
	h = l->hot[b];
	if (!h) {
		struct hot_block *victim = c->hot[c->hot_next];

		h = malloc(sizeof(*h) + l->block_len[b]);
		if (!h)
			return NULL;
		if (inflate_block(l, b, h->text) < 0) {
			free(h);
			return NULL;
		}
		h->owner = l;
		h->block = b;
		if (victim) {
			victim->owner->hot[victim->block] = NULL;
			retire_hot(c, victim);
		}
		c->hot[c->hot_next] = h;
		c->hot_next = (c->hot_next + 1) % HOT_BLOCKS;
		l->hot[b] = h;
	}
	return nth_text(h->text, i % BLOCK_RULES);
}

/* Rule i's text in scratch buffer k: for copies, never handed out. */
static const char *scratch_text(struct rulecache *c, unsigned int k, const struct listed *l,
				unsigned int i)
{
	struct scratch *s = &c->scratch[k];
	unsigned int b = i / BLOCK_RULES;

	if (s->owner != l || s->block != b) {
		s->owner = NULL;
		if (s->cap < l->block_len[b]) {
			char *p = realloc(s->buf, l->block_len[b]);

			if (!p)
				return NULL;
			s->buf = p;
			s->cap = l->block_len[b];
		}
		if (inflate_block(l, b, s->buf) < 0)
			return NULL;
		s->owner = l;
		s->block = b;
	}
	return nth_text(s->buf, i % BLOCK_RULES);
}

/* ---- the deleted ring ---- */

struct deleted **rulecache_deleted_slot(struct rulecache *c, uint32_t hash, uint8_t family,
					const char *table, uint64_t handle)
{
	struct deleted **pp = &c->deleted[hash & (DELETED_BUCKETS - 1)];

	for (; *pp; pp = &(*pp)->next) {
		struct deleted *d = *pp;

		if (d->hash == hash && d->handle == handle && d->family == family &&
		    strcmp(d->table, table) == 0)
			break;
	}
	return pp;
}

static void deleted_unlink(struct rulecache *c, struct deleted *d)
{
	struct deleted **pp = &c->deleted[d->hash & (DELETED_BUCKETS - 1)];

	while (*pp && *pp != d)
		pp = &(*pp)->next;
	if (*pp)
		*pp = d->next;
}

static int deleted_push(struct rulecache *c, uint8_t family, const char *table, uint64_t handle,
			const char *text)
{
	size_t tlen = strlen(text) + 1;
	struct deleted **bucket, *d;

	d = malloc(sizeof(*d) + tlen + strlen(table) + 1);
	if (!d)
		return -ENOMEM;
	memcpy(d->text, text, tlen);
	d->table = d->text + tlen;
	memcpy(d->text + tlen, table, strlen(table) + 1);
	d->family = family;
	d->handle = handle;
	d->hash = rulecache_rule_hash(family, table, handle);
	if (c->ndeleted == RULECACHE_MAX_DELETED) {
		struct deleted *oldest = c->ring[c->ring_head];

		deleted_unlink(c, oldest);
		retire_deleted(c, oldest);
		c->ring_head = (c->ring_head + 1) % RULECACHE_MAX_DELETED;
		c->ndeleted--;
	}
	c->ring[(c->ring_head + c->ndeleted) % RULECACHE_MAX_DELETED] = d;
	c->ndeleted++;
	/* At the front, so the latest text wins if a key comes back twice. */
	bucket = &c->deleted[d->hash & (DELETED_BUCKETS - 1)];
	d->next = *bucket;
	*bucket = d;
	return 0;
}

/* Rules of old that fresh does not have (or has with another text) were deleted. */
static void keep_gone_rules(struct rulecache *c, struct listed *old, struct listed *fresh)
{
	for (unsigned int i = 0; i < old->n; i++) {
		int j = rulecache_index_find(fresh, old->handles[i]);
		const char *t = scratch_text(c, 0, old, i);

		if (!t)
			continue;
		/* the same handle: deleted only if its text changed */
		if (j >= 0 && !rulecache_is_dead(old, i)) {
			const char *now = scratch_text(c, 1, fresh, (unsigned int)j);

			if (!now || strcmp(t, now) == 0)
				continue;
		}
		deleted_push(c, old->family, old->table, old->handles[i], t);
	}
	/* the scratch buffers name no chain that may go now */
	c->scratch[0].owner = c->scratch[1].owner = NULL;
}

/* ---- building a listed chain from a listing ---- */

void rulecache_builder_reset(struct builder *b)
{
	free(b->handles);
	free(b->ends);
	free(b->texts);
	memset(b, 0, sizeof(*b));
}

int rulecache_builder_add(struct builder *b, uint64_t handle, const char *text)
{
	size_t len = strlen(text) + 1;

	if (b->n == b->cap) {
		unsigned int cap = b->cap ? 2 * b->cap : 64;
		uint64_t *h = realloc(b->handles, cap * sizeof(*h));
		uint32_t *e;

		if (!h)
			return -ENOMEM;
		b->handles = h;
		e = realloc(b->ends, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		b->ends = e;
		b->cap = cap;
	}
	if (b->tlen + len > b->tcap) {
		size_t cap = b->tcap ? 2 * b->tcap : 4096;
		char *t;

		while (cap < b->tlen + len)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -E2BIG;
		t = realloc(b->texts, cap);
		if (!t)
			return -ENOMEM;
		b->texts = t;
		b->tcap = cap;
	}
	memcpy(b->texts + b->tlen, text, len);
	b->tlen += len;
	b->handles[b->n] = handle;
	b->ends[b->n] = (uint32_t)b->tlen;
	b->n++;
	return 0;
}

struct listed *rulecache_listed_alloc(uint8_t family, const char *table, const char *name)
{
	struct listed *l = calloc(1, sizeof(*l) + strlen(name) + 1 + strlen(table) + 1);

	if (!l)
		return NULL;
	l->table = rulecache_copy_names(l->name, name, table);
	l->family = family;
	l->hash = rulecache_chain_hash(family, table, name);
	l->bytes = sizeof(*l) + strlen(name) + strlen(table) + 2;
	return l;
}

/* The builder's rules as l's store: blocks, deflated where that is shorter. */
int rulecache_listed_fill(struct listed *l, struct builder *b)
{
	unsigned int n = b->n, nb = (n + BLOCK_RULES - 1) / BLOCK_RULES;
	uint32_t mask = 7;
	unsigned char *z = NULL, *store = NULL;
	size_t zcap = 0, slen = 0, scap = 0;
	int r = -ENOMEM;

	/* load factor at most 2/3: probes stay short */
	while (mask + 1 < (uint64_t)n + n / 2)
		mask = mask * 2 + 1;
	l->n = n;
	l->nblocks = nb;
	l->handles = b->handles;
	b->handles = NULL;
	l->dead = calloc(n / 8 + 1, 1);
	l->index = calloc((size_t)mask + 1, sizeof(*l->index));
	l->index_mask = mask;
	l->block_off = calloc(nb + 1, sizeof(*l->block_off));
	l->block_len = calloc(nb ? nb : 1, sizeof(*l->block_len));
	l->hot = calloc(nb ? nb : 1, sizeof(*l->hot));
	if (!l->dead || !l->index || !l->block_off || !l->block_len || !l->hot)
		goto out;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t s = handle_slot(l->handles[i]) & mask;

		while (l->index[s])
			s = (s + 1) & mask;
		l->index[s] = i + 1;
	}
	for (unsigned int k = 0; k < nb; k++) {
		unsigned int first = k * BLOCK_RULES, last = first + BLOCK_RULES;
		uint32_t from = first ? b->ends[first - 1] : 0, to;
		uLongf zlen;
		const unsigned char *src;
		size_t len;

		if (last > n)
			last = n;
		to = b->ends[last - 1];
		len = to - from;
		if (compressBound(len) > zcap) {
			unsigned char *p = realloc(z, compressBound(len));

			if (!p)
				goto out;
			z = p;
			zcap = compressBound(len);
		}
		zlen = zcap;
		src = (const unsigned char *)b->texts + from;
		/* deflated only when shorter: small chains stay as they are */
		if (compress2(z, &zlen, src, len, Z_BEST_SPEED) == Z_OK && zlen < len) {
			src = z;
		} else {
			zlen = len;
		}
		if (slen + zlen > scap) {
			size_t cap = scap ? 2 * scap : 4096;
			unsigned char *p;

			while (cap < slen + zlen)
				cap *= 2;
			p = realloc(store, cap);
			if (!p)
				goto out;
			store = p;
			scap = cap;
		}
		memcpy(store + slen, src, zlen);
		l->block_off[k] = (uint32_t)slen;
		l->block_len[k] = (uint32_t)len;
		slen += zlen;
		l->block_off[k + 1] = (uint32_t)slen;
	}
	/* give back what the doubling left over */
	if (slen && slen < scap) {
		unsigned char *p = realloc(store, slen);

		if (p)
			store = p;
	}
	l->store = store;
	store = NULL;
	l->bytes += (size_t)n * sizeof(*l->handles) + n / 8 + 1 + ((size_t)mask + 1) * 4 +
		    (size_t)(nb + 1) * 4 + (size_t)nb * (4 + sizeof(*l->hot)) + slen;
	r = 0;
out:
	free(z);
	free(store);
	return r;
}

/* l replaces the live chain of its name: what it no longer has was deleted. */
void rulecache_listed_install(struct rulecache *c, struct listed *l)
{
	struct listed **pp = rulecache_listed_slot(c, l->hash, l->family, l->table, l->name),
		      *old = *pp;

	if (old) {
		if (l->missing) {
			/* the chain went: its texts are deleted rules' now */
			rulecache_listed_make_gone(c, old);
		} else {
			if (old->n && l->index)
				keep_gone_rules(c, old, l);
			rulecache_listed_drop(c, old);
		}
		pp = rulecache_listed_slot(c, l->hash, l->family, l->table, l->name);
	}
	l->next = *pp;
	*pp = l;
	lru_push(c, l);
	c->bytes += l->bytes;
	c->stats.bytes = c->bytes;
	c->stats.chains_listed++;
	lru_trim(c, l);
}
