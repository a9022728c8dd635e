/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_OWNER_H
#define NATTRACED_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct explain;
struct resolver;
struct timeline;

/*
 * Which manager generated a table, chain or rule, and what it means in that
 * manager's terms: "firewalld zone public", "kube-proxy service
 * ns1/svc1:p80", "fw4 rule Allow-Ping". Recognised from the ruleset alone
 * (table and chain names, the rule's text and comment), never guessed: an
 * unknown ruleset gives nothing. Pure: no I/O, no allocation.
 */

/* Key/value pairs an owner carries at most. */
#define OWNER_MAX_ATTRS 4
/* A value longer than this is cut. */
#define OWNER_VALUE_MAX 128
/* "ip6tables-nft -t filter -S <chain name of up to 255 bytes>" */
#define OWNER_CMD_MAX	(32 + 256)

struct owner_attr {
	const char *key;   /* JSON key, static: "zone", "service", ... */
	const char *label; /* text before the value, static; "" none */
	char value[OWNER_VALUE_MAX];
};

struct owner {
	/* "firewalld", "fw4", "docker", "kube-proxy", "libvirt", "netavark", "ufw",
	 * "wg-quick", "incus"; NULL if not recognised (iptables_nft may still be
	 * set) */
	const char *manager;
	struct owner_attr attrs[OWNER_MAX_ATTRS];
	unsigned int n_attrs;
	/*
	 * The table is iptables-nft's (a Docker chain, or xt expressions in
	 * the rule): iptables_cmd shows the chain in iptables syntax,
	 * "iptables-nft -t nat -S DOCKER".
	 */
	bool iptables_nft;
	char iptables_cmd[OWNER_CMD_MAX];
};

/*
 * Recognise the owner of a rule (rule: its text as nft lists it, with its
 * comment) or of a chain (rule NULL). family is NFPROTO_*. Returns whether
 * anything was recognised; *ret is always written (empty when not).
 */
bool owner_of(uint8_t family, const char *table, const char *chain, const char *rule,
	      struct owner *ret);

/*
 * kube-proxy sends packets for Services without endpoints through its
 * maps no-endpoint-services (key: address . protocol . port) and
 * no-endpoint-nodeports (protocol . port) to a drop or to its shared
 * reject-chain, whose names say nothing of the Service. rule is a rule of
 * o's kube-proxy table that looked the packet up in one of them and took
 * the map's verdict (so the packet's key is in the map): add what the key
 * says, "Service 198.51.100.46:80/tcp" or "NodePort 3001/tcp", from the
 * packet as that rule saw it (daddr as printed, proto "tcp"...). The
 * Service's name is only in the element's comment, which the rule text
 * does not show: name, if not NULL, is that comment; when it has the form
 * of kube-proxy's "namespace/name:port" it is added as the Service, and
 * the address follows it ("Service ns6/svc6:p80, address
 * 198.51.100.46:80/tcp"). Returns whether it added anything.
 */
bool owner_kube_lookup(struct owner *o, const char *rule, const char *daddr, const char *proto,
		       uint16_t dport, const char *name);
/*
 * The element owner_kube_lookup() reads the key of, to ask for its
 * comment: set "no-endpoint-services", key "198.51.100.46 . tcp . 80" (nft
 * syntax). false if rule is no such lookup of o's kube-proxy table (or a
 * buffer is too small).
 */
bool owner_kube_element(const struct owner *o, const char *rule, const char *daddr,
			const char *proto, uint16_t dport, char *set, size_t set_len, char *key,
			size_t key_len);
/*
 * Ask r (set_elem_comment) for the comment of the kube-proxy element that
 * sent a dropped packet to its cause, at the cause or one of its vias (at
 * most one query), and keep it in ex->kube_step/kube_service for
 * owner_of_step() and owner_of_cause(). Call from explain_timeline() after
 * the vias, before owner_of_cause().
 */
void owner_kube_resolve(const struct timeline *tl, const struct resolver *r, struct explain *ex);

/*
 * The owner of step i of tl, with its rule text as ex resolved it, and what
 * kube-proxy's maps prove (owner_kube_lookup) from the packet as that
 * step's base chain saw it.
 */
bool owner_of_step(const struct timeline *tl, const struct explain *ex, int i, struct owner *ret);
/*
 * The owner of the cause (ex->sum.cause): owner_of_step(), and when that is
 * kube-proxy's shared reject-chain, the Service the vmap that sent the
 * packet there proves. false, and empty, without a cause.
 */
bool owner_of_cause(const struct timeline *tl, const struct explain *ex, struct owner *ret);

/* Anything to say? */
static inline bool owner_known(const struct owner *o)
{
	return o->manager || o->iptables_nft;
}

#endif
