/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which manager wrote a rule: table-driven recognition of the rulesets that
 * firewalld, OpenWrt fw4, Docker (through iptables-nft), kube-proxy
 * (nftables mode), libvirt, netavark (Podman), ufw (through
 * iptables-nft), wg-quick and Incus generate. Only names and
 * conventions these generators are seen to produce are recognised; the
 * real rulesets under tests/rulesets/ and the unit test show each one.
 */
#include <stdio.h>
#include <string.h>

#include <linux/netfilter.h>

#include "explain.h"
#include "jsonw.h"
#include "owner.h"
#include "strbuf.h"
#include "packet.h"
#include "ruletext.h"
#include "timeline_read.h"

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

/*
 * First match wins. Sources of each convention:
 *
 * firewalld (nftables backend, table "firewalld"; 1.3.3 in
 * tests/rulesets/firewalld): <table>_<part>_<zone>[_pre|_log|_deny|_allow|
 * _post], policies as <table>_<part>_policy_<policy>[_...]; forward-ports
 * are dnat (toaddr) or redirect (toport only) rules in nat_PRE_<zone>_allow.
 * The rest (filter_INPUT, filter_INPUT_ZONES, ..._POLICIES_pre) is
 * firewalld's own dispatch.
 */
#define FIREWALLD(prefix, what)                                                                 \
	{                                                                                       \
		"firewalld", FAM_IP | FAM_IP6 | FAM_INET, "firewalld", prefix, CHAIN_FIREWALLD, \
			what, NULL, RULE_NONE, false, false                                     \
	}
#define FIREWALLD_NAT(prefix, what)                                                             \
	{                                                                                       \
		"firewalld", FAM_IP | FAM_IP6 | FAM_INET, "firewalld", prefix, CHAIN_FIREWALLD, \
			what, NULL, RULE_FORWARD_PORT, false, false                             \
	}
/*
 * fw4 (table inet fw4; openwrt/firewall4 root/usr/share/firewall4/templates
 * and tests/01_configuration/01_ruleset in tests/rulesets/fw4): chains per
 * zone input_<zone>, output_<zone>, forward_<zone>, helper_<zone>,
 * dstnat_<zone>, srcnat_<zone>, and the verdict chains
 * {accept,reject,drop}_{from,to}_<zone>; every rule says its name or
 * purpose in a comment "!fw4: NAME". Redirects live in dstnat_<zone>.
 * Others add chains to table fw4 (miniupnpd's upnp_*, the user's
 * includes): other chains count only for rules with an fw4 comment.
 */
#define FW4(prefix, rule)                                                                    \
	{                                                                                    \
		"fw4", FAM_INET, "fw4", prefix, CHAIN_REST, "zone", NULL, rule, false, false \
	}
#define FW4_OWN(chain)                                                                         \
	{                                                                                      \
		"fw4", FAM_INET, "fw4", chain, CHAIN_PLAIN, NULL, NULL, RULE_FW4, false, false \
	}
/*
 * Docker's iptables rules, in the tables iptables-nft makes (moby
 * integration/network/bridge/iptablesdoc/generated/ listings; in
 * tests/rulesets/docker): DOCKER (filter: per-port accepts; nat: DNAT of
 * published ports), DOCKER-USER, DOCKER-ISOLATION-STAGE-1/2, and since
 * moby 28 DOCKER-FORWARD, DOCKER-BRIDGE, DOCKER-CT, DOCKER-INTERNAL.
 */
#define DOCKER(table, chain, role, rule)                                                       \
	{                                                                                      \
		"docker", FAM_IP | FAM_IP6, table, chain, CHAIN_PLAIN, NULL, role, rule, true, \
			(rule) == RULE_JUMPS_DOCKER                                            \
	}
/*
 * Docker's own nftables backend (dockerd --firewall-backend=nftables, moby
 * 28; integration/network/bridge/nftablesdoc/generated/ listings, one in
 * tests/fixtures/owner/docker-nftables.nft): table docker-bridges in ip
 * and ip6, per network bridge filter-forward-in__<bridge> (to its
 * containers), filter-forward-out__<bridge> (from them),
 * nat-postrouting-in__ and -out__, published ports in
 * nat-prerouting-and-output; rules say what they are in a comment ("ICC",
 * "UNPUBLISHED PORT DROP", "MASQUERADE").
 */
#define DOCKER_NFT(chain, parse, role, rule)                                                      \
	{                                                                                         \
		"docker", FAM_IP | FAM_IP6, "docker-bridges", chain, parse, "bridge", role, rule, \
			false, false                                                              \
	}
/*
 * kube-proxy's nftables mode (table kube-proxy in ip and ip6;
 * kubernetes pkg/proxy/nftables/proxier.go, and its test's expected
 * transaction in tests/rulesets/kube-proxy): per Service port
 * service-HASH-ns/name/proto/port, external-..., firewall-..., and per
 * endpoint endpoint-HASH-ns/name/proto/port__addr/port.
 */
#define KUBE(prefix, role)                                                                    \
	{                                                                                     \
		"kube-proxy", FAM_IP | FAM_IP6, "kube-proxy", prefix, CHAIN_KUBE, NULL, role, \
			RULE_NONE, false, false                                               \
	}
