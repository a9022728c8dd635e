/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A timeline as text for people and as JSON for programs (streamed through
 * jsonw.h, which says why not jansson here). Both render the same summary: packet, steps grouped by
 * base chain, NAT rewrites, verdict and cause.
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
#include "owner.h"
#include "names.h"
#include "natmap.h"

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
	jsonw_string(ctx, NULL, name);
}

static void ct_json(struct jsonw *w, const char *key, const struct tl_ct *ct)
{
	jsonw_object_open(w, key);
	if (ct->present & TRACE_HAS_CT_STATE) {
		jsonw_array_open(w, "state");
		bit_names(ct->state, NAMES(ct_state_names), json_add_name, w);
		jsonw_array_close(w);
	}
	if (ct->present & TRACE_HAS_CT_DIRECTION)
		jsonw_string(w, "direction", ct->direction ? "reply" : "original");
	if (ct->present & TRACE_HAS_CT_STATUS) {
		jsonw_array_open(w, "status");
		bit_names(ct->status, trace_ct_status_names, TRACE_CT_STATUS_NAMES, json_add_name,
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
	jsonw_string(w, "type", step_type_name(s));
	if (s->has_handle)
		jsonw_uint(w, "handle", s->handle);
	else
		jsonw_null(w, "handle");
	jsonw_string(w, "rule", rule->text);
	if (rule->deleted)
		jsonw_bool(w, "deleted", true);
	jsonw_string(w, "verdict", step_verdict_name(s));
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

/* "forwarded out of lan0 via 203.0.113.254, after prerouting: no later chain" */
static void after_ruleset_str(const struct explain *ex, char *buf, size_t len)
{
	int n = vanish_next_str(&ex->outside_why, buf, len);

	if (n >= 0 && (size_t)n < len && ex->outside_after)
		snprintf(buf + n, len - (size_t)n,
			 " (the kernel's answer; no chain of the ruleset follows %s)",
			 ex->outside_after);
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
		after_ruleset_str(ex, line, sizeof(line));
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

/* ---- text ---- */

/*
 * Everything the text renderer prints goes through one escaping stream:
 * rule texts, comments, table, chain and interface names come from the
 * ruleset and the kernel (a container's root under --netns), and a
 * comment like "\e]0;x\a" would retitle the reader's terminal, a "\n"
 * in a chain name forge a line. Control bytes (below 0x20, 0x7f, and the
 * UTF-8 forms of the C1 controls U+0080..U+009F, which some terminals
 * obey) are written as \xNN. The renderer ends its own lines with a NUL
 * byte (eol()), which no string it prints can hold, and the stream turns
 * that into '\n'.
 */
#define TEXT_EOL '\0'

struct text_esc {
	FILE *raw;
	bool lead_c2; /* a 0xc2 byte waits: a C1 control may follow */
};

static ssize_t esc_write(void *cookie, const char *data, size_t n)
{
	struct text_esc *e = cookie;
	char out[4096 + 16];
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)data[i];

		if (o > sizeof(out) - 16) {
			fwrite(out, 1, o, e->raw);
			o = 0;
		}
		if (e->lead_c2) {
			e->lead_c2 = false;
			if (c >= 0x80 && c <= 0x9f) {
				o += (size_t)sprintf(out + o, "\\xc2\\x%02x", c);
				continue;
			}
			out[o++] = (char)0xc2;
		}
		if (c == 0xc2)
			e->lead_c2 = true;
		else if (c == TEXT_EOL)
			out[o++] = '\n';
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)sprintf(out + o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	fwrite(out, 1, o, e->raw);
	return (ssize_t)n;
}

static int esc_close(void *cookie)
{
	struct text_esc *e = cookie;

	if (e->lead_c2)
		fputc(0xc2, e->raw);
	free(e);
	return 0;
}

FILE *format_text_stream(FILE *out)
{
	static const cookie_io_functions_t io = { .write = esc_write, .close = esc_close };
	struct text_esc *e = calloc(1, sizeof(*e));
	FILE *f;

	if (!e)
		return NULL;
	e->raw = out;
	f = fopencookie(e, "w", io);
	if (!f)
		free(e);
	return f;
}

/* The end of a line the renderer writes (see format_text_stream()). */
static void eol(FILE *out)
{
	fputc(TEXT_EOL, out);
}

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
		bit_names(ct->status, trace_ct_status_names, TRACE_CT_STATUS_NAMES, text_add_name,
			  &l);
	}
	if (ct->present & TRACE_HAS_CT_ID)
		fprintf(out, " id %" PRIu32, ct->id);
}

static void packet_text(FILE *out, const struct timeline *tl, const struct explain *ex,
			const struct tl_hdr *h)
{
	const struct packet_info *p = &h->pkt;
	char proto[8], src[PACKET_ADDRSTRLEN], dst[PACKET_ADDRSTRLEN], flags[40];
	const char *name;

	packet_endpoint_str(p, true, src, sizeof(src));
	packet_endpoint_str(p, false, dst, sizeof(dst));
	fprintf(out, "%s %s -> %s", packet_proto_name(p->l4proto, proto, sizeof(proto)), src, dst);
	if (p->l4proto == IPPROTO_TCP && p->has_ports) {
		packet_tcp_flags_str(p->tcp_flags, flags, sizeof(flags));
		fprintf(out, " [%s]", flags);
	}
	if (p->has_icmp)
		fprintf(out, " type %u code %u", p->icmp_type, p->icmp_code);
	if (h->present & TRACE_HAS_IIF) {
		name = explain_ifname(ex, tl, h, true);
		if (name)
			fprintf(out, " iif %s", name);
		else
			fprintf(out, " iif #%" PRIu32, h->iif);
	}
	if (h->present & TRACE_HAS_OIF) {
		name = explain_ifname(ex, tl, h, false);
		if (name)
			fprintf(out, " oif %s", name);
		else
			fprintf(out, " oif #%" PRIu32, h->oif);
	}
	if (h->present & TRACE_HAS_MARK)
		fprintf(out, " mark 0x%" PRIx32, h->mark);
}

/* " (firewalld zone public)" after a chain or rule: who wrote it, if recognised. */
static void owner_text(FILE *out, const struct owner *o)
{
	char buf[512];

	if (!o->manager)
		return;
	owner_str(o, false, buf, sizeof(buf));
	fprintf(out, " (%s)", buf);
}

/* The owner of a chain, from its name alone. */
static void chain_owner_text(FILE *out, const struct tl_step *s, const char *chain)
{
	struct owner o;

	owner_of(s->family, s->table, chain, NULL, &o);
	owner_text(out, &o);
}

/* A jump or goto into a chain whose owner reads differently from its own. */
static bool jump_owner_changes(const struct tl_step *s)
{
	struct owner from, to;
	char a[512], b[512];

	if (!owner_of(s->family, s->table, s->target, NULL, &to) || !to.manager)
		return false;
	owner_of(s->family, s->table, s->chain, NULL, &from);
	/* back to the manager's own chains: nothing new to say */
	if (!to.n_attrs && from.manager == to.manager)
		return false;
	owner_str(&from, false, a, sizeof(a));
	owner_str(&to, false, b, sizeof(b));
	return strcmp(a, b) != 0;
}

/* "rule `TEXT` (handle N)", "policy", "end of chain" */
static void step_name_text(FILE *out, const struct timeline *tl, const struct explain *ex, int i)
{
	char buf[4400];

	explain_step_str(&tl->steps[i], &ex->rules[i], false, buf, sizeof(buf));
	fputs(buf, out);
}

static void nat_text(FILE *out, const struct timeline *tl, const struct explain *ex,
		     const struct explain_nat *n)
{
	char line[512];

	explain_nat_str(n, line, sizeof(line));
	fprintf(out, "  %s", line);
	if (n->rule_step >= 0) {
		fputs(" by ", out);
		struct owner owner;

		step_name_text(out, tl, ex, n->rule_step);
		if (n->hook)
			fprintf(out, " at %s", n->hook);
		owner_of_step(tl, ex, n->rule_step, &owner);
		owner_text(out, &owner);
	}
	eol(out);
}

/* "  mapping: nat + tcp ... id N STATE": the packet's connection, when known. */
static void mapping_text(FILE *out, const struct explain *ex)
{
	char line[512];

	if (!ex->has_mapping)
		return;
	natmap_text(&ex->mapping, line, sizeof(line));
	fprintf(out, "  mapping: %s", line);
	eol(out);
}

static void accepts_text(FILE *out, const struct timeline *tl, const struct explain *ex)
{
	for (unsigned int i = 0; i < ex->n_accepts; i++) {
		const struct tl_step *s = &tl->steps[ex->accepts[i]];

		fprintf(out, "%s%s by ", i ? "; " : "  accepted at ",
			ex->hooks[ex->accepts[i]] ? ex->hooks[ex->accepts[i]] : "-");
		step_name_text(out, tl, ex, ex->accepts[i]);
		fprintf(out, " in %s %s %s", trace_family_name(s->family), s->table, s->chain);
		chain_owner_text(out, s, s->chain);
	}
	if (ex->n_accepts)
		eol(out);
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
		eol(out);
	}
}

