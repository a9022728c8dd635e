/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_EXPLAIN_INT_H
#define NATTRACED_EXPLAIN_INT_H

/*
 * What explain.c (the entry point, the path, the cause) shares with
 * explain_nat.c, explain_outside.c and explain_hints.c. Only src/explain/
 * includes this.
 */
#include <stdbool.h>
#include <stdio.h>

#include <net/if.h>

#include "explain.h"

#define NONE (-1)

/* The text of step i's rule, as resolved at the start of explain_timeline(). */
static inline const char *rule_text(const struct explain *ex, int i)
{
	return ex->rules[i].text;
}

/* An interface's name into buf ("" if unknown): the resolver's is short-lived. */
static inline void ifname_copy(const struct resolver *r, uint32_t ifindex, char buf[IF_NAMESIZE])
{
	const char *name = r && r->ifname ? r->ifname(r->ctx, ifindex) : NULL;

	snprintf(buf, IF_NAMESIZE, "%s", name ? name : "");
}

/* First step of each base chain entry, NONE when it was not kept. */
static inline int base_of(const struct timeline *tl, int i)
{
	bool whole;
	int b = timeline_entry_start(tl, i, &whole);

	return whole ? b : NONE;
}

/* NAT (explain_nat.c): every rewrite the timeline shows, ex->nat[]. */
void explain_find_nat(const struct timeline *tl, const struct resolver *r, struct explain *ex);
/*
 * "1.2.3.4", "1.2.3.4:80", "[2001:db8::1]:80", "2001:db8::1", ":80";
 * ranges and maps leave the address or port unknown.
 */
void explain_parse_nat_target(const struct ruletext_tok *t, struct explain_nat *n);
/*
 * Is text a source (src) or destination NAT rule? Its kind in *ret, its
 * words in t[] (RULETEXT_MAX_TOKENS), their number in *ret_n and the NAT
 * statement's word in *ret_at.
 */
bool explain_nat_rule_kind(const char *text, bool src, enum explain_nat_kind *ret,
			   struct ruletext_tok *t, unsigned int *ret_n, int *ret_at);
/* The NAT rule among steps [from, to) that rewrote the source or destination. */
int explain_find_nat_rule(const struct timeline *tl, const struct explain *ex, int from, int to,
			  bool src, enum explain_nat_kind *ret);

/* An accepted packet lost outside the ruleset, or where it went (explain_outside.c). */
void explain_find_outside(const struct timeline *tl, const struct resolver *r, struct explain *ex);

/* Set lookups that did not match before the cause, checked (explain_hints.c). */
void explain_find_hints(const struct timeline *tl, const struct resolver *r, struct explain *ex);

#endif
