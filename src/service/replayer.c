/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One clone of the namespace and the daemon's own machinery inside it:
 * the trace socket, the rule cache, the explainers and the output are
 * the clone's, because the process moved there before opening any of
 * them. A packet is replayed by selecting exactly its tuple with the
 * trace rule, sending it (wire.c), waiting for its timeline and looking
 * at what left the clone. Each timeline's rule handles are turned into
 * the source ruleset's before it is written, so every cause names a rule
 * the user can edit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "clock.h"
#include "clone.h"
#include "daemon.h"
#include "explain_text.h"
#include "log.h"
#include "nattraced.h"
#include "replay.h"
#include "rulecache.h"
#include "tracetable.h"
#include "vanishprobe.h"

/* Events of one packet in a quiet clone come in a burst: end it soon. */
#define REPLAY_IDLE_NS	    (25ull * 1000 * 1000)
/* A packet whose trace never came: the clone's kernel took it before any hook. */
#define REPLAY_WAIT_NS	    (1500ull * 1000 * 1000)
/* After an accept, what left the clone is already on the far end: a short look. */
#define REPLAY_SEEN_WAIT_MS 30

struct replayer {
	struct options opts; /* the daemon's: the trace rule selects one tuple */
	struct clone *clone;
	struct wire *wire;
	struct daemon d;
	int sfd;
	char match[256];
	bool mapped;	/* the clone's rules map to the source's handles */
	bool in_flight; /* a replayed packet's timeline is awaited */
	bool got;	/* ... and came */
	bool delivered; /* ... and went to the clone's own stack */
	struct replay_outcome out;
};

/* nft's words for exactly this packet's tuple, as it enters its first hook */
static void packet_match(const struct replay_packet *p, char *buf, size_t len)
{
	const struct packet_info *i = &p->info;
	const char *fam = i->l3 == 6 ? "ip6" : "ip";
	char src[PACKET_ADDRSTRLEN], dst[PACKET_ADDRSTRLEN];
	int n;

	packet_addr_str(i, true, src, sizeof(src));
	packet_addr_str(i, false, dst, sizeof(dst));
	n = snprintf(buf, len, "%s saddr %s %s daddr %s", fam, src, fam, dst);
	if (n < 0 || (size_t)n >= len)
		return;
	if (i->l4proto == IPPROTO_TCP || i->l4proto == IPPROTO_UDP)
		snprintf(buf + n, len - (size_t)n, " %s sport %u %s dport %u",
			 i->l4proto == IPPROTO_TCP ? "tcp" : "udp", i->sport,
			 i->l4proto == IPPROTO_TCP ? "tcp" : "udp", i->dport);
	else if (i->has_icmp)
		snprintf(buf + n, len - (size_t)n, " %s type %u",
			 i->l4proto == IPPROTO_ICMPV6 ? "icmpv6" : "icmp", i->icmp_type);
	else
		snprintf(buf + n, len - (size_t)n, " meta l4proto %u", i->l4proto);
}

static bool own_step(const struct replayer *r, const struct tl_step *s)
{
	return strcmp(s->table, r->opts.table) == 0;
}

/* The clone's handles become the source's; a rule of --change has none there. */
static void map_handles(struct replayer *r, const struct timeline *tl, struct explain *ex)
{
	/* the timeline is ours until it is written: only its handles change */
	struct timeline *m = (struct timeline *)tl;
	uint64_t real;

	for (int i = 0; i < m->n_steps; i++) {
		struct tl_step *s = &m->steps[i];

		if (!s->has_handle || own_step(r, s))
			continue;
		if (clone_real_handle(r->clone, s->family, s->table, s->handle, &real))
			s->handle = real;
		else if (r->mapped)
			ex->rules[i].added = true;
	}
	for (unsigned int i = 0; i < ex->n_hints; i++) {
		struct explain_hint *h = &ex->hints[i];

		if (clone_real_handle(r->clone, h->family, h->table, h->handle, &real))
			h->handle = real;
	}
}

/* Refused by the kernel after the ruleset accepted: a drop, named. */
static bool refused_outside(const struct explain *ex)
{
	enum vanish_reason why = ex->outside_why.reason;

	return ex->outside && vanish_reason_named(why) && why != VANISH_DELIVERED &&
	       why != VANISH_NO_LISTENER;
}

static void note_outcome(struct replayer *r, const struct timeline *tl, const struct explain *ex)
{
	struct replay_outcome *o = &r->out;
	int c = ex->sum.cause;

	o->traced = true;
	switch (ex->sum.verdict) {
	case TL_VERDICT_ACCEPT:
		o->verdict = refused_outside(ex) ? REPLAY_DROP : REPLAY_ACCEPT;
		o->outside = o->verdict == REPLAY_DROP;
		break;
	case TL_VERDICT_DROP:
		o->verdict = ex->reject ? REPLAY_REJECT : REPLAY_DROP;
		break;
	case TL_VERDICT_UNKNOWN:
		o->verdict = REPLAY_UNKNOWN;
		break;
	default:
		o->verdict = REPLAY_OTHER;
	}
	if (c >= 0 && o->verdict != REPLAY_ACCEPT && !o->outside) {
		const struct tl_step *s = &tl->steps[c];

		o->by_policy = s->type == TRACE_TYPE_POLICY;
		o->by_change = ex->rules[c].added;
		o->has_handle = s->has_handle && !o->by_policy && !o->by_change;
		o->handle = s->handle;
	}
	explain_cause_str(tl, ex, o->cause, sizeof(o->cause));
}