/*
 * Call depth of each step below its base chain (0), by the jump stack: a
 * jump pushes, a goto replaces the chain it leaves (it does not return
 * there), the end of a chain or a return pops.
 */
static void step_depths(const struct timeline *tl, uint8_t *ret)
{
	struct tl_walk w = { .depth = 0 };

	for (int i = 0; i < tl->n_steps; i++) {
		const struct tl_step *s = &tl->steps[i];

		if (w.depth == 0 || timeline_entry_begins(tl, i))
			tl_walk_begin(&w, s->chain);
		/* events missing: find the chain on the stack, or start over */
		tl_walk_sync(&w, s->chain);
		ret[i] = (uint8_t)(w.depth - 1);
		tl_walk_step(&w, s, i);
	}
}

static void indent(FILE *out, unsigned int depth)
{
	fprintf(out, "%*s", (int)(6 + 2 * depth), "");
}

/* "; mark 0x0 -> 0xca6c" after the event that changed the packet's mark */
static bool mark_change_text(FILE *out, const struct timeline *tl, int i)
{
	uint32_t from;
	bool known;

	if (!timeline_mark_change(tl, i, &from, &known))
		return false;
	if (known)
		fprintf(out, "; mark 0x%" PRIx32 " -> 0x%" PRIx32, from, tl->steps[i].mark);
	else
		fprintf(out, "; mark now 0x%" PRIx32, tl->steps[i].mark);
	return true;
}

