/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>
#include <zlib.h>

#include "clock.h"
#include "hash.h"
#include "listing.h"
#include "names.h"
#include "rulecache.h"
#include "ruletext.h"

/*
 * Three stores, all keyed by what a trace event names:
 * - chain metadata (struct meta) for every chain, from "list chains":
 *   hooks and priorities for the "last hook" logic, handles to tell a
 *   renamed chain from a new one;
 * - listed chains (struct listed), in an LRU bounded in bytes: a chain's
 *   handles in kernel order, an index by handle, and its rule texts in
 *   blocks of BLOCK_RULES, deflated when that saves space; a block is
 *   inflated on use into a hot block (HOT_BLOCKS of them);
 * - the deleted ring: texts of rules a re-listing no longer had.
 * rulecache.h states what stays valid how long; retire() implements it.
 */

#define META_BUCKETS	16384
#define LISTED_BUCKETS	1024
#define DELETED_BUCKETS RULECACHE_MAX_DELETED

/* Rules per text block: one inflation costs microseconds. */
#define BLOCK_RULES	  32
/* Inflated blocks kept: an explanation meets a few dozen rules. */
#define HOT_BLOCKS	  256
/*
 * libnftables keeps what it listed in its context (hundreds of bytes per
 * rule): after a listing this big, a fresh context, and the freed heap
 * goes back to the system.
 */
#define BIG_LISTING_BYTES (64u * 1024)

/*
 * A changed chain is listed again at most this often: a listing may take
 * at most 1/(RELIST_COST_FACTOR + 1) of the time (a 100,000-rule chain
 * takes seconds). libnftables lists again from the start whenever the
 * ruleset changes under it, so a chain slower than QUIET_FROM_COST_NS is
 * listed again only once the ruleset was quiet for as long as it takes.
 */
#define RELIST_COST_FACTOR     10
#define RELIST_MIN_INTERVAL_NS (10ull * 1000 * 1000)
#define QUIET_FROM_COST_NS     (20ull * 1000 * 1000)
/* "list chains" again after a base chain change, at most this often */
#define META_MIN_INTERVAL_NS   (10ull * 1000 * 1000)

/* A rule event carries the whole rule; a longer one is cut, so lost. */
#define EVENT_BUF_SIZE 65536
/* Messages drained per call; more stay queued and keep the fd readable. */
#define DRAIN_MAX      1024
/* Unknown hook keywords kept (the known ones are static). */
#define HOOK_NAMES     16

#define LIST_FLAGS (NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_STATELESS | NFT_CTX_OUTPUT_TERSE)
#define NOENT_ERR  "No such file or directory"

struct meta {
	struct meta *next;
	uint32_t hash;
	uint8_t family;
	bool nat; /* type nat: passed by a connection's first packet only */
	bool has_priority;
	int32_t priority;
	uint64_t handle;
	const char *hook; /* static or interned, NULL for a regular chain */
	/*
	 * An accept here is the packet's last word in the ruleset: for a
	 * connection's first packet, and for its later ones (no nat chains).
	 */
	bool final_accept, final_accept_later;
	const char *table; /* in name[], after the name */
	char name[];
};

struct hot_block;

struct listed {
	struct listed *next;	      /* in its bucket, live ones only */
	struct listed *newer, *older; /* the LRU, deleted ones too */
	struct listed *retired_next;
	uint32_t hash;
	uint8_t family;
	bool gone;	 /* chain deleted: its texts are deleted rules' */
	bool missing;	 /* the kernel had no such chain (a chain binding) */
	bool too_big;	 /* over RULECACHE_MAX_BYTES: texts not kept */
	bool dirty;	 /* rules added or replaced since the listing */
	bool unverified; /* events were lost since the listing */
	uint32_t gen;
	uint64_t listed_ns, cost_ns;
	unsigned int n;	   /* rules */
	uint64_t *handles; /* listing order */
	uint8_t *dead;	   /* bitmap: deleted since the listing */
	uint32_t *index;   /* open addressing: rule number + 1, 0 empty */
	uint32_t index_mask;
	unsigned int nblocks;
	uint32_t *block_off;	/* nblocks + 1 offsets into store */
	uint32_t *block_len;	/* inflated length of each block */
	unsigned char *store;	/* blocks, deflated where it is shorter */
	struct hot_block **hot; /* per block, inflated, or NULL */
	size_t bytes;
	const char *table; /* in name[], after the name */
	char name[];
};

struct hot_block {
	struct hot_block *retired_next;
	struct listed *owner;
	unsigned int block;
	char text[];
};

struct deleted {
	struct deleted *next; /* in its bucket */
	struct deleted *retired_next;
	uint32_t hash;
	uint64_t handle;
	uint8_t family;
	const char *table; /* in text[], after the text */
	char text[];
};

struct rulecache {
	struct nft_ctx *nft;   /* NULL offline */
	struct mnl_socket *nl; /* NULL offline */
	char *evbuf;
	/* offline, for tests: whole listings through this (rulecache_offline_lister) */
	const char *(*list)(void *ctx);
	void *list_ctx;
	uint64_t list_next_ns;

	/* chain metadata */
	struct meta **meta;
	unsigned int nmeta, nbase;
	bool meta_stale;
	uint64_t meta_next_ns, changed_ns;
	unsigned int hooks_all[2], hooks_nat[2]; /* NFPROTO_IPV4 (0), IPV6 (1) */
	char *hook_names[HOOK_NAMES];

	/* listed chains */
	struct listed **listed;
	struct listed *newest, *oldest;
	size_t bytes;
	struct hot_block *hot[HOT_BLOCKS];
	unsigned int hot_next;
	/* inflated blocks for comparing and copying, never handed out */
	struct scratch {
		char *buf;
		size_t cap;
		const struct listed *owner;
		unsigned int block;
	} scratch[2];
	uint32_t gen; /* of load_listing */