static bool for_host(const struct timeline *tl, const struct explain *ex)
{
	const char *hook = tl->n_steps ? ex->hooks[tl->n_steps - 1] : NULL;

	if (ex->after_ruleset && ex->outside_why.next == VANISH_NEXT_LOCAL)
		return true;
	return hook && strcmp(hook, "input") == 0;
}

static void on_explained(void *ctx, const struct timeline *tl, struct explain *ex)
{
	struct replayer *r = ctx;

	map_handles(r, tl, ex);
	/* the first timeline of the packet in flight decides; others are output only */
	if (r->in_flight && !r->got) {
		note_outcome(r, tl, ex);
		r->delivered = r->out.verdict == REPLAY_ACCEPT && for_host(tl, ex);
		r->got = true;
	}
}

/* Ours among what left: the same protocol and a field NAT does not rewrite. */
static bool same_packet(const struct packet_info *a, const struct packet_info *b)
{
	if (a->l3 != b->l3 || a->l4proto != b->l4proto)
		return false;
	if (a->has_seq && b->has_seq)
		return a->tcp_seq == b->tcp_seq;
	return a->l3 == 4 ? a->ip_id == b->ip_id : a->flow_label == b->flow_label;
}

/* What the clone's kernel sent back: a reset or an ICMP error for ours. */
static bool answer_to(const struct packet_info *ours, const struct packet_info *seen)
{
	if (seen->l4proto == IPPROTO_TCP && (seen->tcp_flags & 0x04))
		return ours->l4proto == IPPROTO_TCP && seen->dport == ours->sport;
	if (seen->l4proto == IPPROTO_ICMP && seen->has_icmp)
		return seen->icmp_type == 3 || seen->icmp_type == 11 || seen->icmp_type == 12;
	if (seen->l4proto == IPPROTO_ICMPV6 && seen->has_icmp)
		return seen->icmp_type >= 1 && seen->icmp_type <= 4;
	return false;
}

static void note_seen(struct replayer *r, const struct replay_packet *p)
{
	struct replay_outcome *o = &r->out;
	struct wire_seen seen[WIRE_SEEN_MAX];
	char dst[PACKET_ADDRSTRLEN], src[PACKET_ADDRSTRLEN], flags[32];
	unsigned int n;

	/* what the clone's stack answers (a reset: no socket) is not the host's answer */
	if (r->delivered) {
		snprintf(o->where, sizeof(o->where),
			 "delivered to the host (sockets are not copied: no listener checked)");
		return;
	}
	/* a drop sends nothing: only an accept or a reject is worth a wait */
	n = wire_collect(r->wire, o->verdict == REPLAY_DROP ? 0 : REPLAY_SEEN_WAIT_MS, seen,
			 WIRE_SEEN_MAX);
	for (unsigned int i = 0; i < n; i++) {
		const struct packet_info *s = &seen[i].info;

		if (!seen[i].valid)
			continue;
		if (same_packet(&p->info, s)) {
			o->seen_out = true;
			snprintf(o->out_if, sizeof(o->out_if), "%s", seen[i].ifname);
			packet_endpoint_str(s, false, dst, sizeof(dst));
			packet_endpoint_str(s, true, src, sizeof(src));
			snprintf(o->where, sizeof(o->where), "%s out of %s to %s from %s",
				 p->origin == REPLAY_LOCAL_OUT ? "sent" : "forwarded",
				 seen[i].ifname, dst, src);
			return;
		}
		if (answer_to(&p->info, s) && !o->where[0]) {
			if (s->l4proto == IPPROTO_TCP)
				snprintf(flags, sizeof(flags), "tcp reset");
			else
				snprintf(flags, sizeof(flags), "%s type %u code %u",
					 s->l4proto == IPPROTO_ICMP ? "icmp" : "icmpv6",
					 s->icmp_type, s->icmp_code);
			snprintf(o->where, sizeof(o->where),
				 "the clone answered with %.31s out of %.15s", flags,
				 seen[i].ifname);
		}
	}
	if (o->verdict == REPLAY_ACCEPT && !o->where[0])
		snprintf(o->where, sizeof(o->where), "not seen leaving the clone");
}

