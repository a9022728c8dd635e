/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_TRACETABLE_H
#define NATTRACED_TRACETABLE_H

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
};

struct tracetable;

/*
 * Create the owned table, check the match, hook the trace chains.
 * Returns 0; -EEXIST if a table of that name exists (touched nothing);
 * -EINVAL if the match was refused (the ruleset is as before); another
 * -errno on failure. err says what happened.
 */
int tracetable_install(const struct tracetable_config *cfg,
		       struct tracetable **ret, char *err, size_t errlen);

/* Delete the table and close the owning context. NULL-safe; returns NULL. */
struct tracetable *tracetable_free(struct tracetable *t);

/*
 * Packets selected for tracing so far: the sum of the trace rules'
 * counters. 0, or -errno if the table could not be listed.
 */
int tracetable_selected(struct tracetable *t, uint64_t *ret_packets);

/* Name of the trace chain at a hook: "trace_prerouting". */
const char *tracetable_chain_name(unsigned int hook, char *buf, size_t len);

#endif
