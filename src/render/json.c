/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A timeline as JSON for programs (format.h), streamed through jsonw.h,
 * which says why not jansson here: the packet, every event, NAT rewrites,
 * the verdict and its cause, in the words text.c uses (words.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "explain.h"
#include "explain_text.h"
#include "format.h"
#include "owner.h"
#include "owner_render.h"
#include "names.h"
#include "natmap.h"
#include "words.h"

/* ---- JSON ---- */

static void json_add_name(void *ctx, const char *name)
{
	jsonw_string(ctx, NULL, name);
}

static void ct_json(struct jsonw *w, const char *key, const struct tl_ct *ct)
{
	jsonw_object_open(w, key);
	if (ct->present & TRACE_HAS_CT_STATE) {
		jsonw_array_open(w, "state");
		words_bits(ct->state, words_ct_states, WORDS_CT_STATES, json_add_name, w);
		jsonw_array_close(w);
	}
	if (ct->present & TRACE_HAS_CT_DIRECTION)
		jsonw_string(w, "direction", ct->direction ? "reply" : "original");
	if (ct->present & TRACE_HAS_CT_STATUS) {
		jsonw_array_open(w, "status");
		words_bits(ct->status, trace_ct_status_names, TRACE_CT_STATUS_NAMES, json_add_name,
			   w);
		jsonw_array_close(w);
	}
	if (ct->present & TRACE_HAS_CT_ID)
		jsonw_uint(w, "id", ct->id);
	jsonw_object_close(w);
}

static void port_json(struct jsonw *w, const char *key, bool has, uint16_t port)
{
	if (has)
		jsonw_uint(w, key, port);
	else
		jsonw_null(w, key);
}

static void packet_json(struct jsonw *w, const char *key, const struct timeline *tl,
			const struct explain *ex, const struct tl_hdr *h)
{
	const struct packet_info *p = &h->pkt;
	char buf[PACKET_ADDRSTRLEN];

	jsonw_object_open(w, key);
	jsonw_string(w, "family", p->l3 == 6 ? "ip6" : "ip");
	jsonw_string(w, "proto", packet_proto_name(p->l4proto, buf, sizeof(buf)));
	packet_addr_str(p, true, buf, sizeof(buf));
	jsonw_string(w, "saddr", buf);
	packet_addr_str(p, false, buf, sizeof(buf));
	jsonw_string(w, "daddr", buf);
	port_json(w, "sport", p->has_ports, p->sport);
	port_json(w, "dport", p->has_ports, p->dport);
	jsonw_string(w, "iif", explain_ifname(ex, tl, h, true));
	jsonw_string(w, "oif", explain_ifname(ex, tl, h, false));
	if (p->l4proto == IPPROTO_TCP && p->has_ports) {
		packet_tcp_flags_str(p->tcp_flags, buf, sizeof(buf));
		jsonw_string(w, "tcp_flags", buf);
	}
	if (p->has_icmp) {
		jsonw_uint(w, "icmp_type", p->icmp_type);
		jsonw_uint(w, "icmp_code", p->icmp_code);
	}
	jsonw_uint(w, "length", p->length);
	if (h->present & TRACE_HAS_MARK)
		jsonw_uint(w, "mark", h->mark);
	jsonw_object_close(w);
}

/* hex of n bytes into buf (2n + 1), NULL for none: the JSON's null */
static const char *hex_or_null(const uint8_t *b, size_t n, char *buf)
{
	static const char digits[] = "0123456789abcdef";

	if (!n)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		buf[2 * i] = digits[b[i] >> 4];
		buf[2 * i + 1] = digits[b[i] & 0x0f];
	}
	buf[2 * n] = '\0';
	return buf;
}

/*
 * "raw_headers": the bytes the kernel sent with the packet's first base
 * chain entry (our own trace chain at its first hook), so that --replay
 * can rebuild the packet from one line. null when no event carried them.
 */
