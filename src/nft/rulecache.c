/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>

#include "clock.h"
#include "hash.h"
#include "listing.h"
#include "names.h"
#include "rulecache.h"

/*
 * Lifetime of returned strings (the contract is in rulecache.h). Rule text
 * is one allocation per rule that a re-list keeps as long as the rule is
 * listed with the same text; a rule that leaves the listing goes to the
 * deleted ring. What the ring pushes out, and a chain entry a re-list
 * drops (its name and hook), is not freed at once but retired: a re-list
 * can run in the middle of one explanation (a lookup that misses), whose
 * earlier lookups still hold those strings. Retired entries are freed at
 * rulecache_epoch_end(), when the caller has rendered its explanation.
 */

/* Chained hash tables: load factor at most 1 when full. */
#define RULE_BUCKETS	RULECACHE_MAX_RULES
#define CHAIN_BUCKETS	RULECACHE_MAX_CHAINS
#define DELETED_BUCKETS RULECACHE_MAX_DELETED

/*
 * A flood of handles no listing has (a chain binding's rules, say) re-lists
 * at most this often, and never more than 1/RELIST_COST_FACTOR of the time:
 * libnftables needs ~330 ms to list 20,000 rules here, so a fixed 100 ms
 * would keep it listing forever.
 */
#define RELIST_MIN_INTERVAL_NS (100ull * 1000 * 1000)
#define RELIST_COST_FACTOR     10
/*
 * A packet met a rule the cache does not have while a change is pending
 * (a rule just added): that is listed sooner, but still never more than
 * half the time, however fast the ruleset changes.
 */
#define RELIST_STALE_FACTOR    1
/* listings that take at least this long wait for a quiet ruleset */
#define QUIET_FROM_COST_NS     (20ull * 1000 * 1000)
/* rulecache_sync() waits for a quiet ruleset only when listing is this quick */
#define SYNC_MAX_WAIT_NS       (100ull * 1000 * 1000)

/*
 * A rule event carries the whole rule; a longer one is cut and just makes
 * the cache stale.
 */
#define EVENT_BUF_SIZE 65536
/* Messages drained per call; more stay queued and keep the fd readable. */
#define DRAIN_MAX      1024

#define LIST_FLAGS (NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_STATELESS | NFT_CTX_OUTPUT_TERSE)

struct rule_entry {
	struct rule_entry *next; /* in its bucket, live or deleted */
	/*
	 * Live rules in the order they were first listed, so the oldest
	 * also go first when a re-list drops several at once.
	 */
	struct rule_entry *older, *newer;
	uint64_t handle;
	uint32_t hash;
	uint32_t gen; /* listing that last had it */
	uint8_t family;
	const char *table; /* in data, after text */
	char text[];
};

struct chain_entry {
	struct chain_entry *next;
	uint32_t hash;
	uint32_t gen;
	uint8_t family;
	bool nat; /* type nat: passed by a connection's first packet only */
	/* Rule handles in listing order, which is the kernel's order. */
	uint64_t *handles;
	unsigned int nhandles, cap;
	const char *hook;  /* static, in data, or NULL */
	const char *table; /* in data */
	int32_t priority;
	bool has_priority;
	/*
	 * An accept here is the packet's last word in the ruleset: for a
	 * connection's first packet, and for its later ones (no nat chains).
	 */
	bool final_accept, final_accept_later;
	char name[];
};

struct rulecache {
	struct nft_ctx *nft;   /* NULL offline */
	struct mnl_socket *nl; /* NULL offline */
	/* offline, for tests: lists through this instead (rulecache_offline_lister) */
	const char *(*list)(void *ctx);
	void *list_ctx;
	char *evbuf;

	bool stale;
	uint64_t next_forced_ns; /* no forced re-list before */
	uint64_t next_stale_ns;	 /* no re-list for a miss while stale before */
	uint64_t changed_ns;	 /* the last ruleset change seen */
	uint64_t cost_ns;	 /* what the last listing took */
	uint32_t gen;

	struct rule_entry **rules;
	struct rule_entry *oldest, *newest;
	unsigned int nrules;
	struct chain_entry **chains;
	unsigned int nchains;

	/* Rules gone from the listing, oldest first in the ring. */
	struct rule_entry **deleted;
	struct rule_entry *ring[RULECACHE_MAX_DELETED];
	unsigned int ring_head;
	unsigned int ndeleted;

	/* Out of the cache, freed at rulecache_epoch_end(): linked by next. */
	struct rule_entry *retired;
	struct chain_entry *retired_chains;