	/* texts of rules gone at a re-listing, oldest first in the ring */
	struct deleted **deleted;
	struct deleted *ring[RULECACHE_MAX_DELETED];
	unsigned int ring_head, ndeleted;

	/* dropped during this epoch, freed when it ends */
	struct listed *retired_listed;
	struct hot_block *retired_hot;
	struct deleted *retired_deleted;

	struct rulecache_stats stats;
};

/* ---- keys ---- */

static uint32_t hash_table(uint8_t family, const char *table)
{
	uint32_t h = HASH_FNV1A_INIT;

	h = hash_fnv1a(h, &family, sizeof(family));
	return hash_fnv1a(h, table, strlen(table) + 1);
}

static uint32_t chain_hash(uint8_t family, const char *table, const char *chain)
{
	return hash_fnv1a(hash_table(family, table), chain, strlen(chain));
}

static uint32_t rule_hash(uint8_t family, const char *table, uint64_t handle)
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
static const char *copy_names(char *dst, const char *name, const char *table)
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

static void listed_free_now(struct rulecache *c, struct listed *l)
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
		listed_free_now(c, l);
	}
	while (c->retired_deleted) {
		struct deleted *d = c->retired_deleted;

		c->retired_deleted = d->retired_next;
		free(d);
	}
}

/* ---- chain metadata ---- */

static struct meta **meta_slot(struct meta **buckets, uint32_t hash, uint8_t family,
			       const char *table, const char *name)
{
	struct meta **pp = &buckets[hash & (META_BUCKETS - 1)];

	for (; *pp; pp = &(*pp)->next) {
		struct meta *m = *pp;

		if (m->hash == hash && m->family == family && strcmp(m->table, table) == 0 &&
		    strcmp(m->name, name) == 0)
			break;
	}
	return pp;
}

static struct meta *meta_find(const struct rulecache *c, uint8_t family, const char *table,
			      const char *name)
{
	return *meta_slot(c->meta, chain_hash(family, table, name), family, table, name);
}

/* A hook keyword as a string that lives until rulecache_free(). */
static const char *intern_hook(struct rulecache *c, const char *hook)
{
	const char *s = names_hook_static(hook);
	unsigned int i;

	if (s || !hook)
		return s;
	for (i = 0; i < HOOK_NAMES && c->hook_names[i]; i++)
		if (strcmp(c->hook_names[i], hook) == 0)
			return c->hook_names[i];
	if (i == HOOK_NAMES)
		return NULL; /* more odd keywords than any kernel has */
	c->hook_names[i] = strdup(hook);
	return c->hook_names[i];
}

static void meta_clear(struct meta **buckets)
{
	for (unsigned int i = 0; i < META_BUCKETS; i++) {
		while (buckets[i]) {
			struct meta *m = buckets[i];

			buckets[i] = m->next;
			free(m);
		}
	}
}

static int meta_add(struct rulecache *c, struct meta **buckets, unsigned int *n,
		    unsigned int *nbase, uint8_t family, const char *table, const char *name,
		    uint64_t handle, const char *hook, const char *type, bool has_priority,
		    int32_t priority)
{
	uint32_t hash = chain_hash(family, table, name);
	struct meta **pp = meta_slot(buckets, hash, family, table, name), *m;

	if (*pp)
		return 0; /* listed twice: the first one holds */
	/* Beyond the bound a chain is not known: its hook shows as unknown. */
	if (*n >= RULECACHE_MAX_CHAINS || (hook && *nbase >= RULECACHE_MAX_BASE_CHAINS))
		return 0;
	if (hook)
		(*nbase)++;
	m = calloc(1, sizeof(*m) + strlen(name) + 1 + strlen(table) + 1);
	if (!m)
		return -ENOMEM;
	m->table = copy_names(m->name, name, table);
	m->hash = hash;
	m->family = family;
	m->handle = handle;
	m->hook = intern_hook(c, hook);
	m->nat = type && strcmp(type, "nat") == 0;
	m->has_priority = has_priority;
	m->priority = priority;
	*pp = m;
	(*n)++;
	return 0;
}

static void meta_remove(struct rulecache *c, uint8_t family, const char *table, const char *name)
{
	struct meta **pp = meta_slot(c->meta, chain_hash(family, table, name), family, table, name);
	struct meta *m = *pp;

	if (!m)
		return;
	*pp = m->next;
	c->nmeta--;
	if (m->hook)
		c->nbase--;
	free(m);
}

/* Which hooks a packet of each IP version passes through base chains. */
static void note_base_hooks(struct rulecache *c)
{
	memset(c->hooks_all, 0, sizeof(c->hooks_all));
	memset(c->hooks_nat, 0, sizeof(c->hooks_nat));
	for (unsigned int i = 0; i < META_BUCKETS; i++) {
		for (const struct meta *e = c->meta[i]; e; e = e->next) {
			int bit = names_hook_parse(e->hook);

			if (bit < 0)
				continue;
			for (unsigned int v = 0; v < 2; v++) {
				uint8_t own = v == 0 ? NFPROTO_IPV4 : NFPROTO_IPV6;

				if (e->family != NFPROTO_INET && e->family != own)
					continue;
				if (e->nat)
					c->hooks_nat[v] |= 1u << bit;
				else
					c->hooks_all[v] |= 1u << bit;
			}
		}
	}
}

static bool families_overlap(uint8_t a, uint8_t b)
{
	return a == b || a == NFPROTO_INET || b == NFPROTO_INET;
}

/* Where a packet goes after a hook: later hooks on its path. */
static unsigned int hooks_after(int bit)
{
	switch (bit) {
	case NF_INET_FORWARD:
	case NF_INET_LOCAL_OUT:
		return 1u << NF_INET_POST_ROUTING;
	case NF_INET_LOCAL_IN:
	case NF_INET_POST_ROUTING:
		return 0;
	}
	return ~0u; /* prerouting: input or forward, not known here */
}

