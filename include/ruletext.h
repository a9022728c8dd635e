/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_RULETEXT_H
#define NATTRACED_RULETEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Rule text as nft lists it (nft -a -s list ruleset): words, with a
 * "quoted string" (a comment) one token, quotes included. Pure parsing.
 */
#define RULETEXT_MAX_TOKENS 128

struct ruletext_tok {
	const char *s; /* into the text: not terminated */
	size_t len;
};

/* Split text into at most max tokens; returns how many. */
unsigned int ruletext_split(const char *text, struct ruletext_tok *t, unsigned int max);
bool ruletext_is(const struct ruletext_tok *t, const char *word);
/* The first token that is word, -1 if none. */
int ruletext_find(const struct ruletext_tok *t, unsigned int n, const char *word);
/* word is a whole token of rule (false for a NULL rule). */
bool ruletext_has_word(const char *rule, const char *word);
/* An nft identifier (letters, digits, _ . / -): no quoting needed. */
bool ruletext_plain_name(const char *s, size_t len);

#define EXPLAIN_SET_MAX	   64
#define EXPLAIN_REASON_MAX 128

/* The text of a rule's comment "...", false if it has none. */
bool explain_rule_comment(const char *rule, char *buf, size_t len);

/*
 * Set lookups in a rule's text. Pure parsing of nft's listing syntax
 * ("ip daddr . tcp dport @allow_in accept", "ip saddr != @blocked",
 * "ip daddr vmap @m"). Statements that use sets (add @s, dnat ... map @m)
 * are not lookups and are skipped.
 */
#define EXPLAIN_MAX_SELECTORS 8
#define EXPLAIN_MAX_LOOKUPS   4

enum explain_selector {
	EXPLAIN_SEL_UNSUPPORTED = 0,
	EXPLAIN_SEL_IP_SADDR,
	EXPLAIN_SEL_IP_DADDR,
	EXPLAIN_SEL_IP6_SADDR,
	EXPLAIN_SEL_IP6_DADDR,
	EXPLAIN_SEL_TCP_SPORT,
	EXPLAIN_SEL_TCP_DPORT,
	EXPLAIN_SEL_UDP_SPORT,
	EXPLAIN_SEL_UDP_DPORT,
	EXPLAIN_SEL_TH_SPORT,
	EXPLAIN_SEL_TH_DPORT,
	EXPLAIN_SEL_L4PROTO,
	EXPLAIN_SEL_IIFNAME,
	EXPLAIN_SEL_OIFNAME,
	EXPLAIN_SEL_MARK,
};

struct explain_lookup {
	char set[EXPLAIN_SET_MAX];
	bool is_map; /* vmap @m */
	bool negated;
	bool set_name_ok; /* safe to pass to nft unquoted */
	enum explain_selector sel[EXPLAIN_MAX_SELECTORS];
	unsigned int n_sel;
	bool supported;			   /* every selector understood */
	char expr[EXPLAIN_REASON_MAX / 2]; /* the key expression as printed */
};

unsigned int explain_rule_lookups(const char *rule, struct explain_lookup *ret, unsigned int max);

#endif