	/* The chain whose rules the listing is reporting, NULL if not kept. */
	struct chain_entry *cur_chain;
	/* Per NFPROTO_IPV4 (0) and NFPROTO_IPV6 (1): hooks with base chains. */
	unsigned int hooks_all[2], hooks_nat[2];
};

static uint32_t hash_table(uint8_t family, const char *table)
{
	uint32_t h = HASH_FNV1A_INIT;

	h = hash_fnv1a(h, &family, sizeof(family));
	return hash_fnv1a(h, table, strlen(table) + 1);
}

static uint32_t rule_hash(uint8_t family, const char *table, uint64_t handle)
{
	return hash_fnv1a(hash_table(family, table), &handle, sizeof(handle));
}

static uint32_t chain_hash(uint8_t family, const char *table, const char *chain)
{
	return hash_fnv1a(hash_table(family, table), chain, strlen(chain));
}

static bool rule_is(const struct rule_entry *e, uint32_t hash, uint8_t family, const char *table,
		    uint64_t handle)
{
	return e->hash == hash && e->handle == handle && e->family == family &&
	       strcmp(e->table, table) == 0;
}

static struct rule_entry **rule_slot(struct rule_entry **buckets, unsigned int nbuckets,
				     uint32_t hash, uint8_t family, const char *table,
				     uint64_t handle)
{
	struct rule_entry **pp = &buckets[hash & (nbuckets - 1)];

	while (*pp && !rule_is(*pp, hash, family, table, handle))
		pp = &(*pp)->next;
	return pp;
}

static struct chain_entry **chain_slot(struct rulecache *c, uint32_t hash, uint8_t family,
				       const char *table, const char *name)
{
	struct chain_entry **pp = &c->chains[hash & (CHAIN_BUCKETS - 1)];

	while (*pp) {
		struct chain_entry *e = *pp;

		if (e->hash == hash && e->family == family && strcmp(e->table, table) == 0 &&
		    strcmp(e->name, name) == 0)
			break;
		pp = &e->next;
	}
	return pp;
}

static void live_insert(struct rulecache *c, struct rule_entry *e)
{
	struct rule_entry **bucket = &c->rules[e->hash & (RULE_BUCKETS - 1)];

	e->next = *bucket;
	*bucket = e;
	e->older = c->newest;
	e->newer = NULL;
	if (c->newest)
		c->newest->newer = e;
	else
		c->oldest = e;
	c->newest = e;
	c->nrules++;
}

static void live_remove(struct rulecache *c, struct rule_entry *e)
{
	struct rule_entry **pp = &c->rules[e->hash & (RULE_BUCKETS - 1)];

	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	e->older = e->newer = NULL;
	c->nrules--;
}

static void deleted_unlink(struct rulecache *c, struct rule_entry *e)
{
	struct rule_entry **pp = &c->deleted[e->hash & (DELETED_BUCKETS - 1)];

	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
}

/* Takes e, already out of the live table. */
static void deleted_push(struct rulecache *c, struct rule_entry *e)
{
	struct rule_entry **bucket;

	if (c->ndeleted == RULECACHE_MAX_DELETED) {
		struct rule_entry *oldest = c->ring[c->ring_head];

		deleted_unlink(c, oldest);
		/* its text may be in use in the explanation under way */
		oldest->next = c->retired;
		c->retired = oldest;
		c->ring_head = (c->ring_head + 1) % RULECACHE_MAX_DELETED;
		c->ndeleted--;
	}
	c->ring[(c->ring_head + c->ndeleted) % RULECACHE_MAX_DELETED] = e;
	c->ndeleted++;
	/* At the front, so the latest text wins if a key comes back twice. */
	bucket = &c->deleted[e->hash & (DELETED_BUCKETS - 1)];
	e->next = *bucket;
	*bucket = e;
}