static void raw_headers_json(struct jsonw *w, const struct timeline *tl, const struct explain *ex,
			     const struct tl_hdr *h)
{
	char hex[2 * sizeof(h->raw) + 1];

	if (!h || !h->nh_len) {
		jsonw_null(w, "raw_headers");
		return;
	}
	jsonw_object_open(w, "raw_headers");
	jsonw_string(w, "hook", explain_hdr_hook(tl, ex, h));
	jsonw_string(w, "family", h->pkt.l3 == 6 ? "ip6" : "ip");
	jsonw_string(w, "iif", explain_ifname(ex, tl, h, true));
	jsonw_string(w, "oif", explain_ifname(ex, tl, h, false));
	/* not sent by the kernel when 0: then it was 0 */
	jsonw_uint(w, "mark", h->mark);
	if (h->ll_len)
		jsonw_uint(w, "link_type", h->iiftype);
	else
		jsonw_null(w, "link_type");
	jsonw_string(w, "link", hex_or_null(h->raw, h->ll_len, hex));
	jsonw_string(w, "network", hex_or_null(h->raw + h->ll_len, h->nh_len, hex));
	jsonw_string(w, "transport",
		     hex_or_null(h->raw + h->ll_len + h->nh_len, h->th_len, hex));
	jsonw_object_close(w);
}

/* What names one event: where it was, which rule or policy, its verdict. */
static void step_ref_json(struct jsonw *w, const struct timeline *tl, const struct explain *ex,
			  int i)
{
	const struct tl_step *s = &tl->steps[i];
	const struct explain_rule *rule = &ex->rules[i];
	struct owner owner;

	jsonw_string(w, "family", trace_family_name(s->family));
	jsonw_string(w, "table", s->table);
	jsonw_string(w, "chain", s->chain);
	jsonw_string(w, "type", words_step_type(s));
	/* a rule of --change has only the clone's handle: none the user can edit */
	if (s->has_handle && !rule->added)
		jsonw_uint(w, "handle", s->handle);
	else
		jsonw_null(w, "handle");
	jsonw_string(w, "rule", rule->text);
	if (rule->deleted)
		jsonw_bool(w, "deleted", true);
	if (rule->added)
		jsonw_bool(w, "added_by_change", true);
	jsonw_string(w, "verdict", words_step_verdict(s));
	/* the cause also by what sent the packet there (explain's cause_owner) */
	if (i == ex->sum.cause) {
		owner_json(w, "owner", &ex->cause_owner);
		return;
	}
	owner_of_step(tl, ex, i, &owner);
	owner_json(w, "owner", &owner);
}

/* "mark_change": {"from": 0, "to": 51820} on the event that changed it */
static void mark_change_json(struct jsonw *w, const struct timeline *tl, int i)
{
	uint32_t from;
	bool known;

	if (!timeline_mark_change(tl, i, &from, &known))
		return;
	jsonw_object_open(w, "mark_change");
	if (known)
		jsonw_uint(w, "from", from);
	else
		jsonw_null(w, "from");
	jsonw_uint(w, "to", tl->steps[i].mark);
	jsonw_object_close(w);
}

static void step_json(struct jsonw *w, const struct timeline *tl, const struct explain *ex, int i)
{
	const struct tl_step *s = &tl->steps[i];

	jsonw_object_open(w, NULL);
	step_ref_json(w, tl, ex, i);
	jsonw_string(w, "hook", ex->hooks[i]);
	jsonw_string(w, "target", s->target);
	mark_change_json(w, tl, i);
	if (s->hdr >= 0) {
		const struct tl_hdr *h = &tl->hdrs[s->hdr];

		if (h->pkt_valid)
			packet_json(w, "packet", tl, ex, h);
		if (h->ct.present)
			ct_json(w, "ct", &h->ct);
	}
	jsonw_object_close(w);
}

static void comment_json(struct jsonw *w, const struct explain *ex, int step)
{
	char comment[256];

	jsonw_string(w, "comment",
		     explain_rule_comment(ex->rules[step].text, comment, sizeof(comment)) ? comment
											  : NULL);
}

static void nat_json(struct jsonw *w, const struct timeline *tl, const struct explain *ex,
		     const struct explain_nat *n)
{
	char from[PACKET_ADDRSTRLEN], to[PACKET_ADDRSTRLEN];

	explain_nat_endpoints(n, from, to, sizeof(from));
	jsonw_object_open(w, NULL);
	jsonw_string(w, "type", n->type == TL_NAT_SNAT ? "snat" : "dnat");
	jsonw_string(w, "from", from);
	jsonw_string(w, "to", n->addr_known ? to : NULL);
	jsonw_string(w, "kind", explain_nat_kind_name(n->kind));
	jsonw_string(w, "source", explain_nat_source_name(n->source));
	jsonw_string(w, "hook", n->hook);
	if (n->rule_step >= 0 && tl->steps[n->rule_step].has_handle)
		jsonw_uint(w, "handle", tl->steps[n->rule_step].handle);
	else
		jsonw_null(w, "handle");
	jsonw_string(w, "rule", n->rule_step >= 0 ? ex->rules[n->rule_step].text : NULL);
	if (n->rule_step >= 0) {
		struct owner owner;

		owner_of_step(tl, ex, n->rule_step, &owner);
		owner_json(w, "owner", &owner);
	}
	if (n->oif)
		jsonw_string(w, "oif", n->oif_name[0] ? n->oif_name : NULL);
	jsonw_object_close(w);
}

