/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_TRACETABLE_H
#define NATTRACED_TRACETABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Before raw (-300), conntrack (-200) and dstnat (-100). */
#define TRACETABLE_PRIORITY	(-350)
#define TRACETABLE_CHECK_CHAIN	"match_check"

struct tracetable_config {
	uint8_t family;		/* NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6 */
	const char *table;
	unsigned int hooks;	/* bit (1 << NF_INET_*) per hook */
	const char *match;
	const char *rate;	/* "1/second", or NULL for no limit */
	/* Check the match only: the table is deleted again, *ret is NULL. */
	bool check_only;
};

struct tracetable;

/*
 * Create the owned table, check the match, hook the trace chains.
 * Returns 0; -EEXIST if a table of that name exists (touched nothing);
 * -EINVAL if the match was refused (the ruleset is as before); another
 * -errno on failure. err says what happened. ret_listing, if not NULL,
 * gets the check rule's JSON listing (for natfilter; the caller frees
 * it), possibly also when a later step failed.
 */
int tracetable_install(const struct tracetable_config *cfg, struct tracetable **ret,
		       char **ret_listing, char *err, size_t errlen);

/* Delete the table and close the owning context. NULL-safe; returns NULL. */
struct tracetable *tracetable_free(struct tracetable *t);

/*
 * Packets selected for tracing so far: the sum of the trace rules'
 * counters. 0, or -errno if the table could not be listed.
 */
int tracetable_selected(struct tracetable *t, uint64_t *ret_packets);

/*
 * Swap the trace rule for cfg's match, rate and hooks in one atomic batch,
 * after the checks tracetable_install() makes. The table's name and family
 * stay (cfg's must be the same, or 0/NULL). Returns 0; -EINVAL if refused
 * (the old trace runs on, unchanged); another -errno. err says why.
 */
int tracetable_replace(struct tracetable *t, const struct tracetable_config *cfg,
		       char *err, size_t errlen);

/* Name of the trace chain at a hook: "trace_prerouting". */
const char *tracetable_chain_name(unsigned int hook, char *buf, size_t len);

#endif