/*
 * Would o see a packet after e accepted it? At the same hook when its
 * priority is higher (equal ones run in no fixed order), or at a later
 * hook of the packet's path, for the families that see the packet.
 */
static bool sees_after(const struct meta *e, const struct meta *o)
{
	int eb = names_hook_parse(e->hook), ob = names_hook_parse(o->hook);

	if (o == e || ob < 0 || !families_overlap(o->family, e->family))
		return false;
	if (ob == eb)
		return !o->has_priority || !e->has_priority || o->priority >= e->priority;
	return hooks_after(eb) & (1u << ob);
}

/*
 * An accept ends a packet's path through the ruleset when no base chain
 * sees the packet after that one: none later at the same hook, none at a
 * later hook of its path, and no bridge or netdev egress chains. nat
 * chains see only a connection's first packet, hence two answers. Only
 * base chains take part: a few, however many regular chains there are.
 */
static void note_final_accepts(struct rulecache *c)
{
	struct meta **base;
	unsigned int nbase = 0, i, j;
	bool later_hooks = false;

	for (i = 0; i < META_BUCKETS; i++)
		for (struct meta *e = c->meta[i]; e; e = e->next)
			if (e->hook)
				nbase++;
	base = calloc(nbase ? nbase : 1, sizeof(*base));
	if (!base) {
		/* no answer is the safe one: accepts wait for their idle time */
		for (i = 0; i < META_BUCKETS; i++)
			for (struct meta *e = c->meta[i]; e; e = e->next)
				e->final_accept = e->final_accept_later = false;
		return;
	}
	nbase = 0;
	for (i = 0; i < META_BUCKETS; i++)
		for (struct meta *e = c->meta[i]; e; e = e->next)
			if (e->hook)
				base[nbase++] = e;
	for (i = 0; i < nbase; i++)
		if (base[i]->family == NFPROTO_BRIDGE ||
		    (base[i]->family == NFPROTO_NETDEV && strcmp(base[i]->hook, "egress") == 0))
			later_hooks = true;
	for (i = 0; i < nbase; i++) {
		struct meta *e = base[i];
		bool ip = e->family == NFPROTO_INET || e->family == NFPROTO_IPV4 ||
			  e->family == NFPROTO_IPV6;

		e->final_accept = e->final_accept_later = false;
		if (later_hooks || !ip || hooks_after(names_hook_parse(e->hook)) == ~0u)
			continue;
		e->final_accept = e->final_accept_later = true;
		for (j = 0; j < nbase; j++) {
			if (!sees_after(e, base[j]))
				continue;
			e->final_accept = false;
			if (!base[j]->nat)
				e->final_accept_later = false;
		}
	}
	free(base);
}

static void meta_changed(struct rulecache *c)
{
	note_base_hooks(c);
	note_final_accepts(c);
}

/* ---- listed chains ---- */