/*
 * libvirt's nftables backend (table libvirt_network in ip and ip6;
 * libvirt tests/networkxml2firewalldata/ *.nftables files, in
 * tests/rulesets/libvirt): guest_output, guest_input, guest_cross,
 * guest_nat, and rules that name the network's bridge (iif/oif). The
 * network's name is not in the ruleset.
 */
#define LIBVIRT(chain, role)                                                                    \
	{                                                                                       \
		"libvirt", FAM_IP | FAM_IP6, "libvirt_network", chain, CHAIN_PLAIN, NULL, role, \
			RULE_BRIDGE, false, false                                               \
	}
/*
 * netavark, Podman's network backend, nftables driver (table inet
 * netavark; containers/netavark src/firewall/nft.rs): per network and
 * subnet nv_<first 8 of the network id>_<subnet, "." as "_", ":" as "-",
 * "/" as "_nm">, its port forwarding in ..._dnat; NETAVARK-HOSTPORT-DNAT,
 * NETAVARK-HOSTPORT-SETMARK, NETAVARK-ISOLATION-1/2/3. Network names are
 * not in the ruleset.
 */
#define NETAVARK(chain, parse, role)                                                               \
	{                                                                                          \
		"netavark", FAM_INET, "netavark", chain, parse, NULL, role, RULE_PUBLISHED, false, \
			false                                                                      \
	}

/*
 * ufw (Debian 12 ufw 0.36.2, iptables rules in the tables iptables-nft
 * makes; tests/rulesets/ufw, and the rules files in ufw's /usr/share/ufw and
 * src/backend_iptables.py): chains ufw-* in ip filter and ufw6-* in ip6
 * filter. ufw-user-input, -output, -forward hold what `ufw allow`,
 * `deny`, `reject`, `limit` and `ufw route` add (ufw-user-limit* what
 * `limit` sends on), ufw-before-* and ufw-after-* the rules of
 * /etc/ufw/before[6].rules and after[6].rules, *logging* its logging; the
 * rest (ufw-not-local, ufw-reject-*, ufw-track-*, ufw-skip-to-policy-*)
 * is ufw's own. INPUT, FORWARD and OUTPUT are shared: only a jump to a
 * ufw chain is ufw's. The chain policies (ufw's default incoming, routed
 * and outgoing policy) are the built-in chains' and so nobody's here.
 */
#define UFW(fam, chain, role, rule)                                               \
	{                                                                         \
		"ufw", fam, "filter", chain, CHAIN_PLAIN, NULL, role, rule, true, \
			(rule) == RULE_JUMPS_UFW                                  \
	}

