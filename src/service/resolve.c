/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The resolver (resolver.h) of the daemon: rule text and hooks from the
 * rule cache, interface names (cached), NAT mappings from the NAT log or
 * conntrack, and through setprobe set contents and interface addresses.
 */
#include <net/if.h>

#include "clock.h"
#include "ctprobe.h"
#include "daemon.h"
#include "natlog.h"
#include "rulecache.h"
#include "setprobe.h"
#include "vanishprobe.h"

static const char *resolve_rule(void *ctx, uint8_t family, const char *table, const char *chain,
				uint64_t handle, bool *ret_deleted)
{
	struct daemon *d = ctx;

	return rulecache_rule(d->rules, family, table, chain, handle, ret_deleted);
}

static const char *resolve_hook(void *ctx, uint8_t family, const char *table, const char *chain)
{
	struct daemon *d = ctx;

	return rulecache_hook(d->rules, family, table, chain);
}

static const char *resolve_ifname(void *ctx, uint32_t ifindex)
{
	struct daemon *d = ctx;
	struct ifcache_entry *e = &d->ifcache[ifindex % IFCACHE_SIZE];
	uint64_t now = now_ns();

	if (e->index == ifindex && e->at && now - e->at < IFCACHE_TTL_NS)
		return e->name[0] ? e->name : NULL;
	e->index = ifindex;
	e->at = now;
	/* gone already: remember that too, as an empty name */
	if (!if_indextoname(ifindex, e->name))
		e->name[0] = '\0';
	return e->name[0] ? e->name : NULL;
}

static const struct natmap *resolve_mapping(void *ctx, const struct tl_ct *ct,
					    const struct packet_info *orig)
{
	struct daemon *d = ctx;
	bool has_id = ct && (ct->present & TRACE_HAS_CT_ID);
	const struct natmap *m = NULL;

	/* into the NAT cache: explain copies it before conntrack is read again */
	if (d->natlog && has_id)
		m = natlog_lookup(d->natlog, ct->id);
	/* explain_timeline() asks once per timeline */
	if (!m && d->ctprobe &&
	    ctprobe_get(d->ctprobe, orig, has_id ? ct->id : 0, now_ns(), &d->asked) == 0)
		m = &d->asked;
	return m && m->nat != NATMAP_NAT_NONE ? m : NULL;
}

bool daemon_final_accept(void *ctx, uint8_t family, const char *table, const char *chain,
			 bool first_packet)
{
	struct daemon *d = ctx;

	return rulecache_final_accept(d->rules, family, table, chain, first_packet);
}

void daemon_resolver_init(struct daemon *d)
{
	d->resolver = (struct resolver){
		.ctx = d,
		.rule = resolve_rule,
		.hook = resolve_hook,
		.ifname = resolve_ifname,
		.mapping = resolve_mapping,
	};
	if (d->setprobe)
		setprobe_resolver(d->setprobe, &d->resolver);
	if (d->vanish)
		vanishprobe_resolver(d->vanish, &d->resolver);
}
