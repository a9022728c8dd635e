/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_EXPLAIN_H
#define NATTRACED_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "natmap.h"
#include "timeline.h"

/*
 * What a timeline means: the NAT rewrites and the rules that did them,
 * the jumps and gotos to the deciding rule, the accepting rule of each base
 * chain, a packet lost outside the ruleset, and for drops, set lookups that
 * did not match with the packet's key checked against the set. Pure: the
 * ruleset, interface addresses and set contents come through the resolver.
 */

#define EXPLAIN_MAX_VIA		TL_MAX_PATH
#define EXPLAIN_MAX_NAT		(TL_MAX_NAT + 1)
#define EXPLAIN_MAX_HINTS	8
/* Set membership queries per timeline; more lookups say "not evaluated". */
#define EXPLAIN_MAX_QUERIES	4
/* Rules read per timeline while looking for set lookups that did not match. */
#define EXPLAIN_MAX_RULES	512
/* Rules of one chain considered (the chain's first ones). */
#define EXPLAIN_MAX_CHAIN_RULES	512
#define EXPLAIN_SET_MAX		64
#define EXPLAIN_KEY_MAX		160
#define EXPLAIN_REASON_MAX	128

enum explain_nat_kind {
	EXPLAIN_NAT_DNAT,
	EXPLAIN_NAT_REDIRECT,
	EXPLAIN_NAT_SNAT,
	EXPLAIN_NAT_MASQUERADE,
};

/* How a rewrite was found. */
enum explain_nat_source {
	EXPLAIN_NAT_FROM_HEADERS,	/* headers differ between base chains */
	EXPLAIN_NAT_FROM_RULE,		/* a source NAT rule matched at the last hook */
	EXPLAIN_NAT_FROM_CONNTRACK,	/* the connection is source-NATed already */
};

struct explain_nat {
	enum tl_nat_type type;		/* which address changed */
	enum explain_nat_kind kind;
	enum explain_nat_source source;
	struct packet_info before, after;
	bool addr_known;		/* after's address */
	bool port_known;		/* after's port (when the packet has ports) */
	bool from_ct;			/* after comes from the conntrack entry */
	int at_step;			/* printed before this step; -1 after the last */
	int rule_step;			/* the NAT rule's event, -1 if unknown */
	const char *hook;		/* of the base chain whose rule did it */
	uint32_t oif;			/* masquerade: the interface, 0 unknown */
};

struct explain_hint {
	bool evaluated;			/* false: reason says why not */
	bool member;
	bool negated;			/* "!= @set": the rule wants it absent */
	bool is_map;
	bool suggest;			/* adding the key would let the rule match */
	uint8_t family;
	const char *table, *chain;	/* interned in the timeline table */
	uint64_t handle;		/* of the rule with the lookup */
	char set[EXPLAIN_SET_MAX];
	char key[EXPLAIN_KEY_MAX];	/* nft syntax, "" if not computed */
	char reason[EXPLAIN_REASON_MAX];
};

struct explain {
	struct tl_summary sum;
	const char *hooks[TIMELINE_STEPS_CEILING];	/* hook of each step */
	const char *cause_hook;
	bool reject;			/* the deciding rule rejects */
	/* jump/goto events leading from the base chain to the cause */
	int via[EXPLAIN_MAX_VIA];
	unsigned int n_via;
	/* per base chain left by accept: the deciding event */
	int accepts[TIMELINE_MAX_HDRS];
	unsigned int n_accepts;
	struct explain_nat nat[EXPLAIN_MAX_NAT];
	unsigned int n_nat;
	/* a NATed packet's connection as conntrack holds it, when known */
	bool has_mapping;
	struct natmap mapping;
	/* accepted, then never seen at a later hook that has base chains */
	bool outside;
	const char *outside_after;	/* hook it was last seen at */
	unsigned int outside_expected;	/* hooks (1 << NF_INET_*) expected next */
	struct explain_hint hints[EXPLAIN_MAX_HINTS];
	unsigned int n_hints;
	unsigned int hints_dropped;	/* lookups beyond EXPLAIN_MAX_HINTS */
	unsigned int queries;
};

