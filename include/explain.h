/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_EXPLAIN_H
#define NATTRACED_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/if.h>

#include "natmap.h"
#include "owner.h"
#include "resolver.h"
#include "ruletext.h"
#include "timeline_read.h"
#include "vanish.h"

/*
 * What a timeline means: the NAT rewrites and the rules that did them,
 * the jumps and gotos to the deciding rule, the accepting rule of each base
 * chain, a packet lost outside the ruleset, and for drops, set lookups that
 * did not match with the packet's key checked against the set.
 *
 * explain_timeline() is the one place that asks (through the resolver:
 * rule text, hooks, interface names and addresses, conntrack, set
 * contents). It runs once per timeline, in the daemon; what it found,
 * names included, is in struct explain, and the renderers (format.h,
 * journal.h and the *_str functions below) only print that.
 */

#define EXPLAIN_MAX_VIA		TL_MAX_PATH
#define EXPLAIN_MAX_NAT		(TL_MAX_NAT + 1)
#define EXPLAIN_MAX_HINTS	8
/* Set membership queries per timeline; more lookups say "not evaluated". */
#define EXPLAIN_MAX_QUERIES	4
/* Rules read per timeline while looking for set lookups that did not match. */
#define EXPLAIN_MAX_RULES	512
/* Rules of one chain considered (the chain's first ones). */
#define EXPLAIN_MAX_CHAIN_RULES 512
#define EXPLAIN_KEY_MAX		160

enum explain_nat_kind {
	EXPLAIN_NAT_DNAT,
	EXPLAIN_NAT_REDIRECT,
	EXPLAIN_NAT_SNAT,
	EXPLAIN_NAT_MASQUERADE,
	/* a reply's source restored by conntrack: the reverse of a dnat */
	EXPLAIN_NAT_UNDNAT,
};

/* How a rewrite was found. */
enum explain_nat_source {
	EXPLAIN_NAT_FROM_HEADERS,   /* headers differ between base chains */
	EXPLAIN_NAT_FROM_RULE,	    /* a source NAT rule matched at the last hook */
	EXPLAIN_NAT_FROM_CONNTRACK, /* the connection is source-NATed already */
};

struct explain_nat {
	enum tl_nat_type type; /* which address changed */
	enum explain_nat_kind kind;
	enum explain_nat_source source;
	struct packet_info before, after;
	bool addr_known;	    /* after's address */
	bool port_known;	    /* after's port (when the packet has ports) */
	bool from_ct;		    /* after comes from the conntrack entry */
	int at_step;		    /* printed before this step; -1 after the last */
	int rule_step;		    /* the NAT rule's event, -1 if unknown */
	const char *hook;	    /* of the base chain whose rule did it */
	uint32_t oif;		    /* masquerade: the interface, 0 unknown */
	char oif_name[IF_NAMESIZE]; /* its name, "" if unknown */
};

enum explain_verified {
	EXPLAIN_NOT_VERIFIED = 0, /* not asked (no --verify, rate limit, no clone) */
	EXPLAIN_VERIFIED,	  /* with the command the packet is accepted */
	EXPLAIN_NOT_ENOUGH,	  /* ... and still dropped: verified_cause says where */
};
#define EXPLAIN_VERIFIED_MAX 384

struct explain_hint {
	bool evaluated; /* false: reason says why not */
	bool member;
	bool negated; /* "!= @set": the rule wants it absent */
	bool is_map;
	bool suggest; /* adding the key would let the rule match */
	uint8_t family;
	const char *table, *chain; /* interned in the timeline table */
	uint64_t handle;	   /* of the rule with the lookup */
	char set[EXPLAIN_SET_MAX];
	char key[EXPLAIN_KEY_MAX]; /* nft syntax, "" if not computed */
	char reason[EXPLAIN_REASON_MAX];
	/* --verify: the packet replayed in a clone with the hint's command */
	enum explain_verified verified;
	char verified_verdict[16];		  /* "accept", "drop", "reject", ... */
	char verified_cause[EXPLAIN_VERIFIED_MAX]; /* the replay's verdict line */
};

/* A step's rule as the rule cache knew it when the timeline was explained. */
struct explain_rule {
	const char *text; /* NULL if unknown; see resolver.h for its life */
	bool deleted;
	bool added; /* --replay: came with --change, the source has no such rule */
};

struct explain {
	struct tl_summary sum;
	/* names the renderers print, resolved once */
	struct explain_rule rules[TIMELINE_STEPS_CEILING]; /* of each step */
	char iif[TIMELINE_MAX_HDRS][IF_NAMESIZE];	   /* of each header, "" unknown */
	char oif[TIMELINE_MAX_HDRS][IF_NAMESIZE];
	const char *hooks[TIMELINE_STEPS_CEILING]; /* hook of each step */
	const char *cause_hook;
	bool reject; /* the deciding rule rejects */
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
	const char *outside_after;     /* hook it was last seen at */
	unsigned int outside_expected; /* hooks (1 << NF_INET_*) expected next */
	/* why, as the kernel says (resolver->vanish); also input: no listener */
	struct vanish_result outside_why;
	/*
	 * kube-proxy: the Service named by the comment of the no-endpoints
	 * map element step kube_step looked up ("" none; owner_kube_resolve())
	 */
	int kube_step;
	char kube_service[OWNER_VALUE_MAX];
	/*
	 * Accepted, and no later chain of the ruleset would see it: where the
	 * kernel sends it (outside_why.next, vanish_next_name()), after the
	 * hook outside_after. Never together with outside.
	 */
	bool after_ruleset;
	bool asked_kernel; /* outside_why holds the kernel's answer */
	/* who wrote the deciding rule, in its terms (owner_of_cause()) */
	bool has_cause_owner;
	struct owner cause_owner;
	struct explain_hint hints[EXPLAIN_MAX_HINTS];
	unsigned int n_hints;
	unsigned int hints_dropped; /* lookups beyond EXPLAIN_MAX_HINTS */
	unsigned int queries;
};

/*
 * Explain tl. Set membership is only checked for drop verdicts; everything
 * else is cheap (rule text lookups, no allocation). ret refers to tl's
 * strings: use it while tl lives.
 */
void explain_timeline(const struct timeline *tl, const struct resolver *r, struct explain *ret);

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