static void hint_json(struct jsonw *w, const struct explain_hint *h)
{
	char buf[512];

	jsonw_object_open(w, NULL);
	jsonw_string(w, "status", h->evaluated ? "evaluated" : "not evaluated");
	jsonw_string(w, h->is_map ? "map" : "set", h->set);
	jsonw_string(w, "family", trace_family_name(h->family));
	jsonw_string(w, "table", h->table);
	jsonw_string(w, "chain", h->chain);
	jsonw_uint(w, "rule_handle", h->handle);
	jsonw_string(w, "key", h->key[0] ? h->key : NULL);
	if (h->negated)
		jsonw_bool(w, "negated", true);
	if (h->evaluated) {
		jsonw_bool(w, "member", h->member);
		explain_hint_command(h, buf, sizeof(buf));
		jsonw_string(w, "command", buf[0] ? buf : NULL);
	} else {
		jsonw_string(w, "reason", h->reason);
	}
	explain_hint_str(h, buf, sizeof(buf));
	jsonw_string(w, "text", buf);
	/* --verify: what a replay with the command gave, null when not replayed */
	if (h->verified) {
		jsonw_object_open(w, "verified");
		jsonw_string(w, "verdict", h->verified_verdict);
		jsonw_string(w, "cause", h->verified_cause);
		jsonw_bool(w, "enough", h->verified == EXPLAIN_VERIFIED);
		jsonw_object_close(w);
	} else {
		jsonw_null(w, "verified");
	}
	jsonw_object_close(w);
}

static void hook_list_json(struct jsonw *w, const char *key, unsigned int hooks)
{
	jsonw_array_open(w, key);
	for (unsigned int h = 0; names_hook(h); h++)
		if (hooks & (1u << h))
			jsonw_string(w, NULL, names_hook(h));
	jsonw_array_close(w);
}

static void cause_json(struct jsonw *w, const struct timeline *tl, const struct explain *ex)
{
	const struct tl_summary *sum = &ex->sum;
	char line[1024];

	jsonw_object_open(w, "cause");
	step_ref_json(w, tl, ex, sum->cause);
	jsonw_array_open(w, "path");
	for (unsigned int i = 0; i < sum->n_path; i++)
		jsonw_string(w, NULL, sum->path[i]);
	jsonw_array_close(w);
	jsonw_string(w, "kind", explain_verdict_kind(ex));
	comment_json(w, ex, sum->cause);
	jsonw_string(w, "hook", ex->cause_hook);
	jsonw_array_open(w, "via");
	for (unsigned int i = 0; i < ex->n_via; i++) {
		const struct tl_step *v = &tl->steps[ex->via[i]];

		jsonw_object_open(w, NULL);
		jsonw_string(w, "chain", v->chain);
		if (v->has_handle)
			jsonw_uint(w, "handle", v->handle);
		else
			jsonw_null(w, "handle");
		jsonw_string(w, "verdict", trace_verdict_name(v->verdict));
		jsonw_string(w, "target", v->target);
		jsonw_object_close(w);
	}
	jsonw_array_close(w);
	explain_cause_str(tl, ex, line, sizeof(line));
	jsonw_string(w, "summary", line);
	jsonw_object_close(w);
}