static const struct chain_pattern patterns[] = {
	FIREWALLD("filter_IN_policy_*", "policy"),
	FIREWALLD("filter_FWD_policy_*", "policy"),
	FIREWALLD("filter_OUT_policy_*", "policy"),
	FIREWALLD_NAT("nat_PRE_policy_*", "policy"),
	FIREWALLD("nat_POST_policy_*", "policy"),
	FIREWALLD_NAT("nat_OUT_policy_*", "policy"),
	FIREWALLD("mangle_PRE_policy_*", "policy"),
	FIREWALLD("raw_PRE_policy_*", "policy"),
	FIREWALLD("filter_IN_*", "zone"),
	FIREWALLD("filter_FWD_*", "zone"),
	FIREWALLD("filter_FWDI_*", "zone"),
	FIREWALLD("filter_FWDO_*", "zone"),
	FIREWALLD_NAT("nat_PRE_*", "zone"),
	FIREWALLD("nat_POST_*", "zone"),
	FIREWALLD("mangle_PRE_*", "zone"),
	FIREWALLD("raw_PRE_*", "zone"),
	{ "firewalld", FAM_IP | FAM_IP6 | FAM_INET, "firewalld", "*", CHAIN_PLAIN, NULL, NULL,
	  RULE_NONE, false, false },

	FW4("input_*", RULE_FW4),
	FW4("output_*", RULE_FW4),
	FW4("forward_*", RULE_FW4),
	FW4("helper_*", RULE_FW4),
	FW4("dstnat_*", RULE_FW4),
	FW4("srcnat_*", RULE_FW4),
	FW4("accept_from_*", RULE_FW4),
	FW4("accept_to_*", RULE_FW4),
	FW4("reject_from_*", RULE_FW4),
	FW4("reject_to_*", RULE_FW4),
	FW4("drop_from_*", RULE_FW4),
	FW4("drop_to_*", RULE_FW4),
	FW4_OWN("input"),
	FW4_OWN("output"),
	FW4_OWN("forward"),
	FW4_OWN("prerouting"),
	FW4_OWN("dstnat"),
	FW4_OWN("srcnat"),
	FW4_OWN("handle_reject"),
	FW4_OWN("syn_flood"),
	FW4_OWN("raw_prerouting"),
	FW4_OWN("raw_output"),
	FW4_OWN("mangle_prerouting"),
	FW4_OWN("mangle_postrouting"),
	FW4_OWN("mangle_input"),
	FW4_OWN("mangle_output"),
	FW4_OWN("mangle_forward"),
	{ "fw4", FAM_INET, "fw4", "*", CHAIN_PLAIN, NULL, NULL, RULE_FW4, false, true },

	DOCKER("nat", "DOCKER", "published ports", RULE_PUBLISHED),
	DOCKER("filter", "DOCKER", "published ports", RULE_NONE),
	DOCKER("filter", "DOCKER-USER", "user rules", RULE_NONE),
	DOCKER("filter", "DOCKER-ISOLATION-STAGE-1", "network isolation", RULE_NONE),
	DOCKER("filter", "DOCKER-ISOLATION-STAGE-2", "network isolation", RULE_NONE),
	DOCKER("filter", "DOCKER-FORWARD", "forwarding", RULE_NONE),
	DOCKER("filter", "DOCKER-BRIDGE", "bridges", RULE_NONE),
	DOCKER("filter", "DOCKER-CT", "established connections", RULE_NONE),
	DOCKER("filter", "DOCKER-INTERNAL", "internal networks", RULE_NONE),
	/* FORWARD, PREROUTING, ...: shared; only a jump to a Docker chain is Docker's */
	DOCKER("filter", "*", NULL, RULE_JUMPS_DOCKER),
	DOCKER("nat", "*", NULL, RULE_JUMPS_DOCKER),

	UFW(FAM_IP, "ufw-user-logging-*", "logging", RULE_NONE),
	UFW(FAM_IP, "ufw-user-limit*", "rate limits", RULE_NONE),
	UFW(FAM_IP, "ufw-user-*", "user rules", RULE_NONE),
	UFW(FAM_IP, "ufw-before-logging-*", "logging", RULE_NONE),
	UFW(FAM_IP, "ufw-before-*", "before.rules", RULE_NONE),
	UFW(FAM_IP, "ufw-after-logging-*", "logging", RULE_NONE),
	UFW(FAM_IP, "ufw-after-*", "after.rules", RULE_NONE),
	UFW(FAM_IP, "ufw-logging-*", "logging", RULE_NONE),
	UFW(FAM_IP, "ufw-*", NULL, RULE_NONE),
	UFW(FAM_IP6, "ufw6-user-logging-*", "logging", RULE_NONE),
	UFW(FAM_IP6, "ufw6-user-limit*", "rate limits", RULE_NONE),
	UFW(FAM_IP6, "ufw6-user-*", "user rules", RULE_NONE),
	UFW(FAM_IP6, "ufw6-before-logging-*", "logging", RULE_NONE),
	UFW(FAM_IP6, "ufw6-before-*", "before6.rules", RULE_NONE),
	UFW(FAM_IP6, "ufw6-after-logging-*", "logging", RULE_NONE),
	UFW(FAM_IP6, "ufw6-after-*", "after6.rules", RULE_NONE),
	UFW(FAM_IP6, "ufw6-logging-*", "logging", RULE_NONE),
	UFW(FAM_IP6, "ufw6-*", NULL, RULE_NONE),
	/* INPUT, FORWARD, OUTPUT: shared; only a jump to a ufw chain is ufw's */
	UFW(FAM_IP | FAM_IP6, "*", NULL, RULE_JUMPS_UFW),

	DOCKER_NFT("filter-forward-in__*", CHAIN_REST, "to containers", RULE_COMMENT),
	DOCKER_NFT("filter-forward-out__*", CHAIN_REST, "from containers", RULE_COMMENT),
	DOCKER_NFT("nat-postrouting-in__*", CHAIN_REST, "to containers", RULE_COMMENT),
	DOCKER_NFT("nat-postrouting-out__*", CHAIN_REST, "from containers", RULE_COMMENT),
	DOCKER_NFT("nat-prerouting-and-output", CHAIN_PLAIN, "published ports", RULE_PUBLISHED),
	DOCKER_NFT("*", CHAIN_PLAIN, NULL, RULE_COMMENT),

	KUBE("service-*", NULL),
	KUBE("external-*", "external traffic"),
	KUBE("firewall-*", "source ranges"),
	KUBE("endpoint-*", NULL),
	{ "kube-proxy", FAM_IP | FAM_IP6, "kube-proxy", "*", CHAIN_PLAIN, NULL, NULL, RULE_NONE,
	  false, false },

	LIBVIRT("guest_output", "from guests"),
	LIBVIRT("guest_input", "to guests"),
	LIBVIRT("guest_cross", "between guests"),
	LIBVIRT("guest_nat", "guest NAT"),
	LIBVIRT("*", NULL),

	NETAVARK("nv_*", CHAIN_NETAVARK, NULL),
	NETAVARK("NETAVARK-HOSTPORT-DNAT", CHAIN_PLAIN, "published ports"),
	NETAVARK("NETAVARK-HOSTPORT-SETMARK", CHAIN_PLAIN, "published ports"),
	NETAVARK("NETAVARK-ISOLATION-*", CHAIN_PLAIN, "network isolation"),
	NETAVARK("*", CHAIN_PLAIN, NULL),
};

/* The tables iptables-nft creates, by iptables' own table names. */
static const char *const iptables_tables[] = {
	"filter", "nat", "mangle", "raw", "security", NULL,
};

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

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static unsigned int family_bit(uint8_t family)
{
	switch (family) {
	case NFPROTO_IPV4:
		return FAM_IP;
	case NFPROTO_IPV6:
		return FAM_IP6;
	case NFPROTO_INET:
		return FAM_INET;
	}
	return 0;
}

