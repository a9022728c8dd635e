/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A timeline as text for people and as JSON (jansson) for programs. Both
 * render the same summary: packet, steps grouped by base chain, NAT
 * rewrites, verdict and cause.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "explain.h"
#include "format.h"

#define CT_STATE_UNTRACKED_BIT	6

struct rule_ref {
	const char *text;	/* NULL if unknown */
	bool deleted;
};

static struct rule_ref rule_of(const struct resolver *r, const struct tl_step *s)
{
	struct rule_ref ref = {};

	if (s->has_handle && r && r->rule)
		ref.text = r->rule(r->ctx, s->family, s->table, s->handle, &ref.deleted);
	return ref;
}

static const char *ifname_of(const struct resolver *r, uint32_t ifindex)
{
	if (!r || !r->ifname)
		return NULL;
	return r->ifname(r->ctx, ifindex);
}

static const char *step_type_name(const struct tl_step *s)
{
	if (s->type == TRACE_TYPE_POLICY)
		return "policy";
	if (s->type == TRACE_TYPE_RETURN || timeline_step_is_chain_end(s))
		return "return";
	return "rule";
}

static const char *step_verdict_name(const struct tl_step *s)
{
	return s->has_verdict ? trace_verdict_name(s->verdict) : NULL;
}

static const char *const ct_state_names[] = {
	"invalid", "established", "related", "new", NULL, NULL, "untracked",
};

/* IPS_* bits of include/uapi/linux/netfilter/nf_conntrack_common.h */
static const char *const ct_status_names[] = {
	"expected", "seen-reply", "assured", "confirmed", "snat", "dnat",
	"seq-adjust", "snat-done", "dnat-done", "dying", "fixed-timeout",
	"template", "nat-clash", "helper", "offload", "hw-offload",
};

/*
 * Conntrack state bits: NF_CT_STATE_BIT(ctinfo) for a tracked packet,
 * NF_CT_STATE_INVALID_BIT (1) and NF_CT_STATE_UNTRACKED_BIT (64).
 */
static void bit_names(uint32_t bits, const char *const *names, size_t n,
		      void (*add)(void *ctx, const char *name), void *ctx)
{
	char buf[16];

	for (unsigned int b = 0; b < 32; b++) {
		if (!(bits & (1u << b)))
			continue;
		if (b < n && names[b]) {
			add(ctx, names[b]);
		} else {
			snprintf(buf, sizeof(buf), "bit%u", b);
			add(ctx, buf);
		}
	}
}

#define NAMES(a) (a), sizeof(a) / sizeof((a)[0])

/* ---- JSON ---- */

static void json_add_name(void *ctx, const char *name)
{
	json_array_append_new(ctx, json_string(name));
}