/* A jump or goto into a chain whose only event is its end. */
static bool jumped_into_nothing(const struct timeline *tl, int i)
{
	const struct tl_step *s = &tl->steps[i], *n;

	if (!s->has_verdict || !s->target || i + 1 >= tl->n_steps ||
	    (s->verdict != NFT_JUMP && s->verdict != NFT_GOTO) ||
	    (tl->steps_dropped && i + 1 == tl->gap_at))
		return false;
	n = &tl->steps[i + 1];
	return timeline_step_is_chain_end(n) && n->chain == s->target;
}

/*
 * A base chain's header line; a policy that ended the chain is said there
 * ("; policy: accept"), so it needs no line of its own. Returns the step
 * of that policy, or -1.
 */
static int entry_text(FILE *out, const struct timeline *tl, const struct explain *ex, int i)
{
	const struct tl_step *s = &tl->steps[i];
	const struct tl_hdr *h = &tl->hdrs[s->hdr];
	int end = timeline_entry_next(tl, i) - 1;
	bool matched = false;

	fprintf(out, "  %s %s %s %s", ex->hooks[i] ? ex->hooks[i] : "-",
		trace_family_name(s->family), s->table, s->chain);
	chain_owner_text(out, s, s->chain);
	if (h->ct.present)
		ct_text(out, &h->ct);
	if (tl->steps[end].type != TRACE_TYPE_POLICY) {
		eol(out);
		return -1;
	}
	for (int j = i; j < end; j++)
		matched |= tl->steps[j].has_handle;
	fprintf(out, "; policy: %s%s",
		step_verdict_name(&tl->steps[end]) ? step_verdict_name(&tl->steps[end]) : "?",
		matched ? "" : " (no rule matched)");
	mark_change_text(out, tl, end);
	eol(out);
	return end;
}

/*
 * Rules met, one line each, under their base chain; the ends of regular
 * chains fold into their jump, a base chain's policy into its header.
 */