static struct listed **listed_slot(struct rulecache *c, uint32_t hash, uint8_t family,
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

static void lru_unlink(struct rulecache *c, struct listed *l)
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

static void lru_touch(struct rulecache *c, struct listed *l)
{
	if (c->newest == l)
		return;
	lru_unlink(c, l);
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
static void listed_drop(struct rulecache *c, struct listed *l)
{
	if (!l->gone)
		bucket_unlink(c, l);
	lru_unlink(c, l);
	c->bytes -= l->bytes;
	c->stats.bytes = c->bytes;
	c->stats.chains_listed--;
	retire_listed(c, l);
}

static void listed_make_gone(struct rulecache *c, struct listed *l)
{
	if (l->gone)
		return;
	bucket_unlink(c, l);
	l->gone = true;
	/* nothing to say about a chain that never had texts */
	if (l->missing || l->too_big || l->n == 0)
		listed_drop(c, l);
}

/* Oldest first, never keep: down to the budget. */
static void lru_trim(struct rulecache *c, const struct listed *keep)
{
	struct listed *l = c->oldest;

	while (c->bytes > RULECACHE_MAX_BYTES && l) {
		struct listed *newer = l->newer;

		if (l != keep) {
			listed_drop(c, l);
			c->stats.evicted++;
		}
		l = newer;
	}
}

static int index_find(const struct listed *l, uint64_t handle)
{
	uint32_t i;

	if (!l->index)
		return -1;
	for (i = handle_slot(handle) & l->index_mask; l->index[i]; i = (i + 1) & l->index_mask)
		if (l->handles[l->index[i] - 1] == handle)
			return (int)(l->index[i] - 1);
	return -1;
}

static bool is_dead(const struct listed *l, unsigned int i)
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
static const char *text_of(struct rulecache *c, struct listed *l, unsigned int i)
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

static struct deleted **deleted_slot(struct rulecache *c, uint32_t hash, uint8_t family,
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
	d->hash = rule_hash(family, table, handle);
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
		int j = index_find(fresh, old->handles[i]);
		const char *t = scratch_text(c, 0, old, i);

		if (!t)
			continue;
		/* the same handle: deleted only if its text changed */
		if (j >= 0 && !is_dead(old, i)) {
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

struct builder {
	uint64_t *handles;
	uint32_t *ends; /* end of rule i's text (with its NUL) in texts */
	char *texts;
	size_t tlen, tcap;
	unsigned int n, cap;
	int err;
};

static void builder_reset(struct builder *b)
{
	free(b->handles);
	free(b->ends);
	free(b->texts);
	memset(b, 0, sizeof(*b));
}

static int builder_add(struct builder *b, uint64_t handle, const char *text)
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

static struct listed *listed_alloc(uint8_t family, const char *table, const char *name)
{
	struct listed *l = calloc(1, sizeof(*l) + strlen(name) + 1 + strlen(table) + 1);

	if (!l)
		return NULL;
	l->table = copy_names(l->name, name, table);
	l->family = family;
	l->hash = chain_hash(family, table, name);
	l->bytes = sizeof(*l) + strlen(name) + strlen(table) + 2;
	return l;
}

/* The builder's rules as l's store: blocks, deflated where that is shorter. */
static int listed_fill(struct listed *l, struct builder *b)
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

/* ---- parsing listings ---- */

struct parse_ctx {
	struct rulecache *c;
	/* chain metadata into meta (may be NULL) */
	struct meta **meta;
	unsigned int nmeta, nbase;
	/* rule texts: of every chain (want_chain NULL) or of one */
	bool texts;
	uint8_t want_family;
	const char *want_table, *want_chain;
	bool want_seen;
	uint64_t want_handle; /* the chain's own handle, 0 unknown */
	/* the chain being read */
	struct builder b;
	bool building;
	uint8_t cur_family;
	char cur_table[LISTING_NAME_MAX], cur_chain[LISTING_NAME_MAX];
	/* every chain read, for load_listing */
	struct listed **got;
	unsigned int ngot, capgot;
	int err;
};

static int finish_chain(struct parse_ctx *p)
{
	struct listed *l, **g;
	int r;

	if (!p->building)
		return 0;
	p->building = false;
	if (p->want_chain)
		return 0; /* the caller takes p->b */
	l = listed_alloc(p->cur_family, p->cur_table, p->cur_chain);
	if (!l)
		return -ENOMEM;
	r = listed_fill(l, &p->b);
	builder_reset(&p->b);
	if (r < 0) {
		listed_free_now(p->c, l);
		return r;
	}
	if (p->ngot == p->capgot) {
		unsigned int cap = p->capgot ? 2 * p->capgot : 16;

		g = realloc(p->got, cap * sizeof(*g));
		if (!g) {
			listed_free_now(p->c, l);
			return -ENOMEM;
		}
		p->got = g;
		p->capgot = cap;
	}
	p->got[p->ngot++] = l;
	return 0;
}

static int on_chain(void *data, const struct listing_table *t, const struct listing_chain *ch)
{
	struct parse_ctx *p = data;
	int r;

	if (p->meta) {
		r = meta_add(p->c, p->meta, &p->nmeta, &p->nbase, t->family, t->name, ch->name,
			     ch->handle, ch->hook, ch->type, ch->has_priority, ch->priority);
		if (r < 0)
			return r;
	}
	if (!p->texts)
		return 0;
	r = finish_chain(p);
	if (r < 0)
		return r;
	if (p->want_chain && (t->family != p->want_family || strcmp(t->name, p->want_table) != 0 ||
			      strcmp(ch->name, p->want_chain) != 0))
		return 0;
	if (p->want_chain) {
		/* listed twice (a fallback listing): the first one holds */
		if (p->want_seen)
			return 0;
		p->want_seen = true;
		p->want_handle = ch->handle;
	}
	p->building = true;
	p->cur_family = t->family;
	snprintf(p->cur_table, sizeof(p->cur_table), "%s", t->name);
	snprintf(p->cur_chain, sizeof(p->cur_chain), "%s", ch->name);
	return 0;
}

static int on_rule(void *data, const struct listing_table *t, const struct listing_chain *ch,
		   const struct listing_rule *r)
{
	struct parse_ctx *p = data;

	(void)t;
	(void)ch;
	if (!p->building)
		return 0;
	return builder_add(&p->b, r->handle, r->text);
}

static const struct listing_ops parse_ops = {
	.chain = on_chain,
	.rule = on_rule,
};

static int parse(struct parse_ctx *p, const char *text)
{
	int r = listing_parse(text, strlen(text), &parse_ops, p, NULL);

	if (r == 0)
		r = finish_chain(p);
	return r;
}

static void parse_ctx_done(struct parse_ctx *p)
{
	builder_reset(&p->b);
	for (unsigned int i = 0; i < p->ngot; i++)
		listed_free_now(p->c, p->got[i]);
	free(p->got);
	if (p->meta) {
		meta_clear(p->meta);
		free(p->meta);
	}
}

/* The new metadata replaces the old. */
static void meta_install(struct rulecache *c, struct parse_ctx *p)
{
	meta_clear(c->meta);
	free(c->meta);
	c->meta = p->meta;
	c->nmeta = p->nmeta;
	c->nbase = p->nbase;
	c->meta_stale = false;
	p->meta = NULL;
	meta_changed(c);
}

/* l replaces the live chain of its name: what it no longer has was deleted. */
static void listed_install(struct rulecache *c, struct listed *l)
{
	struct listed **pp = listed_slot(c, l->hash, l->family, l->table, l->name), *old = *pp;

	if (old) {
		if (l->missing) {
			/* the chain went: its texts are deleted rules' now */
			listed_make_gone(c, old);
		} else {
			if (old->n && l->index)
				keep_gone_rules(c, old, l);
			listed_drop(c, old);
		}
		pp = listed_slot(c, l->hash, l->family, l->table, l->name);
	}
	l->next = *pp;
	*pp = l;
	lru_push(c, l);
	c->bytes += l->bytes;
	c->stats.bytes = c->bytes;
	c->stats.chains_listed++;
	lru_trim(c, l);
}

int rulecache_load_listing(struct rulecache *c, const char *listing)
{
	struct parse_ctx p = { .c = c, .texts = true };
	struct listed *l, *older;
	uint64_t now = now_ns();
	int r;

	c->gen++;
	p.meta = calloc(META_BUCKETS, sizeof(*p.meta));
	if (!p.meta)
		return -ENOMEM;
	r = parse(&p, listing);
	if (r < 0)
		goto out;
	meta_install(c, &p);
	for (unsigned int i = 0; i < p.ngot; i++) {
		p.got[i]->listed_ns = now;
		p.got[i]->gen = c->gen;
		listed_install(c, p.got[i]);
	}
	/* listed chains that this listing no longer has were deleted */
	for (l = c->newest; l; l = older) {
		older = l->older;
		if (!l->gone && l->gen != c->gen)
			listed_make_gone(c, l);
	}
	p.ngot = 0;
out:
	parse_ctx_done(&p);
	return r;
}

/* ---- libnftables ---- */

static int nft_ctx_fresh(struct rulecache *c)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!nft)
		return -ENOMEM;
	if (nft_ctx_buffer_output(nft) < 0 || nft_ctx_buffer_error(nft) < 0) {
		nft_ctx_free(nft);
		return -ENOMEM;
	}
	nft_ctx_output_set_flags(nft, LIST_FLAGS);
	if (c->nft)
		nft_ctx_free(c->nft);
	c->nft = nft;
	return 0;
}

/*
 * Run a listing command: 0 with its output, -ENOENT when the kernel has
 * no such object, -EINVAL when nft cannot read the command (a name that
 * is a keyword), -EIO otherwise.
 */
static int run_list(struct rulecache *c, const char *cmd, const char **ret_out)
{
	int r = nft_run_cmd_from_buffer(c->nft, cmd);
	const char *err = nft_ctx_get_error_buffer(c->nft);

	*ret_out = nft_ctx_get_output_buffer(c->nft);
	if (r == 0)
		return 0;
	if (err && strstr(err, NOENT_ERR))
		return -ENOENT;
	if (err && strstr(err, "syntax error"))
		return -EINVAL;
	return -EIO;
}

/* After a big listing: drop libnftables' copy of it and give the heap back. */
static void after_big_listing(struct rulecache *c, size_t out_len)
{
	if (out_len < BIG_LISTING_BYTES)
		return;
	if (nft_ctx_fresh(c) < 0)
		return; /* the old context stays: bigger, still right */
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* "list chains": the metadata, replacing what was known. */
static int list_chains(struct rulecache *c)
{
	struct parse_ctx p = { .c = c };
	uint64_t start = now_ns(), cost;
	const char *out;
	int r;

	p.meta = calloc(META_BUCKETS, sizeof(*p.meta));
	if (!p.meta)
		return -ENOMEM;
	/* changes queued so far are covered by the listing that follows */
	c->meta_stale = false;
	r = run_list(c, "list chains", &out);
	if (r == 0)
		r = parse(&p, out);
	if (r == 0)
		meta_install(c, &p);
	else
		c->meta_stale = true;
	cost = now_ns() - start;
	c->meta_next_ns = start + (cost > META_MIN_INTERVAL_NS / RELIST_COST_FACTOR
					   ? cost
					   : META_MIN_INTERVAL_NS / RELIST_COST_FACTOR) *
					  (RELIST_COST_FACTOR + 1);
	parse_ctx_done(&p);
	return r;
}

/*
 * The command that lists a chain. nft 1.0.6 reads no quoted names, so a
 * name that is not a plain identifier (iptables-nft allows any) is found
 * in its table's listing, or in its family's.
 */
static int list_cmd(char *buf, size_t len, uint8_t family, const char *table, const char *chain,
		    int level)
{
	const char *fam = names_family(family);
	bool table_ok = ruletext_plain_name(table, strlen(table));
	int n;

	if (!fam)
		return -EINVAL;
	if (level == 0 && !ruletext_plain_name(chain, strlen(chain)))
		level = 1;
	if (level == 1 && !table_ok)
		level = 2;
	if (level == 0)
		n = snprintf(buf, len, "list chain %s %s %s", fam, table, chain);
	else if (level == 1)
		n = snprintf(buf, len, "list table %s %s", fam, table);
	else
		n = snprintf(buf, len, "list ruleset %s", fam);
	if (n < 0 || (size_t)n >= len)
		return -E2BIG;
	return level;
}

/*
 * List one chain into a new struct listed: its texts, or flagged missing
 * (no such chain) or too big. -errno only when nothing can be said.
 */
static int list_chain(struct rulecache *c, uint8_t family, const char *table, const char *chain,
		      struct listed **ret)
{
	struct parse_ctx p = { .c = c,
			       .texts = true,
			       .want_family = family,
			       .want_table = table,
			       .want_chain = chain };
	char cmd[3 * LISTING_NAME_MAX + 32];
	uint64_t start = now_ns();
	const char *out = "";
	struct listed *l;
	int level = 0, r;

	for (;;) {
		level = list_cmd(cmd, sizeof(cmd), family, table, chain, level);
		if (level < 0) {
			r = level;
			goto out;
		}
		r = run_list(c, cmd, &out);
		/* a keyword for a name: the table's listing has it */
		if (r == -EINVAL && level < 2) {
			level++;
			continue;
		}
		break;
	}
	c->stats.chain_listings++;
	if (r < 0 && r != -ENOENT)
		goto out;
	if (r == 0) {
		r = parse(&p, out);
		if (r < 0)
			goto out;
	}
	l = listed_alloc(family, table, chain);
	if (!l) {
		r = -ENOMEM;
		goto out;
	}
	if (!p.want_seen) {
		l->missing = true;
	} else {
		r = listed_fill(l, &p.b);
		if (r < 0) {
			listed_free_now(c, l);
			goto out;
		}
		if (l->bytes > RULECACHE_MAX_BYTES) {
			struct listed *empty = listed_alloc(family, table, chain);

			listed_free_now(c, l);
			l = empty;
			if (!l) {
				r = -ENOMEM;
				goto out;
			}
			l->too_big = true;
		}
	}
	l->listed_ns = start;
	l->cost_ns = now_ns() - start;
	*ret = l;
	r = 0;
out:
	c->stats.listing_ns += now_ns() - start;
	if (r < 0)
		c->stats.listing_errors++;
	/* the builder first, so that its memory goes back too */
	parse_ctx_done(&p);
	after_big_listing(c, strlen(out));
	return r;
}

/* ---- ruleset change events ---- */

static void lost_events(struct rulecache *c)
{
	/* anything may have changed: list each chain again before trusting it */
	for (struct listed *l = c->newest; l; l = l->older)
		if (!l->gone)
			l->unverified = true;
	c->meta_stale = true;
	c->changed_ns = now_ns();
}

struct event {
	uint8_t family;
	const char *table, *chain;
	uint64_t handle;
	bool has_handle, has_hook;
};

/* Attributes 1-7 of tables, chains and rules: names, handles, hook. */
static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type < 8)
		tb[type] = a;
	return MNL_CB_OK;
}

/* A name attribute that is a NUL-terminated string, else NULL. */
static const char *attr_str(const struct nlattr *a)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
		return NULL;
	return mnl_attr_get_str(a);
}