static json_t *json_nullable_string(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *ct_json(const struct tl_ct *ct)
{
	json_t *o = json_object();

	if (ct->present & TRACE_HAS_CT_STATE) {
		json_t *a = json_array();

		bit_names(ct->state, NAMES(ct_state_names), json_add_name, a);
		json_object_set_new(o, "state", a);
	}
	if (ct->present & TRACE_HAS_CT_DIRECTION)
		json_object_set_new(o, "direction",
				    json_string(ct->direction ? "reply" : "original"));
	if (ct->present & TRACE_HAS_CT_STATUS) {
		json_t *a = json_array();

		bit_names(ct->status, NAMES(ct_status_names), json_add_name, a);
		json_object_set_new(o, "status", a);
	}
	if (ct->present & TRACE_HAS_CT_ID)
		json_object_set_new(o, "id", json_integer(ct->id));
	return o;
}

static json_t *packet_json(const struct tl_hdr *h, const struct resolver *r)
{
	const struct packet_info *p = &h->pkt;
	json_t *o = json_object();
	char buf[PACKET_ADDRSTRLEN];

	json_object_set_new(o, "family", json_string(p->l3 == 6 ? "ip6" : "ip"));
	json_object_set_new(o, "proto", json_string(packet_proto_name(p->l4proto, buf, sizeof(buf))));
	packet_addr_str(p, true, buf, sizeof(buf));
	json_object_set_new(o, "saddr", json_string(buf));
	packet_addr_str(p, false, buf, sizeof(buf));
	json_object_set_new(o, "daddr", json_string(buf));
	json_object_set_new(o, "sport", p->has_ports ? json_integer(p->sport) : json_null());
	json_object_set_new(o, "dport", p->has_ports ? json_integer(p->dport) : json_null());
	json_object_set_new(o, "iif", h->present & TRACE_HAS_IIF ?
			    json_nullable_string(ifname_of(r, h->iif)) : json_null());
	json_object_set_new(o, "oif", h->present & TRACE_HAS_OIF ?
			    json_nullable_string(ifname_of(r, h->oif)) : json_null());
	if (p->l4proto == IPPROTO_TCP && p->has_ports) {
		packet_tcp_flags_str(p->tcp_flags, buf, sizeof(buf));
		json_object_set_new(o, "tcp_flags", json_string(buf));
	}
	if (p->has_icmp) {
		json_object_set_new(o, "icmp_type", json_integer(p->icmp_type));
		json_object_set_new(o, "icmp_code", json_integer(p->icmp_code));
	}
	json_object_set_new(o, "length", json_integer(p->length));
	if (h->present & TRACE_HAS_MARK)
		json_object_set_new(o, "mark", json_integer(h->mark));
	return o;
}

/* What names one event: where it was, which rule or policy, its verdict. */
static json_t *step_ref_json(const struct tl_step *s, const struct resolver *r)
{
	struct rule_ref rule = rule_of(r, s);
	json_t *o = json_object();

	json_object_set_new(o, "family", json_string(trace_family_name(s->family)));
	json_object_set_new(o, "table", json_string(s->table));
	json_object_set_new(o, "chain", json_string(s->chain));
	json_object_set_new(o, "type", json_string(step_type_name(s)));
	json_object_set_new(o, "handle", s->has_handle ? json_integer((json_int_t)s->handle) : json_null());
	json_object_set_new(o, "rule", json_nullable_string(rule.text));
	if (rule.deleted)
		json_object_set_new(o, "deleted", json_true());
	json_object_set_new(o, "verdict", json_nullable_string(step_verdict_name(s)));
	return o;
}

static json_t *step_json(const struct timeline *tl, const struct tl_step *s,
			 const char *hook, const struct resolver *r)
{
	json_t *o = step_ref_json(s, r);

	json_object_set_new(o, "hook", json_nullable_string(hook));
	json_object_set_new(o, "target", json_nullable_string(s->target));
	if (s->hdr >= 0) {
		const struct tl_hdr *h = &tl->hdrs[s->hdr];

		if (h->pkt_valid)
			json_object_set_new(o, "packet", packet_json(h, r));
		if (h->ct.present)
			json_object_set_new(o, "ct", ct_json(&h->ct));
	}
	return o;
}

static json_t *rule_or_null(const struct timeline *tl, int step, const struct resolver *r)
{
	struct rule_ref rule;

	if (step < 0)
		return json_null();
	rule = rule_of(r, &tl->steps[step]);
	return json_nullable_string(rule.text);
}

static json_t *nat_json(const struct timeline *tl, const struct explain_nat *n,
			const struct resolver *r)
{
	char from[PACKET_ADDRSTRLEN], to[PACKET_ADDRSTRLEN];
	json_t *o;

	explain_nat_endpoints(n, from, to, sizeof(from));
	o = json_pack("{s:s, s:s, s:o}", "type", n->type == TL_NAT_SNAT ? "snat" : "dnat",
		      "from", from, "to", n->addr_known ? json_string(to) : json_null());
	json_object_set_new(o, "kind", json_string(explain_nat_kind_name(n->kind)));
	json_object_set_new(o, "source", json_string(explain_nat_source_name(n->source)));
	json_object_set_new(o, "hook", json_nullable_string(n->hook));
	json_object_set_new(o, "handle", n->rule_step >= 0 && tl->steps[n->rule_step].has_handle ?
			    json_integer((json_int_t)tl->steps[n->rule_step].handle) : json_null());
	json_object_set_new(o, "rule", rule_or_null(tl, n->rule_step, r));
	if (n->oif)
		json_object_set_new(o, "oif", json_nullable_string(ifname_of(r, n->oif)));
	return o;
}

static json_t *comment_json(const struct timeline *tl, int step, const struct resolver *r)
{
	struct rule_ref rule = rule_of(r, &tl->steps[step]);
	char comment[256];

	if (explain_rule_comment(rule.text, comment, sizeof(comment)))
		return json_string(comment);
	return json_null();
}

static json_t *hint_json(const struct explain_hint *h)
{
	char buf[512];
	json_t *o = json_object();

	json_object_set_new(o, "status", json_string(h->evaluated ? "evaluated" : "not evaluated"));
	json_object_set_new(o, h->is_map ? "map" : "set", json_string(h->set));
	json_object_set_new(o, "family", json_string(trace_family_name(h->family)));
	json_object_set_new(o, "table", json_string(h->table));
	json_object_set_new(o, "chain", json_string(h->chain));
	json_object_set_new(o, "rule_handle", json_integer((json_int_t)h->handle));
	json_object_set_new(o, "key", h->key[0] ? json_string(h->key) : json_null());
	if (h->negated)
		json_object_set_new(o, "negated", json_true());
	if (h->evaluated) {
		json_object_set_new(o, "member", json_boolean(h->member));
		explain_hint_command(h, buf, sizeof(buf));
		json_object_set_new(o, "command", buf[0] ? json_string(buf) : json_null());
	} else {
		json_object_set_new(o, "reason", json_string(h->reason));
	}
	explain_hint_str(h, buf, sizeof(buf));
	json_object_set_new(o, "text", json_string(buf));
	return o;
}

static json_t *hook_list_json(unsigned int hooks)
{
	static const char *const names[] = {
		"prerouting", "input", "forward", "output", "postrouting",
	};
	json_t *a = json_array();

	for (unsigned int h = 0; h < sizeof(names) / sizeof(names[0]); h++)
		if (hooks & (1u << h))
			json_array_append_new(a, json_string(names[h]));
	return a;
}

static json_t *cause_json(const struct timeline *tl, const struct explain *ex,
			  const struct resolver *r)
{
	const struct tl_summary *sum = &ex->sum;
	json_t *o = step_ref_json(&tl->steps[sum->cause], r);
	json_t *path = json_array(), *via = json_array();
	char line[1024];

	for (unsigned int i = 0; i < sum->n_path; i++)
		json_array_append_new(path, json_string(sum->path[i]));
	json_object_set_new(o, "path", path);
	json_object_set_new(o, "kind", json_string(explain_verdict_kind(ex)));
	json_object_set_new(o, "comment", comment_json(tl, sum->cause, r));
	json_object_set_new(o, "hook", json_nullable_string(ex->cause_hook));
	for (unsigned int i = 0; i < ex->n_via; i++) {
		const struct tl_step *v = &tl->steps[ex->via[i]];

		json_array_append_new(via, json_pack("{s:s, s:o, s:s, s:s}",
			"chain", v->chain,
			"handle", v->has_handle ? json_integer((json_int_t)v->handle) : json_null(),
			"verdict", trace_verdict_name(v->verdict), "target", v->target));
	}
	json_object_set_new(o, "via", via);
	explain_cause_str(tl, ex, r, line, sizeof(line));
	json_object_set_new(o, "summary", json_string(line));
	return o;
}

static const struct tl_ct *first_ct(const struct timeline *tl)
{
	for (int h = 0; h < tl->n_hdrs; h++)
		if (tl->hdrs[h].ct.present)
			return &tl->hdrs[h].ct;
	return NULL;
}

json_t *format_json(const struct timeline *tl, const struct resolver *r)
{
	struct explain ex;
	const struct tl_ct *ct;
	json_t *o, *events, *nat, *list;
	char id[9];

	explain_timeline(tl, r, &ex);
	snprintf(id, sizeof(id), "%08x", tl->id);

	o = json_object();
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "verdict", json_string(timeline_verdict_name(ex.sum.verdict)));
	json_object_set_new(o, "complete", json_boolean(timeline_complete(tl)));
	json_object_set_new(o, "packet", ex.sum.packet ? packet_json(ex.sum.packet, r) : json_null());
	events = json_array();
	for (int i = 0; i < tl->n_steps; i++)
		json_array_append_new(events, step_json(tl, &tl->steps[i], ex.hooks[i], r));
	json_object_set_new(o, "events", events);
	nat = json_array();
	for (unsigned int i = 0; i < ex.n_nat; i++)
		json_array_append_new(nat, nat_json(tl, &ex.nat[i], r));
	json_object_set_new(o, "nat", nat);
	json_object_set_new(o, "cause", ex.sum.cause >= 0 ? cause_json(tl, &ex, r) : json_null());
	ct = first_ct(tl);
	if (ct)
		json_object_set_new(o, "ct", ct_json(ct));
	if (tl->steps_dropped)
		json_object_set_new(o, "events_dropped", json_integer(tl->steps_dropped));
	list = json_array();
	for (unsigned int i = 0; i < ex.n_accepts; i++) {
		int st = ex.accepts[i];
		json_t *a = step_ref_json(&tl->steps[st], r);

		json_object_set_new(a, "hook", json_nullable_string(ex.hooks[st]));
		json_object_set_new(a, "comment", comment_json(tl, st, r));
		json_array_append_new(list, a);
	}
	json_object_set_new(o, "accepts", list);
	if (ex.outside) {
		json_object_set_new(o, "outside_ruleset", json_pack("{s:s, s:o, s:s}",
			"after", ex.outside_after,
			"expected", hook_list_json(ex.outside_expected),
			"reason", "accepted, then never seen at a later hook that has base chains: dropped outside the ruleset (routing, rp_filter, no listener)"));
	} else {
		json_object_set_new(o, "outside_ruleset", json_null());
	}
	list = json_array();
	for (unsigned int i = 0; i < ex.n_hints; i++)
		json_array_append_new(list, hint_json(&ex.hints[i]));
	json_object_set_new(o, "hints", list);
	return o;
}