static void steps_text(FILE *out, const struct timeline *tl, const struct explain *ex)
{
	uint8_t depth[TIMELINE_STEPS_CEILING];
	int policy_at = -1;

	step_depths(tl, depth);
	for (int i = 0; i < tl->n_steps; i++) {
		const struct tl_step *s = &tl->steps[i];

		if (tl->steps_dropped && i == tl->gap_at) {
			indent(out, 0);
			fprintf(out, "... %u events not kept (--max-events %u) ...",
				tl->steps_dropped, (unsigned int)tl->n_steps);
			eol(out);
		}
		for (unsigned int n = 0; n < ex->n_nat; n++)
			if (ex->nat[n].at_step == i)
				nat_text(out, tl, ex, &ex->nat[n]);
		if (s->hdr >= 0)
			policy_at = entry_text(out, tl, ex, i);
		if (i == policy_at)
			continue;
		/* the dedent says it: back in the caller */
		if (timeline_step_is_chain_end(s)) {
			/* unless a statement of a rule that did not match changed the mark */
			if (s->mark_changed) {
				indent(out, depth[i]);
				fputs("end of chain", out);
				mark_change_text(out, tl, i);
				eol(out);
			}
			continue;
		}
		indent(out, depth[i]);
		if (s->type == TRACE_TYPE_POLICY) {
			/* a policy whose chain's header was not kept */
			fprintf(out, "policy: %s",
				step_verdict_name(s) ? step_verdict_name(s) : "?");
			mark_change_text(out, tl, i);
			eol(out);
			continue;
		}
		step_name_text(out, tl, ex, i);
		if (s->has_verdict) {
			fprintf(out, ": %s", step_verdict_name(s));
			if (s->target)
				fprintf(out, " %s", s->target);
			if (s->target && jump_owner_changes(s))
				chain_owner_text(out, s, s->target);
		}
		mark_change_text(out, tl, i);
		if (jumped_into_nothing(tl, i) && !tl->steps[i + 1].mark_changed) {
			fputs(s->verdict == NFT_JUMP ? " (no rule matched there, returned)"
						     : " (no rule matched there)",
			      out);
			i++;
		}
		eol(out);
	}
}

static void text_body(FILE *out, const struct timeline *tl, const struct explain *ex)
{
	char line[1024];

	steps_text(out, tl, ex);
	/* Source NAT is done as the packet leaves: after its last chain. */
	for (unsigned int n = 0; n < ex->n_nat; n++)
		if (ex->nat[n].at_step < 0)
			nat_text(out, tl, ex, &ex->nat[n]);
	mapping_text(out, ex);
	if (ex->sum.verdict == TL_VERDICT_ACCEPT)
		accepts_text(out, tl, ex);
	explain_cause_str(tl, ex, line, sizeof(line));
	fprintf(out, "  verdict %s", line);
	eol(out);
	if (ex->after_ruleset) {
		after_ruleset_str(ex, line, sizeof(line));
		fprintf(out, "  then %s", line);
		eol(out);
	}
	hints_text(out, ex);
}

void format_text_body(FILE *out, const struct timeline *tl, const struct explain *ex)
{
	FILE *esc = format_text_stream(out);

	if (!esc)
		return;
	text_body(esc, tl, ex);
	fclose(esc);
}

int format_text(FILE *out, const struct timeline *tl, const struct explain *ex)
{
	FILE *esc = format_text_stream(out);

	if (!esc)
		return -ENOMEM;
	fprintf(esc, "trace %08x", tl->ids[0]);
	for (unsigned int i = 1; i < tl->n_ids; i++)
		fprintf(esc, "+%08x", tl->ids[i]);
	fputc(' ', esc);
	if (ex->sum.packet)
		packet_text(esc, tl, ex, ex->sum.packet);
	else
		fputs("(packet not seen)", esc);
	fprintf(esc, ": %s%s%s", timeline_verdict_name(ex->sum.verdict),
		ex->outside ? ", then lost outside the ruleset" : "",
		timeline_complete(tl) ? "" : " (incomplete)");
	eol(esc);
	text_body(esc, tl, ex);
	/* a blank line between packets */
	eol(esc);
	fclose(esc);
	return ferror(out) ? -EIO : 0;
}