/* The rest of name after pattern, or NULL if it does not match. */
static const char *match_name(const char *pattern, const char *name)
{
	size_t n = strlen(pattern);

	if (n && pattern[n - 1] == '*') {
		if (strncmp(pattern, name, n - 1) != 0)
			return NULL;
		return name + n - 1;
	}
	return strcmp(pattern, name) == 0 ? name + n : NULL;
}

/* JSON keys and how the text says them; "" for a role, said bare. */
static const struct {
	const char *key, *label;
} attr_names[] = {
	{ "role", "" },
	{ "zone", "zone" },
	{ "policy", "policy" },
	{ "forward_port", "forward-port" },
	{ "rule", "rule" },
	{ "redirect", "redirect" },
	{ "service", "Service" },
	{ "protocol", "protocol" },
	{ "endpoint", "endpoint" },
	{ "published", "published port" },
	{ "container", "container" },
	{ "service_address", "Service" },
	{ "nodeport", "NodePort" },
	{ "bridge", "bridge" },
	{ "network_id", "network id" },
	{ "subnet", "subnet" },
	{ "interface", "interface" },
	{ "network", "network" },
	{ "device", "device" },
};

static void set_attr(struct owner *o, const char *key, const char *s, size_t len)
{
	struct owner_attr *a;

	if (o->n_attrs >= OWNER_MAX_ATTRS)
		return;
	for (size_t i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++) {
		if (strcmp(attr_names[i].key, key) != 0)
			continue;
		a = &o->attrs[o->n_attrs++];
		a->key = attr_names[i].key;
		a->label = attr_names[i].label;
		if (len >= sizeof(a->value))
			len = sizeof(a->value) - 1;
		memcpy(a->value, s, len);
		a->value[len] = '\0';
		return;
	}
}

/* ---- chain names ---- */

static const char *const firewalld_suffixes[] = {
	"_pre", "_log", "_deny", "_allow", "_post", NULL,
};

static bool chain_firewalld(const char *rest, const struct chain_pattern *p, struct owner *o)
{
	size_t len = strlen(rest), n;

	for (const char *const *s = firewalld_suffixes; *s; s++) {
		n = strlen(*s);
		if (len > n && strcmp(rest + len - n, *s) == 0) {
			len -= n;
			break;
		}
	}
	if (!len)
		return false;
	set_attr(o, p->key, rest, len);
	return true;
}

static bool upper_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* "ULMVA6XW-ns1/svc1/tcp/p80__192.0.2.11/80" */
static bool chain_kube(const char *rest, struct owner *o)
{
	const char *ns, *name, *proto, *port, *end, *ep, *slash;
	char buf[OWNER_VALUE_MAX];
	int n;

	ns = rest;
	while (upper_alnum(*ns))
		ns++;
	if (ns == rest || *ns != '-')
		return false;
	ns++;
	name = strchr(ns, '/');
	proto = name ? strchr(name + 1, '/') : NULL;
	port = proto ? strchr(proto + 1, '/') : NULL;
	if (!port || name == ns || proto == name + 1 || port == proto + 1 || !port[1])
		return false;
	name++;
	proto++;
	port++;
	ep = strstr(port, "__");
	end = ep ? ep : port + strlen(port);
	if (end == port || memchr(port, '/', (size_t)(end - port)))
		return false;
	/* ServicePortName's own form, as kube-proxy's comments print it */
	n = snprintf(buf, sizeof(buf), "%.*s/%.*s:%.*s", (int)(name - 1 - ns), ns,
		     (int)(proto - 1 - name), name, (int)(end - port), port);
	if (n < 0)
		return false;
	set_attr(o, "service", buf, strlen(buf));
	set_attr(o, "protocol", proto, (size_t)(port - 1 - proto));
	if (ep) {
		ep += 2;
		slash = strrchr(ep, '/');
		if (slash && slash != ep && slash[1]) {
			bool v6 = memchr(ep, ':', (size_t)(slash - ep)) != NULL;

			snprintf(buf, sizeof(buf), "%s%.*s%s:%s", v6 ? "[" : "", (int)(slash - ep),
				 ep, v6 ? "]" : "", slash + 1);
			set_attr(o, "endpoint", buf, strlen(buf));
		}
	}
	return true;
}