int format_json_line(FILE *out, const struct timeline *tl,
		     const struct resolver *r)
{
	json_t *o = format_json(tl, r);
	size_t len;
	char *line;
	int ret = 0;

	if (!o)
		return -ENOMEM;
	/* json_dumpf writes token by token: render first, write once */
	line = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!line)
		return -ENOMEM;
	len = strlen(line);
	line[len] = '\n';	/* over the NUL: the length is known */
	if (fwrite(line, 1, len + 1, out) != len + 1)
		ret = -EIO;
	free(line);
	return ret;
}

/* ---- text ---- */

struct text_list {
	FILE *out;
	bool first;
};

static void text_add_name(void *ctx, const char *name)
{
	struct text_list *l = ctx;

	fprintf(l->out, "%s%s", l->first ? "" : ",", name);
	l->first = false;
}

static void ct_text(FILE *out, const struct tl_ct *ct)
{
	struct text_list l = { .out = out, .first = true };

	fputs(" ct", out);
	if (ct->present & TRACE_HAS_CT_STATE) {
		fputs(" state ", out);
		bit_names(ct->state, NAMES(ct_state_names), text_add_name, &l);
	}
	if (ct->present & TRACE_HAS_CT_DIRECTION)
		fprintf(out, " %s", ct->direction ? "reply" : "original");
	if (ct->present & TRACE_HAS_CT_STATUS) {
		l.first = true;
		fputs(" status ", out);
		bit_names(ct->status, NAMES(ct_status_names), text_add_name, &l);
	}
	if (ct->present & TRACE_HAS_CT_ID)
		fprintf(out, " id %" PRIu32, ct->id);
}

