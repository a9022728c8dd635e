/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_RULECACHE_H
#define NATTRACED_RULECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Rule texts and base-chain hooks, from libnftables' "nft -a -s" text.
 *
 * Start-up lists chains only ("list chains"): names, handles, hooks,
 * types and priorities, which the "last hook" logic needs for the whole
 * ruleset. Rule texts are read by chain, lazily: the first time a rule of
 * a chain is asked for, that chain alone is listed ("list chain"). Listed
 * chains are kept compressed in an LRU bounded by RULECACHE_MAX_BYTES, so
 * memory follows the chains packets meet, not the ruleset's size.
 *
 * Ruleset change events (NFNLGRP_NFTABLES) touch only what they name: a
 * rule added to or replaced in a listed chain marks that chain to be
 * listed again when a rule it does not know is asked for; a deleted rule
 * keeps its text, flagged deleted; a deleted chain or table keeps its
 * listed texts as deleted ones until the LRU pushes them out; rules gone
 * at a re-listing go to a ring of RULECACHE_MAX_DELETED texts. Lost events
 * (ENOBUFS) make every listed chain be listed again before it is trusted.
 *
 * Lifetime of what it returns (the contract the explanation relies on):
 * everything the cache hands out (rule texts, handle arrays) stays valid
 * until the next rulecache_epoch_end() or rulecache_free(), whatever
 * lookups, re-listings, ruleset change events, LRU evictions and deleted
 * ring pushes happen in between: what they drop is retired, not freed,
 * and freed when the epoch ends. The daemon ends an epoch before it
 * explains the next timeline, the outputs (text, JSON, journal) of the
 * last one being written, so a text an explanation took stays valid
 * until that explanation and its rendering are done. Hook names are
 * static strings, or interned ones valid until rulecache_free().
 */

/* Chains known from "list chains" (names, handles, hooks), base ones of them. */
#define RULECACHE_MAX_CHAINS	  65536
#define RULECACHE_MAX_BASE_CHAINS 4096
/* Texts of rules gone at a re-listing, kept for packets in flight. */
#define RULECACHE_MAX_DELETED	  1024
/* What listed chains may occupy, compressed, with their indexes. */
#define RULECACHE_MAX_BYTES	  (16u * 1024 * 1024)

struct rulecache;

/* With a libnftables context and a ruleset-event socket; lists chains. */
int rulecache_new(struct rulecache **ret);
/* No kernel access at all: for tests, fed with rulecache_load_listing(). */
int rulecache_new_offline(struct rulecache **ret);
struct rulecache *rulecache_free(struct rulecache *c);

/*
 * Offline: the listing is the whole ruleset ("list ruleset"). Its chains
 * and their rule texts replace the cache's; rules and chains gone since
 * are kept as deleted. 0 or -errno.
 */
int rulecache_load_listing(struct rulecache *c, const char *listing);

/*
 * Free what was retired since the last call: nothing may refer to what
 * the cache handed out before (see above).
 */
void rulecache_epoch_end(struct rulecache *c);

/*
 * For tests: an offline cache that lists as the daemon's does, through
 * list() instead of libnftables. list() returns a whole ruleset listing,
 * valid until its next call, or NULL for a failed listing; a chain to be
 * listed is then taken from it, and the other chains it has too.
 * rulecache_offline_changed() stands for ruleset change events that were
 * lost: every listed chain is listed again before it is trusted.
 */
void rulecache_offline_lister(struct rulecache *c, const char *(*list)(void *ctx), void *ctx);
void rulecache_offline_changed(struct rulecache *c);
/* For tests: ruleset change messages (NFNLGRP_NFTABLES), as if received. */
void rulecache_offline_events(struct rulecache *c, const void *buf, size_t len);

/* fd to poll for ruleset changes, -1 offline */
int rulecache_fd(const struct rulecache *c);
/* Drain the change events and apply them. */
void rulecache_on_readable(struct rulecache *c);
/*
 * Read the pending change events and list the chains again if a base
 * chain changed: at start, once our own table is in place, so the first
 * packets are judged against the ruleset as it is. Never lists rules.
 * 0 or -errno.
 */
int rulecache_sync(struct rulecache *c);
/* Apply pending events; list the chains again if stale (rate-limited). */
int rulecache_refresh(struct rulecache *c);

/*
 * Rule text without "# handle", NULL if unknown; *ret_deleted if gone.
 * Lists the chain on first use, and again if a change event said it has
 * rules the last listing did not (at most 1/(RELIST_COST_FACTOR + 1) of
 * the time for one chain, and not within RELIST_MIN_INTERVAL_NS). Valid
 * until the next rulecache_epoch_end().
 */
const char *rulecache_rule(struct rulecache *c, uint8_t family, const char *table,
			   const char *chain, uint64_t handle, bool *ret_deleted);
/* "prerouting", ... for a base chain; NULL for a regular or unknown chain. */
const char *rulecache_hook(struct rulecache *c, uint8_t family, const char *table,
			   const char *chain);

/*
 * Whether an accept in this base chain ends the packet's path through the
 * ruleset: no base chain of the families that see the packet comes after
 * it, at the same hook or at a later hook of its path (forward and output
 * lead to postrouting), and no bridge or netdev egress chains exist. nat
 * chains count only for a connection's first packet (first_packet). false
 * for prerouting (input or forward follows), for an unknown chain, and
 * while a base chain change is not listed yet. Never lists anything.
 */
bool rulecache_final_accept(struct rulecache *c, uint8_t family, const char *table,
			    const char *chain, bool first_packet);

/*
 * Handles of a chain's rules in listing order, which is the order the
 * kernel evaluates them (rules deleted since are still in it). Lists the
 * chain like rulecache_rule(). 0 or -ENOENT. Valid until the next
 * rulecache_epoch_end().
 */
int rulecache_chain_rules(struct rulecache *c, uint8_t family, const char *table, const char *chain,
			  const uint64_t **ret_handles, unsigned int *ret_n);
/*
 * Hooks (bit 1 << NF_INET_*) where packets of nfproto (NFPROTO_IPV4 or
 * NFPROTO_IPV6) meet a base chain: in *ret_all those of type filter or
 * route, which every packet passes, in *ret_nat those of type nat, which
 * only a connection's first packet passes.
 */
void rulecache_base_hooks(const struct rulecache *c, uint8_t nfproto, unsigned int *ret_all,
			  unsigned int *ret_nat);

struct rulecache_stats {
	unsigned long chain_listings; /* "list chain" runs */
	uint64_t listing_ns;	      /* time they took, all together */
	unsigned long chains_listed;  /* chains in the LRU now, deleted ones too */
	size_t bytes;		      /* what they occupy (RULECACHE_MAX_BYTES) */
	unsigned long evicted;	      /* chains the LRU pushed out */
	/*
	 * Lookups a bound left without text: a changed chain not listed
	 * again yet (rate limit), a chain bigger than RULECACHE_MAX_BYTES.
	 */
	unsigned long unnamed;
	unsigned long listing_errors; /* listings that failed */
};
const struct rulecache_stats *rulecache_stats(const struct rulecache *c);

#endif
