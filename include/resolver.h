/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_RESOLVER_H
#define NATTRACED_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timeline.h"

struct natmap;
struct vanish_query;
struct vanish_result;

/*
 * What explain_timeline() asks of the outside world (the edge): the rule
 * cache, interface names and addresses, conntrack and set contents. Any
 * callback may be NULL; the explanation then says what it could not know.
 * Renderers never see this: they print what explain_timeline() resolved.
 */
struct resolver {
	void *ctx;
	/*
	 * A rule's text, NULL if unknown; chain is the one the event named
	 * (rule texts are read by chain). The string outlives later calls and
	 * re-lists until the explanation has been rendered: the daemon ends
	 * the rule cache's epoch only before the next timeline (rulecache.h).
	 */
	const char *(*rule)(void *ctx, uint8_t family, const char *table, const char *chain,
			    uint64_t handle, bool *ret_deleted);
	const char *(*hook)(void *ctx, uint8_t family, const char *table, const char *chain);
	/* An interface's name, NULL if gone; valid until the next call. */
	const char *(*ifname)(void *ctx, uint32_t ifindex);
	/*
	 * The NAT mapping of a packet's connection: by conntrack id from the
	 * NAT log (--nat-log), else asked of conntrack by the packet's
	 * original tuple (orig, as our trace chain saw it, before conntrack).
	 * ct may be NULL (no ct attributes). NULL if none is known; the
	 * mapping is valid until the next call (explain copies it).
	 */
	const struct natmap *(*mapping)(void *ctx, const struct tl_ct *ct,
					const struct packet_info *orig);

	/* The same, with their own context; any may be NULL. */
	void *xctx;
	/*
	 * Copy the handles of a chain's rules, in the kernel's order, into
	 * ret_handles (at most max). 0 and *ret_n, or -ENOENT.
	 */
	int (*chain_rules)(void *xctx, uint8_t family, const char *table, const char *chain,
			   uint64_t *ret_handles, unsigned int max, unsigned int *ret_n);
	/* Hooks (1 << NF_INET_*) with base chains for nfproto: all, nat. */
	void (*base_hooks)(void *xctx, uint8_t nfproto, unsigned int *ret_all,
			   unsigned int *ret_nat);
	/* The address masquerade uses on ifindex (l3 4 or 6). 0 or -errno. */
	int (*ifaddr)(void *xctx, uint32_t ifindex, uint8_t l3, uint8_t ret_addr[16]);
	/*
	 * Is key (nft syntax) in the set or map? 1 yes, 0 no, or -errno with
	 * the reason in reason. Never changes the set.
	 */
	int (*set_member)(void *xctx, uint8_t family, const char *table, const char *set,
			  const char *key, char *reason, size_t reason_len);
	/*
	 * The comment of key's element in the set or map, as nft lists it
	 * (kube-proxy names a Service only there): 0 and the comment in buf
	 * ("" if it has none), -ENOENT if key is not in it, or another
	 * -errno. Shares set_member's rate limit. Never changes the set.
	 */
	int (*set_elem_comment)(void *xctx, uint8_t family, const char *table, const char *set,
				const char *key, char *buf, size_t len);

	/*
	 * Why a packet the ruleset accepted never reached the next hook
	 * (vanish.h), asked of the kernel, changing nothing. May be NULL.
	 */
	void *vctx;
	void (*vanish)(void *vctx, const struct vanish_query *q, struct vanish_result *ret);
};

#endif