static void packet_text(FILE *out, const struct tl_hdr *h, const struct resolver *r)
{
	const struct packet_info *p = &h->pkt;
	char proto[8], src[PACKET_ADDRSTRLEN], dst[PACKET_ADDRSTRLEN], flags[40];
	const char *name;

	packet_endpoint_str(p, true, src, sizeof(src));
	packet_endpoint_str(p, false, dst, sizeof(dst));
	fprintf(out, "%s %s -> %s", packet_proto_name(p->l4proto, proto, sizeof(proto)),
		src, dst);
	if (p->l4proto == IPPROTO_TCP && p->has_ports) {
		packet_tcp_flags_str(p->tcp_flags, flags, sizeof(flags));
		fprintf(out, " [%s]", flags);
	}
	if (p->has_icmp)
		fprintf(out, " type %u code %u", p->icmp_type, p->icmp_code);
	if (h->present & TRACE_HAS_IIF) {
		name = ifname_of(r, h->iif);
		if (name)
			fprintf(out, " iif %s", name);
		else
			fprintf(out, " iif #%" PRIu32, h->iif);
	}
	if (h->present & TRACE_HAS_OIF) {
		name = ifname_of(r, h->oif);
		if (name)
			fprintf(out, " oif %s", name);
		else
			fprintf(out, " oif #%" PRIu32, h->oif);
	}
	if (h->present & TRACE_HAS_MARK)
		fprintf(out, " mark 0x%" PRIx32, h->mark);
}

static void rule_text(FILE *out, const struct tl_step *s, const struct rule_ref *rule)
{
	if (s->type == TRACE_TYPE_POLICY) {
		fputs("policy", out);
		return;
	}
	if (!s->has_handle) {
		fputs("end of chain", out);
		return;
	}
	if (rule->text)
		fprintf(out, "rule `%s` (handle %" PRIu64 "%s)", rule->text, s->handle,
			rule->deleted ? ", deleted" : "");
	else
		fprintf(out, "rule handle %" PRIu64 " (%s)", s->handle,
			rule->deleted ? "deleted" : "unknown");
}

