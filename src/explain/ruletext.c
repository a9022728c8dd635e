/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rule text: nft's listing syntax (nft -a -s list ruleset), read token by
 * token with quoted strings (comments) kept whole, so a comment saying
 * "snat" or "@set" is never taken for a statement. Pure.
 */
#include <stdio.h>
#include <string.h>

#include "ruletext.h"

#define NONE (-1)

/* ---- tokens ---- */

/* Space-separated words; a "quoted string" is one token, quotes included. */
unsigned int ruletext_split(const char *text, struct ruletext_tok *t, unsigned int max)
{
	unsigned int n = 0;
	const char *p = text;

	while (*p && n < max) {
		const char *start;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		start = p;
		if (*p == '"') {
			const char *q = strchr(p + 1, '"');

			p = q ? q + 1 : p + strlen(p);
		} else {
			while (*p && *p != ' ')
				p++;
		}
		t[n].s = start;
		t[n].len = (size_t)(p - start);
		n++;
	}
	return n;
}

bool ruletext_is(const struct ruletext_tok *t, const char *word)
{
	return t->len == strlen(word) && memcmp(t->s, word, t->len) == 0;
}

static bool tok_in(const struct ruletext_tok *t, const char *const *words)
{
	for (; *words; words++)
		if (ruletext_is(t, *words))
			return true;
	return false;
}

int ruletext_find(const struct ruletext_tok *t, unsigned int n, const char *word)
{
	for (unsigned int i = 0; i < n; i++)
		if (ruletext_is(&t[i], word))
			return (int)i;
	return NONE;
}

bool ruletext_has_word(const char *rule, const char *word)
{
	struct ruletext_tok t[RULETEXT_MAX_TOKENS];
	unsigned int n;

	if (!rule)
		return false;
	n = ruletext_split(rule, t, RULETEXT_MAX_TOKENS);
	return ruletext_find(t, n, word) != NONE;
}

bool explain_rule_comment(const char *rule, char *buf, size_t len)
{
	struct ruletext_tok t[RULETEXT_MAX_TOKENS];
	unsigned int n;

	if (!rule)
		return false;
	n = ruletext_split(rule, t, RULETEXT_MAX_TOKENS);
	/* The comment is printed last; take the last "comment" keyword. */
	for (int i = (int)n - 2; i >= 0; i--) {
		if (ruletext_is(&t[i], "comment") && t[i + 1].len >= 2 && t[i + 1].s[0] == '"' &&
		    t[i + 1].s[t[i + 1].len - 1] == '"') {
			snprintf(buf, len, "%.*s", (int)t[i + 1].len - 2, t[i + 1].s + 1);
			return true;
		}
	}
	return false;
}

/* ---- set lookups in rule text ---- */

static const struct {
	const char *a, *b; /* b NULL: one word */
	enum explain_selector sel;
} selectors[] = {
	{ "ip", "saddr", EXPLAIN_SEL_IP_SADDR },    { "ip", "daddr", EXPLAIN_SEL_IP_DADDR },
	{ "ip6", "saddr", EXPLAIN_SEL_IP6_SADDR },  { "ip6", "daddr", EXPLAIN_SEL_IP6_DADDR },
	{ "tcp", "sport", EXPLAIN_SEL_TCP_SPORT },  { "tcp", "dport", EXPLAIN_SEL_TCP_DPORT },
	{ "udp", "sport", EXPLAIN_SEL_UDP_SPORT },  { "udp", "dport", EXPLAIN_SEL_UDP_DPORT },
	{ "th", "sport", EXPLAIN_SEL_TH_SPORT },    { "th", "dport", EXPLAIN_SEL_TH_DPORT },
	{ "meta", "l4proto", EXPLAIN_SEL_L4PROTO }, { "meta", "iifname", EXPLAIN_SEL_IIFNAME },
	{ "meta", "oifname", EXPLAIN_SEL_OIFNAME }, { "meta", "mark", EXPLAIN_SEL_MARK },
	{ "iifname", NULL, EXPLAIN_SEL_IIFNAME },   { "oifname", NULL, EXPLAIN_SEL_OIFNAME },
};

