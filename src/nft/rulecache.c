/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rule cache's public face: its life (the event socket, the first
 * "list chains"), refreshing, and the lookups, which list a chain when
 * it is first met or changed. rulecache_int.h says where the rest is.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>

#include "clock.h"
#include "rulecache_int.h"

/* ---- life ---- */

static struct rulecache *alloc_cache(void)
{
	struct rulecache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->meta = calloc(META_BUCKETS, sizeof(*c->meta));
	c->listed = calloc(LISTED_BUCKETS, sizeof(*c->listed));
	c->deleted = calloc(DELETED_BUCKETS, sizeof(*c->deleted));
	if (!c->meta || !c->listed || !c->deleted)
		return rulecache_free(c);
	return c;
}

int rulecache_new_offline(struct rulecache **ret)
{
	struct rulecache *c = alloc_cache();

	if (!c)
		return -ENOMEM;
	*ret = c;
	return 0;
}

int rulecache_new(struct rulecache **ret)
{
	unsigned int group = NFNLGRP_NFTABLES;
	struct rulecache *c = alloc_cache();
	int r;

	if (!c)
		return -ENOMEM;
	c->evbuf = malloc(EVENT_BUF_SIZE);
	if (!c->evbuf) {
		r = -ENOMEM;
		goto out;
	}
	/* Subscribe before the first listing, so no change falls between. */
	c->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!c->nl) {
		r = -errno;
		goto out;
	}
	if (mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(c->nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		r = -errno;
		goto out;
	}
	r = rulecache_nft_ctx_fresh(c);
	if (r < 0)
		goto out;
	r = rulecache_list_chains(c);
	if (r < 0)
		goto out;
	*ret = c;
	c = NULL;
out:
	rulecache_free(c);
	return r;
}

struct rulecache *rulecache_free(struct rulecache *c)
{
	if (!c)
		return NULL;
	rulecache_epoch_end(c);
	while (c->newest) {
		struct listed *l = c->newest;

		rulecache_lru_unlink(c, l);
		rulecache_listed_free_now(c, l);
	}
	for (unsigned int i = 0; i < c->ndeleted; i++)
		free(c->ring[(c->ring_head + i) % RULECACHE_MAX_DELETED]);
	if (c->meta)
		rulecache_meta_clear(c->meta);
	for (unsigned int i = 0; i < HOOK_NAMES; i++)
		free(c->hook_names[i]);
	free(c->meta);
	free(c->listed);
	free(c->deleted);
	free(c->scratch[0].buf);
	free(c->scratch[1].buf);
	if (c->nft)
		nft_ctx_free(c->nft);
	if (c->nl)
		mnl_socket_close(c->nl);
	free(c->evbuf);
	free(c);
	return NULL;
}

int rulecache_fd(const struct rulecache *c)
{
	return c->nl ? mnl_socket_get_fd(c->nl) : -1;
}

void rulecache_on_readable(struct rulecache *c)
{
	rulecache_drain(c);
}

void rulecache_offline_lister(struct rulecache *c, const char *(*list)(void *ctx), void *ctx)
{
	c->list = list;
	c->list_ctx = ctx;
}

void rulecache_offline_changed(struct rulecache *c)
{
	rulecache_lost_events(c);
}

void rulecache_offline_events(struct rulecache *c, const void *buf, size_t len)
{
	rulecache_note_events(c, buf, len);
}

/* A test's whole listing, as rate-limited as a chain's re-listing. */
static int offline_relist(struct rulecache *c)
{
	uint64_t start = now_ns(), wait;
	const char *text;
	int r;

	if (start < c->list_next_ns)
		return -EAGAIN;
	text = c->list(c->list_ctx);
	r = text ? rulecache_load_listing(c, text) : -EIO;
	c->stats.chain_listings++;
	wait = (now_ns() - start) * (RELIST_COST_FACTOR + 1);
	c->list_next_ns = start + (wait > RELIST_MIN_INTERVAL_NS ? wait : RELIST_MIN_INTERVAL_NS);
	if (r < 0)
		c->stats.listing_errors++;
	return r;
}

int rulecache_sync(struct rulecache *c)
{
	if (!c->nft)
		return 0;
	rulecache_drain(c);
	if (!c->meta_stale)
		return 0;
	return rulecache_list_chains(c);
}

int rulecache_refresh(struct rulecache *c)
{
	if (!c->nft) {
		if (c->list && c->meta_stale)
			offline_relist(c);
		return 0;
	}
	rulecache_drain(c);
	if (!c->meta_stale || now_ns() < c->meta_next_ns)
		return 0;
	return rulecache_list_chains(c);
}

const struct rulecache_stats *rulecache_stats(const struct rulecache *c)
{
	return &c->stats;
}

/* ---- lookups ---- */

/* May a changed chain be listed again now? */
static bool may_relist(const struct rulecache *c, const struct listed *l)
{
	uint64_t now = now_ns(), wait = l->cost_ns * (RELIST_COST_FACTOR + 1);

	if (now < l->listed_ns + (wait > RELIST_MIN_INTERVAL_NS ? wait : RELIST_MIN_INTERVAL_NS))
		return false;
	return l->cost_ns < QUIET_FROM_COST_NS || now - c->changed_ns >= l->cost_ns;
}