/* "2f259bab_10_88_0_0_nm16" or "..._dnat" */
static bool chain_netavark(const char *rest, struct owner *o)
{
	const char *sep = strchr(rest, '_'), *subnet, *end;
	char buf[OWNER_VALUE_MAX];
	size_t len, n = 0;

	if (!sep || sep == rest)
		return false;
	for (const char *c = rest; c < sep; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	subnet = sep + 1;
	len = strlen(subnet);
	if (len > 5 && strcmp(subnet + len - 5, "_dnat") == 0)
		len -= 5;
	end = subnet + len;
	if (!len)
		return false;
	set_attr(o, "network_id", rest, (size_t)(sep - rest));
	for (const char *c = subnet; c < end && n + 1 < sizeof(buf); c++) {
		if (strncmp(c, "_nm", 3) == 0 && c + 3 < end) {
			buf[n++] = '/';
			c += 2;
		} else if (*c == '_') {
			buf[n++] = '.';
		} else if (*c == '-') {
			buf[n++] = ':';
		} else {
			buf[n++] = *c;
		}
	}
	set_attr(o, "subnet", buf, n);
	return true;
}

/* ---- rule text: ruletext.h's words, a quoted comment one word ---- */

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
static bool rule_has_xt(const char *rule)
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
static bool rule_parse(const struct chain_pattern *p, const char *chain, const char *rule,
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
		set_attr(o, strncmp(chain, "dstnat_", 7) == 0 ? "redirect" : "rule", s + 6,
			 strlen(s + 6));
		return true;
	case RULE_COMMENT:
		s = rule_comment(rule, comment, sizeof(comment));
		if (!*s)
			return false;
		set_attr(o, "rule", s, strlen(s));
		return true;
	case RULE_FORWARD_PORT: {
		size_t clen = strlen(chain);

		/* firewalld puts forward-ports in nat_PRE_<zone>_allow only */
		if (clen < 6 || strcmp(chain + clen - 6, "_allow") != 0 || !rule_nat(rule, &n))
			return false;
		port_proto(&n, port, sizeof(port));
		snprintf(buf, sizeof(buf), "%s -> %.*s", port, (int)n.to.len, n.to.s);
		set_attr(o, "forward_port", buf, strlen(buf));
		return true;
	}
	case RULE_PUBLISHED:
		if (!rule_nat(rule, &n) || n.redirect)
			return false;
		port_proto(&n, port, sizeof(port));
		set_attr(o, "published", port, strlen(port));
		set_attr(o, "container", n.to.s, n.to.len);
		return true;
	case RULE_BRIDGE:
		if (!rule_iface(rule, &s, &len))
			return false;
		set_attr(o, "bridge", s, len);
		return true;
	case RULE_JUMPS_DOCKER:
		return rule_jumps_to(rule, docker_chains);
	case RULE_JUMPS_UFW:
		return rule_jumps_prefix(rule, ufw_prefixes);
	}
	return false;
}

/* "... tail" as the whole rule or its last words. */
static bool ends_with_words(const char *rule, const char *tail)
{
	size_t n = strlen(rule), t = strlen(tail);

	return n >= t && strcmp(rule + n - t, tail) == 0 && (n == t || rule[n - t - 1] == ' ');
}

enum kube_map {
	KUBE_MAP_NONE,
	KUBE_MAP_SERVICES,  /* no-endpoint-services: address . protocol . port */
	KUBE_MAP_NODEPORTS, /* no-endpoint-nodeports: protocol . port */
};

/* Which no-endpoint map the rule looks the packet up in, by o's kube-proxy rule. */
static enum kube_map kube_map_of(const struct owner *o, const char *rule, const char *daddr,
				 const char *proto)
{
	/* the rules kube-proxy's proxier writes for these maps, as nft lists them */
	if (!o->manager || strcmp(o->manager, "kube-proxy") != 0 || !rule || !proto || !*proto)
		return KUBE_MAP_NONE;
	if (daddr &&
	    (ends_with_words(rule,
			     "ip daddr . meta l4proto . th dport vmap @no-endpoint-services") ||
	     ends_with_words(rule,
			     "ip6 daddr . meta l4proto . th dport vmap @no-endpoint-services")))
		return KUBE_MAP_SERVICES;
	if (ends_with_words(rule, "meta l4proto . th dport vmap @no-endpoint-nodeports"))
		return KUBE_MAP_NODEPORTS;
	return KUBE_MAP_NONE;
}

static bool kube_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/*
 * kube-proxy's ServicePortName as its element comments print it:
 * "namespace/name:port", or "namespace/name" for an unnamed port; the
 * parts are DNS names and an IANA service name. Anything else is not
 * taken for a Service's name.
 */
static bool kube_service_name_ok(const char *s)
{
	const char *slash = strchr(s, '/'), *colon, *c;

	if (!slash || slash == s || strlen(s) >= OWNER_VALUE_MAX)
		return false;
	colon = strchr(slash + 1, ':');
	if ((colon ? colon : slash + 1 + strlen(slash + 1)) == slash + 1)
		return false;
	if (colon && (!colon[1] || strchr(colon + 1, '.')))
		return false;
	for (c = s; *c; c++)
		if (c != slash && c != colon && !kube_name_char(*c))
			return false;
	return true;
}

