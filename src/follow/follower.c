/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --follow, the daemon's side. The kernel adds a new connection the match
 * selects to the trace table's follow set and traces its packets
 * (tracetable.c); here each timeline is counted against its connection
 * (follow.c), which ends at its packet bound (the kernel traces no more
 * of it: its element's packet limit), at RST or FIN both ways (its
 * element is deleted), or at its time limit, with a record
 * saying whether a reply was seen. Text output keeps a connection's
 * timelines for one block.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "clock.h"
#include "daemon.h"
#include "explain.h"
#include "follow.h"
#include "followprobe.h"
#include "format.h"
#include "log.h"
#include "sink.h"
#include "trace.h"
#include "tracetable.h"

/*
 * A connection's packets traced until its end may still be assembling
 * (a timeline ends after TIMELINE_IDLE_NS without events, or later than
 * a packet traced after it): its record waits this long after the end.
 */
#define FOLLOW_GRACE_NS (3 * TIMELINE_IDLE_NS)

int follower_new(struct daemon *d)
{
	struct follow_config cfg = {
		.max = d->opts->follow_max,
		.packets = d->opts->follow_packets,
		/* the kernel's element lives --follow-timeout from the first packet */
		.timeout_ns = (uint64_t)(d->opts->follow_timeout * 1e9) + FOLLOW_GRACE_NS,
	};

	return follow_table_new(&cfg, &d->follow);
}

int follower_check_kernel(void)
{
	struct utsname u;
	char how[128];
	uint32_t entries;
	int r;

	/* before the probe, whose own rule turns conntrack on for a moment */
	r = followprobe_ct_entries(&entries);
	if (r < 0)
		log_warning(
			"--follow turns on connection tracking (and defragmentation) for every packet in this network namespace while it runs, since its rules match on conntrack; whether conntrack was in use before is not known (%s)",
			strerror(-r));
	else if (entries == 0)
		log_warning(
			"--follow turns on connection tracking (and defragmentation) for every packet in this network namespace while it runs, since its rules match on conntrack: this namespace had no conntrack entries before");
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	r = followprobe_ct_id(how, sizeof(how));
	if (!follow_kernel_ok(r, explain_kernel_sends_ct(u.release))) {
		if (r == 0)
			log_error(
				"--follow: this kernel (%s) sends no conntrack id with trace events (asked with %s); without it a connection's packets can be neither grouped nor bounded (Linux 6.16 and later send it)",
				u.release, how);
		else
			log_error(
				"--follow: kernel %s sends no conntrack id with trace events (Linux 6.16 and later do; asking the kernel gave no answer: %s: %s); without it a connection's packets can be neither grouped nor bounded",
				u.release, how, strerror(-r));
		return -EOPNOTSUPP;
	}
	if (r < 0)
		log_notice(
			"--follow: could not ask the kernel whether trace events carry the conntrack id (%s: %s); kernel %s should send it",
			how, strerror(-r), u.release);
	return 0;
}

