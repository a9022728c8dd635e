/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rule cache's ruleset change events (NFNLGRP_NFTABLES): NEWRULE,
 * DELRULE, NEWCHAIN, DELCHAIN and DELTABLE, each touching only what it
 * names; lost events make every listed chain unverified.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "clock.h"
#include "rulecache_int.h"

/* Messages drained per call; more stay queued and keep the fd readable. */
#define DRAIN_MAX 1024

/* ---- ruleset change events ---- */

void rulecache_lost_events(struct rulecache *c)
{
	/* anything may have changed: list each chain again before trusting it */
	for (struct listed *l = c->newest; l; l = l->older)
		if (!l->gone)
			l->unverified = true;
	c->meta_stale = true;
	c->changed_ns = now_ns();
}

struct event {
	uint8_t family;
	const char *table, *chain;
	uint64_t handle;
	bool has_handle, has_hook;
};

/* Attributes 1-7 of tables, chains and rules: names, handles, hook. */
static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type < 8)
		tb[type] = a;
	return MNL_CB_OK;
}

/* A name attribute that is a NUL-terminated string, else NULL. */
static const char *attr_str(const struct nlattr *a)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
		return NULL;
	return mnl_attr_get_str(a);
}

static bool event_parse(const struct nlmsghdr *nlh, int type, struct event *ev)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[8] = {};
	int name, handle;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*g)) ||
	    mnl_attr_parse(nlh, sizeof(*g), attr_cb, tb) < 0)
		return false;
	memset(ev, 0, sizeof(*ev));
	ev->family = g->nfgen_family;
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
		name = NFTA_TABLE_NAME;
		handle = NFTA_TABLE_HANDLE;
		break;
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
		ev->table = attr_str(tb[NFTA_CHAIN_TABLE]);
		name = NFTA_CHAIN_NAME;
		handle = NFTA_CHAIN_HANDLE;
		ev->has_hook = tb[NFTA_CHAIN_HOOK] != NULL;
		break;
	default:
		ev->table = attr_str(tb[NFTA_RULE_TABLE]);
		name = NFTA_RULE_CHAIN;
		handle = NFTA_RULE_HANDLE;
		break;
	}
	if (type == NFT_MSG_NEWTABLE || type == NFT_MSG_DELTABLE)
		ev->table = attr_str(tb[name]);
	else
		ev->chain = attr_str(tb[name]);
	if (tb[handle] && mnl_attr_validate(tb[handle], MNL_TYPE_U64) >= 0) {
		ev->handle = be64toh(mnl_attr_get_u64(tb[handle]));
		ev->has_handle = true;
	}
	return ev->table && (type == NFT_MSG_NEWTABLE || type == NFT_MSG_DELTABLE || ev->chain);
}

static void on_rule_event(struct rulecache *c, int type, const struct event *ev)
{
	struct listed *l = rulecache_live(c, ev->family, ev->table, ev->chain);
	int i;

	if (!l)
		return; /* never listed: its first listing will have it */
	i = ev->has_handle ? rulecache_index_find(l, ev->handle) : -1;
	if (i >= 0)
		l->dead[i / 8] |= 1u << (i % 8);
	/* added, or replaced under the same handle: its text is not known */
	if (type == NFT_MSG_NEWRULE)
		l->dirty = true;
	else if (!ev->has_handle)
		l->unverified = true;
}

/* Every listed chain of a table: texts that may name a renamed chain. */
static void table_dirty(struct rulecache *c, uint8_t family, const char *table)
{
	for (struct listed *l = c->newest; l; l = l->older)
		if (!l->gone && l->family == family && strcmp(l->table, table) == 0)
			l->unverified = true;
}

