/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --summary (summary.h): a bounded hash of paths, and their table, JSON
 * record and words.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "explain_text.h"
#include "hash.h"
#include "names.h"
#include "owner_render.h"
#include "packet.h"
#include "strbuf.h"
#include "summary.h"
#include "trace.h"

#define INDEX_SLOTS (2 * SUMMARY_MAX_PATHS) /* half full at most: short probes */

struct summary {
	struct summary_row list[SUMMARY_MAX_PATHS];
	unsigned int n;
	int16_t index[INDEX_SLOTS]; /* into list, -1 empty */
	uint64_t timelines;
	uint64_t overflow; /* timelines of paths past the table */
};

int summary_new(struct summary **ret)
{
	struct summary *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	memset(s->index, 0xff, sizeof(s->index));
	*ret = s;
	return 0;
}

struct summary *summary_free(struct summary *s)
{
	free(s);
	return NULL;
}

static uint64_t hash_of(const struct summary_row *k)
{
	const char *const fields[] = { k->verdict, k->family, k->table, k->chain, k->handle,
				       k->hook,	   k->hooks,  k->nat,	k->owner };
	uint64_t h = HASH_FNV1A64_INIT;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		h = hash_fnv1a64_str(h, fields[i]);
	return h;
}

static bool same(const struct summary_row *a, const struct summary_row *b)
{
	return a->hash == b->hash && !strcmp(a->verdict, b->verdict) &&
	       !strcmp(a->family, b->family) && !strcmp(a->table, b->table) &&
	       !strcmp(a->chain, b->chain) && !strcmp(a->handle, b->handle) &&
	       !strcmp(a->hook, b->hook) && !strcmp(a->hooks, b->hooks) &&
	       !strcmp(a->nat, b->nat) && !strcmp(a->owner, b->owner);
}

/* Append word to a comma-separated list unless it is there already. */
static void add_word(char *list, size_t len, const char *word)
{
	size_t n = strlen(word), off = strlen(list);

	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t wl = end ? (size_t)(end - p) : strlen(p);

		if (wl == n && !strncmp(p, word, n))
			return;
		if (!end)
			break;
		p = end + 1;
	}
	strbuf_add(list, len, &off, "%s%s", off ? "," : "", word);
}

/* The path of tl (the key), without the example. */
static void key_of(const struct timeline *tl, const struct explain *ex, struct summary_row *k)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->verdict, sizeof(k->verdict), "%s", explain_verdict_kind(ex));
	/* as metrics.c: no deciding event when the last one seen may be mid-path */
	if (ex->sum.cause >= 0 && ex->sum.last_seen < 0) {
		const struct tl_step *s = &tl->steps[ex->sum.cause];

		snprintf(k->family, sizeof(k->family), "%s", trace_family_name(s->family));
		snprintf(k->table, sizeof(k->table), "%s", s->table ? s->table : "?");
		snprintf(k->chain, sizeof(k->chain), "%s", s->chain ? s->chain : "?");
		snprintf(k->hook, sizeof(k->hook), "%s", ex->cause_hook ? ex->cause_hook : "");
		if (s->type == TRACE_TYPE_POLICY)
			snprintf(k->handle, sizeof(k->handle), "policy");
		else if (s->has_handle)
			snprintf(k->handle, sizeof(k->handle), "%" PRIu64, s->handle);
		if (ex->has_cause_owner && ex->cause_owner.manager)
			owner_str(&ex->cause_owner, false, k->owner, sizeof(k->owner));
	}
	for (unsigned int h = 0; h < tl->n_hdrs; h++) {
		const char *hook = explain_hdr_hook(tl, ex, &tl->hdrs[h]);

		if (hook)
			add_word(k->hooks, sizeof(k->hooks), hook);
	}
	for (unsigned int i = 0; i < ex->n_nat; i++)
		add_word(k->nat, sizeof(k->nat), explain_nat_kind_name(ex->nat[i].kind));
	k->hash = hash_of(k);
}

