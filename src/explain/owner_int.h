/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_OWNER_INT_H
#define NATTRACED_OWNER_INT_H

/*
 * What owner.c (the table and the dispatch), owner_rule.c (a rule's text)
 * and owner_kube.c (kube-proxy) share. Only src/explain/ includes this.
 */
#include <stdbool.h>
#include <stddef.h>

#include "owner.h"

enum {
	FAM_IP = 1 << 0,
	FAM_IP6 = 1 << 1,
	FAM_INET = 1 << 2,
};

/* What the rest of a chain name after the pattern's prefix says. */
enum chain_parse {
	CHAIN_PLAIN,	 /* nothing: the manager (and role) only */
	CHAIN_REST,	 /* the rest is the value of key */
	CHAIN_FIREWALLD, /* zone or policy, less _pre/_log/_deny/_allow/_post */
	CHAIN_KUBE,	 /* HASH-ns/name/proto/port[__addr/port] */
	CHAIN_NETAVARK,	 /* netid_subnet[_dnat] */
};

/* What the rule's text says, for rules in the pattern's chains. */
enum rule_parse {
	RULE_NONE,
	RULE_FW4,	   /* comment "!fw4: NAME" */
	RULE_COMMENT,	   /* any comment names the rule */
	RULE_FORWARD_PORT, /* firewalld forward-port: dport, dnat/redirect to */
	RULE_PUBLISHED,	   /* a published port: dport, dnat to the container */
	RULE_BRIDGE,	   /* the interface it matches on */
	RULE_JUMPS_DOCKER, /* jumps to a Docker chain (then only it counts) */
	RULE_JUMPS_UFW,	   /* jumps to a ufw chain (then only it counts) */
};

struct chain_pattern {
	const char *manager;
	unsigned int families;
	const char *table;
	const char *chain; /* exact, or a prefix when ending in '*' */
	enum chain_parse parse;
	const char *key;  /* of the value parse finds */
	const char *role; /* a fixed "role", or NULL */
	enum rule_parse rule;
	bool iptables; /* the table is iptables-nft's */
	/* a chain others write to as well: only rules that say so count */
	bool needs_rule;
};

/* Add key's value (cut to OWNER_VALUE_MAX), with key's label; at most OWNER_MAX_ATTRS. */
void owner_set_attr(struct owner *o, const char *key, const char *s, size_t len);
/* Empty: what owner_known() and the renderers read (no 1 KiB clearing per event). */
void owner_clear(struct owner *o);

/* What the rule says in the pattern's terms (owner_rule.c); false if nothing. */
bool owner_rule_parse(const struct chain_pattern *p, const char *chain, const char *rule,
		      struct owner *o);
/* Does the rule use xt expressions (iptables-nft's translation)? */
bool owner_rule_has_xt(const char *rule);

/* A kube-proxy chain name after its prefix, "ULMVA6XW-ns1/svc1/tcp/p80__192.0.2.11/80". */
bool owner_chain_kube(const char *rest, struct owner *o);

#endif
