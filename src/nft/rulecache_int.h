/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside src/nft only: what the rule cache's files share. Three stores,
 * all keyed by what a trace event names:
 * - chain metadata (struct meta) for every chain, from "list chains":
 *   hooks and priorities for the "last hook" logic, handles to tell a
 *   renamed chain from a new one (rulecache_meta.c);
 * - listed chains (struct listed), in an LRU bounded in bytes: a chain's
 *   handles in kernel order, an index by handle, and its rule texts in
 *   blocks of BLOCK_RULES, deflated when that saves space; a block is
 *   inflated on use into a hot block (HOT_BLOCKS of them)
 *   (rulecache_store.c);
 * - the deleted ring: texts of rules a re-listing no longer had
 *   (rulecache_store.c).
 * rulecache.h states what stays valid how long; the retire lists in
 * rulecache_store.c implement it. rulecache_listing.c fills the stores
 * from libnftables' listings, rulecache_events.c applies ruleset change
 * events to them, and rulecache.c answers lookups and owns the cache's
 * life.
 */
#ifndef NATTRACED_RULECACHE_INT_H
#define NATTRACED_RULECACHE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rulecache.h"

#define META_BUCKETS	16384
#define LISTED_BUCKETS	1024
#define DELETED_BUCKETS RULECACHE_MAX_DELETED

/* Inflated blocks kept: an explanation meets a few dozen rules. */
#define HOT_BLOCKS 256

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

/* A rule event carries the whole rule; a longer one is cut, so lost. */
#define EVENT_BUF_SIZE 65536
/* Unknown hook keywords kept (the known ones are static). */
#define HOOK_NAMES     16

struct mnl_socket;
struct nft_ctx;

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

struct builder {
	uint64_t *handles;
	uint32_t *ends; /* end of rule i's text (with its NUL) in texts */
	char *texts;
	size_t tlen, tcap;
	unsigned int n, cap;
	int err;
};

/* rulecache_store.c: keys */

uint32_t rulecache_chain_hash(uint8_t family, const char *table, const char *chain);
uint32_t rulecache_rule_hash(uint8_t family, const char *table, uint64_t handle);
/* name and table, one after the other, into dst; returns the table's copy */
const char *rulecache_copy_names(char *dst, const char *name, const char *table);

/* rulecache_store.c: listed chains, their blocks, the deleted ring, epochs */

/* Now, not at the epoch's end: for what was never handed out. */
void rulecache_listed_free_now(struct rulecache *c, struct listed *l);
struct listed **rulecache_listed_slot(struct rulecache *c, uint32_t hash, uint8_t family,
				      const char *table, const char *name);
/* The live listed chain of that name, NULL if none. */
struct listed *rulecache_live(struct rulecache *c, uint8_t family, const char *table,
			      const char *chain);
void rulecache_lru_unlink(struct rulecache *c, struct listed *l);
void rulecache_lru_touch(struct rulecache *c, struct listed *l);
/* Gone from the cache entirely (retired). */
void rulecache_listed_drop(struct rulecache *c, struct listed *l);
/* Its chain was deleted: its texts are deleted rules' now. */
void rulecache_listed_make_gone(struct rulecache *c, struct listed *l);
/* l replaces the live chain of its name: what it no longer has was deleted. */
void rulecache_listed_install(struct rulecache *c, struct listed *l);
/* Rule number of handle in l, -1 if not listed. */
int rulecache_index_find(const struct listed *l, uint64_t handle);
bool rulecache_is_dead(const struct listed *l, unsigned int i);
/* Rule i's text, valid until the epoch ends; NULL if it cannot be inflated. */
const char *rulecache_text_of(struct rulecache *c, struct listed *l, unsigned int i);
struct deleted **rulecache_deleted_slot(struct rulecache *c, uint32_t hash, uint8_t family,
					const char *table, uint64_t handle);

/* rulecache_store.c: building a listed chain from a listing */

void rulecache_builder_reset(struct builder *b);
int rulecache_builder_add(struct builder *b, uint64_t handle, const char *text);
struct listed *rulecache_listed_alloc(uint8_t family, const char *table, const char *name);
/* The builder's rules as l's store: blocks, deflated where that is shorter. */
int rulecache_listed_fill(struct listed *l, struct builder *b);

/* rulecache_meta.c: chain metadata */

struct meta *rulecache_meta_find(const struct rulecache *c, uint8_t family, const char *table,
				 const char *name);
void rulecache_meta_clear(struct meta **buckets);
int rulecache_meta_add(struct rulecache *c, struct meta **buckets, unsigned int *n,
		       unsigned int *nbase, uint8_t family, const char *table, const char *name,
		       uint64_t handle, const char *hook, const char *type, bool has_priority,
		       int32_t priority);
void rulecache_meta_remove(struct rulecache *c, uint8_t family, const char *table,
			   const char *name);
/* After base chains changed: the hooks they cover, the final accepts. */
void rulecache_meta_changed(struct rulecache *c);

/* rulecache_listing.c: libnftables */

/* A new libnftables context, replacing c->nft. 0 or -ENOMEM. */
int rulecache_nft_ctx_fresh(struct rulecache *c);
/* "list chains": the metadata, replacing what was known. */
int rulecache_list_chains(struct rulecache *c);
/*
 * List one chain into a new struct listed: its texts, or flagged missing
 * (no such chain) or too big. -errno only when nothing can be said.
 */
int rulecache_list_chain(struct rulecache *c, uint8_t family, const char *table, const char *chain,
			 struct listed **ret);

/* rulecache_events.c: ruleset change events */

/* Anything may have changed: list each chain again before trusting it. */
void rulecache_lost_events(struct rulecache *c);
void rulecache_note_events(struct rulecache *c, const void *buf, size_t len);
/* Read what the event socket has queued and apply it. */
void rulecache_drain(struct rulecache *c);

#endif