/* Words that start a two-word selector (ct needs three: never ours). */
static const char *const selector_heads[] = {
	"ip",	  "ip6",  "tcp", "udp",	   "th",      "meta", "ct",  "sctp", "icmp",  "icmpv6",
	"ether",  "vlan", "arp", "dccp",   "udplite", "ah",   "esp", "comp", "ipsec", "fib",
	"socket", "osf",  "rt",	 "exthdr", "tunnel",  "@ll",  "@nh", "@th",  NULL,
};

/* The selector ending at token j: its start in *ret_start. */
static enum explain_selector selector_at(const struct ruletext_tok *t, int j, int *ret_start)
{
	for (size_t i = 0; i < sizeof(selectors) / sizeof(selectors[0]); i++) {
		if (!selectors[i].b) {
			if (ruletext_is(&t[j], selectors[i].a)) {
				*ret_start = j;
				return selectors[i].sel;
			}
		} else if (j >= 1 && ruletext_is(&t[j - 1], selectors[i].a) &&
			   ruletext_is(&t[j], selectors[i].b)) {
			*ret_start = j - 1;
			return selectors[i].sel;
		}
	}
	*ret_start = j >= 1 && tok_in(&t[j - 1], selector_heads) ? j - 1 : j;
	return EXPLAIN_SEL_UNSUPPORTED;
}

/* nft identifiers: letters, digits, _ . / - (no quoting needed). */
bool ruletext_plain_name(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '/' || c == '-'))
			return false;
	}
	return true;
}

static void copy_expr(char *buf, size_t len, const struct ruletext_tok *t, int from, int to)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = from; i <= to && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%.*s", i > from ? " " : "", (int)t[i].len,
				 t[i].s);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

unsigned int explain_rule_lookups(const char *rule, struct explain_lookup *ret, unsigned int max)
{
	static const char *const statements[] = {
		"map", "add", "update", "delete", "set", NULL,
	};
	struct ruletext_tok t[RULETEXT_MAX_TOKENS];
	unsigned int n, found = 0;

	if (!rule)
		return 0;
	n = ruletext_split(rule, t, RULETEXT_MAX_TOKENS);
	for (unsigned int i = 0; i < n && found < max; i++) {
		struct explain_lookup *l = &ret[found];
		enum explain_selector sels[EXPLAIN_MAX_SELECTORS];
		unsigned int nsel = 0;
		int j = (int)i - 1, start;
		bool supported = true;

		if (t[i].len < 2 || t[i].s[0] != '@')
			continue;
		memset(l, 0, sizeof(*l));
		if (j >= 0 && ruletext_is(&t[j], "vmap")) {
			l->is_map = true;
			j--;
		} else if (j >= 0 && tok_in(&t[j], statements)) {
			continue; /* a statement using the set, not a match */
		} else if (j >= 0 && ruletext_is(&t[j], "!=")) {
			l->negated = true;
			j--;
		} else if (j >= 0 && ruletext_is(&t[j], "==")) {
			j--;
		}
		if (j < 0)
			continue;
		snprintf(l->set, sizeof(l->set), "%.*s", (int)t[i].len - 1, t[i].s + 1);
		l->set_name_ok = t[i].len - 1 < sizeof(l->set) &&
				 ruletext_plain_name(t[i].s + 1, t[i].len - 1);
		/* Right to left: "A . B . C" */
		for (;;) {
			enum explain_selector s = selector_at(t, j, &start);

			if (s == EXPLAIN_SEL_UNSUPPORTED)
				supported = false;
			if (nsel < EXPLAIN_MAX_SELECTORS)
				sels[nsel++] = s;
			else
				supported = false;
			if (start >= 2 && ruletext_is(&t[start - 1], ".")) {
				j = start - 2;
				continue;
			}
			break;
		}
		if (!supported && start > 0 && start > j - 3)
			start = j - 3 > 0 ? j - 3 : 0; /* show some context */
		copy_expr(l->expr, sizeof(l->expr), t, start,
			  (int)i - 1 - (l->is_map || l->negated ? 1 : 0));
		for (unsigned int k = 0; k < nsel; k++)
			l->sel[k] = sels[nsel - 1 - k];
		l->n_sel = nsel;
		l->supported = supported;
		found++;
	}
	return found;
}