/*
 * The live listed chain, listed now if it never was, or if it changed and
 * handle (0: any) is not known in it. *ret_limited when a bound kept a
 * listing from happening.
 */
static struct listed *get_chain(struct rulecache *c, uint8_t family, const char *table,
				const char *chain, uint64_t handle, bool *ret_limited)
{
	struct listed *l = rulecache_live(c, family, table, chain), *fresh = NULL;
	int i;

	*ret_limited = false;
	if (l) {
		i = handle ? rulecache_index_find(l, handle) : -1;
		if (!l->unverified &&
		    ((handle && i >= 0 && !rulecache_is_dead(l, (unsigned int)i)) ||
		     (!handle && !l->dirty)))
			goto found;
		/* a rule just added: its event may still be queued */
		if (!l->dirty && !l->unverified) {
			rulecache_drain(c);
			l = rulecache_live(c, family, table, chain);
		}
	}
	if (l && !l->dirty && !l->unverified)
		goto found; /* nothing says a listing would know more */
	if (!c->nft && !c->list)
		goto found; /* offline: what was loaded is all there is */
	if (!c->nft) {
		if (offline_relist(c) == -EAGAIN)
			*ret_limited = true;
		l = rulecache_live(c, family, table, chain);
		goto found;
	}
	if (l && !may_relist(c, l)) {
		*ret_limited = true;
		goto found;
	}
	if (rulecache_list_chain(c, family, table, chain, &fresh) < 0)
		goto found;
	rulecache_listed_install(c, fresh);
	l = fresh;
found:
	if (l)
		rulecache_lru_touch(c, l);
	return l;
}

/* A deleted chain of that name had it. */
static const char *gone_text(struct rulecache *c, uint8_t family, const char *table,
			     const char *chain, uint64_t handle)
{
	for (struct listed *l = c->newest; l; l = l->older) {
		int i;

		if (!l->gone || l->family != family || strcmp(l->table, table) != 0 ||
		    strcmp(l->name, chain) != 0)
			continue;
		i = rulecache_index_find(l, handle);
		if (i >= 0)
			return rulecache_text_of(c, l, (unsigned int)i);
	}
	return NULL;
}

const char *rulecache_rule(struct rulecache *c, uint8_t family, const char *table,
			   const char *chain, uint64_t handle, bool *ret_deleted)
{
	bool limited = false, deleted = false;
	const char *text = NULL;
	struct listed *l = NULL;
	struct deleted *d;
	int i;

	if (chain)
		l = get_chain(c, family, table, chain, handle, &limited);
	if (l && !l->missing && !l->too_big) {
		i = rulecache_index_find(l, handle);
		if (i >= 0) {
			text = rulecache_text_of(c, l, (unsigned int)i);
			deleted = rulecache_is_dead(l, (unsigned int)i);
			if (text)
				goto out;
		}
	}
	/* gone at a re-listing, or with its chain or table */
	d = *rulecache_deleted_slot(c, rulecache_rule_hash(family, table, handle), family, table,
				    handle);
	if (d) {
		text = d->text;
		deleted = true;
		goto out;
	}
	if (chain && (text = gone_text(c, family, table, chain, handle))) {
		deleted = true;
		goto out;
	}
	if (limited || (l && l->too_big))
		c->stats.unnamed++;
	return NULL;
out:
	if (ret_deleted)
		*ret_deleted = deleted;
	return text;
}

const char *rulecache_hook(struct rulecache *c, uint8_t family, const char *table,
			   const char *chain)
{
	struct meta *m = rulecache_meta_find(c, family, table, chain);

	/* a new base chain always comes with an event: read it first */
	if (!m && c->nft) {
		rulecache_drain(c);
		if (c->meta_stale && now_ns() >= c->meta_next_ns)
			rulecache_list_chains(c);
		m = rulecache_meta_find(c, family, table, chain);
	}
	return m ? m->hook : NULL;
}

bool rulecache_final_accept(struct rulecache *c, uint8_t family, const char *table,
			    const char *chain, bool first_packet)
{
	const struct meta *m;

	/* a change not listed yet may have added a later chain: wait */
	if (c->meta_stale)
		return false;
	m = rulecache_meta_find(c, family, table, chain);
	if (!m)
		return false;
	return first_packet ? m->final_accept : m->final_accept_later;
}

int rulecache_chain_rules(struct rulecache *c, uint8_t family, const char *table, const char *chain,
			  const uint64_t **ret_handles, unsigned int *ret_n)
{
	bool limited;
	struct listed *l = get_chain(c, family, table, chain, 0, &limited);

	if (!l || l->missing || l->too_big)
		return -ENOENT;
	*ret_handles = l->handles;
	*ret_n = l->n;
	return 0;
}

void rulecache_base_hooks(const struct rulecache *c, uint8_t nfproto, unsigned int *ret_all,
			  unsigned int *ret_nat)
{
	unsigned int v = nfproto == NFPROTO_IPV6 ? 1 : 0;

	*ret_all = c->hooks_all[v];
	*ret_nat = c->hooks_nat[v];
}
