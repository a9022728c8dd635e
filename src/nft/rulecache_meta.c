/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rule cache's chain metadata, for every chain from "list chains":
 * hooks, types and priorities, and from them the "last hook" logic (which
 * hooks packets pass, where an accept is final).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>

#include "names.h"
#include "rulecache_int.h"

/* ---- chain metadata ---- */

static struct meta **meta_slot(struct meta **buckets, uint32_t hash, uint8_t family,
			       const char *table, const char *name)
{
	struct meta **pp = &buckets[hash & (META_BUCKETS - 1)];

	for (; *pp; pp = &(*pp)->next) {
		struct meta *m = *pp;

		if (m->hash == hash && m->family == family && strcmp(m->table, table) == 0 &&
		    strcmp(m->name, name) == 0)
			break;
	}
	return pp;
}

struct meta *rulecache_meta_find(const struct rulecache *c, uint8_t family, const char *table,
				 const char *name)
{
	return *meta_slot(c->meta, rulecache_chain_hash(family, table, name), family, table, name);
}

/* A hook keyword as a string that lives until rulecache_free(). */
static const char *intern_hook(struct rulecache *c, const char *hook)
{
	const char *s = names_hook_static(hook);
	unsigned int i;

	if (s || !hook)
		return s;
	for (i = 0; i < HOOK_NAMES && c->hook_names[i]; i++)
		if (strcmp(c->hook_names[i], hook) == 0)
			return c->hook_names[i];
	if (i == HOOK_NAMES)
		return NULL; /* more odd keywords than any kernel has */
	c->hook_names[i] = strdup(hook);
	return c->hook_names[i];
}

void rulecache_meta_clear(struct meta **buckets)
{
	for (unsigned int i = 0; i < META_BUCKETS; i++) {
		while (buckets[i]) {
			struct meta *m = buckets[i];

			buckets[i] = m->next;
			free(m);
		}
	}
}

int rulecache_meta_add(struct rulecache *c, struct meta **buckets, unsigned int *n,
		       unsigned int *nbase, uint8_t family, const char *table, const char *name,
		       uint64_t handle, const char *hook, const char *type, bool has_priority,
		       int32_t priority)
{
	uint32_t hash = rulecache_chain_hash(family, table, name);
	struct meta **pp = meta_slot(buckets, hash, family, table, name), *m;

	if (*pp)
		return 0; /* listed twice: the first one holds */
	/* Beyond the bound a chain is not known: its hook shows as unknown. */
	if (*n >= RULECACHE_MAX_CHAINS || (hook && *nbase >= RULECACHE_MAX_BASE_CHAINS))
		return 0;
	if (hook)
		(*nbase)++;
	m = calloc(1, sizeof(*m) + strlen(name) + 1 + strlen(table) + 1);
	if (!m)
		return -ENOMEM;
	m->table = rulecache_copy_names(m->name, name, table);
	m->hash = hash;
	m->family = family;
	m->handle = handle;
	m->hook = intern_hook(c, hook);
	m->nat = type && strcmp(type, "nat") == 0;
	m->has_priority = has_priority;
	m->priority = priority;
	*pp = m;
	(*n)++;
	return 0;
}

void rulecache_meta_remove(struct rulecache *c, uint8_t family, const char *table, const char *name)
{
	struct meta **pp =
		meta_slot(c->meta, rulecache_chain_hash(family, table, name), family, table, name);
	struct meta *m = *pp;

	if (!m)
		return;
	*pp = m->next;
	c->nmeta--;
	if (m->hook)
		c->nbase--;
	free(m);
}

