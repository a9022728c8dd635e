/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Prometheus text exposition (metrics.h). The format: "# HELP name text"
 * and "# TYPE name counter|gauge" before a metric's samples, one sample
 * a line, "name{label=\"value\",...} value", label values escaped as
 * metrics_escape() does, every line ending in a line feed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "explain_text.h"
#include "hash.h"
#include "metrics.h"
#include "owner_render.h"

#define LABEL_NAME_MAX 256 /* nftables' table and chain names */
#define OWNER_TEXT_MAX 256
#define INDEX_SLOTS    1024 /* > 2 * METRICS_MAX_SERIES: short probes */

struct series {
	char verdict[16], family[16], hook[16], handle[24];
	char table[LABEL_NAME_MAX], chain[LABEL_NAME_MAX], owner[OWNER_TEXT_MAX];
	uint64_t count;
	uint64_t hash;
};

struct metrics {
	struct series list[METRICS_MAX_SERIES];
	unsigned int n, n_rules;
	int16_t index[INDEX_SLOTS]; /* into list, -1 empty */
	uint64_t folded;	    /* timelines summed into handle="other" */
	/* hashes of the label sets folded, to count them; allocated on the first */
	uint64_t *folded_keys;
	unsigned int n_folded_keys;
	bool folded_keys_full;
};

int metrics_new(struct metrics **ret)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	memset(m->index, 0xff, sizeof(m->index));
	*ret = m;
	return 0;
}

struct metrics *metrics_free(struct metrics *m)
{
	if (m) {
		free(m->folded_keys);
		free(m);
	}
	return NULL;
}

static uint64_t hash_of(const struct series *k)
{
	uint64_t h = HASH_FNV1A64_INIT;

	h = hash_fnv1a64_str(h, k->verdict);
	h = hash_fnv1a64_str(h, k->family);
	h = hash_fnv1a64_str(h, k->table);
	h = hash_fnv1a64_str(h, k->chain);
	h = hash_fnv1a64_str(h, k->hook);
	h = hash_fnv1a64_str(h, k->handle);
	return hash_fnv1a64_str(h, k->owner);
}

static bool same(const struct series *a, const struct series *b)
{
	return a->hash == b->hash && !strcmp(a->verdict, b->verdict) &&
	       !strcmp(a->family, b->family) && !strcmp(a->table, b->table) &&
	       !strcmp(a->chain, b->chain) && !strcmp(a->hook, b->hook) &&
	       !strcmp(a->handle, b->handle) && !strcmp(a->owner, b->owner);
}

/* The series of key, added when there is room; NULL when not. */
static struct series *find_or_add(struct metrics *m, const struct series *k, bool rule)
{
	unsigned int slot = (unsigned int)(k->hash % INDEX_SLOTS);
	struct series *s;

	for (;; slot = (slot + 1) % INDEX_SLOTS) {
		int16_t i = m->index[slot];

		if (i < 0)
			break;
		if (same(&m->list[i], k))
			return &m->list[i];
	}
	if (m->n >= METRICS_MAX_SERIES || (rule && m->n_rules >= METRICS_MAX_RULE_SERIES))
		return NULL;
	s = &m->list[m->n];
	*s = *k;
	s->count = 0;
	m->index[slot] = (int16_t)m->n++;
	if (rule)
		m->n_rules++;
	return s;
}

/* Count a folded label set once, as long as the bounded set of hashes holds it. */
static void note_folded(struct metrics *m, uint64_t hash)
{
	unsigned int slot;

	if (m->folded_keys_full)
		return;
	if (!m->folded_keys) {
		m->folded_keys = calloc(METRICS_FOLDED_COUNTED * 2, sizeof(*m->folded_keys));
		if (!m->folded_keys) {
			m->folded_keys_full = true;
			return;
		}
	}
	hash |= 1; /* 0 marks an empty slot */
	for (slot = (unsigned int)(hash % (METRICS_FOLDED_COUNTED * 2));;
	     slot = (slot + 1) % (METRICS_FOLDED_COUNTED * 2)) {
		if (m->folded_keys[slot] == hash)
			return;
		if (!m->folded_keys[slot])
			break;
	}
	m->folded_keys[slot] = hash;
	if (++m->n_folded_keys >= METRICS_FOLDED_COUNTED)
		m->folded_keys_full = true;
}

