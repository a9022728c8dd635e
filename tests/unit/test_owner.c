/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * owner.c on the listings of real generated rulesets: tests/fixtures/owner/
 * NAME.listing is tests/rulesets/NAME loaded into a scratch namespace and
 * listed as the rule cache lists it (see capture.sh there). Rulesets no
 * manager wrote (the other fixtures) must get nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/netfilter.h>

#include "jsonw.h"
#include "listing.h"
#include "owner.h"
#include "owner_render.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif
#define OWNER_DIR FIXTURES "/owner/"
#define MAX_ITEMS 1024

/* A chain (text NULL) or a rule of a listing, copied. */
struct item {
	uint8_t family;
	char *table, *chain, *text;
};

struct listing_copy {
	struct item items[MAX_ITEMS];
	unsigned int n;
};

static int on_chain(void *data, const struct listing_table *t, const struct listing_chain *c)
{
	struct listing_copy *l = data;

	assert_true(l->n < MAX_ITEMS);
	l->items[l->n++] = (struct item){ t->family, strdup(t->name), strdup(c->name), NULL };
	return 0;
}

static int on_rule(void *data, const struct listing_table *t, const struct listing_chain *c,
		   const struct listing_rule *r)
{
	struct listing_copy *l = data;

	assert_true(l->n < MAX_ITEMS);
	l->items[l->n++] =
		(struct item){ t->family, strdup(t->name), strdup(c->name), strdup(r->text) };
	return 0;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static struct listing_copy *load(const char *path)
{
	const struct listing_ops ops = { .chain = on_chain, .rule = on_rule };
	struct listing_copy *l = calloc(1, sizeof(*l));
	char *text = read_file(path);

	assert_non_null(l);
	assert_int_equal(listing_parse(text, strlen(text), &ops, l, NULL), 0);
	assert_true(l->n > 0);
	free(text);
	return l;
}

static void unload(struct listing_copy *l)
{
	for (unsigned int i = 0; i < l->n; i++) {
		free(l->items[i].table);
		free(l->items[i].chain);
		free(l->items[i].text);
	}
	free(l);
}

/* The owner of the rule of chain whose text is rule (NULL: the chain). */
static struct owner owner_in(const struct listing_copy *l, const char *chain, const char *rule)
{
	struct owner o = {};

	for (unsigned int i = 0; i < l->n; i++) {
		const struct item *it = &l->items[i];

		if (strcmp(it->chain, chain) != 0)
			continue;
		if (rule ? !it->text || strcmp(it->text, rule) != 0 : it->text != NULL)
			continue;
		owner_of(it->family, it->table, it->chain, it->text, &o);
		return o;
	}
	fail_msg("no %s `%s` in the listing", chain, rule ? rule : "(chain)");
	return o;
}

static const char *attr(const struct owner *o, const char *key)
{
	for (unsigned int i = 0; i < o->n_attrs; i++)
		if (strcmp(o->attrs[i].key, key) == 0)
			return o->attrs[i].value;
	return NULL;
}

static void assert_owner_str(const struct owner *o, bool iptables, const char *want)
{
	char buf[512];

	owner_str(o, iptables, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* Every chain and rule of the listing is the manager's. */
static void assert_all_of(const struct listing_copy *l, const char *manager)
{
	for (unsigned int i = 0; i < l->n; i++) {
		const struct item *it = &l->items[i];
		struct owner o;

		if (!owner_of(it->family, it->table, it->chain, it->text, &o))
			fail_msg("%s %s `%s`: not recognised", it->table, it->chain,
				 it->text ? it->text : "(chain)");
		assert_string_equal(o.manager, manager);
	}
}

static void test_firewalld_zone_policy_and_forward_port(void **state)
{
	struct listing_copy *l = load(OWNER_DIR "firewalld.listing");
	struct owner o;

	(void)state;
	assert_all_of(l, "firewalld");
	/* the zone's catch-all reject: the cause of a SYN to a closed port */
	o = owner_in(l, "filter_IN_public", "reject with icmpx admin-prohibited");
	assert_string_equal(attr(&o, "zone"), "public");
	assert_false(o.iptables_nft);
	assert_owner_str(&o, true, "firewalld zone public");
	/* the rich rule's reject, in the zone's deny chain */
	o = owner_in(l, "filter_IN_public_deny",
		     "ip saddr 198.51.100.2 tcp dport 8443 reject with tcp reset");
	assert_owner_str(&o, false, "firewalld zone public");
	o = owner_in(l, "filter_FWD_trusted_allow", NULL);
	assert_string_equal(attr(&o, "zone"), "trusted");
	o = owner_in(l, "filter_IN_policy_allow-host-ipv6_allow",
		     "icmpv6 type nd-neighbor-advert accept");
	assert_null(attr(&o, "zone"));
	assert_owner_str(&o, false, "firewalld policy allow-host-ipv6");
	o = owner_in(l, "nat_PRE_public_allow",
		     "meta nfproto ipv4 tcp dport 1222 dnat ip to 203.0.113.10:22");
	assert_owner_str(&o, false,
			 "firewalld zone public, forward-port 1222/tcp -> 203.0.113.10:22");
	/* firewalld's own dispatch chains: no zone to name */
	o = owner_in(l, "filter_INPUT_ZONES", "goto filter_IN_public");
	assert_int_equal(o.n_attrs, 0);
	assert_owner_str(&o, false, "firewalld");
	unload(l);
}

static void test_fw4_rule_and_zone(void **state)
{
	struct listing_copy *l = load(OWNER_DIR "fw4.listing");
	struct owner o;

	(void)state;
	assert_all_of(l, "fw4");
	/* the reject of a SYN from wan to the router */
	o = owner_in(l, "handle_reject",
		     "meta l4proto tcp reject with tcp reset comment \"!fw4: Reject TCP traffic\"");
	assert_string_equal(attr(&o, "rule"), "Reject TCP traffic");
	assert_owner_str(&o, false, "fw4 rule Reject TCP traffic");
	o = owner_in(l, "input_wan",
		     "icmp type echo-request counter accept comment \"!fw4: Allow-Ping\"");
	assert_owner_str(&o, false, "fw4 zone wan, rule Allow-Ping");
	o = owner_in(l, "reject_from_wan", NULL);
	assert_owner_str(&o, false, "fw4 zone wan");
	o = owner_in(l, "accept_to_wan", NULL);
	assert_string_equal(attr(&o, "zone"), "wan");
	o = owner_in(l, "srcnat_wan",
		     "meta nfproto ipv4 masquerade comment \"!fw4: Masquerade IPv4 wan traffic\"");
	assert_owner_str(&o, false, "fw4 zone wan, rule Masquerade IPv4 wan traffic");
	/* a base chain and a rule without comment */
	o = owner_in(l, "input", "jump handle_reject");
	assert_owner_str(&o, false, "fw4");
	unload(l);
	/* a redirect, in the form fw4's template renders it in dstnat_<zone> */
	assert_true(owner_of(
		NFPROTO_INET, "fw4", "dstnat_wan",
		"meta nfproto ipv4 tcp dport 8080 counter dnat ip to 192.0.2.5:80 comment \"!fw4: Web-Server\"",
		&o));
	assert_owner_str(&o, false, "fw4 zone wan, redirect Web-Server");
	/*
	 * Others add chains to table fw4: miniupnpd's upnp_prerouting (its
	 * rules, as a miniupnpd listing shows them), a user's include. Not
	 * fw4's, unless the rule carries fw4's comment.
	 */
	assert_false(owner_of(NFPROTO_INET, "fw4", "upnp_prerouting",
			      "iif \"wan\" @nh,72,8 0x6 th dport 45000 dnat ip to 192.0.2.128:5000",
			      &o));
	assert_false(owner_of(NFPROTO_INET, "fw4", "upnp_forward", NULL, &o));
	assert_true(
		owner_of(NFPROTO_INET, "fw4", "my_include", "accept comment \"!fw4: Mine\"", &o));
	assert_owner_str(&o, false, "fw4 rule Mine");
}

static void test_docker_published_port_and_iptables_nft(void **state)
{
	struct listing_copy *l = load(OWNER_DIR "docker.listing");
	struct owner o;

	(void)state;
	o = owner_in(l, "DOCKER",
		     "iifname != \"bridge1\" tcp dport 8080 counter dnat to 192.0.2.2:80");
	assert_string_equal(o.manager, "docker");
	assert_string_equal(attr(&o, "published"), "8080/tcp");
	assert_string_equal(attr(&o, "container"), "192.0.2.2:80");
	assert_true(o.iptables_nft);
	assert_string_equal(o.iptables_cmd, "iptables-nft -t nat -S DOCKER");
	assert_owner_str(&o, false,
			 "docker published ports, published port 8080/tcp, container 192.0.2.2:80");
	assert_owner_str(
		&o, true,
		"docker published ports, published port 8080/tcp, container 192.0.2.2:80; "
		"table managed by iptables-nft, `iptables-nft -t nat -S DOCKER` shows it in iptables syntax");
	o = owner_in(l, "DOCKER-ISOLATION-STAGE-2", "oifname \"bridge1\" counter drop");
	assert_owner_str(&o, false, "docker network isolation");
	assert_string_equal(o.iptables_cmd, "iptables-nft -t filter -S DOCKER-ISOLATION-STAGE-2");
	o = owner_in(l, "DOCKER-USER", NULL);
	assert_owner_str(&o, false, "docker user rules");
	/* FORWARD is shared: Docker's jumps are Docker's, the rest is nobody's */
	o = owner_in(l, "FORWARD", "counter jump DOCKER-USER");
	assert_owner_str(&o, false, "docker");
	assert_true(o.iptables_nft);
	assert_false(owner_of(NFPROTO_IPV4, "filter", "FORWARD",
			      "iifname \"bridge1\" oifname \"bridge1\" counter accept", &o));
	assert_false(owner_known(&o));
	assert_false(owner_of(NFPROTO_IPV4, "filter", "FORWARD", NULL, &o));
	o = owner_in(l, "POSTROUTING",
		     "oifname != \"bridge1\" ip saddr 192.0.2.0/24 counter masquerade");
	assert_false(owner_known(&o));
	unload(l);
}

static void test_docker_nftables_backend(void **state)
{
	struct listing_copy *l = load(OWNER_DIR "docker-nftables.listing");
	struct owner o;

	(void)state;
	assert_all_of(l, "docker");
	o = owner_in(l, "filter-forward-in__bridge1",
		     "counter drop comment \"UNPUBLISHED PORT DROP\"");
	assert_owner_str(&o, false,
			 "docker to containers, bridge bridge1, rule UNPUBLISHED PORT DROP");
	assert_false(o.iptables_nft);
	o = owner_in(
		l, "nat-prerouting-and-output",
		"iifname != \"bridge1\" tcp dport 8080 counter dnat to 192.0.2.2:80 comment \"DNAT\"");
	assert_owner_str(&o, false,
			 "docker published ports, published port 8080/tcp, container 192.0.2.2:80");
	o = owner_in(
		l, "nat-postrouting-out__docker0",
		"oifname != \"docker0\" ip saddr 203.0.113.0/24 counter masquerade comment \"MASQUERADE\"");
	assert_owner_str(&o, false, "docker from containers, bridge docker0, rule MASQUERADE");
	o = owner_in(
		l, "raw-PREROUTING",
		"ip daddr 192.0.2.2 iifname != \"bridge1\" counter drop comment \"DROP DIRECT ACCESS\"");
	assert_owner_str(&o, false, "docker rule DROP DIRECT ACCESS");
	o = owner_in(l, "filter-FORWARD", NULL);
	assert_owner_str(&o, false, "docker");
	unload(l);
}

static void test_kube_proxy_service_from_chain_names(void **state)
{
	struct listing_copy *l = load(OWNER_DIR "kube-proxy.listing");
	struct owner o;

	(void)state;
	assert_all_of(l, "kube-proxy");
	o = owner_in(l, "service-4AT6LBPK-ns3/svc3/tcp/p80", NULL);
	assert_string_equal(attr(&o, "service"), "ns3/svc3:p80");
	assert_string_equal(attr(&o, "protocol"), "tcp");
	assert_owner_str(&o, false, "kube-proxy Service ns3/svc3:p80, protocol tcp");
	o = owner_in(l, "endpoint-UEIP74TE-ns3/svc3/tcp/p80__192.0.2.13/80",
		     "meta l4proto tcp dnat to 192.0.2.13:80");
	assert_owner_str(&o, false,
			 "kube-proxy Service ns3/svc3:p80, protocol tcp, endpoint 192.0.2.13:80");
	o = owner_in(l, "firewall-HVFWP5L3-ns5/svc5/tcp/p80", NULL);
	assert_owner_str(&o, false, "kube-proxy source ranges, Service ns5/svc5:p80, protocol tcp");
	o = owner_in(l, "external-42NFTM6N-ns2/svc2/tcp/p80", NULL);
	assert_string_equal(attr(&o, "service"), "ns2/svc2:p80");
	o = owner_in(l, "reject-chain", "reject");
	assert_owner_str(&o, false, "kube-proxy");
	unload(l);
}

/*
 * A Service without endpoints: the packet met kube-proxy's vmaps (the
 * rules as the kube-proxy listing has them) and took their verdict.
 */
static void test_kube_proxy_no_endpoint_maps(void **state)
{
	struct listing_copy *l = load(OWNER_DIR "kube-proxy.listing");
	const char *svc = "ip daddr . meta l4proto . th dport vmap @no-endpoint-services";
	const char *np =
		"ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports";
	struct owner o;

	(void)state;
	/* reject-chain, reached by the goto of service-endpoints-check's vmap */
	o = owner_in(l, "reject-chain", "reject");
	(void)owner_in(l, "service-endpoints-check", svc);
	assert_true(owner_kube_lookup(&o, svc, "198.51.100.46", "tcp", 80, NULL));
	assert_owner_str(&o, false, "kube-proxy no endpoints, Service 198.51.100.46:80/tcp");
	assert_string_equal(attr(&o, "service_address"), "198.51.100.46:80/tcp");
	/* nodeport-endpoints-check's vmap drop: the cause is the vmap rule */
	o = owner_in(l, "nodeport-endpoints-check", np);
	assert_true(owner_kube_lookup(&o, np, "203.0.113.1", "tcp", 3001, NULL));
	assert_owner_str(&o, false, "kube-proxy no endpoints, NodePort 3001/tcp");
	/* IPv6 */
	assert_true(owner_of(NFPROTO_IPV6, "kube-proxy", "service-endpoints-check", NULL, &o));
	assert_true(owner_kube_lookup(
		&o, "ip6 daddr . meta l4proto . th dport vmap @no-endpoint-services",
		"2001:db8::46", "udp", 53, NULL));
	assert_string_equal(attr(&o, "service_address"), "[2001:db8::46]:53/udp");
	/* other maps and rules, other managers: nothing */
	o = owner_in(l, "services", "ip daddr . meta l4proto . th dport vmap @service-ips");
	assert_false(owner_kube_lookup(&o, "ip daddr . meta l4proto . th dport vmap @service-ips",
				       "198.51.100.41", "tcp", 80, NULL));
	assert_int_equal(o.n_attrs, 0);
	assert_true(owner_of(NFPROTO_INET, "firewalld", "filter_IN_public", NULL, &o));
	assert_false(owner_kube_lookup(&o, svc, "198.51.100.46", "tcp", 80, NULL));
	assert_false(owner_of(NFPROTO_INET, "filter", "x", NULL, &o));
	assert_false(owner_kube_lookup(&o, svc, "198.51.100.46", "tcp", 80, NULL));
	unload(l);
}

/*
 * The Service's name is in the map element's comment, as kube-proxy's
 * proxier writes it ("ns6/svc6:p80" in tests/rulesets/kube-proxy): the
 * owner names the Service by it, the address after it (issue 19 item 8:
 * it was named by its address only).
 */
static void test_kube_proxy_no_endpoints_named_by_element_comment(void **state)
{
	struct listing_copy *l = load(OWNER_DIR "kube-proxy.listing");
	const char *svc = "ip daddr . meta l4proto . th dport vmap @no-endpoint-services";
	const char *np =
		"ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports";
	char set[32], key[80];
	struct owner o;

	(void)state;
	/* what to ask: the element the packet's key selects */
	o = owner_in(l, "service-endpoints-check", svc);
	assert_true(owner_kube_element(&o, svc, "198.51.100.46", "tcp", 80, set, sizeof(set), key,
				       sizeof(key)));
	assert_string_equal(set, "no-endpoint-services");
	assert_string_equal(key, "198.51.100.46 . tcp . 80");
	assert_true(owner_kube_element(
		&o, "ip6 daddr . meta l4proto . th dport vmap @no-endpoint-services",
		"2001:db8::46", "udp", 53, set, sizeof(set), key, sizeof(key)));
	assert_string_equal(key, "2001:db8::46 . udp . 53");
	o = owner_in(l, "nodeport-endpoints-check", np);
	assert_true(owner_kube_element(&o, np, "203.0.113.1", "tcp", 3001, set, sizeof(set), key,
				       sizeof(key)));
	assert_string_equal(set, "no-endpoint-nodeports");
	assert_string_equal(key, "tcp . 3001");
	o = owner_in(l, "services", "ip daddr . meta l4proto . th dport vmap @service-ips");
	assert_false(owner_kube_element(&o, "ip daddr . meta l4proto . th dport vmap @service-ips",
					"198.51.100.41", "tcp", 80, set, sizeof(set), key,
					sizeof(key)));

	/* the answer names the Service */
	o = owner_in(l, "reject-chain", "reject");
	assert_true(owner_kube_lookup(&o, svc, "198.51.100.46", "tcp", 80, "ns6/svc6:p80"));
	assert_string_equal(attr(&o, "service"), "ns6/svc6:p80");
	assert_string_equal(attr(&o, "service_address"), "198.51.100.46:80/tcp");
	assert_owner_str(
		&o, false,
		"kube-proxy no endpoints, Service ns6/svc6:p80, address 198.51.100.46:80/tcp");
	o = owner_in(l, "nodeport-endpoints-check", np);
	assert_true(owner_kube_lookup(&o, np, "203.0.113.1", "tcp", 3001, "ns2/svc2:p80"));
	assert_owner_str(&o, false,
			 "kube-proxy no endpoints, Service ns2/svc2:p80, NodePort 3001/tcp");
	/* an unnamed port: "namespace/name" */
	o = owner_in(l, "reject-chain", "reject");
	assert_true(owner_kube_lookup(&o, svc, "198.51.100.46", "tcp", 80, "default/web"));
	assert_string_equal(attr(&o, "service"), "default/web");

	/* a comment that is no ServicePortName names nothing: the address stays */
	static const char *const bad[] = {
		"",
		"svc6",
		"/svc6:p80",
		"ns6/",
		"ns6/:p80",
		"ns6/svc6:",
		"ns6/svc6:p.80",
		"ns6/svc6 p80",
		"NS6/svc6:p80",
		"ns6/svc6:p80\x1b[31m",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = owner_in(l, "reject-chain", "reject");
		assert_true(owner_kube_lookup(&o, svc, "198.51.100.46", "tcp", 80, bad[i]));
		assert_null(attr(&o, "service"));
		assert_owner_str(&o, false,
				 "kube-proxy no endpoints, Service 198.51.100.46:80/tcp");
	}
	unload(l);
}

static void test_libvirt_role_and_bridge(void **state)
{
	struct listing_copy *l = load(OWNER_DIR "libvirt.listing");
	struct owner o;

	(void)state;
	assert_all_of(l, "libvirt");
	o = owner_in(l, "guest_input", "oif \"virbr0\" counter reject");
	assert_owner_str(&o, false, "libvirt to guests, bridge virbr0");
	o = owner_in(l, "guest_nat", NULL);
	assert_owner_str(&o, false, "libvirt guest NAT");
	o = owner_in(l, "forward", "counter jump guest_cross");
	assert_owner_str(&o, false, "libvirt");
	unload(l);
}

/*
 * netavark's names as src/firewall/nft.rs makes them (get_subnet_chain_name:
 * nv_<first 8 of the network id>_<subnet with . -> _, : -> -, / -> _nm>),
 * and a DNAT rule as nft lists it.
 */
static void test_netavark_network_and_published_port(void **state)
{
	struct owner o;

	(void)state;
	assert_true(owner_of(NFPROTO_INET, "netavark", "nv_2f259bab_10_88_0_0_nm16", NULL, &o));
	assert_owner_str(&o, false, "netavark network id 2f259bab, subnet 10.88.0.0/16");
	assert_true(owner_of(NFPROTO_INET, "netavark", "nv_2f259bab_fd00-db8-1--_nm64_dnat",
			     "tcp dport 3001 dnat ip6 to [fd00:db8:1::4]:8080", &o));
	assert_string_equal(attr(&o, "subnet"), "fd00:db8:1::/64");
	assert_string_equal(attr(&o, "published"), "3001/tcp");
	assert_string_equal(attr(&o, "container"), "[fd00:db8:1::4]:8080");
	assert_true(owner_of(NFPROTO_INET, "netavark", "NETAVARK-ISOLATION-2", NULL, &o));
	assert_owner_str(&o, false, "netavark network isolation");
	assert_false(o.iptables_nft);
}

/*
 * ufw through iptables-nft: its chains ufw-* (ip) and ufw6-* (ip6) by what
 * they hold, the built-in chains only where they jump to ufw, and the
 * iptables-nft hint for both families.
 */
static void test_ufw_chains_and_jumps(void **state)
{
	struct listing_copy *l = load(OWNER_DIR "ufw.listing");
	unsigned int ufw_rules = 0;
	struct owner o;

	(void)state;
	for (unsigned int i = 0; i < l->n; i++) {
		const struct item *it = &l->items[i];
		bool builtin = strcmp(it->chain, "INPUT") == 0 ||
			       strcmp(it->chain, "FORWARD") == 0 ||
			       strcmp(it->chain, "OUTPUT") == 0;
		bool known = owner_of(it->family, it->table, it->chain, it->text, &o);

		/* a built-in chain (its policy) is nobody's; its rules all jump to ufw */
		if (builtin && !it->text) {
			if (known)
				fail_msg("%s: the built-in chain taken for %s", it->chain,
					 o.manager ? o.manager : "iptables-nft");
			continue;
		}
		if (!known || !o.manager || strcmp(o.manager, "ufw") != 0)
			fail_msg("%s `%s`: not ufw's", it->chain, it->text ? it->text : "(chain)");
		assert_true(o.iptables_nft);
		ufw_rules += it->text != NULL;
	}
	assert_true(ufw_rules > 100);

	o = owner_in(l, "ufw-user-input", "tcp dport 8443 counter reject with tcp reset");
	assert_owner_str(&o, false, "ufw user rules");
	assert_owner_str(
		&o, true,
		"ufw user rules; table managed by iptables-nft, `iptables-nft -t filter -S ufw-user-input` shows it in iptables syntax");
	o = owner_in(l, "ufw6-user-input", "tcp dport 8443 counter reject with tcp reset");
	assert_owner_str(&o, false, "ufw user rules");
	assert_string_equal(o.iptables_cmd, "ip6tables-nft -t filter -S ufw6-user-input");
	o = owner_in(
		l, "ufw-user-forward",
		"iifname \"wan0\" oifname \"lan0\" ip daddr 203.0.113.10 tcp dport 22 counter accept");
	assert_owner_str(&o, false, "ufw user rules");
	o = owner_in(l, "ufw-before-input", "ct state related,established counter accept");
	assert_owner_str(&o, false, "ufw before.rules");
	o = owner_in(l, "ufw6-before-input", "ct state related,established counter accept");
	assert_owner_str(&o, false, "ufw before6.rules");
	o = owner_in(l, "ufw-after-logging-input",
		     "limit rate 3/minute burst 10 packets counter log prefix \"[UFW BLOCK] \"");
	assert_owner_str(&o, false, "ufw logging");
	o = owner_in(l, "ufw-user-limit", NULL);
	assert_owner_str(&o, false, "ufw rate limits");
	o = owner_in(l, "ufw-not-local", "counter drop");
	assert_owner_str(&o, false, "ufw");
	o = owner_in(l, "INPUT", "counter jump ufw-before-input");
	assert_owner_str(&o, false, "ufw");

	/* a user's own rule in a built-in chain, and look-alikes elsewhere */
	assert_false(owner_of(NFPROTO_IPV4, "filter", "INPUT", "tcp dport 25 accept", &o));
	assert_false(owner_of(NFPROTO_IPV4, "filter", "INPUT", "jump ufwx", &o));
	assert_false(
		owner_of(NFPROTO_IPV4, "filter", "INPUT", "accept comment \"jump ufw-x\"", &o));
	assert_false(owner_of(NFPROTO_INET, "filter", "ufw-user-input", "accept", &o));
	assert_false(owner_of(NFPROTO_IPV4, "myfw", "ufw-user-input", "accept", &o));
	/* ufw- is IPv4's, ufw6- IPv6's */
	assert_false(owner_of(NFPROTO_IPV6, "filter", "ufw-user-input", "accept", &o));
	assert_false(owner_of(NFPROTO_IPV4, "filter", "ufw6-user-input", "accept", &o));
	unload(l);
}

/* wg-quick's table wg-quick-<interface>, ip and ip6, by chain. */
static void test_wg_quick_table(void **state)
{
	struct listing_copy *l = load(OWNER_DIR "wg-quick.listing");
	struct owner o;

	(void)state;
	assert_all_of(l, "wg-quick");
	o = owner_in(l, "preraw",
		     "iifname != \"wg0\" ip daddr 192.0.2.2 fib saddr type != local drop");
	assert_owner_str(&o, false, "wg-quick tunnel address filter, interface wg0");
	assert_false(o.iptables_nft);
	o = owner_in(l, "premangle", "meta l4proto udp meta mark set ct mark");
	assert_owner_str(&o, false, "wg-quick connection mark restore, interface wg0");
	o = owner_in(l, "postmangle", NULL);
	assert_owner_str(&o, false, "wg-quick connection mark save, interface wg0");
	unload(l);

	/* another chain in its table: wg-quick's, no role */
	assert_true(owner_of(NFPROTO_IPV6, "wg-quick-wgvpn1", "other", "accept", &o));
	assert_owner_str(&o, false, "wg-quick interface wgvpn1");
	/* not an interface name, or not its families */
	assert_false(owner_of(NFPROTO_IPV4, "wg-quick-", "preraw", NULL, &o));
	assert_false(owner_of(NFPROTO_IPV4, "wg-quick-0123456789abcdef", "preraw", NULL, &o));
	assert_false(owner_of(NFPROTO_INET, "wg-quick-wg0", "preraw", NULL, &o));
	assert_false(owner_of(NFPROTO_IPV4, "wg-quickwg0", "preraw", NULL, &o));
}

/* Incus's table incus: network chains <what>.<network>, device chains. */
static void test_incus_network_and_devices(void **state)
{
	struct listing_copy *l = load(OWNER_DIR "incus.listing");
	struct owner o;

	(void)state;
	assert_all_of(l, "incus");
	o = owner_in(l, "fwd.incusbr0",
		     "ip6 version 6 oifname \"incusbr0\" reject with icmpv6 port-unreachable");
	assert_owner_str(&o, false, "incus forwarding, network incusbr0");
	assert_false(o.iptables_nft);
	o = owner_in(l, "fwdprert.incusbr0",
		     "ip daddr 198.51.100.1 tcp dport 1222 dnat ip to 192.0.2.2:22");
	assert_owner_str(&o, false, "incus network forward, network incusbr0");
	o = owner_in(l, "pstrt.incusbr0", NULL);
	assert_owner_str(&o, false, "incus outbound NAT, network incusbr0");
	o = owner_in(l, "in.incusbr0", "iifname \"incusbr0\" tcp dport 53 accept");
	assert_owner_str(&o, false, "incus host input, network incusbr0");
	unload(l);

	/* an instance's device: bridge filter, reverse-path filter, netprio */
	assert_true(owner_of(NFPROTO_BRIDGE, "incus", "fwd.c1.eth0", "drop", &o));
	assert_owner_str(&o, false, "incus instance filter, device c1.eth0");
	assert_true(owner_of(NFPROTO_INET, "incus", "prert.proj_c1.eth0", NULL, &o));
	assert_owner_str(&o, false, "incus device proj_c1.eth0");
	assert_true(owner_of(NFPROTO_NETDEV, "incus", "egress.netprio.c1.eth0", NULL, &o));
	assert_owner_str(&o, false, "incus device c1.eth0");
	/* a chain of its table in no known form: Incus's, nothing more */
	assert_true(owner_of(NFPROTO_INET, "incus", "fwd", NULL, &o));
	assert_owner_str(&o, false, "incus");
	/* not its families, not its table */
	assert_false(owner_of(NFPROTO_IPV4, "incus", "fwd.incusbr0", NULL, &o));
	assert_false(owner_of(NFPROTO_INET, "incusx", "fwd.incusbr0", NULL, &o));
	assert_false(owner_of(NFPROTO_BRIDGE, "filter", "fwd.c1.eth0", NULL, &o));
}

/* Rulesets written by hand: the other fixtures, and look-alike names. */
static void test_unknown_rulesets_get_nothing(void **state)
{
	static const char *const files[] = {
		FIXTURES "/listing/ruleset.txt",  FIXTURES "/trace_drop.ruleset",
		FIXTURES "/trace_accept.ruleset", FIXTURES "/trace_ipv6.ruleset",
		FIXTURES "/trace_output.ruleset",
	};
	struct owner o;

	(void)state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		struct listing_copy *l = load(files[f]);

		for (unsigned int i = 0; i < l->n; i++) {
			const struct item *it = &l->items[i];

			if (owner_of(it->family, it->table, it->chain, it->text, &o))
				fail_msg("%s: %s %s `%s` taken for %s", files[f], it->table,
					 it->chain, it->text ? it->text : "(chain)",
					 o.manager ? o.manager : "iptables-nft");
		}
		unload(l);
	}
	/* a user's inet filter, with names that look like the managers' */
	assert_false(owner_of(NFPROTO_INET, "filter", "DOCKER",
			      "tcp dport 8080 dnat ip to 192.0.2.2:80", &o));
	assert_false(owner_of(NFPROTO_INET, "filter", "filter_IN_public", "drop", &o));
	assert_false(
		owner_of(NFPROTO_INET, "filter", "input_wan", "accept comment \"!fw4: x\"", &o));
	assert_false(owner_of(NFPROTO_IPV4, "myfw", "service-ABCDEFGH-ns/n/tcp/80", NULL, &o));
	/* the right table, the wrong family */
	assert_false(owner_of(NFPROTO_IPV4, "fw4", "input_wan", NULL, &o));
	assert_false(owner_of(NFPROTO_BRIDGE, "filter", "DOCKER", NULL, &o));
	/* kube-proxy's table, a chain name not in its form */
	assert_true(owner_of(NFPROTO_IPV4, "kube-proxy", "service-lower-ns/n", NULL, &o));
	assert_int_equal(o.n_attrs, 0);
	assert_null(o.manager ? attr(&o, "service") : NULL);
	assert_false(owner_of(NFPROTO_IPV4, NULL, "x", NULL, &o));
}

static void test_xt_expressions_mean_iptables_nft(void **state)
{
	struct owner o;

	(void)state;
	/* nft 1.0.6 lists `-m recent` this way (seen in a namespace) */
	assert_true(owner_of(NFPROTO_IPV4, "filter", "INPUT", "xt match recent counter", &o));
	assert_null(o.manager);
	assert_true(o.iptables_nft);
	assert_owner_str(
		&o, true,
		"table managed by iptables-nft, `iptables-nft -t filter -S INPUT` shows it in iptables syntax");
	assert_owner_str(&o, false, "");
	assert_true(owner_of(NFPROTO_IPV6, "mangle", "PREROUTING", "xt target TPROXY", &o));
	assert_string_equal(o.iptables_cmd, "ip6tables-nft -t mangle -S PREROUTING");
	/* in a comment it is not an expression, nor in an nft table */
	assert_false(owner_of(NFPROTO_IPV4, "filter", "INPUT", "accept comment \"xt match\"", &o));
	assert_false(owner_of(NFPROTO_INET, "filter", "INPUT", "xt match recent counter", &o));
}

static void test_owner_json(void **state)
{
	struct jsonw w;
	struct owner o;

	(void)state;
	jsonw_init(&w, NULL, 0);
	jsonw_object_open(&w, NULL);
	assert_true(owner_of(NFPROTO_INET, "firewalld", "filter_IN_public", "reject", &o));
	owner_json(&w, "owner", &o);
	assert_true(owner_of(NFPROTO_IPV4, "nat", "DOCKER",
			     "iifname != \"bridge1\" tcp dport 8080 counter dnat to 192.0.2.2:80",
			     &o));
	owner_json(&w, "docker", &o);
	owner_of(NFPROTO_INET, "filter", "input", "accept", &o);
	owner_json(&w, "nothing", &o);
	jsonw_object_close(&w);
	assert_string_equal(jsonw_text(&w),
			    "{\"owner\":{\"manager\":\"firewalld\",\"zone\":\"public\"},"
			    "\"docker\":{\"manager\":\"docker\",\"role\":\"published ports\","
			    "\"published\":\"8080/tcp\",\"container\":\"192.0.2.2:80\","
			    "\"iptables_nft\":\"iptables-nft -t nat -S DOCKER\"}}");
	jsonw_release(&w);
}

/*
 * Every prefix of every rule of the real listings (a rule cut anywhere, a
 * quote left open): whatever it says, it reads only its own bytes (the
 * ASan build checks) and its values stay terminated.
 */
static void test_cut_rules_are_safe(void **state)
{
	static const char *const files[] = {
		OWNER_DIR "firewalld.listing", OWNER_DIR "fw4.listing",
		OWNER_DIR "docker.listing",    OWNER_DIR "kube-proxy.listing",
		OWNER_DIR "libvirt.listing",   OWNER_DIR "docker-nftables.listing",
	};
	char buf[512], *cut;
	struct owner o;

	(void)state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		struct listing_copy *l = load(files[f]);

		for (unsigned int i = 0; i < l->n; i++) {
			const struct item *it = &l->items[i];
			size_t len = it->text ? strlen(it->text) : 0;

			for (size_t n = 0; it->text && n <= len; n++) {
				cut = strndup(it->text, n);
				assert_non_null(cut);
				owner_of(it->family, it->table, it->chain, cut, &o);
				owner_str(&o, true, buf, sizeof(buf));
				for (unsigned int a = 0; a < o.n_attrs; a++)
					assert_true(strlen(o.attrs[a].value) < OWNER_VALUE_MAX);
				free(cut);
			}
		}
		unload(l);
	}
}

/* Long names are cut, never overrun. */
static void test_long_names_are_cut(void **state)
{
	char chain[300], buf[8];
	struct owner o;

	(void)state;
	memcpy(chain, "filter_IN_", 10);
	memset(chain + 10, 'z', sizeof(chain) - 11);
	chain[sizeof(chain) - 1] = '\0';
	assert_true(owner_of(NFPROTO_INET, "firewalld", chain, NULL, &o));
	assert_int_equal(strlen(attr(&o, "zone")), OWNER_VALUE_MAX - 1);
	assert_true(owner_str(&o, false, buf, sizeof(buf)) > (int)sizeof(buf));
	assert_string_equal(buf, "firewal");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_firewalld_zone_policy_and_forward_port),
		cmocka_unit_test(test_fw4_rule_and_zone),
		cmocka_unit_test(test_docker_published_port_and_iptables_nft),
		cmocka_unit_test(test_docker_nftables_backend),
		cmocka_unit_test(test_kube_proxy_service_from_chain_names),
		cmocka_unit_test(test_kube_proxy_no_endpoint_maps),
		cmocka_unit_test(test_kube_proxy_no_endpoints_named_by_element_comment),
		cmocka_unit_test(test_libvirt_role_and_bridge),
		cmocka_unit_test(test_netavark_network_and_published_port),
		cmocka_unit_test(test_ufw_chains_and_jumps),
		cmocka_unit_test(test_wg_quick_table),
		cmocka_unit_test(test_incus_network_and_devices),
		cmocka_unit_test(test_unknown_rulesets_get_nothing),
		cmocka_unit_test(test_xt_expressions_mean_iptables_nft),
		cmocka_unit_test(test_owner_json),
		cmocka_unit_test(test_cut_rules_are_safe),
		cmocka_unit_test(test_long_names_are_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