static bool event_parse(const struct nlmsghdr *nlh, int type, struct event *ev)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[8] = {};
	int name, handle;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*g)) ||
	    mnl_attr_parse(nlh, sizeof(*g), attr_cb, tb) < 0)
		return false;
	memset(ev, 0, sizeof(*ev));
	ev->family = g->nfgen_family;
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
		name = NFTA_TABLE_NAME;
		handle = NFTA_TABLE_HANDLE;
		break;
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
		ev->table = attr_str(tb[NFTA_CHAIN_TABLE]);
		name = NFTA_CHAIN_NAME;
		handle = NFTA_CHAIN_HANDLE;
		ev->has_hook = tb[NFTA_CHAIN_HOOK] != NULL;
		break;
	default:
		ev->table = attr_str(tb[NFTA_RULE_TABLE]);
		name = NFTA_RULE_CHAIN;
		handle = NFTA_RULE_HANDLE;
		break;
	}
	if (type == NFT_MSG_NEWTABLE || type == NFT_MSG_DELTABLE)
		ev->table = attr_str(tb[name]);
	else
		ev->chain = attr_str(tb[name]);
	if (tb[handle] && mnl_attr_validate(tb[handle], MNL_TYPE_U64) >= 0) {
		ev->handle = be64toh(mnl_attr_get_u64(tb[handle]));
		ev->has_handle = true;
	}
	return ev->table && (type == NFT_MSG_NEWTABLE || type == NFT_MSG_DELTABLE || ev->chain);
}

