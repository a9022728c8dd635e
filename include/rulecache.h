/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_RULECACHE_H
#define NATTRACED_RULECACHE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Rule text and base-chain hooks by (family, table, handle/chain), from
 * libnftables' "nft -a -s list ruleset" text. Follows ruleset changes:
 * NFNLGRP_NFTABLES events mark it stale, and an unknown handle forces one
 * re-list; every re-list but rulecache_sync() keeps to a rate limit set by
 * what listing costs. Rules that disappear keep their text, flagged
 * deleted, up to RULECACHE_MAX_DELETED of them.
 */
#define RULECACHE_MAX_RULES   65536
#define RULECACHE_MAX_CHAINS  4096
#define RULECACHE_MAX_DELETED 1024

struct rulecache;

/* With a libnftables context and a ruleset-event socket. */
int rulecache_new(struct rulecache **ret);
/* No kernel access at all: for tests, fed with rulecache_load_listing(). */
int rulecache_new_offline(struct rulecache **ret);
struct rulecache *rulecache_free(struct rulecache *c);

/*
 * For tests: an offline cache that lists again as the daemon's does (on a
 * lookup that misses, at rulecache_refresh()), through list() instead of
 * libnftables. list() returns the listing, valid until its next call, or
 * NULL for a failed listing. rulecache_offline_changed() stands for a
 * ruleset change event: the cache is stale from then on.
 */
void rulecache_offline_lister(struct rulecache *c, const char *(*list)(void *ctx), void *ctx);
void rulecache_offline_changed(struct rulecache *c);

/* Replace the contents with a listing; rules gone since are kept as deleted. */
int rulecache_load_listing(struct rulecache *c, const char *listing);

/* fd to poll for ruleset changes, -1 offline */
int rulecache_fd(const struct rulecache *c);
/* Drain the change events; marks the cache stale. */
void rulecache_on_readable(struct rulecache *c);
/*
 * Read the pending change events and re-list now if the ruleset changed,
 * whatever the rate limit: at start, once our own table is in place, so
 * the first packets are named and judged against the ruleset as it is.
 * Waits up to 100 ms for the ruleset to be quiet as long as a listing
 * takes; a ruleset that takes longer to list is left for later (the cache
 * stays stale, which is safe). 0 or -errno.
 */
int rulecache_sync(struct rulecache *c);

/* Re-list if stale. 0 or -errno. */
int rulecache_refresh(struct rulecache *c);

/*
 * Lifetime of the strings handed out (rule texts, hook names): each stays
 * valid until the next rulecache_epoch_end() or rulecache_free(), whatever
 * lookups and re-lists come before it. A lookup that misses may re-list in
 * the middle of an explanation, and a re-list may drop rules whose text
 * that explanation already holds: what it drops is retired, not freed.
 * After the epoch a text may live on (while its rule is listed, or among
 * the last RULECACHE_MAX_DELETED rules deleted), but nothing promises it.
 *
 * End an epoch once nothing refers to the strings handed out before: the
 * daemon does so before it explains the next timeline, its outputs (text,
 * JSON, journal) of the last one being written. Without it, what re-lists
 * retire is only freed by rulecache_free().
 */
void rulecache_epoch_end(struct rulecache *c);

/*
 * Rule text without "# handle", NULL if unknown; *ret_deleted if gone.
 * Valid until the next rulecache_epoch_end() (see above).
 */
const char *rulecache_rule(struct rulecache *c, uint8_t family, const char *table, uint64_t handle,
			   bool *ret_deleted);
/*
 * "prerouting", ... for a base chain; NULL for a regular or unknown chain.
 * A static string, except a hook keyword names.c does not know, which is
 * valid until the next rulecache_epoch_end().
 */
const char *rulecache_hook(struct rulecache *c, uint8_t family, const char *table,
			   const char *chain);

/*
 * Whether an accept in this base chain ends the packet's path through the
 * ruleset: no base chain of the families that see the packet comes after
 * it, at the same hook or at a later hook of its path (forward and output
 * lead to postrouting), and no bridge or netdev egress chains exist. nat
 * chains count only for a connection's first packet (first_packet). false
 * for prerouting (input or forward follows), for an unknown chain, and
 * while a ruleset change is not listed yet. Never lists the ruleset.
 */
bool rulecache_final_accept(struct rulecache *c, uint8_t family, const char *table,
			    const char *chain, bool first_packet);

/*
 * Handles of a chain's rules in listing order, which is the order the
 * kernel evaluates them. 0 or -ENOENT. The array is valid until the next
 * re-list, which a rulecache_rule() miss can trigger: copy it first.
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

#endif