/*
 * Explain tl. Set membership is only checked for drop verdicts; everything
 * else is cheap (rule text lookups, no allocation).
 */
void explain_timeline(const struct timeline *tl, const struct resolver *r,
		      struct explain *ret);

/*
 * One-line cause: "drop by rule `drop` (handle 11) in inet filter
 * allowed_dnats, reached from inet filter forward at hook forward via jump
 * allowed_dnats (handle 8)". Returns the length snprintf would write.
 */
int explain_cause_str(const struct timeline *tl, const struct explain *ex,
		      const struct resolver *r, char *buf, size_t len);
/* "203.0.113.10 . 22 is not in set inet filter allow_in" (or why not checked). */
int explain_hint_str(const struct explain_hint *h, char *buf, size_t len);
/* "nft add element inet filter allow_in { 203.0.113.10 . 22 }", or 0 and "". */
int explain_hint_command(const struct explain_hint *h, char *buf, size_t len);
/* "masquerade 203.0.113.10:40000 -> 198.51.100.1:40000 via wan0" */
int explain_nat_str(const struct explain_nat *n, const struct resolver *r,
		    char *buf, size_t len);
/* "before -> after" endpoints; after may be "?" */
void explain_nat_endpoints(const struct explain_nat *n, char *from, char *to,
			   size_t len);
const char *explain_nat_kind_name(enum explain_nat_kind k);
const char *explain_nat_source_name(enum explain_nat_source s);
/* "reject", "drop", "accept", "queue", "stolen", "unknown" */
const char *explain_verdict_kind(const struct explain *ex);
/* "input,forward" for hook bits */
void explain_hooks_str(unsigned int hooks, char *buf, size_t len);

/* The text of a rule's comment "...", false if it has none. */
bool explain_rule_comment(const char *rule, char *buf, size_t len);

/*
 * Set lookups in a rule's text. Pure parsing of nft's listing syntax
 * ("ip daddr . tcp dport @allow_in accept", "ip saddr != @blocked",
 * "ip daddr vmap @m"). Statements that use sets (add @s, dnat ... map @m)
 * are not lookups and are skipped.
 */
#define EXPLAIN_MAX_SELECTORS	8
#define EXPLAIN_MAX_LOOKUPS	4

enum explain_selector {
	EXPLAIN_SEL_UNSUPPORTED = 0,
	EXPLAIN_SEL_IP_SADDR, EXPLAIN_SEL_IP_DADDR,
	EXPLAIN_SEL_IP6_SADDR, EXPLAIN_SEL_IP6_DADDR,
	EXPLAIN_SEL_TCP_SPORT, EXPLAIN_SEL_TCP_DPORT,
	EXPLAIN_SEL_UDP_SPORT, EXPLAIN_SEL_UDP_DPORT,
	EXPLAIN_SEL_TH_SPORT, EXPLAIN_SEL_TH_DPORT,
	EXPLAIN_SEL_L4PROTO,
	EXPLAIN_SEL_IIFNAME, EXPLAIN_SEL_OIFNAME,
	EXPLAIN_SEL_MARK,
};

struct explain_lookup {
	char set[EXPLAIN_SET_MAX];
	bool is_map;			/* vmap @m */
	bool negated;
	bool set_name_ok;		/* safe to pass to nft unquoted */
	enum explain_selector sel[EXPLAIN_MAX_SELECTORS];
	unsigned int n_sel;
	bool supported;			/* every selector understood */
	char expr[EXPLAIN_REASON_MAX / 2];	/* the key expression as printed */
};

unsigned int explain_rule_lookups(const char *rule, struct explain_lookup *ret,
				  unsigned int max);

/*
 * Conntrack attributes: say once when a run shows the kernel does not send
 * them. Fires for the first complete timeline that entered a base chain at
 * input, forward or postrouting (always after conntrack, whatever the
 * priority) without them, as long as no timeline ever had them.
 */
struct explain_ct_watch {
	bool seen;
	bool warned;
};

bool explain_ct_watch(struct explain_ct_watch *w, const struct timeline *tl,
		      const struct resolver *r);
/* Linux 6.16 added the trace ct attributes: true for "6.16" and later. */
bool explain_kernel_sends_ct(const char *release);

#endif
