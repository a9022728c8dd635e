/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which manager wrote a rule: table-driven recognition of the rulesets that
 * firewalld, OpenWrt fw4, Docker (through iptables-nft), kube-proxy
 * (nftables mode), libvirt, netavark (Podman), ufw (through
 * iptables-nft), wg-quick and Incus generate. Only names and
 * conventions these generators are seen to produce are recognised; the
 * real rulesets under tests/rulesets/ and the unit test show each one.
 *
 * Here: the table of chain names and the dispatch (owner_of()). What a
 * rule's text says is owner_rule.c; kube-proxy's chain names and maps,
 * and the owners of an explained timeline's steps, owner_kube.c; the
 * words and JSON of an owner are render/owner_render.c.
 */
#include <stdio.h>
#include <string.h>

#include <linux/netfilter.h>

#include "owner.h"
#include "owner_int.h"
#include "strbuf.h"

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

void owner_set_attr(struct owner *o, const char *key, const char *s, size_t len)
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
	owner_set_attr(o, p->key, rest, len);
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
	owner_set_attr(o, "network_id", rest, (size_t)(sep - rest));
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
	owner_set_attr(o, "subnet", buf, n);
	return true;
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
			owner_set_attr(o, "role", wg_quick_chains[i].role,
				       strlen(wg_quick_chains[i].role));
			break;
		}
	}
	owner_set_attr(o, "interface", ifname, len);
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
			owner_set_attr(o, "role", "instance filter", strlen("instance filter"));
		owner_set_attr(o, "device", rest, strlen(rest));
		return true;
	}
	if (family != NFPROTO_INET)
		return true;
	if (role)
		owner_set_attr(o, "role", role, strlen(role));
	owner_set_attr(o, "network", rest, strlen(rest));
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
void owner_clear(struct owner *o)
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

	owner_clear(ret);
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
		owner_clear(ret);
		ret->manager = p->manager;
		switch (p->parse) {
		case CHAIN_PLAIN:
			break;
		case CHAIN_REST:
			if (!*rest)
				continue;
			owner_set_attr(ret, p->key, rest, strlen(rest));
			break;
		case CHAIN_FIREWALLD:
			if (!chain_firewalld(rest, p, ret))
				continue;
			break;
		case CHAIN_KUBE:
			if (!owner_chain_kube(rest, ret))
				continue;
			break;
		case CHAIN_NETAVARK:
			if (!chain_netavark(rest, ret))
				continue;
			break;
		}
		if (p->role)
			owner_set_attr(ret, "role", p->role, strlen(p->role));
		by_rule = rule && owner_rule_parse(p, chain, rule, ret);
		/* a shared chain: only the rules that say so are the manager's */
		if (p->needs_rule && !by_rule)
			continue;
		if (p->iptables)
			iptables_hint(family, table, chain, ret);
		return true;
	}
	owner_clear(ret);
	if (owner_wg_quick(fam, table, chain, ret))
		return true;
	/* Whoever wrote it, xt expressions mean iptables-nft. */
	if ((fam & (FAM_IP | FAM_IP6)) && in_list(table, iptables_tables) && rule &&
	    owner_rule_has_xt(rule)) {
		iptables_hint(family, table, chain, ret);
		return true;
	}
	return false;
}