static struct listed *live(struct rulecache *c, uint8_t family, const char *table,
			   const char *chain)
{
	return *listed_slot(c, chain_hash(family, table, chain), family, table, chain);
}

static void on_rule_event(struct rulecache *c, int type, const struct event *ev)
{
	struct listed *l = live(c, ev->family, ev->table, ev->chain);
	int i;

	if (!l)
		return; /* never listed: its first listing will have it */
	i = ev->has_handle ? index_find(l, ev->handle) : -1;
	if (i >= 0)
		l->dead[i / 8] |= 1u << (i % 8);
	/* added, or replaced under the same handle: its text is not known */
	if (type == NFT_MSG_NEWRULE)
		l->dirty = true;
	else if (!ev->has_handle)
		l->unverified = true;
}

/* Every listed chain of a table: texts that may name a renamed chain. */
static void table_dirty(struct rulecache *c, uint8_t family, const char *table)
{
	for (struct listed *l = c->newest; l; l = l->older)
		if (!l->gone && l->family == family && strcmp(l->table, table) == 0)
			l->unverified = true;
}

static void on_chain_event(struct rulecache *c, int type, const struct event *ev)
{
	struct listed *l = live(c, ev->family, ev->table, ev->chain);
	struct meta *m = meta_find(c, ev->family, ev->table, ev->chain);

	if (type == NFT_MSG_DELCHAIN) {
		if (l)
			listed_make_gone(c, l);
		if (m) {
			bool base = m->hook != NULL;

			meta_remove(c, ev->family, ev->table, ev->chain);
			if (base)
				meta_changed(c);
		}
		return;
	}
	/* a chain made under this name: no longer missing, list it anew */
	if (l && (l->missing || l->too_big))
		listed_drop(c, l);
	if (ev->has_hook) {
		c->meta_stale = true; /* hook, priority, type: from "list chains" */
		return;
	}
	if (m)
		return; /* an update of a chain we know (its policy, say) */
	/*
	 * A new name: a new chain, or a renamed one, which changes the text
	 * of every rule that jumps to it.
	 */
	if (ev->has_handle) {
		for (unsigned int i = 0; i < META_BUCKETS; i++) {
			for (struct meta *o = c->meta[i]; o; o = o->next) {
				if (o->family == ev->family && o->handle == ev->handle &&
				    strcmp(o->table, ev->table) == 0) {
					table_dirty(c, ev->family, ev->table);
					c->meta_stale = true;
					return;
				}
			}
		}
	}
	if (c->nmeta >= RULECACHE_MAX_CHAINS) {
		/* not known, so a rename cannot be ruled out */
		table_dirty(c, ev->family, ev->table);
		return;
	}
	meta_add(c, c->meta, &c->nmeta, &c->nbase, ev->family, ev->table, ev->chain, ev->handle,
		 NULL, NULL, false, 0);
}

static void on_table_deleted(struct rulecache *c, const struct event *ev)
{
	struct listed *l, *older;
	bool base = false;

	for (l = c->newest; l; l = older) {
		older = l->older;
		if (!l->gone && l->family == ev->family && strcmp(l->table, ev->table) == 0)
			listed_make_gone(c, l);
	}
	for (unsigned int i = 0; i < META_BUCKETS; i++) {
		struct meta **pp = &c->meta[i];

		while (*pp) {
			struct meta *m = *pp;

			if (m->family != ev->family || strcmp(m->table, ev->table) != 0) {
				pp = &m->next;
				continue;
			}
			base |= m->hook != NULL;
			if (m->hook)
				c->nbase--;
			*pp = m->next;
			c->nmeta--;
			free(m);
		}
	}
	if (base)
		meta_changed(c);
}