bool owner_kube_lookup(struct owner *o, const char *rule, const char *daddr, const char *proto,
		       uint16_t dport, const char *name)
{
	enum kube_map map = kube_map_of(o, rule, daddr, proto);
	bool named = name && kube_service_name_ok(name), v6;
	char buf[OWNER_VALUE_MAX];

	if (map == KUBE_MAP_NONE)
		return false;
	set_attr(o, "role", "no endpoints", strlen("no endpoints"));
	if (named)
		set_attr(o, "service", name, strlen(name));
	if (map == KUBE_MAP_NODEPORTS) {
		snprintf(buf, sizeof(buf), "%u/%s", dport, proto);
		set_attr(o, "nodeport", buf, strlen(buf));
		return true;
	}
	v6 = strchr(daddr, ':') != NULL;
	snprintf(buf, sizeof(buf), "%s%s%s:%u/%s", v6 ? "[" : "", daddr, v6 ? "]" : "", dport,
		 proto);
	set_attr(o, "service_address", buf, strlen(buf));
	/* after the name, "Service ns/name:port, address 198.51.100.46:80/tcp" */
	if (named && o->n_attrs && strcmp(o->attrs[o->n_attrs - 1].key, "service_address") == 0)
		o->attrs[o->n_attrs - 1].label = "address";
	return true;
}

bool owner_kube_element(const struct owner *o, const char *rule, const char *daddr,
			const char *proto, uint16_t dport, char *set, size_t set_len, char *key,
			size_t key_len)
{
	int n;

	switch (kube_map_of(o, rule, daddr, proto)) {
	case KUBE_MAP_NONE:
		return false;
	case KUBE_MAP_SERVICES:
		snprintf(set, set_len, "no-endpoint-services");
		n = snprintf(key, key_len, "%s . %s . %u", daddr, proto, dport);
		break;
	case KUBE_MAP_NODEPORTS:
		snprintf(set, set_len, "no-endpoint-nodeports");
		n = snprintf(key, key_len, "%s . %u", proto, dport);
		break;
	default:
		return false;
	}
	return n > 0 && (size_t)n < key_len;
}

/*
 * wg-quick(8) (wireguard-tools src/wg-quick/linux.bash, add_default(); in
 * tests/rulesets/wg-quick): for a tunnel with a default route it makes
 * table ip and ip6 "wg-quick-<interface>" with chains preraw (drops
 * packets to the tunnel's addresses that come in elsewhere), premangle
 * (restores the connection's mark, the fwmark of WireGuard's socket, on
 * replies) and postmangle (saves that mark in the connection).
 */
static const struct {
	const char *chain, *role;
} wg_quick_chains[] = {
	{ "preraw", "tunnel address filter" },
	{ "premangle", "connection mark restore" },
	{ "postmangle", "connection mark save" },
};

static bool owner_wg_quick(unsigned int fam, const char *table, const char *chain, struct owner *o)
{
	static const char prefix[] = "wg-quick-";
	const char *ifname = table + sizeof(prefix) - 1;
	size_t len;

	if (!(fam & (FAM_IP | FAM_IP6)) || strncmp(table, prefix, sizeof(prefix) - 1) != 0)
		return false;
	/* an interface name: 1 to IFNAMSIZ - 1 bytes */
	len = strlen(ifname);
	if (!len || len > 15)
		return false;
	o->manager = "wg-quick";
	for (size_t i = 0; i < sizeof(wg_quick_chains) / sizeof(wg_quick_chains[0]); i++) {
		if (strcmp(chain, wg_quick_chains[i].chain) == 0) {
			set_attr(o, "role", wg_quick_chains[i].role,
				 strlen(wg_quick_chains[i].role));
			break;
		}
	}
	set_attr(o, "interface", ifname, len);
	return true;
}

/*
 * Incus's nftables firewall (lxc/incus internal/server/firewall/drivers/
 * drivers_nftables.go and _templates.go; in tests/rulesets/incus): table
 * "incus" in inet (networks, instance devices' proxy NAT and reverse-path
 * filter), bridge (instance devices' MAC/IP filter) and netdev. Chains
 * are <what>.<network> for a network, <what>.<instance>.<device> for an
 * instance's device (the instance prefixed "<project>_" outside the
 * default project).
 */
static const struct {
	const char *prefix, *role;
} incus_chains[] = {
	{ "fwdprert", "network forward" },
	{ "fwdout", "network forward" },
	{ "fwdpstrt", "network forward" },
	{ "aclin", "ACLs" },
	{ "aclout", "ACLs" },
	{ "aclfwd", "ACLs" },
	{ "acl", "ACLs" },
	{ "pstrt", "outbound NAT" },
	{ "fwd", "forwarding" },
	{ "in", "host input" },
	{ "out", "host output" },
	{ "prert", NULL },
	{ "egress", NULL },
};

static bool owner_incus(uint8_t family, const char *table, const char *chain, struct owner *o)
{
	const char *rest = NULL, *role = NULL;
	size_t n;

	if (strcmp(table, "incus") != 0 ||
	    (family != NFPROTO_INET && family != NFPROTO_BRIDGE && family != NFPROTO_NETDEV))
		return false;
	o->manager = "incus";
	for (size_t i = 0; i < sizeof(incus_chains) / sizeof(incus_chains[0]); i++) {
		n = strlen(incus_chains[i].prefix);
		if (strncmp(chain, incus_chains[i].prefix, n) == 0 && chain[n] == '.' &&
		    chain[n + 1]) {
			rest = chain + n + 1;
			role = incus_chains[i].role;
			break;
		}
	}
	if (!rest)
		return true;
	if (strncmp(rest, "netprio.", 8) == 0 && rest[8])
		rest += 8;
	if (strchr(rest, '.')) {
		/* an instance's device: what the network chains' names say does not hold */
		if (family == NFPROTO_BRIDGE)
			set_attr(o, "role", "instance filter", strlen("instance filter"));
		set_attr(o, "device", rest, strlen(rest));
		return true;
	}
	if (family != NFPROTO_INET)
		return true;
	if (role)
		set_attr(o, "role", role, strlen(role));
	set_attr(o, "network", rest, strlen(rest));
	return true;
}