/* The first packet of a path: its five-tuple and rule text, as an example. */
static void example_of(const struct timeline *tl, const struct explain *ex, struct summary_row *r)
{
	const struct tl_hdr *h = ex->sum.packet;

	if (h && h->pkt_valid) {
		char proto[16];

		snprintf(r->proto, sizeof(r->proto), "%s",
			 packet_proto_name(h->pkt.l4proto, proto, sizeof(proto)));
		packet_endpoint_str(&h->pkt, true, r->src, sizeof(r->src));
		packet_endpoint_str(&h->pkt, false, r->dst, sizeof(r->dst));
	}
	if (r->handle[0] && strcmp(r->handle, "policy") && ex->rules[ex->sum.cause].text)
		snprintf(r->rule, sizeof(r->rule), "%s", ex->rules[ex->sum.cause].text);
	(void)tl;
}

void summary_count(struct summary *s, const struct timeline *tl, const struct explain *ex)
{
	struct summary_row k;
	unsigned int slot;

	s->timelines++;
	key_of(tl, ex, &k);
	for (slot = (unsigned int)(k.hash % INDEX_SLOTS);; slot = (slot + 1) % INDEX_SLOTS) {
		int16_t i = s->index[slot];

		if (i < 0)
			break;
		if (same(&s->list[i], &k)) {
			s->list[i].count++;
			return;
		}
	}
	if (s->n >= SUMMARY_MAX_PATHS) {
		s->overflow++;
		return;
	}
	k.count = 1;
	k.order = s->n;
	example_of(tl, ex, &k);
	s->list[s->n] = k;
	s->index[slot] = (int16_t)s->n++;
}

uint64_t summary_timelines(const struct summary *s)
{
	return s->timelines;
}