static void note_event(struct rulecache *c, const struct nlmsghdr *nlh)
{
	int type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	struct event ev;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return;
	/*
	 * Set, element, object and flowtable changes leave rule text alone
	 * (rules name sets and objects), so a busy blocklist updater costs
	 * nothing here. The kernel reports "destroy" as DEL too.
	 */
	switch (type) {
	case NFT_MSG_NEWTABLE:
		return; /* no chains yet */
	case NFT_MSG_DELTABLE:
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
		break;
	default:
		return;
	}
	c->changed_ns = now_ns();
	if (!event_parse(nlh, type, &ev)) {
		lost_events(c);
		return;
	}
	if (type == NFT_MSG_DELTABLE)
		on_table_deleted(c, &ev);
	else if (type == NFT_MSG_NEWCHAIN || type == NFT_MSG_DELCHAIN)
		on_chain_event(c, type, &ev);
	else
		on_rule_event(c, type, &ev);
}

static void note_events(struct rulecache *c, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left))
		note_event(c, nlh);
}

static void drain(struct rulecache *c)
{
	int fd;

	if (!c->nl)
		return;
	fd = mnl_socket_get_fd(c->nl);
	for (unsigned int i = 0; i < DRAIN_MAX; i++) {
		/* MSG_TRUNC: the real length, to notice a cut message. */
		ssize_t n = recv(fd, c->evbuf, EVENT_BUF_SIZE, MSG_TRUNC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* ENOBUFS: events were lost, so was what changed. */
			lost_events(c);
			if (errno == ENOBUFS)
				continue;
			return;
		}
		if (n > EVENT_BUF_SIZE) {
			lost_events(c);
			continue;
		}
		note_events(c, c->evbuf, (size_t)n);
	}
}

/* ---- life ---- */

static struct rulecache *alloc_cache(void)
{
	struct rulecache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->meta = calloc(META_BUCKETS, sizeof(*c->meta));
	c->listed = calloc(LISTED_BUCKETS, sizeof(*c->listed));
	c->deleted = calloc(DELETED_BUCKETS, sizeof(*c->deleted));
	if (!c->meta || !c->listed || !c->deleted)
		return rulecache_free(c);
	return c;
}

int rulecache_new_offline(struct rulecache **ret)
{
	struct rulecache *c = alloc_cache();

	if (!c)
		return -ENOMEM;
	*ret = c;
	return 0;
}

int rulecache_new(struct rulecache **ret)
{
	unsigned int group = NFNLGRP_NFTABLES;
	struct rulecache *c = alloc_cache();
	int r;

	if (!c)
		return -ENOMEM;
	c->evbuf = malloc(EVENT_BUF_SIZE);
	if (!c->evbuf) {
		r = -ENOMEM;
		goto out;
	}
	/* Subscribe before the first listing, so no change falls between. */
	c->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!c->nl) {
		r = -errno;
		goto out;
	}
	if (mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(c->nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		r = -errno;
		goto out;
	}
	r = nft_ctx_fresh(c);
	if (r < 0)
		goto out;
	r = list_chains(c);
	if (r < 0)
		goto out;
	*ret = c;
	c = NULL;
out:
	rulecache_free(c);
	return r;
}

struct rulecache *rulecache_free(struct rulecache *c)
{
	if (!c)
		return NULL;
	rulecache_epoch_end(c);
	while (c->newest) {
		struct listed *l = c->newest;

		lru_unlink(c, l);
		listed_free_now(c, l);
	}
	for (unsigned int i = 0; i < c->ndeleted; i++)
		free(c->ring[(c->ring_head + i) % RULECACHE_MAX_DELETED]);
	if (c->meta)
		meta_clear(c->meta);
	for (unsigned int i = 0; i < HOOK_NAMES; i++)
		free(c->hook_names[i]);
	free(c->meta);
	free(c->listed);
	free(c->deleted);
	free(c->scratch[0].buf);
	free(c->scratch[1].buf);
	if (c->nft)
		nft_ctx_free(c->nft);
	if (c->nl)
		mnl_socket_close(c->nl);
	free(c->evbuf);
	free(c);
	return NULL;
}

int rulecache_fd(const struct rulecache *c)
{
	return c->nl ? mnl_socket_get_fd(c->nl) : -1;
}

void rulecache_on_readable(struct rulecache *c)
{
	drain(c);
}

void rulecache_offline_lister(struct rulecache *c, const char *(*list)(void *ctx), void *ctx)
{
	c->list = list;
	c->list_ctx = ctx;
}

void rulecache_offline_changed(struct rulecache *c)
{
	lost_events(c);
}

void rulecache_offline_events(struct rulecache *c, const void *buf, size_t len)
{
	note_events(c, buf, len);
}

/* A test's whole listing, as rate-limited as a chain's re-listing. */
static int offline_relist(struct rulecache *c)
{
	uint64_t start = now_ns(), wait;
	const char *text;
	int r;

	if (start < c->list_next_ns)
		return -EAGAIN;
	text = c->list(c->list_ctx);
	r = text ? rulecache_load_listing(c, text) : -EIO;
	c->stats.chain_listings++;
	wait = (now_ns() - start) * (RELIST_COST_FACTOR + 1);
	c->list_next_ns = start + (wait > RELIST_MIN_INTERVAL_NS ? wait : RELIST_MIN_INTERVAL_NS);
	if (r < 0)
		c->stats.listing_errors++;
	return r;
}

