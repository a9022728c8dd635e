/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_RULECACHE_H
#define NATTRACED_RULECACHE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Rule text and base-chain hooks by (family, table, handle/chain), from
 * libnftables' "nft -a -s list ruleset" text. Follows ruleset changes:
 * NFNLGRP_NFTABLES events mark it stale, and an unknown handle forces one
 * re-list (rate-limited). Rules that disappear keep their text, flagged
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
 * Rule text without "# handle", NULL if unknown; *ret_deleted if gone.
 * The text survives later lookups and re-lists; it dies once its rule has
 * left the listing and RULECACHE_MAX_DELETED later deletions pushed it
 * out of the deleted ring, or at rulecache_free().
 */
const char *rulecache_rule(struct rulecache *c, uint8_t family, const char *table, uint64_t handle,
			   bool *ret_deleted);
/*
 * "prerouting", ... for a base chain; NULL for a regular or unknown chain.
 * A static string, except a hook keyword names.c does not know, which
 * lives until a re-list no longer lists its chain with that hook.
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