int format_json(struct jsonw *w, const struct timeline *tl, const struct explain *ex)
{
	const struct tl_ct *ct;
	char id[9], line[512];

	snprintf(id, sizeof(id), "%08x", tl->ids[0]);

	jsonw_object_open(w, NULL);
	jsonw_string(w, "type", "trace");
	jsonw_string(w, "id", id);
	if (tl->n_ids > 1) {
		jsonw_array_open(w, "ids");
		for (unsigned int i = 0; i < tl->n_ids; i++) {
			snprintf(id, sizeof(id), "%08x", tl->ids[i]);
			jsonw_string(w, NULL, id);
		}
		jsonw_array_close(w);
	}
	jsonw_string(w, "verdict", timeline_verdict_name(ex->sum.verdict));
	jsonw_bool(w, "complete", timeline_complete(tl));
	if (ex->sum.packet)
		packet_json(w, "packet", tl, ex, ex->sum.packet);
	else
		jsonw_null(w, "packet");
	raw_headers_json(w, tl, ex, ex->sum.packet);
	jsonw_array_open(w, "events");
	for (int i = 0; i < tl->n_steps; i++)
		step_json(w, tl, ex, i);
	jsonw_array_close(w);
	jsonw_array_open(w, "nat");
	for (unsigned int i = 0; i < ex->n_nat; i++)
		nat_json(w, tl, ex, &ex->nat[i]);
	jsonw_array_close(w);
	if (ex->sum.cause >= 0)
		cause_json(w, tl, ex);
	else
		jsonw_null(w, "cause");
	if (ex->sum.last_seen >= 0) {
		/* not a cause: events may be missing after it */
		jsonw_object_open(w, "last_seen");
		step_ref_json(w, tl, ex, ex->sum.last_seen);
		jsonw_string(w, "hook", ex->hooks[ex->sum.last_seen]);
		jsonw_object_close(w);
	}
	ct = timeline_first_ct(tl);
	if (ct)
		ct_json(w, "ct", ct);
	/* --follow: the packet's connection and direction, as the kernel said */
	if (ct && (ct->present & TRACE_HAS_CT_ID)) {
		jsonw_uint(w, "connection", ct->id);
		if (ct->present & TRACE_HAS_CT_DIRECTION)
			jsonw_string(w, "direction", ct->direction ? "reply" : "original");
	}
	/* the NAT mapping of this connection, when conntrack has one */
	if (ex->has_mapping)
		natmap_json(w, "mapping", &ex->mapping);
	if (tl->steps_dropped) {
		jsonw_uint(w, "events_dropped", tl->steps_dropped);
		jsonw_uint(w, "events_gap_at", tl->gap_at);
	}
	if (tl->hdrs_dropped)
		jsonw_uint(w, "chains_dropped", tl->hdrs_dropped);
	jsonw_array_open(w, "accepts");
	for (unsigned int i = 0; i < ex->n_accepts; i++) {
		int st = ex->accepts[i];

		jsonw_object_open(w, NULL);
		step_ref_json(w, tl, ex, st);
		jsonw_string(w, "hook", ex->hooks[st]);
		comment_json(w, ex, st);
		jsonw_object_close(w);
	}
	jsonw_array_close(w);
	if (ex->outside) {
		jsonw_object_open(w, "outside_ruleset");
		jsonw_string(w, "after", ex->outside_after);
		hook_list_json(w, "expected", ex->outside_expected);
		/* what the kernel says (vanish.h): a reason name and its evidence */
		jsonw_string(w, "reason", vanish_reason_name(ex->outside_why.reason));
		if (ex->outside_why.evidence[0])
			jsonw_string(w, "evidence", ex->outside_why.evidence);
		else
			jsonw_null(w, "evidence");
		jsonw_object_close(w);
	} else {
		jsonw_null(w, "outside_ruleset");
	}
	/* accepted, no later chain: where the kernel sends it (vanish.h) */
	if (ex->after_ruleset) {
		char gw[64];

		jsonw_object_open(w, "after_ruleset");
		jsonw_string(w, "after", ex->outside_after);
		jsonw_string(w, "decision", vanish_next_name(&ex->outside_why));
		if (ex->outside_why.next_oif[0])
			jsonw_string(w, "out", ex->outside_why.next_oif);
		else
			jsonw_null(w, "out");
		vanish_next_gateway_str(&ex->outside_why, gw, sizeof(gw));
		if (gw[0])
			jsonw_string(w, "gateway", gw);
		else
			jsonw_null(w, "gateway");
		words_after_ruleset(ex, line, sizeof(line));
		jsonw_string(w, "summary", line);
		jsonw_object_close(w);
	} else {
		jsonw_null(w, "after_ruleset");
	}
	jsonw_array_open(w, "hints");
	for (unsigned int i = 0; i < ex->n_hints; i++)
		hint_json(w, &ex->hints[i]);
	jsonw_array_close(w);
	jsonw_object_close(w);
	return w->failed ? -ENOMEM : 0;
}

int format_json_line(FILE *out, const struct timeline *tl, const struct explain *ex)
{
	/* One line fits here unless rule texts are huge: no allocation. */
	char stack[16384];
	struct jsonw w;
	int ret;

	jsonw_init(&w, stack, sizeof(stack));
	format_json(&w, tl, ex);
	ret = jsonw_write_line(&w, out);
	jsonw_release(&w);
	return ret;
}