int rulecache_sync(struct rulecache *c)
{
	if (!c->nft)
		return 0;
	drain(c);
	if (!c->meta_stale)
		return 0;
	return list_chains(c);
}

int rulecache_refresh(struct rulecache *c)
{
	if (!c->nft) {
		if (c->list && c->meta_stale)
			offline_relist(c);
		return 0;
	}
	drain(c);
	if (!c->meta_stale || now_ns() < c->meta_next_ns)
		return 0;
	return list_chains(c);
}

const struct rulecache_stats *rulecache_stats(const struct rulecache *c)
{
	return &c->stats;
}

/* ---- lookups ---- */

/* May a changed chain be listed again now? */
static bool may_relist(const struct rulecache *c, const struct listed *l)
{
	uint64_t now = now_ns(), wait = l->cost_ns * (RELIST_COST_FACTOR + 1);

	if (now < l->listed_ns + (wait > RELIST_MIN_INTERVAL_NS ? wait : RELIST_MIN_INTERVAL_NS))
		return false;
	return l->cost_ns < QUIET_FROM_COST_NS || now - c->changed_ns >= l->cost_ns;
}

/*
 * The live listed chain, listed now if it never was, or if it changed and
 * handle (0: any) is not known in it. *ret_limited when a bound kept a
 * listing from happening.
 */
static struct listed *get_chain(struct rulecache *c, uint8_t family, const char *table,
				const char *chain, uint64_t handle, bool *ret_limited)
{
	struct listed *l = live(c, family, table, chain), *fresh = NULL;
	int i;

	*ret_limited = false;
	if (l) {
		i = handle ? index_find(l, handle) : -1;
		if (!l->unverified &&
		    ((handle && i >= 0 && !is_dead(l, (unsigned int)i)) || (!handle && !l->dirty)))
			goto found;
		/* a rule just added: its event may still be queued */
		if (!l->dirty && !l->unverified) {
			drain(c);
			l = live(c, family, table, chain);
		}
	}
	if (l && !l->dirty && !l->unverified)
		goto found; /* nothing says a listing would know more */
	if (!c->nft && !c->list)
		goto found; /* offline: what was loaded is all there is */
	if (!c->nft) {
		if (offline_relist(c) == -EAGAIN)
			*ret_limited = true;
		l = live(c, family, table, chain);
		goto found;
	}
	if (l && !may_relist(c, l)) {
		*ret_limited = true;
		goto found;
	}
	if (list_chain(c, family, table, chain, &fresh) < 0)
		goto found;
	listed_install(c, fresh);
	l = fresh;
found:
	if (l)
		lru_touch(c, l);
	return l;
}

/* A deleted chain of that name had it. */
static const char *gone_text(struct rulecache *c, uint8_t family, const char *table,
			     const char *chain, uint64_t handle)
{
	for (struct listed *l = c->newest; l; l = l->older) {
		int i;

		if (!l->gone || l->family != family || strcmp(l->table, table) != 0 ||
		    strcmp(l->name, chain) != 0)
			continue;
		i = index_find(l, handle);
		if (i >= 0)
			return text_of(c, l, (unsigned int)i);
	}
	return NULL;
}

const char *rulecache_rule(struct rulecache *c, uint8_t family, const char *table,
			   const char *chain, uint64_t handle, bool *ret_deleted)
{
	bool limited = false, deleted = false;
	const char *text = NULL;
	struct listed *l = NULL;
	struct deleted *d;
	int i;

	if (chain)
		l = get_chain(c, family, table, chain, handle, &limited);
	if (l && !l->missing && !l->too_big) {
		i = index_find(l, handle);
		if (i >= 0) {
			text = text_of(c, l, (unsigned int)i);
			deleted = is_dead(l, (unsigned int)i);
			if (text)
				goto out;
		}
	}
	/* gone at a re-listing, or with its chain or table */
	d = *deleted_slot(c, rule_hash(family, table, handle), family, table, handle);
	if (d) {
		text = d->text;
		deleted = true;
		goto out;
	}
	if (chain && (text = gone_text(c, family, table, chain, handle))) {
		deleted = true;
		goto out;
	}
	if (limited || (l && l->too_big))
		c->stats.unnamed++;
	return NULL;
out:
	if (ret_deleted)
		*ret_deleted = deleted;
	return text;
}

const char *rulecache_hook(struct rulecache *c, uint8_t family, const char *table,
			   const char *chain)
{
	struct meta *m = meta_find(c, family, table, chain);

	/* a new base chain always comes with an event: read it first */
	if (!m && c->nft) {
		drain(c);
		if (c->meta_stale && now_ns() >= c->meta_next_ns)
			list_chains(c);
		m = meta_find(c, family, table, chain);
	}
	return m ? m->hook : NULL;
}

bool rulecache_final_accept(struct rulecache *c, uint8_t family, const char *table,
			    const char *chain, bool first_packet)
{
	const struct meta *m;

	/* a change not listed yet may have added a later chain: wait */
	if (c->meta_stale)
		return false;
	m = meta_find(c, family, table, chain);
	if (!m)
		return false;
	return first_packet ? m->final_accept : m->final_accept_later;
}

int rulecache_chain_rules(struct rulecache *c, uint8_t family, const char *table, const char *chain,
			  const uint64_t **ret_handles, unsigned int *ret_n)
{
	bool limited;
	struct listed *l = get_chain(c, family, table, chain, 0, &limited);

	if (!l || l->missing || l->too_big)
		return -ENOENT;
	*ret_handles = l->handles;
	*ret_n = l->n;
	return 0;
}

void rulecache_base_hooks(const struct rulecache *c, uint8_t nfproto, unsigned int *ret_all,
			  unsigned int *ret_nat)
{
	unsigned int v = nfproto == NFPROTO_IPV6 ? 1 : 0;

	*ret_all = c->hooks_all[v];
	*ret_nat = c->hooks_nat[v];
}