static void iptables_hint(uint8_t family, const char *table, const char *chain, struct owner *o)
{
	size_t off = 0;

	o->iptables_nft = true;
	/* a command to copy: names from the ruleset quoted for the shell */
	strbuf_add(o->iptables_cmd, sizeof(o->iptables_cmd), &off, "%s -t ",
		   family == NFPROTO_IPV6 ? "ip6tables-nft" : "iptables-nft");
	strbuf_shell_word(o->iptables_cmd, sizeof(o->iptables_cmd), &off, table);
	strbuf_add(o->iptables_cmd, sizeof(o->iptables_cmd), &off, " -S ");
	strbuf_shell_word(o->iptables_cmd, sizeof(o->iptables_cmd), &off, chain);
	/* cut short, the quoting may be open: no command rather than a wrong one */
	if (off >= sizeof(o->iptables_cmd))
		o->iptables_nft = false, o->iptables_cmd[0] = '\0';
}

/* Empty: what owner_known() and the renderers read (no 1 KiB clearing per event). */
static void clear(struct owner *o)
{
	o->manager = NULL;
	o->n_attrs = 0;
	o->iptables_nft = false;
	o->iptables_cmd[0] = '\0';
}

bool owner_of(uint8_t family, const char *table, const char *chain, const char *rule,
	      struct owner *ret)
{
	unsigned int fam = family_bit(family);
	const char *miss = NULL;

	clear(ret);
	if (!table || !chain)
		return false;
	/* Incus's table is also in the bridge and netdev families */
	if (owner_incus(family, table, chain, ret))
		return true;
	if (!fam)
		return false;
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		const struct chain_pattern *p = &patterns[i];
		const char *rest;
		bool by_rule;

		/*
		 * Every event of every packet comes here: rows of one table are
		 * together and share the literal, so compare each table once.
		 */
		if (!(p->families & fam) || p->table == miss)
			continue;
		if (strcmp(p->table, table) != 0) {
			miss = p->table;
			continue;
		}
		rest = match_name(p->chain, chain);
		if (!rest)
			continue;
		clear(ret);
		ret->manager = p->manager;
		switch (p->parse) {
		case CHAIN_PLAIN:
			break;
		case CHAIN_REST:
			if (!*rest)
				continue;
			set_attr(ret, p->key, rest, strlen(rest));
			break;
		case CHAIN_FIREWALLD:
			if (!chain_firewalld(rest, p, ret))
				continue;
			break;
		case CHAIN_KUBE:
			if (!chain_kube(rest, ret))
				continue;
			break;
		case CHAIN_NETAVARK:
			if (!chain_netavark(rest, ret))
				continue;
			break;
		}
		if (p->role)
			set_attr(ret, "role", p->role, strlen(p->role));
		by_rule = rule && rule_parse(p, chain, rule, ret);
		/* a shared chain: only the rules that say so are the manager's */
		if (p->needs_rule && !by_rule)
			continue;
		if (p->iptables)
			iptables_hint(family, table, chain, ret);
		return true;
	}
	clear(ret);
	if (owner_wg_quick(fam, table, chain, ret))
		return true;
	/* Whoever wrote it, xt expressions mean iptables-nft. */
	if ((fam & (FAM_IP | FAM_IP6)) && in_list(table, iptables_tables) && rule &&
	    rule_has_xt(rule)) {
		iptables_hint(family, table, chain, ret);
		return true;
	}
	return false;
}

/* ---- the steps of an explained timeline ---- */

static bool has_key(const struct owner *o, const char *key)
{
	for (unsigned int i = 0; i < o->n_attrs; i++)
		if (strcmp(o->attrs[i].key, key) == 0)
			return true;
	return false;
}

/*
 * owner_kube_lookup() with the packet as step i's base chain saw it, and
 * the Service's name if owner_kube_resolve() found it for this step.
 */
static bool kube_lookup_at(const struct timeline *tl, const struct explain *ex, int i,
			   struct owner *o)
{
	const struct tl_hdr *h = timeline_entry_hdr(tl, i);
	char daddr[PACKET_ADDRSTRLEN], buf[16];

	if (!ex->rules[i].text || !h || !h->pkt_valid || !h->pkt.has_ports)
		return false;
	packet_addr_str(&h->pkt, false, daddr, sizeof(daddr));
	return owner_kube_lookup(
		o, ex->rules[i].text, daddr, packet_proto_name(h->pkt.l4proto, buf, sizeof(buf)),
		h->pkt.dport, ex->kube_step == i && ex->kube_service[0] ? ex->kube_service : NULL);
}