static void on_chain_event(struct rulecache *c, int type, const struct event *ev)
{
	struct listed *l = rulecache_live(c, ev->family, ev->table, ev->chain);
	struct meta *m = rulecache_meta_find(c, ev->family, ev->table, ev->chain);

	if (type == NFT_MSG_DELCHAIN) {
		if (l)
			rulecache_listed_make_gone(c, l);
		if (m) {
			bool base = m->hook != NULL;

			rulecache_meta_remove(c, ev->family, ev->table, ev->chain);
			if (base)
				rulecache_meta_changed(c);
		}
		return;
	}
	/* a chain made under this name: no longer missing, list it anew */
	if (l && (l->missing || l->too_big))
		rulecache_listed_drop(c, l);
	if (ev->has_hook) {
		c->meta_stale = true; /* hook, priority, type: from "list chains" */
		return;
	}
	if (m)
		return; /* an update of a chain we know (its policy, say) */
	/*
	 * A new name: a new chain, or a renamed one, which changes the text
	 * of every rule that jumps to it.
	 */
	if (ev->has_handle) {
		for (unsigned int i = 0; i < META_BUCKETS; i++) {
			for (struct meta *o = c->meta[i]; o; o = o->next) {
				if (o->family == ev->family && o->handle == ev->handle &&
				    strcmp(o->table, ev->table) == 0) {
					table_dirty(c, ev->family, ev->table);
					c->meta_stale = true;
					return;
				}
			}
		}
	}
	if (c->nmeta >= RULECACHE_MAX_CHAINS) {
		/* not known, so a rename cannot be ruled out */
		table_dirty(c, ev->family, ev->table);
		return;
	}
	rulecache_meta_add(c, c->meta, &c->nmeta, &c->nbase, ev->family, ev->table, ev->chain,
			   ev->handle, NULL, NULL, false, 0);
}

static void on_table_deleted(struct rulecache *c, const struct event *ev)
{
	struct listed *l, *older;
	bool base = false;

	for (l = c->newest; l; l = older) {
		older = l->older;
		if (!l->gone && l->family == ev->family && strcmp(l->table, ev->table) == 0)
			rulecache_listed_make_gone(c, l);
	}
	for (unsigned int i = 0; i < META_BUCKETS; i++) {
		struct meta **pp = &c->meta[i];

		while (*pp) {
			struct meta *m = *pp;

			if (m->family != ev->family || strcmp(m->table, ev->table) != 0) {
				pp = &m->next;
				continue;
			}
			base |= m->hook != NULL;
			if (m->hook)
				c->nbase--;
			*pp = m->next;
			c->nmeta--;
			free(m);
		}
	}
	if (base)
		rulecache_meta_changed(c);
}

static void note_event(struct rulecache *c, const struct nlmsghdr *nlh)
{
	int type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	struct event ev;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return;
	/*
	 * Set, element, object and flowtable changes leave rule text alone
	 * (rules name sets and objects), so a busy blocklist updater costs
	 * nothing here. The kernel reports "destroy" as DEL too.
	 */
	switch (type) {
	case NFT_MSG_NEWTABLE:
		return; /* no chains yet */
	case NFT_MSG_DELTABLE:
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
		break;
	default:
		return;
	}
	c->changed_ns = now_ns();
	if (!event_parse(nlh, type, &ev)) {
		rulecache_lost_events(c);
		return;
	}
	if (type == NFT_MSG_DELTABLE)
		on_table_deleted(c, &ev);
	else if (type == NFT_MSG_NEWCHAIN || type == NFT_MSG_DELCHAIN)
		on_chain_event(c, type, &ev);
	else
		on_rule_event(c, type, &ev);
}

void rulecache_note_events(struct rulecache *c, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		note_event(c, nlh);
}

void rulecache_drain(struct rulecache *c)
{
	int fd;

	if (!c->nl)
		return;
	fd = mnl_socket_get_fd(c->nl);
	for (unsigned int i = 0; i < DRAIN_MAX; i++) {
		/* MSG_TRUNC: the real length, to notice a cut message. */
		ssize_t n = recv(fd, c->evbuf, EVENT_BUF_SIZE, MSG_TRUNC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* ENOBUFS: events were lost, so was what changed. */
			rulecache_lost_events(c);
			if (errno == ENOBUFS)
				continue;
			return;
		}
		if (n > EVENT_BUF_SIZE) {
			rulecache_lost_events(c);
			continue;
		}
		rulecache_note_events(c, c->evbuf, (size_t)n);
	}
}