static int install_match(struct replayer *r, const struct replay_packet *p, char *err,
			 size_t errlen)
{
	struct tracetable_config cfg = {
		.family = r->opts.family,
		.table = r->opts.table,
		.hooks = r->opts.hooks,
		.match = r->match,
	};
	int ret;

	packet_match(p, r->match, sizeof(r->match));
	if (r->d.table)
		return tracetable_replace(r->d.table, &cfg, NULL, err, errlen);
	ret = tracetable_install(&cfg, &r->d.table, NULL, err, errlen);
	if (ret == 0 && rulecache_sync(r->d.rules) < 0)
		log_warning("listing the clone's ruleset failed: rules will show as handles");
	return ret;
}

int replayer_run(struct replayer *r, const struct replay_packet *p, struct replay_outcome *ret,
		 char *err, size_t errlen)
{
	int rc;

	memset(&r->out, 0, sizeof(r->out));
	/* a trace rule or a packet in the real namespace would break the promise */
	if (!clone_is_current(r->clone)) {
		snprintf(err, errlen, "not in the clone any more: nothing sent");
		return -EIO;
	}
	rc = install_match(r, p, err, errlen);
	if (rc < 0)
		return rc;
	/* every replayed packet is the first of its connection */
	rc = clone_flush_conntrack(r->clone);
	if (rc < 0)
		log_warning("cannot flush the clone's conntrack table: %s", strerror(-rc));
	/* ... but a packet of an established connection is replayed as one */
	if (p->ct.want)
		r->out.ct_recreated =
			clone_conntrack_create(r->clone, &p->ct, p->info.l3, p->info.l4proto,
					       r->out.ct_error, sizeof(r->out.ct_error)) == 0;
	r->in_flight = true;
	r->got = r->delivered = false;
	rc = wire_send(r->wire, p, err, errlen);
	if (rc == 0)
		rc = daemon_wait_emitted(&r->d, r->d.emitted + 1, now_ns() + REPLAY_WAIT_NS);
	r->in_flight = false;
	if (rc == -ETIMEDOUT || (rc == 0 && !r->got)) {
		r->out.verdict = REPLAY_UNKNOWN;
		snprintf(
			r->out.cause, sizeof(r->out.cause),
			"unknown: the clone's kernel sent no trace event for it (taken before the first hook: a bad header, or its interface down)");
		rc = 0;
	} else if (rc == 0) {
		note_seen(r, p);
	}
	*ret = r->out;
	return rc;
}

int replayer_change(struct replayer *r, const char *nft_text, char *err, size_t errlen)
{
	int rc = clone_reset_ruleset(r->clone, err, errlen);

	if (rc == 0 && nft_text && nft_text[0])
		rc = clone_apply_change(r->clone, nft_text, err, errlen);
	return rc;
}

struct sink *replayer_sink(struct replayer *r)
{
	return r->d.sink;
}

int replayer_new(const struct options *opts, bool timelines, int argc, char **argv,
		 struct replayer **ret, char *err, size_t errlen)
{
	struct clone_opts co = { .skip_table = opts->table, .ruleset_file = opts->ruleset };
	struct replayer *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	r->sfd = -1;
	r->opts = *opts;
	/* no rate limit: install_match() gives the trace rule none (the clone is quiet) */
	r->opts.match = r->match;
	r->mapped = !opts->ruleset;
	rc = clone_new(&co, &r->clone, err, errlen);
	if (rc < 0)
		goto fail;
	/* from here on every socket and thread is the clone's */
	rc = clone_enter(r->clone);
	if (rc < 0) {
		snprintf(err, errlen, "cannot enter the clone: %s", strerror(-rc));
		goto fail;
	}
	rc = wire_open(r->clone, &r->wire);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open the clone's interfaces: %s", strerror(-rc));
		goto fail;
	}
	r->d.explained = on_explained;
	r->d.explained_ctx = r;
	r->d.idle_ns = REPLAY_IDLE_NS;
	r->d.no_timelines = !timelines;
	rc = -EIO;
	snprintf(err, errlen, "cannot start tracing in the clone (said above)");
	if (daemon_open_output(&r->d, &r->opts, argc, argv) < 0 ||
	    daemon_open_listeners(&r->d) != GO_ON || daemon_open_explainers(&r->d) < 0 ||
	    daemon_open_tables(&r->d, &r->sfd) < 0)
		goto fail;
	/* the clone has no sockets: a packet for the host finds no listener there */
	if (r->d.vanish)
		vanishprobe_no_sockets(r->d.vanish, "sockets are not copied into the clone, so "
						    "whether one listens is not checked");
	err[0] = '\0';
	*ret = r;
	return 0;
fail:
	replayer_free(r);
	return rc;
}

bool replayer_free(struct replayer *r)
{
	bool failed;

	if (!r)
		return false;
	if (r->d.rx)
		daemon_stop_receiving(&r->d);
	failed = r->d.failed;
	daemon_tear_down(&r->d, r->sfd);
	r->wire = wire_free(r->wire);
	/* the last holder of the clone: the kernel removes it and its veths */
	r->clone = clone_free(r->clone);
	free(r);
	return failed;
}
