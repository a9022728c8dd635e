/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_LISTING_H
#define NATTRACED_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parser for the text libnftables prints for "list ruleset" with
 * NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_STATELESS (nft -a -s), optionally
 * with NFT_CTX_OUTPUT_TERSE. Pure: no kernel, no libnftables.
 *
 * It relies on the printer's layout rather than on nft's grammar: one tab
 * per nesting level, a rule on one line ending in " # handle N", and table
 * and chain names printed unquoted (nft 1.0.6 prints "chain my chain {").
 * Indentation, not brace counting, finds the end of a block, so braces, ';'
 * and '#' in comments, names and set elements cannot confuse it.
 */

/* NFT_NAME_MAXLEN: the kernel's limit for table and chain names, with NUL. */
#define LISTING_NAME_MAX       256
/* Longest hook keyword kept ("postrouting" is 11). */
#define LISTING_HOOK_MAX       16
/* Longest chain type kept ("filter", "route", "nat"). */
#define LISTING_TYPE_MAX       16
/* Longer rule text is cut and ends in LISTING_TRUNCATED_MARK. */
#define LISTING_RULE_MAX       4096
#define LISTING_TRUNCATED_MARK "..."

struct listing_table {
	uint8_t family; /* NFPROTO_* */
	const char *name;
	uint64_t handle; /* 0 if the listing has no handles */
};

struct listing_chain {
	const char *name;
	const char *hook; /* "input", ...; NULL for a regular chain */
	uint64_t handle;
	const char *type; /* "filter", "nat", "route"; NULL for a regular chain */
	int32_t priority; /* base chains: "priority filter + 10" is 10 */
	bool has_priority;
};

struct listing_rule {
	uint64_t handle;
	/* Without indentation and " # handle N"; a rule printed over several
	 * lines (a chain binding, "jump { ... }") is joined with "; ". */
	const char *text;
	bool truncated;
};

/*
 * Callbacks; any may be NULL. The structs and strings they get live only
 * for the call. A negative return stops the parse, which returns it.
 * table comes before its chains; a chain is reported once its hook is
 * known, which is before its first rule.
 */
struct listing_ops {
	int (*table)(void *data, const struct listing_table *t);
	int (*chain)(void *data, const struct listing_table *t, const struct listing_chain *c);
	int (*rule)(void *data, const struct listing_table *t, const struct listing_chain *c,
		    const struct listing_rule *r);
};

/* What the parse saw and what it could not use. */
struct listing_stats {
	unsigned int tables;
	unsigned int chains;
	unsigned int rules;
	unsigned int truncated;	     /* rules cut at LISTING_RULE_MAX */
	unsigned int skipped_tables; /* unknown family, over-long name */
	unsigned int skipped_chains; /* over-long name */
	unsigned int skipped_lines;  /* lines that fit no rule */
};

/*
 * Parse len bytes of text, or up to a NUL byte before that. Lines that
 * fit no known shape are skipped and counted; only a callback's error
 * stops it. Returns 0 or that callback's -errno. ret_stats may be NULL and
 * is only written on success.
 */
int listing_parse(const char *text, size_t len, const struct listing_ops *ops, void *data,
		  struct listing_stats *ret_stats);

/* NFPROTO_* for "ip", "ip6", "inet", "arp", "bridge", "netdev"; -EINVAL. */
int listing_family(const char *word, size_t len);

#endif