/* Ask for the comment of the element step i's kube-proxy rule looked up; true if asked. */
static bool kube_ask(const struct timeline *tl, const struct resolver *r, struct explain *ex, int i)
{
	const struct tl_step *s = &tl->steps[i];
	const struct tl_hdr *h = timeline_entry_hdr(tl, i);
	char daddr[PACKET_ADDRSTRLEN], buf[16], set[32], key[PACKET_ADDRSTRLEN + 32];
	char comment[OWNER_VALUE_MAX + 1];
	const char *proto;
	struct owner o;
	int asked;

	if (!ex->rules[i].text || !h || !h->pkt_valid || !h->pkt.has_ports)
		return false;
	if (!owner_of(s->family, s->table, s->chain, ex->rules[i].text, &o))
		return false;
	packet_addr_str(&h->pkt, false, daddr, sizeof(daddr));
	proto = packet_proto_name(h->pkt.l4proto, buf, sizeof(buf));
	if (!owner_kube_element(&o, ex->rules[i].text, daddr, proto, h->pkt.dport, set, sizeof(set),
				key, sizeof(key)))
		return false;
	asked = r->set_elem_comment(r->xctx, s->family, s->table, set, key, comment,
				    sizeof(comment));
	if (asked == 0 && kube_service_name_ok(comment)) {
		ex->kube_step = i;
		/* kube_service_name_ok(): shorter than OWNER_VALUE_MAX */
		memcpy(ex->kube_service, comment, strlen(comment) + 1);
	}
	return true;
}

void owner_kube_resolve(const struct timeline *tl, const struct resolver *r, struct explain *ex)
{
	const struct tl_step *c;

	ex->kube_step = -1;
	ex->kube_service[0] = '\0';
	/* the maps' verdicts are drops (and reject-chain's reject) */
	if (!r || !r->set_elem_comment || ex->sum.cause < 0 || ex->sum.verdict != TL_VERDICT_DROP)
		return;
	/* where owner_of_cause() looks: the cause, then the vias back to the base chain */
	if (kube_ask(tl, r, ex, ex->sum.cause))
		return;
	c = &tl->steps[ex->sum.cause];
	for (int v = (int)ex->n_via - 1; v >= 0; v--) {
		const struct tl_step *s = &tl->steps[ex->via[v]];

		if (s->family == c->family && strcmp(s->table, c->table) == 0 &&
		    kube_ask(tl, r, ex, ex->via[v]))
			return;
	}
}

bool owner_of_step(const struct timeline *tl, const struct explain *ex, int i, struct owner *ret)
{
	const struct tl_step *s = &tl->steps[i];

	if (!owner_of(s->family, s->table, s->chain, ex->rules[i].text, ret))
		return false;
	kube_lookup_at(tl, ex, i, ret);
	return true;
}

bool owner_of_cause(const struct timeline *tl, const struct explain *ex, struct owner *ret)
{
	const struct tl_step *c;

	clear(ret);
	if (ex->sum.cause < 0 || !owner_of_step(tl, ex, ex->sum.cause, ret))
		return false;
	c = &tl->steps[ex->sum.cause];
	/* kube-proxy's shared reject-chain: the vmap that sent the packet there says which */
	for (int v = (int)ex->n_via - 1; v >= 0; v--) {
		const struct tl_step *s = &tl->steps[ex->via[v]];

		if (has_key(ret, "service_address") || has_key(ret, "nodeport"))
			break;
		if (s->family == c->family && strcmp(s->table, c->table) == 0 &&
		    kube_lookup_at(tl, ex, ex->via[v], ret))
			break;
	}
	return true;
}

/* ---- rendering ---- */

int owner_str(const struct owner *o, bool iptables, char *buf, size_t len)
{
	size_t off = 0;
	int n;

#define PUT(...)                                                                       \
	do {                                                                           \
		n = snprintf(buf + (off < len ? off : len), off < len ? len - off : 0, \
			     __VA_ARGS__);                                             \
		if (n > 0)                                                             \
			off += (size_t)n;                                              \
	} while (0)

	if (len)
		buf[0] = '\0';
	if (o->manager) {
		const char *sep = " ";

		PUT("%s", o->manager);
		/* roles read as part of the name: "docker network isolation" */
		for (unsigned int i = 0; i < o->n_attrs; i++) {
			if (!o->attrs[i].label[0]) {
				PUT(" %s", o->attrs[i].value);
				sep = ", ";
			}
		}
		for (unsigned int i = 0; i < o->n_attrs; i++) {
			if (!o->attrs[i].label[0])
				continue;
			PUT("%s%s %s", sep, o->attrs[i].label, o->attrs[i].value);
			sep = ", ";
		}
	}
	if (iptables && o->iptables_nft)
		PUT("%stable managed by iptables-nft, `%s` shows it in iptables syntax",
		    o->manager ? "; " : "", o->iptables_cmd);
#undef PUT
	return (int)off;
}

void owner_json(struct jsonw *w, const char *key, const struct owner *o)
{
	if (!owner_known(o))
		return;
	jsonw_object_open(w, key);
	jsonw_string(w, "manager", o->manager);
	for (unsigned int i = 0; i < o->n_attrs; i++)
		jsonw_string(w, o->attrs[i].key, o->attrs[i].value);
	if (o->iptables_nft)
		jsonw_string(w, "iptables_nft", o->iptables_cmd);
	jsonw_object_close(w);
}
