/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a rule's text says of its owner, in the terms of the manager whose
 * chain it is in (owner.c's table): fw4's and others' comments, firewalld's
 * forward-ports, Docker's published ports and bridges, the jumps that
 * make a shared chain's rule Docker's or ufw's, iptables-nft's xt
 * expressions. The text is read as ruletext.h's words, a quoted comment
 * one word.
 */
#include <stdio.h>
#include <string.h>

#include "explain.h"
#include "owner_int.h"
#include "ruletext.h"

static const char *const docker_chains[] = {
	"DOCKER",
	"DOCKER-USER",
	"DOCKER-ISOLATION-STAGE-1",
	"DOCKER-ISOLATION-STAGE-2",
	"DOCKER-FORWARD",
	"DOCKER-BRIDGE",
	"DOCKER-CT",
	"DOCKER-INTERNAL",
	NULL,
};

/* ufw's chains, IPv4 and IPv6. */
static const char *const ufw_prefixes[] = {
	"ufw-",
	"ufw6-",
	NULL,
};

typedef struct ruletext_tok tok_t;

/* A quoted token's content, or the token itself. */
static void unquote(const tok_t *t, const char **ret, size_t *ret_len)
{
	if (t->len >= 2 && t->s[0] == '"' && t->s[t->len - 1] == '"') {
		*ret = t->s + 1;
		*ret_len = t->len - 2;
	} else {
		*ret = t->s;
		*ret_len = t->len;
	}
}

static bool all_digits(const tok_t *t)
{
	if (!t->len || t->len > 5)
		return false;
	for (size_t i = 0; i < t->len; i++)
		if (t->s[i] < '0' || t->s[i] > '9')
			return false;
	return true;
}

/* An address, address:port or :port as nft prints a NAT target. */
static bool nat_target(const tok_t *t)
{
	if (!t->len)
		return false;
	for (size_t i = 0; i < t->len; i++) {
		char c = t->s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		      c == '.' || c == ':' || c == '[' || c == ']'))
			return false;
	}
	return true;
}

struct nat_rule {
	tok_t proto; /* tcp, udp, ... of the dport match */
	tok_t dport; /* a single port */
	tok_t to;    /* the NAT target */
	bool redirect;
};

/* "... tcp dport 8080 ... dnat [ip|ip6] to 192.0.2.2:80" or "redirect to :22" */
static bool rule_nat(const char *rule, struct nat_rule *ret)
{
	static const char *const protos[] = { "tcp", "udp", "sctp", "dccp", "udplite", NULL };
	tok_t t[RULETEXT_MAX_TOKENS], l4 = { NULL, 0 };
	unsigned int n = ruletext_split(rule, t, RULETEXT_MAX_TOKENS);
	struct nat_rule r = {};
	bool got_to = false;

	for (unsigned int i = 2; i < n; i++) {
		if (ruletext_is(&t[i - 2], "meta") && ruletext_is(&t[i - 1], "l4proto"))
			l4 = t[i];
		if (ruletext_is(&t[i - 1], "dport") && all_digits(&t[i])) {
			const tok_t *proto = ruletext_is(&t[i - 2], "th") ? &l4 : &t[i - 2];

			for (const char *const *p = protos; proto->s && *p; p++) {
				if (ruletext_is(proto, *p)) {
					r.proto = *proto;
					r.dport = t[i];
				}
			}
		}
		if (!got_to && ruletext_is(&t[i - 1], "to") &&
		    (ruletext_is(&t[i - 2], "dnat") || ruletext_is(&t[i - 2], "redirect") ||
		     (i >= 3 && ruletext_is(&t[i - 3], "dnat") &&
		      (ruletext_is(&t[i - 2], "ip") || ruletext_is(&t[i - 2], "ip6"))))) {
			if (!nat_target(&t[i]))
				return false;
			r.to = t[i];
			r.redirect = ruletext_is(&t[i - 2], "redirect");
			got_to = true;
		}
	}
	if (!got_to || !r.dport.s)
		return false;
	*ret = r;
	return true;
}

/* The first interface the rule matches by name: iif/oif/iifname/oifname X. */
static bool rule_iface(const char *rule, const char **ret, size_t *ret_len)
{
	tok_t t[RULETEXT_MAX_TOKENS];
	unsigned int n = ruletext_split(rule, t, RULETEXT_MAX_TOKENS);

	for (unsigned int i = 1; i < n; i++) {
		if (!ruletext_is(&t[i - 1], "iif") && !ruletext_is(&t[i - 1], "oif") &&
		    !ruletext_is(&t[i - 1], "iifname") && !ruletext_is(&t[i - 1], "oifname"))
			continue;
		/* "!= x", "{ a, b }", "@set": not one interface */
		if (t[i].s[0] == '!' || t[i].s[0] == '{' || t[i].s[0] == '@' || t[i].s[0] == '$')
			return false;
		unquote(&t[i], ret, ret_len);
		return *ret_len > 0;
	}
	return false;
}

