/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A timeline as text for people (format.h): its first line, the steps
 * grouped by base chain, NAT rewrites, the verdict and its cause, in the
 * words json.c uses (words.h), through one escaping stream.
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
		words_bits(ct->state, words_ct_states, WORDS_CT_STATES, text_add_name, &l);
	}
	if (ct->present & TRACE_HAS_CT_DIRECTION)
		fprintf(out, " %s", ct->direction ? "reply" : "original");
	if (ct->present & TRACE_HAS_CT_STATUS) {
		l.first = true;
		fputs(" status ", out);
		words_bits(ct->status, trace_ct_status_names, TRACE_CT_STATUS_NAMES, text_add_name,
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
		if (h->verified == EXPLAIN_VERIFIED)
			fprintf(out, "    verified: with this change the packet is accepted: %s",
				h->verified_cause);
		else if (h->verified == EXPLAIN_NOT_ENOUGH)
			fprintf(out, "    not enough: with this change, %s", h->verified_cause);
		if (h->verified)
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

#define SGR_RED	   "\033[31m"
#define SGR_GREEN  "\033[32m"
#define SGR_YELLOW "\033[33m"
#define SGR_DIM	   "\033[2m"
#define SGR_RESET  "\033[0m"

/*
 * A colour change, written to raw past the escaping stream (which would
 * show it as \x1b): what esc holds goes first. raw NULL: no colour.
 */
static void sgr(FILE *esc, FILE *raw, const char *code)
{
	if (!raw || !code)
		return;
	fflush(esc);
	fputs(code, raw);
}

static const char *verdict_sgr(const char *word)
{
	if (strcmp(word, "drop") == 0 || strcmp(word, "reject") == 0)
		return SGR_RED;
	if (strcmp(word, "accept") == 0)
		return SGR_GREEN;
	if (strcmp(word, "unknown") == 0)
		return SGR_YELLOW;
	return NULL;
}

/* "drop" in red, through esc, when raw is given */
static void verdict_word(FILE *esc, FILE *raw, const char *word)
{
	const char *code = verdict_sgr(word);

	sgr(esc, raw, code);
	fputs(word, esc);
	if (code)
		sgr(esc, raw, SGR_RESET);
}

static bool nat_at(const struct explain *ex, int i)
{
	for (unsigned int n = 0; n < ex->n_nat; n++)
		if (ex->nat[n].at_step == i)
			return true;
	return false;
}

static bool marked(const struct timeline *tl, int i)
{
	uint32_t from;
	bool known;

	return timeline_mark_change(tl, i, &from, &known);
}

static bool is_jump(const struct tl_step *s)
{
	return s->type == TRACE_TYPE_RULE && s->has_verdict && s->target &&
	       (s->verdict == NFT_JUMP || s->verdict == NFT_GOTO);
}

/*
 * A jump or goto at i into a chain where nothing happened: below it only
 * further such jumps and the chains' ends, no rule that decided, marked
 * or rewrote, no NAT, no lost events, no new base chain. Returns the step
 * after its callees, or -1.
 */
static int quiet_jump_end(const struct timeline *tl, const struct explain *ex, const uint8_t *depth,
			  int i)
{
	int j;

	if (!is_jump(&tl->steps[i]) || marked(tl, i) || i + 1 >= tl->n_steps ||
	    tl->steps[i + 1].chain != tl->steps[i].target)
		return -1;
	for (j = i + 1; j < tl->n_steps && depth[j] > depth[i]; j++) {
		const struct tl_step *t = &tl->steps[j];

		if ((tl->steps_dropped && j == tl->gap_at) || t->hdr >= 0 ||
		    timeline_entry_begins(tl, j) || nat_at(ex, j) || marked(tl, j))
			return -1;
		if (timeline_step_is_chain_end(t))
			continue;
		/* a jump whose callee's events are not next: some were lost */
		if (!is_jump(t) || j + 1 >= tl->n_steps || tl->steps[j + 1].chain != t->target)
			return -1;
	}
	return j;
}

/* "filter_IN_public_": the part of a chain name up to its last '_', 0 if none. */
static size_t name_stem(const char *name)
{
	const char *u = strrchr(name, '_');

	return u && u[1] ? (size_t)(u - name + 1) : 0;
}

/* "a_{pre,log}, b": names in order, those next to each other with one stem braced. */
static void names_text(FILE *out, const char *const *names, unsigned int n)
{
	for (unsigned int k = 0, m; k < n; k = m) {
		size_t p = name_stem(names[k]);

		for (m = k + 1;
		     p && m < n && name_stem(names[m]) == p && strncmp(names[m], names[k], p) == 0;
		     m++)
			;
		fputs(k ? ", " : "", out);
		if (m - k < 2) {
			fputs(names[k], out);
			m = k + 1;
			continue;
		}
		fprintf(out, "%.*s{", (int)p, names[k]);
		for (unsigned int q = k; q < m; q++)
			fprintf(out, "%s%s", q > k ? "," : "", names[q] + p);
		fputc('}', out);
	}
}

/*
 * Consecutive jumps at i's level into chains where nothing happened, as
 * one line naming the chains entered (--verbose: a line each). Returns
 * the last step it covers, or -1 when there is nothing to fold: a single
 * jump into an empty chain keeps its own line.
 */
static int fold_text(FILE *out, const struct timeline *tl, const struct explain *ex,
		     const uint8_t *depth, int i, bool verbose)
{
	const char *names[TIMELINE_STEPS_CEILING];
	unsigned int n = 0;
	bool nested = false;
	int end = quiet_jump_end(tl, ex, depth, i), next;

	if (verbose || end < 0)
		return -1;
	while (end < tl->n_steps && depth[end] == depth[i] && !nat_at(ex, end) &&
	       !(tl->steps_dropped && end == tl->gap_at) && tl->steps[end].hdr < 0 &&
	       !timeline_entry_begins(tl, end) && (next = quiet_jump_end(tl, ex, depth, end)) > 0)
		end = next;
	for (int j = i; j < end; j++) {
		if (!is_jump(&tl->steps[j]))
			continue;
		names[n++] = tl->steps[j].target;
		nested |= depth[j] > depth[i];
	}
	if (n < 2)
		return -1;
	indent(out, depth[i]);
	fputs(nested ? "jumps through " : "jumps to ", out);
	names_text(out, names, n);
	fputs(nested ? ": no rule matched but the jumps" : ": no rule matched", out);
	eol(out);
	return end - 1;
}

/*
 * A base chain's header line; a policy that ended the chain is said there
 * ("; policy: accept"), so it needs no line of its own. Returns the step
 * of that policy, or -1.
 */
static int entry_text(FILE *out, FILE *raw, const struct timeline *tl, const struct explain *ex,
		      int i)
{
	const struct tl_step *s = &tl->steps[i];
	const struct tl_hdr *h = &tl->hdrs[s->hdr];
	int end = timeline_entry_next(tl, i) - 1;
	bool matched = false;

	sgr(out, raw, SGR_DIM);
	fprintf(out, "  %s %s %s %s", ex->hooks[i] ? ex->hooks[i] : "-",
		trace_family_name(s->family), s->table, s->chain);
	chain_owner_text(out, s, s->chain);
	if (h->ct.present)
		ct_text(out, &h->ct);
	if (tl->steps[end].type != TRACE_TYPE_POLICY) {
		sgr(out, raw, SGR_RESET);
		eol(out);
		return -1;
	}
	for (int j = i; j < end; j++)
		matched |= tl->steps[j].has_handle;
	fprintf(out, "; policy: %s%s",
		words_step_verdict(&tl->steps[end]) ? words_step_verdict(&tl->steps[end]) : "?",
		matched ? "" : " (no rule matched)");
	mark_change_text(out, tl, end);
	sgr(out, raw, SGR_RESET);
	eol(out);
	return end;
}

/*
 * Rules met, one line each, under their base chain; the ends of regular
 * chains fold into their jump, a base chain's policy into its header.
 */
static void steps_text(FILE *out, FILE *raw, const struct timeline *tl, const struct explain *ex,
		       bool verbose)
{
	uint8_t depth[TIMELINE_STEPS_CEILING];
	int policy_at = -1, folded;

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
			policy_at = entry_text(out, raw, tl, ex, i);
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
		folded = fold_text(out, tl, ex, depth, i, verbose);
		if (folded >= 0) {
			i = folded;
			continue;
		}
		indent(out, depth[i]);
		if (s->type == TRACE_TYPE_POLICY) {
			/* a policy whose chain's header was not kept */
			fprintf(out, "policy: %s",
				words_step_verdict(s) ? words_step_verdict(s) : "?");
			mark_change_text(out, tl, i);
			eol(out);
			continue;
		}
		step_name_text(out, tl, ex, i);
		if (s->has_verdict) {
			fprintf(out, ": %s", words_step_verdict(s));
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

/* raw: where colour changes go (struct text_style), NULL for none */
static void text_body(FILE *out, FILE *raw, const struct timeline *tl, const struct explain *ex,
		      bool verbose)
{
	char line[1024];
	size_t word;

	steps_text(out, raw, tl, ex, verbose);
	/* Source NAT is done as the packet leaves: after its last chain. */
	for (unsigned int n = 0; n < ex->n_nat; n++)
		if (ex->nat[n].at_step < 0)
			nat_text(out, tl, ex, &ex->nat[n]);
	mapping_text(out, ex);
	if (ex->sum.verdict == TL_VERDICT_ACCEPT)
		accepts_text(out, tl, ex);
	explain_cause_str(tl, ex, line, sizeof(line));
	/* the verdict's word ("reject", "unknown:") coloured */
	word = strspn(line, "abcdefghijklmnopqrstuvwxyz");
	fputs("  verdict ", out);
	if (raw && word) {
		char w[32];

		snprintf(w, sizeof(w), "%.*s", (int)word, line);
		verdict_word(out, raw, w);
		fputs(line + word, out);
	} else {
		fputs(line, out);
	}
	eol(out);
	if (ex->after_ruleset) {
		words_after_ruleset(ex, line, sizeof(line));
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
	/* the journal: never coloured, always folded */
	text_body(esc, NULL, tl, ex, false);
	fclose(esc);
}

int format_text(FILE *out, const struct timeline *tl, const struct explain *ex)
{
	return format_text_styled(out, tl, ex, NULL);
}

int format_text_styled(FILE *out, const struct timeline *tl, const struct explain *ex,
		       const struct text_style *style)
{
	bool verbose = style && style->verbose;
	FILE *esc = format_text_stream(out), *raw = style && style->color ? out : NULL;

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
	/* the verdict line's word: a reject rule's is reject, the kernel's drop */
	fputs(": ", esc);
	verdict_word(esc, raw, explain_verdict_kind(ex));
	fprintf(esc, "%s%s", ex->outside ? ", then lost outside the ruleset" : "",
		timeline_complete(tl) ? "" : " (incomplete)");
	eol(esc);
	text_body(esc, raw, tl, ex, verbose);
	/* a blank line between packets */
	eol(esc);
	fclose(esc);
	return ferror(out) ? -EIO : 0;
}