struct follow_conn *follower_of(struct daemon *d, const struct timeline *tl,
				const struct explain *ex, enum follow_dir *ret_dir,
				uint8_t *ret_tcp_flags)
{
	const struct tl_ct *ct = timeline_first_ct(tl);
	enum tracetable_rule_kind kind = TRACETABLE_RULE_OTHER;
	const struct packet_info *pkt = NULL;
	struct follow_conn *c;
	char proto[16], src[PACKET_ADDRSTRLEN], dst[PACKET_ADDRSTRLEN];

	/* the connection is the kernel's ct id, sent with trace events since 6.16 */
	if (!d->follow || !ct || !(ct->present & TRACE_HAS_CT_ID))
		return NULL;
	for (unsigned int i = 0; i < tl->n_sel; i++) {
		enum tracetable_rule_kind k = tracetable_rule_kind(d->table, tl->sel_handles[i]);

		if (k != TRACETABLE_RULE_OTHER)
			kind = k;
	}
	if (ex->sum.packet && ex->sum.packet->pkt_valid)
		pkt = &ex->sum.packet->pkt;
	*ret_tcp_flags = pkt && pkt->l4proto == IPPROTO_TCP ? pkt->tcp_flags : 0;
	if (ct->present & TRACE_HAS_CT_DIRECTION)
		*ret_dir = ct->direction ? FOLLOW_DIR_REPLY : FOLLOW_DIR_ORIGINAL;
	else
		*ret_dir = kind == TRACETABLE_RULE_FOLLOW_REPLY ? FOLLOW_DIR_REPLY
								: FOLLOW_DIR_ORIGINAL;
	c = follow_find(d->follow, ct->id);
	/* its first timeline after replies that ended first: name it by this one */
	if (c && *ret_dir == FOLLOW_DIR_ORIGINAL && c->packets == c->replies && pkt)
		goto label;
	/*
	 * The trace rule selected a new connection that the kernel did not
	 * add: its set was full (or the follow rule's own limiter said no).
	 */
	if (!c && kind == TRACETABLE_RULE_OTHER && follow_count(d->follow) >= d->opts->follow_max &&
	    (ct->present & TRACE_HAS_CT_STATE) && (ct->state & TRACE_CT_STATE_NEW) &&
	    *ret_dir == FOLLOW_DIR_ORIGINAL)
		follow_missed(d->follow, ct->id);
	/*
	 * Selected by a follow rule: the kernel follows it. Usually its first
	 * packet starts it, but a reply may end first (its first packet waits
	 * for the idle time); one that ended already stays ended.
	 */
	if (c || kind == TRACETABLE_RULE_OTHER || follow_ended_recently(d->follow, ct->id))
		return c;
	/* a first packet dropped here: there is no connection to follow */
	if ((kind == TRACETABLE_RULE_FOLLOW_NEW && ex->sum.verdict == TL_VERDICT_DROP) ||
	    !(c = follow_start(d->follow, ct->id, now_ns()))) {
		tracetable_follow_forget(d->table, ct->id);
		follow_refuse(d->follow, ct->id);
		return NULL;
	}
label:
	if (pkt) {
		packet_endpoint_str(pkt, true, src, sizeof(src));
		packet_endpoint_str(pkt, false, dst, sizeof(dst));
		snprintf(c->label, sizeof(c->label), "%s %s -> %s",
			 packet_proto_name(pkt->l4proto, proto, sizeof(proto)), src, dst);
	}
	return c;
}

bool follower_keep(struct daemon *d, struct follow_conn *c, const struct timeline *tl,
		   const struct explain *ex)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	bool kept = false;

	if (!mem)
		return false;
	if (sink_text(d->sink, mem, tl, ex) == 0 && fclose(mem) == 0)
		kept = follow_keep_text(d->follow, c, text, len) == 0;
	else
		fclose(mem);
	free(text);
	return kept;
}

static void ended(void *ctx, const struct follow_conn *c, enum follow_end why)
{
	struct daemon *d = ctx;
	bool reply = follow_reply_seen(c);
	char note[256] = "";
	struct sink_connection rec = { .conn = c, .end = follow_end_name(why), .note = note };

	if (!reply && why == FOLLOW_END_FLUSH)
		snprintf(note, sizeof(note), "no reply seen at this host before the trace stopped");
	else if (!reply)
		snprintf(note, sizeof(note), "no reply seen at this host within %g s: %s",
			 d->opts->follow_timeout, FOLLOW_NO_REPLY_NOTE);
	sink_connection(d->sink, &rec);
}

void follower_counted(struct daemon *d, struct follow_conn *c, enum follow_dir dir,
		      uint8_t tcp_flags)
{
	enum follow_end why;

	if (!follow_packet(d->follow, c, dir, tcp_flags))
		return;
	why = follow_done_reason(c);
	/*
	 * Closed: no more to trace, its element goes. At the packet bound
	 * the element's own limit stops the tracing in the kernel, and the
	 * element stays until its time limit: deleted, a connection still
	 * new (UDP without a reply) would be added and traced again at once.
	 * Those in flight still count.
	 */
	if (why == FOLLOW_END_CLOSED)
		tracetable_follow_forget(d->table, c->ct_id);
	follow_close(d->follow, c, why, now_ns() + FOLLOW_GRACE_NS);
}

void follower_expire(struct daemon *d, uint64_t now)
{
	if (d->follow)
		follow_expire(d->follow, now, ended, d);
}

void follower_flush(struct daemon *d)
{
	if (d->follow)
		follow_flush(d->follow, ended, d);
}

int64_t follower_due(const struct daemon *d, uint64_t now)
{
	return d->follow ? follow_next_expiry(d->follow, now) : -1;
}

void follower_stats(const struct daemon *d, struct stats_input *in)
{
	if (!d->follow)
		return;
	in->follow = true;
	in->follow_connections = follow_stats(d->follow)->followed;
	in->follow_full = follow_stats(d->follow)->full;
	in->follow_no_reply = follow_stats(d->follow)->no_reply;
	/* kept for their connection's block: written at its end */
	in->printed += follow_kept(d->follow);
}