static int by_count(const void *a, const void *b)
{
	const struct summary_row *x = *(const struct summary_row *const *)a;
	const struct summary_row *y = *(const struct summary_row *const *)b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void summary_view(const struct summary *s, struct summary_view *ret)
{
	const struct summary_row *all[SUMMARY_MAX_PATHS];

	memset(ret, 0, sizeof(*ret));
	for (unsigned int i = 0; i < s->n; i++)
		all[i] = &s->list[i];
	qsort(all, s->n, sizeof(all[0]), by_count);
	ret->timelines = s->timelines;
	ret->paths = s->n;
	ret->table_full = s->overflow > 0;
	ret->other_count = s->overflow;
	for (unsigned int i = 0; i < s->n; i++) {
		if (i < SUMMARY_MAX_ROWS) {
			ret->rows[ret->n++] = all[i];
		} else {
			ret->other_count += all[i]->count;
			ret->other_paths++;
		}
	}
}

int summary_path_str(const struct summary_row *r, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	strbuf_add(buf, len, &off, "%s", r->verdict);
	if (!strcmp(r->handle, "policy"))
		strbuf_add(buf, len, &off, " by policy of %s %s %s", r->family, r->table, r->chain);
	else if (r->handle[0])
		strbuf_add(buf, len, &off, " by rule %s %s %s handle %s", r->family, r->table,
			   r->chain, r->handle);
	else if (r->table[0])
		strbuf_add(buf, len, &off, " in %s %s %s", r->family, r->table, r->chain);
	else
		strbuf_add(buf, len, &off, " (deciding event not seen)");
	if (r->hook[0])
		strbuf_add(buf, len, &off, " at %s", r->hook);
	return (int)(off < len ? off : len ? len - 1 : 0);
}

static const char *or_dash(const char *s)
{
	return s[0] ? s : "-";
}

static void example_str(const struct summary_row *r, char *buf, size_t len)
{
	if (r->src[0])
		snprintf(buf, len, "%s %s -> %s", r->proto, r->src, r->dst);
	else
		snprintf(buf, len, "?");
}

int summary_text(FILE *out, const struct summary_view *v, const char *reason)
{
	char path[SUMMARY_NAME_MAX * 3], example[192];
	int wpath = (int)strlen("PATH"), whooks = (int)strlen("HOOKS"), wnat = (int)strlen("NAT");
	int wowner = (int)strlen("OWNER"), wcount = (int)strlen("COUNT");

	/* the columns as wide as their widest cell */
	for (unsigned int i = 0; i < v->n; i++) {
		const struct summary_row *r = v->rows[i];
		int n = summary_path_str(r, path, sizeof(path));
		int c = snprintf(example, sizeof(example), "%" PRIu64, r->count);

		wpath = n > wpath ? n : wpath;
		wcount = c > wcount ? c : wcount;
		whooks = (int)strlen(r->hooks) > whooks ? (int)strlen(r->hooks) : whooks;
		wnat = (int)strlen(r->nat) > wnat ? (int)strlen(r->nat) : wnat;
		wowner = (int)strlen(r->owner) > wowner ? (int)strlen(r->owner) : wowner;
	}
	fprintf(out, "summary (%s): %" PRIu64 " timelines, %" PRIu64 " path%s%s\n", reason,
		v->timelines, v->paths, v->paths == 1 ? "" : "s", v->table_full ? " and more" : "");
	if (v->n)
		fprintf(out, "  %*s  %-*s  %-*s  %-*s  %-*s  %s\n", wcount, "COUNT", wpath, "PATH",
			whooks, "HOOKS", wnat, "NAT", wowner, "OWNER", "EXAMPLE");
	for (unsigned int i = 0; i < v->n; i++) {
		const struct summary_row *r = v->rows[i];

		summary_path_str(r, path, sizeof(path));
		example_str(r, example, sizeof(example));
		fprintf(out, "  %*" PRIu64 "  %-*s  %-*s  %-*s  %-*s  %s\n", wcount, r->count,
			wpath, path, whooks, or_dash(r->hooks), wnat, or_dash(r->nat), wowner,
			or_dash(r->owner), example);
	}
	if (v->other_count)
		fprintf(out, "  %*" PRIu64 "  other: %" PRIu64 " more path%s%s\n", wcount,
			v->other_count, v->other_paths, v->other_paths == 1 ? "" : "s",
			v->table_full ? ", and paths past the bound of the table" : "");
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

/* "a,b" as ["a","b"] */
static void list_json(struct jsonw *w, const char *key, const char *list)
{
	char word[64];

	jsonw_array_open(w, key);
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		snprintf(word, sizeof(word), "%.*s", (int)n, p);
		jsonw_string(w, NULL, word);
		if (!end)
			break;
		p = end + 1;
	}
	jsonw_array_close(w);
}

void summary_row_json(struct jsonw *w, const char *key, const struct summary_row *r)
{
	jsonw_object_open(w, key);
	jsonw_uint(w, "count", r->count);
	jsonw_string(w, "verdict", r->verdict);
	if (r->table[0]) {
		jsonw_object_open(w, "decided_by");
		jsonw_string(w, "family", r->family);
		jsonw_string(w, "table", r->table);
		jsonw_string(w, "chain", r->chain);
		if (!strcmp(r->handle, "policy"))
			jsonw_bool(w, "policy", true);
		else if (r->handle[0])
			jsonw_uint(w, "handle", strtoull(r->handle, NULL, 10));
		if (r->hook[0])
			jsonw_string(w, "hook", r->hook);
		if (r->rule[0])
			jsonw_string(w, "rule", r->rule);
		jsonw_object_close(w);
	} else {
		jsonw_null(w, "decided_by");
	}
	list_json(w, "hooks", r->hooks);
	list_json(w, "nat", r->nat);
	if (r->owner[0])
		jsonw_string(w, "owner", r->owner);
	if (r->src[0]) {
		jsonw_object_open(w, "example");
		jsonw_string(w, "proto", r->proto);
		jsonw_string(w, "src", r->src);
		jsonw_string(w, "dst", r->dst);
		jsonw_object_close(w);
	}
	jsonw_object_close(w);
}

void summary_json(struct jsonw *w, const struct summary_view *v, const char *reason)
{
	jsonw_object_open(w, NULL);
	jsonw_string(w, "type", "summary");
	jsonw_string(w, "reason", reason);
	jsonw_uint(w, "timelines", v->timelines);
	jsonw_uint(w, "paths", v->paths);
	jsonw_array_open(w, "rows");
	for (unsigned int i = 0; i < v->n; i++)
		summary_row_json(w, NULL, v->rows[i]);
	jsonw_array_close(w);
	jsonw_object_open(w, "other");
	jsonw_uint(w, "count", v->other_count);
	jsonw_uint(w, "paths", v->other_paths);
	jsonw_bool(w, "table_full", v->table_full);
	jsonw_object_close(w);
	jsonw_object_close(w);
}