/* Which hooks a packet of each IP version passes through base chains. */
static void note_base_hooks(struct rulecache *c)
{
	memset(c->hooks_all, 0, sizeof(c->hooks_all));
	memset(c->hooks_nat, 0, sizeof(c->hooks_nat));
	for (unsigned int i = 0; i < META_BUCKETS; i++) {
		for (const struct meta *e = c->meta[i]; e; e = e->next) {
			int bit = names_hook_parse(e->hook);

			if (bit < 0)
				continue;
			for (unsigned int v = 0; v < 2; v++) {
				uint8_t own = v == 0 ? NFPROTO_IPV4 : NFPROTO_IPV6;

				if (e->family != NFPROTO_INET && e->family != own)
					continue;
				if (e->nat)
					c->hooks_nat[v] |= 1u << bit;
				else
					c->hooks_all[v] |= 1u << bit;
			}
		}
	}
}

static bool families_overlap(uint8_t a, uint8_t b)
{
	return a == b || a == NFPROTO_INET || b == NFPROTO_INET;
}

/* Where a packet goes after a hook: later hooks on its path. */
static unsigned int hooks_after(int bit)
{
	switch (bit) {
	case NF_INET_FORWARD:
	case NF_INET_LOCAL_OUT:
		return 1u << NF_INET_POST_ROUTING;
	case NF_INET_LOCAL_IN:
	case NF_INET_POST_ROUTING:
		return 0;
	}
	return ~0u; /* prerouting: input or forward, not known here */
}

/*
 * Would o see a packet after e accepted it? At the same hook when its
 * priority is higher (equal ones run in no fixed order), or at a later
 * hook of the packet's path, for the families that see the packet.
 */
static bool sees_after(const struct meta *e, const struct meta *o)
{
	int eb = names_hook_parse(e->hook), ob = names_hook_parse(o->hook);

	if (o == e || ob < 0 || !families_overlap(o->family, e->family))
		return false;
	if (ob == eb)
		return !o->has_priority || !e->has_priority || o->priority >= e->priority;
	return hooks_after(eb) & (1u << ob);
}

/*
 * An accept ends a packet's path through the ruleset when no base chain
 * sees the packet after that one: none later at the same hook, none at a
 * later hook of its path, and no bridge or netdev egress chains. nat
 * chains see only a connection's first packet, hence two answers. Only
 * base chains take part: a few, however many regular chains there are.
 */
static void note_final_accepts(struct rulecache *c)
{
	struct meta **base;
	unsigned int nbase = 0, i, j;
	bool later_hooks = false;

	for (i = 0; i < META_BUCKETS; i++)
		for (struct meta *e = c->meta[i]; e; e = e->next)
			if (e->hook)
				nbase++;
	base = calloc(nbase ? nbase : 1, sizeof(*base));
	if (!base) {
		/* no answer is the safe one: accepts wait for their idle time */
		for (i = 0; i < META_BUCKETS; i++)
			for (struct meta *e = c->meta[i]; e; e = e->next)
				e->final_accept = e->final_accept_later = false;
		return;
	}
	nbase = 0;
	for (i = 0; i < META_BUCKETS; i++)
		for (struct meta *e = c->meta[i]; e; e = e->next)
			if (e->hook)
				base[nbase++] = e;
	for (i = 0; i < nbase; i++)
		if (base[i]->family == NFPROTO_BRIDGE ||
		    (base[i]->family == NFPROTO_NETDEV && strcmp(base[i]->hook, "egress") == 0))
			later_hooks = true;
	for (i = 0; i < nbase; i++) {
		struct meta *e = base[i];
		bool ip = e->family == NFPROTO_INET || e->family == NFPROTO_IPV4 ||
			  e->family == NFPROTO_IPV6;

		e->final_accept = e->final_accept_later = false;
		if (later_hooks || !ip || hooks_after(names_hook_parse(e->hook)) == ~0u)
			continue;
		e->final_accept = e->final_accept_later = true;
		for (j = 0; j < nbase; j++) {
			if (!sees_after(e, base[j]))
				continue;
			e->final_accept = false;
			if (!base[j]->nat)
				e->final_accept_later = false;
		}
	}
	free(base);
}

void rulecache_meta_changed(struct rulecache *c)
{
	note_base_hooks(c);
	note_final_accepts(c);
}