static bool rule_jumps_to(const char *rule, const char *const *chains)
{
	tok_t t[RULETEXT_MAX_TOKENS];
	unsigned int n = ruletext_split(rule, t, RULETEXT_MAX_TOKENS);

	for (unsigned int i = 1; i < n; i++) {
		if (!ruletext_is(&t[i - 1], "jump") && !ruletext_is(&t[i - 1], "goto"))
			continue;
		for (const char *const *c = chains; *c; c++)
			if (ruletext_is(&t[i], *c))
				return true;
	}
	return false;
}

/* A jump or goto to a chain whose name starts with one of prefixes. */
static bool rule_jumps_prefix(const char *rule, const char *const *prefixes)
{
	tok_t t[RULETEXT_MAX_TOKENS];
	unsigned int n = ruletext_split(rule, t, RULETEXT_MAX_TOKENS);

	for (unsigned int i = 1; i < n; i++) {
		if (!ruletext_is(&t[i - 1], "jump") && !ruletext_is(&t[i - 1], "goto"))
			continue;
		for (const char *const *p = prefixes; *p; p++) {
			size_t len = strlen(*p);

			if (t[i].len > len && strncmp(t[i].s, *p, len) == 0)
				return true;
		}
	}
	return false;
}

/*
 * Expressions only iptables-nft writes: nft lists a match or target it
 * cannot translate as "xt match NAME" / "xt target NAME".
 */
bool owner_rule_has_xt(const char *rule)
{
	tok_t t[RULETEXT_MAX_TOKENS];
	unsigned int n = ruletext_split(rule, t, RULETEXT_MAX_TOKENS);

	for (unsigned int i = 1; i < n; i++)
		if (ruletext_is(&t[i - 1], "xt") &&
		    (ruletext_is(&t[i], "match") || ruletext_is(&t[i], "target")))
			return true;
	return false;
}

/* The rule's comment, "" if none. */
static const char *rule_comment(const char *rule, char *buf, size_t len)
{
	if (!explain_rule_comment(rule, buf, len))
		buf[0] = '\0';
	return buf;
}

static void port_proto(const struct nat_rule *n, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s/%.*s", (int)n->dport.len, n->dport.s, (int)n->proto.len,
		 n->proto.s);
}

/* What the rule says in the pattern's terms; false if nothing. */
bool owner_rule_parse(const struct chain_pattern *p, const char *chain, const char *rule,
		      struct owner *o)
{
	char buf[OWNER_VALUE_MAX], port[16], comment[OWNER_VALUE_MAX + 8];
	struct nat_rule n;
	const char *s;
	size_t len;

	switch (p->rule) {
	case RULE_NONE:
		return false;
	case RULE_FW4:
		s = rule_comment(rule, comment, sizeof(comment));
		if (strncmp(s, "!fw4: ", 6) != 0 || !s[6])
			return false;
		owner_set_attr(o, strncmp(chain, "dstnat_", 7) == 0 ? "redirect" : "rule", s + 6,
			       strlen(s + 6));
		return true;
	case RULE_COMMENT:
		s = rule_comment(rule, comment, sizeof(comment));
		if (!*s)
			return false;
		owner_set_attr(o, "rule", s, strlen(s));
		return true;
	case RULE_FORWARD_PORT: {
		size_t clen = strlen(chain);

		/* firewalld puts forward-ports in nat_PRE_<zone>_allow only */
		if (clen < 6 || strcmp(chain + clen - 6, "_allow") != 0 || !rule_nat(rule, &n))
			return false;
		port_proto(&n, port, sizeof(port));
		snprintf(buf, sizeof(buf), "%s -> %.*s", port, (int)n.to.len, n.to.s);
		owner_set_attr(o, "forward_port", buf, strlen(buf));
		return true;
	}
	case RULE_PUBLISHED:
		if (!rule_nat(rule, &n) || n.redirect)
			return false;
		port_proto(&n, port, sizeof(port));
		owner_set_attr(o, "published", port, strlen(port));
		owner_set_attr(o, "container", n.to.s, n.to.len);
		return true;
	case RULE_BRIDGE:
		if (!rule_iface(rule, &s, &len))
			return false;
		owner_set_attr(o, "bridge", s, len);
		return true;
	case RULE_JUMPS_DOCKER:
		return rule_jumps_to(rule, docker_chains);
	case RULE_JUMPS_UFW:
		return rule_jumps_prefix(rule, ufw_prefixes);
	}
	return false;
}
