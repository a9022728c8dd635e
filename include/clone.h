/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_CLONE_H
#define NATTRACED_CLONE_H

/*
 * A throwaway copy of a network namespace as netfilter and routing see
 * it (--replay, --check, --verify). Two new network namespaces, held by
 * file descriptors only (never bind-mounted, never named), so the kernel
 * removes them, and every veth in them, when the process ends, SIGKILL
 * included:
 *   the clone    interfaces by name (veth), their addresses, MTU and
 *                up/down state; routes of every table; policy-routing
 *                rules; the sysctls that change the path; the ruleset
 *                from one listing, set elements included
 *   the peer     the far end of every veth, same name, up: packets are
 *                injected there and seen leaving there
 * The source namespace is only read.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clone;

struct clone_opts {
	/* our own trace table's name (options' table): never copied */
	const char *skip_table;
	/* --ruleset: load this file instead of the source's ruleset */
	const char *ruleset_file;
};

/*
 * Copy the namespace the calling thread is in. 0, or -errno with err
 * naming what is missing or what cannot be copied (no CAP_SYS_ADMIN, a
 * bridge topology not copied, a ruleset nft cannot load back, ...): the
 * caller exits 2 with it. The calling thread is back in its namespace
 * on return.
 */
int clone_new(const struct clone_opts *o, struct clone **ret, char *err, size_t errlen);
struct clone *clone_free(struct clone *c);

/* Move the calling thread into the clone, the peer, or back. 0 or -errno. */
int clone_enter(const struct clone *c);
int clone_enter_peer(const struct clone *c);
int clone_leave(const struct clone *c);
/* Is the calling thread in the clone? (the replay checks before each packet) */
bool clone_is_current(const struct clone *c);

/* The clone's and the peer's ifindex of interface name; 0 if none. */
uint32_t clone_ifindex(const struct clone *c, const char *name);
uint32_t clone_peer_ifindex(const struct clone *c, const char *name);
/* The peer's far end names the clone's interface with ifindex clone_ifindex. */
const char *clone_ifname(const struct clone *c, uint32_t clone_ifindex);

/*
 * The source ruleset's handle of the clone's rule (family, table,
 * handle): true and *real set, false for a rule the source does not
 * have (added by a change) or with --ruleset.
 */
bool clone_real_handle(const struct clone *c, uint8_t family, const char *table,
		       uint64_t clone_handle, uint64_t *real);

/* The other way: the clone's handle of the source's rule. */
bool clone_clone_handle(const struct clone *c, uint8_t family, const char *table, uint64_t real,
			uint64_t *clone_handle);
/* The map's entry i (0, 1, ... until false), in the clone's handle order. */
bool clone_map_entry(const struct clone *c, size_t i, uint8_t *family, const char **table,
		     uint64_t *clone_handle, uint64_t *real);

/*
 * Apply nft commands to the clone's ruleset only, in one batch. Rule
 * handles in them ("handle N", "position N") are the source's, as the
 * user read them, and are translated. 0, or -errno with nft's message.
 */
int clone_apply_change(struct clone *c, const char *nft_text, char *err, size_t errlen);
/* Undo every change: the ruleset as first copied (same handle map). */
int clone_reset_ruleset(struct clone *c, char *err, size_t errlen);
/* Forget every conntrack entry in the clone: the next packet is a first one. */
int clone_flush_conntrack(const struct clone *c);

/*
 * Recreate a connection's conntrack entry in the clone (established, its
 * NAT from the tuples; replaypkt.h), after clone_flush_conntrack(). 0, or
 * -errno with err.
 */
struct replay_ct;
int clone_conntrack_create(const struct clone *c, const struct replay_ct *ct, uint8_t l3,
			   uint8_t l4proto, char *err, size_t errlen);

/* What a copy cannot carry, one paragraph, for stderr and the README. */
const char *clone_limits(void);

#endif