static void nat_text(FILE *out, const struct timeline *tl, const struct explain_nat *n,
		     const struct resolver *r)
{
	char line[512];

	explain_nat_str(n, r, line, sizeof(line));
	fprintf(out, "  %s", line);
	if (n->rule_step >= 0) {
		const struct tl_step *s = &tl->steps[n->rule_step];
		struct rule_ref rule = rule_of(r, s);

		fputs(" by ", out);
		rule_text(out, s, &rule);
		if (n->hook)
			fprintf(out, " at %s", n->hook);
	}
	fputc('\n', out);
}

static void accepts_text(FILE *out, const struct timeline *tl, const struct explain *ex,
			 const struct resolver *r)
{
	for (unsigned int i = 0; i < ex->n_accepts; i++) {
		const struct tl_step *s = &tl->steps[ex->accepts[i]];
		struct rule_ref rule = rule_of(r, s);

		fprintf(out, "%s%s by ", i ? "; " : "  accepted at ",
			ex->hooks[ex->accepts[i]] ? ex->hooks[ex->accepts[i]] : "-");
		rule_text(out, s, &rule);
		fprintf(out, " in %s %s %s", trace_family_name(s->family), s->table, s->chain);
	}
	if (ex->n_accepts)
		fputc('\n', out);
}

static void hints_text(FILE *out, const struct explain *ex)
{
	char line[512], cmd[512];

	for (unsigned int i = 0; i < ex->n_hints; i++) {
		const struct explain_hint *h = &ex->hints[i];

		explain_hint_str(h, line, sizeof(line));
		fprintf(out, "  hint: %s (rule handle %" PRIu64 " in %s %s %s)", line, h->handle,
			trace_family_name(h->family), h->table, h->chain);
		if (explain_hint_command(h, cmd, sizeof(cmd)) > 0)
			fprintf(out, "; to add it: %s", cmd);
		fputc('\n', out);
	}
}

int format_text(FILE *out, const struct timeline *tl, const struct resolver *r)
{
	struct explain ex;
	const char *chain = NULL, *base = NULL;
	char line[1024];

	explain_timeline(tl, r, &ex);

	fprintf(out, "trace %08x ", tl->id);
	if (ex.sum.packet)
		packet_text(out, ex.sum.packet, r);
	else
		fputs("(packet not seen)", out);
	fprintf(out, ": %s%s%s\n", timeline_verdict_name(ex.sum.verdict),
		ex.outside ? ", then lost outside the ruleset" : "",
		timeline_complete(tl) ? "" : " (incomplete)");

	for (int i = 0; i < tl->n_steps; i++) {
		const struct tl_step *s = &tl->steps[i];
		struct rule_ref rule = rule_of(r, s);
		const char *verdict = step_verdict_name(s);

		for (unsigned int n = 0; n < ex.n_nat; n++)
			if (ex.nat[n].at_step == i)
				nat_text(out, tl, &ex.nat[n], r);
		if (s->hdr >= 0) {
			const struct tl_hdr *h = &tl->hdrs[s->hdr];

			fprintf(out, "  %s %s %s %s", ex.hooks[i] ? ex.hooks[i] : "-",
				trace_family_name(s->family), s->table, s->chain);
			if (h->ct.present)
				ct_text(out, &h->ct);
			fputc('\n', out);
		} else if (s->chain != chain) {
			fprintf(out, "    -> %s %s %s\n", trace_family_name(s->family),
				s->table, s->chain);
		}
		chain = s->chain;
		if (s->hdr >= 0)
			base = s->chain;
		/* The kernel's end-of-chain event: say what it means. */
		if (timeline_step_is_chain_end(s)) {
			fputs(s->chain == base ? "      (no rule matched)\n" :
			      "      (end of chain, back to the caller)\n", out);
			continue;
		}
		fputs("      ", out);
		rule_text(out, s, &rule);
		if (verdict) {
			fprintf(out, ": %s", verdict);
			if (s->target)
				fprintf(out, " %s", s->target);
		}
		fputc('\n', out);
	}
	if (tl->steps_dropped)
		fprintf(out, "      (%u more events not kept)\n", tl->steps_dropped);
	/* Source NAT is done as the packet leaves: after its last chain. */
	for (unsigned int n = 0; n < ex.n_nat; n++)
		if (ex.nat[n].at_step < 0)
			nat_text(out, tl, &ex.nat[n], r);
	if (ex.sum.verdict == TL_VERDICT_ACCEPT)
		accepts_text(out, tl, &ex, r);
	explain_cause_str(tl, &ex, r, line, sizeof(line));
	fprintf(out, "  verdict %s\n", line);
	hints_text(out, &ex);
	/* a blank line between packets */
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}
