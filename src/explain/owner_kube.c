/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kube-proxy (nftables mode): what its chain names say, what its
 * no-endpoint maps prove about a dropped packet, and the owners of an
 * explained timeline's steps, which those maps complete (owner_of_step(),
 * owner_of_cause()).
 */
#include <stdio.h>
#include <string.h>

#include "explain.h"
#include "owner.h"
#include "owner_int.h"
#include "packet.h"
#include "timeline_read.h"

static bool upper_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* "ULMVA6XW-ns1/svc1/tcp/p80__192.0.2.11/80" */
bool owner_chain_kube(const char *rest, struct owner *o)
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
	owner_set_attr(o, "service", buf, strlen(buf));
	owner_set_attr(o, "protocol", proto, (size_t)(port - 1 - proto));
	if (ep) {
		ep += 2;
		slash = strrchr(ep, '/');
		if (slash && slash != ep && slash[1]) {
			bool v6 = memchr(ep, ':', (size_t)(slash - ep)) != NULL;

			snprintf(buf, sizeof(buf), "%s%.*s%s:%s", v6 ? "[" : "", (int)(slash - ep),
				 ep, v6 ? "]" : "", slash + 1);
			owner_set_attr(o, "endpoint", buf, strlen(buf));
		}
	}
	return true;
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
	owner_set_attr(o, "role", "no endpoints", strlen("no endpoints"));
	if (named)
		owner_set_attr(o, "service", name, strlen(name));
	if (map == KUBE_MAP_NODEPORTS) {
		snprintf(buf, sizeof(buf), "%u/%s", dport, proto);
		owner_set_attr(o, "nodeport", buf, strlen(buf));
		return true;
	}
	v6 = strchr(daddr, ':') != NULL;
	snprintf(buf, sizeof(buf), "%s%s%s:%u/%s", v6 ? "[" : "", daddr, v6 ? "]" : "", dport,
		 proto);
	owner_set_attr(o, "service_address", buf, strlen(buf));
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

	owner_clear(ret);
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