static void key_of(const struct timeline *tl, const struct explain *ex, struct series *k)
{
	const struct tl_step *s;

	memset(k, 0, sizeof(*k));
	snprintf(k->verdict, sizeof(k->verdict), "%s", explain_verdict_kind(ex));
	/* no deciding event (lost events, or only our chain saw it): no rule labels */
	if (ex->sum.cause >= 0 && ex->sum.last_seen < 0) {
		s = &tl->steps[ex->sum.cause];
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
	k->hash = hash_of(k);
}

void metrics_count(struct metrics *m, const struct timeline *tl, const struct explain *ex)
{
	struct series k, *s;

	key_of(tl, ex, &k);
	s = find_or_add(m, &k, true);
	if (!s) {
		/* past the bound: the rule's labels go, verdict and hook stay */
		note_folded(m, k.hash);
		memset(k.family, 0, sizeof(k.family));
		memset(k.table, 0, sizeof(k.table));
		memset(k.chain, 0, sizeof(k.chain));
		memset(k.owner, 0, sizeof(k.owner));
		snprintf(k.handle, sizeof(k.handle), "other");
		k.hash = hash_of(&k);
		s = find_or_add(m, &k, false);
		m->folded++;
	}
	/* cannot fail: METRICS_OTHER_SERIES covers every verdict and hook */
	if (s)
		s->count++;
}

unsigned int metrics_series(const struct metrics *m)
{
	return m->n;
}

size_t metrics_escape(const char *value, char *buf, size_t len)
{
	size_t need = 0, used = 0;
	bool cut = false;

	for (const char *p = value; *p; p++) {
		char esc[2] = { *p, 0 };
		size_t n = 1;

		if (*p == '\\' || *p == '"' || *p == '\n') {
			esc[0] = '\\';
			esc[1] = *p == '\n' ? 'n' : *p;
			n = 2;
		}
		/* whole escapes only: half of one would escape the closing quote */
		if (!cut && used + n < len) {
			memcpy(buf + used, esc, n);
			used += n;
		} else {
			cut = true;
		}
		need += n;
	}
	if (len)
		buf[used] = '\0';
	return need;
}

static void head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(FILE *out, const char *name, const char *type, const char *help, uint64_t v)
{
	head(out, name, type, help);
	fprintf(out, "%s %" PRIu64 "\n", name, v);
}

static void label(FILE *out, const char *name, const char *value, bool first)
{
	char buf[2 * OWNER_TEXT_MAX + 1];

	metrics_escape(value, buf, sizeof(buf));
	fprintf(out, "%s%s=\"%s\"", first ? "" : ",", name, buf);
}

int metrics_text(FILE *out, const struct metrics *m, const struct capture_stats *st)
{
	if (st->selected_known) {
		one(out, "nattraced_packets_selected_total", "counter",
		    "Packets the trace rule selected (its counter).", st->selected);
		one(out, "nattraced_packets_lost", "gauge",
		    "Selected packets that left no timeline (all their events lost).", st->lost);
	}
	one(out, "nattraced_timelines_complete_total", "counter",
	    "Timelines with every event, from the trace rule to the verdict.", st->complete);
	one(out, "nattraced_timelines_incomplete_total", "counter",
	    "Timelines that may miss events (overrun, eviction, limits).", st->incomplete);
	one(out, "nattraced_timelines_emitted_total", "counter", "Timelines written to the output.",
	    st->emitted);
	one(out, "nattraced_timelines_output_dropped_total", "counter",
	    "Timelines the output never delivered (too slow or failed).", st->output_dropped);
	one(out, "nattraced_timelines_in_flight", "gauge", "Timelines being assembled.",
	    st->in_flight);
	one(out, "nattraced_enobufs_total", "counter",
	    "Trace socket receive overruns (ENOBUFS): events lost in the kernel.", st->enobufs);
	one(out, "nattraced_queue_overruns_total", "counter",
	    "Receive queue overruns (--buffer-size): events lost in nattraced.",
	    st->queue_overruns);
	one(out, "nattraced_events_total", "counter", "Trace events received.", st->events);
	one(out, "nattraced_malformed_total", "counter", "Trace messages that did not decode.",
	    st->malformed);
	one(out, "nattraced_evicted_total", "counter",
	    "Timelines pushed out by --max-inflight before they ended.", st->evicted);
	head(out, "nattraced_timelines_total", "counter",
	     "Timelines by verdict and the rule or policy that decided it; handle=\"other\" sums the rules past the series bound.");
	for (unsigned int i = 0; i < m->n; i++) {
		const struct series *s = &m->list[i];

		fputs("nattraced_timelines_total{", out);
		label(out, "verdict", s->verdict, true);
		label(out, "family", s->family, false);
		label(out, "table", s->table, false);
		label(out, "chain", s->chain, false);
		label(out, "hook", s->hook, false);
		label(out, "handle", s->handle, false);
		label(out, "owner", s->owner, false);
		fprintf(out, "} %" PRIu64 "\n", s->count);
	}
	one(out, "nattraced_timelines_folded_total", "counter",
	    "Timelines counted in handle=\"other\" because the series bound was reached.",
	    m->folded);
	one(out, "nattraced_timelines_folded_series", "gauge",
	    "Distinct label sets summed into handle=\"other\" (counted up to 16384).",
	    m->n_folded_keys);
	return ferror(out) ? -EIO : 0;
}