static int chain_add_handle(struct chain_entry *e, uint64_t handle)
{
	if (e->nhandles == e->cap) {
		unsigned int cap = e->cap ? 2 * e->cap : 16;
		uint64_t *h;

		if (cap > RULECACHE_MAX_RULES)
			return 0; /* beyond RULECACHE_MAX_RULES: not kept */
		h = realloc(e->handles, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		e->handles = h;
		e->cap = cap;
	}
	e->handles[e->nhandles++] = handle;
	return 0;
}

static void chain_entry_free(struct chain_entry *e)
{
	free(e->handles);
	free(e);
}

/* Out of the cache; its name and hook may be in use until the epoch ends. */
static void chain_retire(struct rulecache *c, struct chain_entry *e)
{
	/* rulecache_chain_rules() promises the handles only until a re-list */
	free(e->handles);
	e->handles = NULL;
	e->next = c->retired_chains;
	c->retired_chains = e;
}

static bool is_nat_type(const char *type)
{
	return type && strcmp(type, "nat") == 0;
}

static int on_rule(void *data, const struct listing_table *t, const struct listing_chain *ch,
		   const struct listing_rule *r)
{
	struct rulecache *c = data;
	uint32_t hash = rule_hash(t->family, t->name, r->handle);
	struct rule_entry *e;
	size_t tlen, nlen;
	int r2;

	if (c->cur_chain && strcmp(c->cur_chain->name, ch->name) == 0) {
		r2 = chain_add_handle(c->cur_chain, r->handle);
		if (r2 < 0)
			return r2;
	}
	e = *rule_slot(c->rules, RULE_BUCKETS, hash, t->family, t->name, r->handle);
	if (e && strcmp(e->text, r->text) == 0) {
		e->gen = c->gen;
		return 0;
	}
	if (e) {
		/*
		 * Same key, other text: the table was deleted and made again
		 * (handles restart) or a jump target was renamed. The old
		 * text goes to the deleted ring so pointers to it stay good.
		 */
		live_remove(c, e);
		deleted_push(c, e);
	}
	/* Beyond the bound a rule is not kept: it shows as "rule handle N (unknown)". */
	if (c->nrules >= RULECACHE_MAX_RULES)
		return 0;

	tlen = strlen(r->text);
	nlen = strlen(t->name);
	e = malloc(sizeof(*e) + tlen + 1 + nlen + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e->text, r->text, tlen + 1);
	memcpy(e->text + tlen + 1, t->name, nlen + 1);
	e->table = e->text + tlen + 1;
	e->handle = r->handle;
	e->hash = hash;
	e->gen = c->gen;
	e->family = t->family;
	live_insert(c, e);
	return 0;
}

static bool same_hook(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static int on_chain(void *data, const struct listing_table *t, const struct listing_chain *ch)
{
	struct rulecache *c = data;
	uint32_t hash = chain_hash(t->family, t->name, ch->name);
	struct chain_entry **pp, *e;
	size_t clen, tlen, hlen = 0;
	const char *hook = NULL;
	char *p;

	c->cur_chain = NULL;
	pp = chain_slot(c, hash, t->family, t->name, ch->name);
	e = *pp;
	if (e && same_hook(e->hook, ch->hook) && e->nat == is_nat_type(ch->type)) {
		e->gen = c->gen;
		e->nhandles = 0; /* this listing gives them again */
		e->priority = ch->priority;
		e->has_priority = ch->has_priority;
		c->cur_chain = e;
		return 0;
	}
	if (e) {
		*pp = e->next;
		c->nchains--;
		chain_retire(c, e);
	}
	/* Beyond the bound a chain is not kept: its hook shows as unknown. */
	if (c->nchains >= RULECACHE_MAX_CHAINS)
		return 0;

	if (ch->hook) {
		hook = names_hook_static(ch->hook);
		if (!hook)
			hlen = strlen(ch->hook) + 1;
	}
	clen = strlen(ch->name) + 1;
	tlen = strlen(t->name) + 1;
	e = malloc(sizeof(*e) + clen + tlen + hlen);
	if (!e)
		return -ENOMEM;
	p = e->name;
	memcpy(p, ch->name, clen);
	p += clen;
	memcpy(p, t->name, tlen);
	e->table = p;
	p += tlen;
	if (hlen) {
		memcpy(p, ch->hook, hlen);
		hook = p;
	}
	e->hook = hook;
	e->hash = hash;
	e->gen = c->gen;
	e->family = t->family;
	e->nat = is_nat_type(ch->type);
	e->priority = ch->priority;
	e->has_priority = ch->has_priority;
	e->final_accept = e->final_accept_later = false;
	e->handles = NULL;
	e->nhandles = e->cap = 0;
	pp = &c->chains[hash & (CHAIN_BUCKETS - 1)];
	e->next = *pp;
	*pp = e;
	c->nchains++;
	c->cur_chain = e;
	return 0;
}

static const struct listing_ops load_ops = {
	.chain = on_chain,
	.rule = on_rule,
};

/* Whatever the listing of generation c->gen did not have is gone. */
static void sweep(struct rulecache *c)
{
	struct rule_entry *e, *newer;
	unsigned int i;

	for (e = c->oldest; e; e = newer) {
		newer = e->newer;
		if (e->gen == c->gen)
			continue;
		live_remove(c, e);
		deleted_push(c, e);
	}
	for (i = 0; i < CHAIN_BUCKETS; i++) {
		struct chain_entry **pp = &c->chains[i];

		while (*pp) {
			struct chain_entry *ce = *pp;

			if (ce->gen == c->gen) {
				pp = &ce->next;
				continue;
			}
			*pp = ce->next;
			c->nchains--;
			chain_retire(c, ce);
		}
	}
}

/* Which hooks a packet of each IP version passes through base chains. */
static void note_base_hooks(struct rulecache *c)
{
	unsigned int i;

	memset(c->hooks_all, 0, sizeof(c->hooks_all));
	memset(c->hooks_nat, 0, sizeof(c->hooks_nat));
	for (i = 0; i < CHAIN_BUCKETS; i++) {
		const struct chain_entry *e;

		for (e = c->chains[i]; e; e = e->next) {
			int bit = names_hook_parse(e->hook);
			unsigned int v;

			if (bit < 0)
				continue;
			for (v = 0; v < 2; v++) {
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
static bool sees_after(const struct chain_entry *e, const struct chain_entry *o)
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
 * chains see only a connection's first packet, hence two answers.
 */
static void note_final_accepts(struct rulecache *c)
{
	bool later_hooks = false;
	unsigned int i, j;

	for (i = 0; i < CHAIN_BUCKETS; i++)
		for (struct chain_entry *e = c->chains[i]; e; e = e->next)
			if (e->hook &&
			    (e->family == NFPROTO_BRIDGE ||
			     (e->family == NFPROTO_NETDEV && strcmp(e->hook, "egress") == 0)))
				later_hooks = true;
	for (i = 0; i < CHAIN_BUCKETS; i++) {
		for (struct chain_entry *e = c->chains[i]; e; e = e->next) {
			bool ip = e->family == NFPROTO_INET || e->family == NFPROTO_IPV4 ||
				  e->family == NFPROTO_IPV6;

			e->final_accept = e->final_accept_later = false;
			if (later_hooks || !ip || hooks_after(names_hook_parse(e->hook)) == ~0u)
				continue;
			e->final_accept = e->final_accept_later = true;
			for (j = 0; j < CHAIN_BUCKETS; j++) {
				for (const struct chain_entry *o = c->chains[j]; o; o = o->next) {
					if (!sees_after(e, o))
						continue;
					e->final_accept = false;
					if (!o->nat)
						e->final_accept_later = false;
				}
			}
		}
	}
}

bool rulecache_final_accept(struct rulecache *c, uint8_t family, const char *table,
			    const char *chain, bool first_packet)
{
	const struct chain_entry *e;

	/* a change not listed yet may have added a later chain: wait */
	if (c->stale)
		return false;
	e = *chain_slot(c, chain_hash(family, table, chain), family, table, chain);
	if (!e)
		return false;
	return first_packet ? e->final_accept : e->final_accept_later;
}

int rulecache_load_listing(struct rulecache *c, const char *listing)
{
	struct listing_stats stats;
	int r;

	c->gen++;
	c->cur_chain = NULL;
	r = listing_parse(listing, strlen(listing), &load_ops, c, &stats);
	c->cur_chain = NULL;
	/* Without the whole listing, absence proves nothing: no sweep. */
	if (r < 0)
		goto out;
	sweep(c);
	note_base_hooks(c);
	note_final_accepts(c);
out:
	return r;
}

static bool is_ruleset_change(const struct nlmsghdr *nlh)
{
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return false;
	/*
	 * Set, element, object and flowtable changes leave rule text alone
	 * (rules name sets and objects), so a busy blocklist updater does not
	 * make us re-list. The kernel reports "destroy" as DEL too.
	 */
	switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
		return true;
	default:
		return false;
	}
}

static void note_events(struct rulecache *c, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)c->evbuf;
	int left = (int)len;

	for (; NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
		if (is_ruleset_change(nlh)) {
			c->stale = true;
			c->changed_ns = now_ns();
			return;
		}
	}
}

static void drain(struct rulecache *c)
{
	unsigned int i;
	int fd;

	if (!c->nl)
		return;
	fd = mnl_socket_get_fd(c->nl);
	for (i = 0; i < DRAIN_MAX; i++) {
		/* MSG_TRUNC: the real length, to notice a cut message. */
		ssize_t n = recv(fd, c->evbuf, EVENT_BUF_SIZE, MSG_TRUNC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* ENOBUFS: events were lost, so was what changed. */
			c->stale = true;
			if (errno == ENOBUFS)
				continue;
			return;
		}
		if (n > EVENT_BUF_SIZE) {
			c->stale = true;
			continue;
		}
		note_events(c, (size_t)n);
	}
}

static int relist(struct rulecache *c)
{
	uint64_t start, cost;
	const char *out;
	int r;

	/* Events queued so far are covered by the listing that follows. */
	drain(c);
	c->stale = false;
	start = now_ns();

	if (c->nft) {
		r = nft_run_cmd_from_buffer(c->nft, "list ruleset");
		out = nft_ctx_get_output_buffer(c->nft);
		/* Read to empty it; there is no one to show it to here. */
		nft_ctx_get_error_buffer(c->nft);
	} else {
		out = c->list(c->list_ctx);
		r = out ? 0 : -1;
	}
	if (r != 0) {
		r = -EIO;
		goto out;
	}
	r = rulecache_load_listing(c, out);
out:
	cost = now_ns() - start;
	c->cost_ns = cost;
	if (cost < RELIST_MIN_INTERVAL_NS / RELIST_COST_FACTOR)
		cost = RELIST_MIN_INTERVAL_NS / RELIST_COST_FACTOR;
	c->next_forced_ns = start + cost * (RELIST_COST_FACTOR + 1);
	c->next_stale_ns = start + cost * (RELIST_STALE_FACTOR + 1);
	if (r < 0)
		c->stale = true;
	return r;
}

static struct rulecache *alloc_cache(void)
{
	struct rulecache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->rules = calloc(RULE_BUCKETS, sizeof(*c->rules));
	c->chains = calloc(CHAIN_BUCKETS, sizeof(*c->chains));
	c->deleted = calloc(DELETED_BUCKETS, sizeof(*c->deleted));
	if (!c->rules || !c->chains || !c->deleted)
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

/* Can it list the ruleset again: online, or offline with a test's lister. */
static bool can_list(const struct rulecache *c)
{
	return c->nft || c->list;
}

void rulecache_offline_lister(struct rulecache *c, const char *(*list)(void *ctx), void *ctx)
{
	c->list = list;
	c->list_ctx = ctx;
}

void rulecache_offline_changed(struct rulecache *c)
{
	c->stale = true;
	c->changed_ns = now_ns();
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

	c->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!c->nft) {
		r = -ENOMEM;
		goto out;
	}
	if (nft_ctx_buffer_output(c->nft) < 0 || nft_ctx_buffer_error(c->nft) < 0) {
		r = -ENOMEM;
		goto out;
	}
	nft_ctx_output_set_flags(c->nft, LIST_FLAGS);

	r = relist(c);
	if (r < 0)
		goto out;
	*ret = c;
	c = NULL;
out:
	rulecache_free(c);
	return r;
}

void rulecache_epoch_end(struct rulecache *c)
{
	while (c->retired) {
		struct rule_entry *e = c->retired;

		c->retired = e->next;
		free(e);
	}
	while (c->retired_chains) {
		struct chain_entry *e = c->retired_chains;

		c->retired_chains = e->next;
		chain_entry_free(e);
	}
}

struct rulecache *rulecache_free(struct rulecache *c)
{
	unsigned int i;

	if (!c)
		return NULL;
	rulecache_epoch_end(c);
	while (c->oldest) {
		struct rule_entry *e = c->oldest;

		c->oldest = e->newer;
		free(e);
	}
	if (c->chains) {
		for (i = 0; i < CHAIN_BUCKETS; i++) {
			while (c->chains[i]) {
				struct chain_entry *e = c->chains[i];

				c->chains[i] = e->next;
				chain_entry_free(e);
			}
		}
	}
	for (i = 0; i < c->ndeleted; i++)
		free(c->ring[(c->ring_head + i) % RULECACHE_MAX_DELETED]);
	free(c->rules);
	free(c->chains);
	free(c->deleted);
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
	if (c->nl)
		drain(c);
}

/*
 * libnftables lists again from the start whenever the ruleset changes
 * while it lists, so a big ruleset that changes more often than it takes
 * to list would keep it listing for ever: list one that is slow to list
 * only once the ruleset has been quiet for as long as the last listing
 * took. A quick listing (a small ruleset) goes ahead at once: a rule just
 * added is named in the next packet's timeline.
 */
static bool quiet_enough(const struct rulecache *c)
{
	return c->cost_ns < QUIET_FROM_COST_NS || now_ns() - c->changed_ns >= c->cost_ns;
}

int rulecache_sync(struct rulecache *c)
{
	uint64_t quiet_at;

	if (!c->nft)
		return 0;
	drain(c);
	/*
	 * A listing that takes long may be under way while the ruleset keeps
	 * changing: leave the cache stale (accepts then wait out the idle
	 * time) for a quiet moment later. A short one waits for quiet here.
	 */
	if (!c->stale || c->cost_ns > SYNC_MAX_WAIT_NS)
		return 0;
	quiet_at = c->changed_ns + c->cost_ns;
	if (now_ns() < quiet_at) {
		uint64_t ns = quiet_at - now_ns();

		nanosleep(&(struct timespec){ .tv_sec = (time_t)(ns / 1000000000u),
					      .tv_nsec = (long)(ns % 1000000000u) },
			  NULL);
	}
	return relist(c);
}

int rulecache_refresh(struct rulecache *c)
{
	if (!can_list(c) || !c->stale)
		return 0;
	/*
	 * A big ruleset changing all the time would be listed before every
	 * timeline: bound it like a forced re-list. A rule a packet met that
	 * is not known yet is still listed at once (relist_on_miss).
	 */
	if (now_ns() < c->next_forced_ns || !quiet_enough(c))
		return 0;
	return relist(c);
}

/*
 * Called on a miss. Lists when a change is pending (queued events
 * included: they arrive before any packet can meet the new rule) or when
 * force, and only as a rate limit allows: a chain binding's rules miss on
 * every packet (the forced limit), and a ruleset that changes all the
 * time (kube-proxy) would otherwise be listed for every timeline (the
 * lighter limit for a pending change). True if it listed.
 */
static bool relist_on_miss(struct rulecache *c, bool force)
{
	if (!can_list(c))
		return false;
	drain(c);
	if (!c->stale && !force)
		return false;
	if (now_ns() < (c->stale ? c->next_stale_ns : c->next_forced_ns) || !quiet_enough(c))
		return false;
	return relist(c) == 0;
}

const char *rulecache_rule(struct rulecache *c, uint8_t family, const char *table, uint64_t handle,
			   bool *ret_deleted)
{
	uint32_t hash = rule_hash(family, table, handle);
	struct rule_entry *e;

	e = *rule_slot(c->rules, RULE_BUCKETS, hash, family, table, handle);
	if (!e && relist_on_miss(c, false))
		e = *rule_slot(c->rules, RULE_BUCKETS, hash, family, table, handle);
	if (e)
		goto found;

	/*
	 * Gone at the last listing, and no change is queued that could bring
	 * the handle back (a table made again restarts its handles).
	 */
	e = *rule_slot(c->deleted, DELETED_BUCKETS, hash, family, table, handle);
	if (e) {
		if (ret_deleted)
			*ret_deleted = true;
		return e->text;
	}

	if (!relist_on_miss(c, true))
		return NULL;
	e = *rule_slot(c->rules, RULE_BUCKETS, hash, family, table, handle);
	if (!e)
		return NULL;
found:
	if (ret_deleted)
		*ret_deleted = false;
	return e->text;
}

const char *rulecache_hook(struct rulecache *c, uint8_t family, const char *table,
			   const char *chain)
{
	uint32_t hash = chain_hash(family, table, chain);
	struct chain_entry *e;

	e = *chain_slot(c, hash, family, table, chain);
	/* No forced listing: a new base chain always comes with an event. */
	if (!e && relist_on_miss(c, false))
		e = *chain_slot(c, hash, family, table, chain);
	return e ? e->hook : NULL;
}

int rulecache_chain_rules(struct rulecache *c, uint8_t family, const char *table, const char *chain,
			  const uint64_t **ret_handles, unsigned int *ret_n)
{
	uint32_t hash = chain_hash(family, table, chain);
	struct chain_entry *e = *chain_slot(c, hash, family, table, chain);

	if (!e)
		return -ENOENT;
	*ret_handles = e->handles;
	*ret_n = e->nhandles;
	return 0;
}

void rulecache_base_hooks(const struct rulecache *c, uint8_t nfproto, unsigned int *ret_all,
			  unsigned int *ret_nat)
{
	unsigned int v = nfproto == NFPROTO_IPV6 ? 1 : 0;

	*ret_all = c->hooks_all[v];
	*ret_nat = c->hooks_nat[v];
}
