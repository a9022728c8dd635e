/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rule cache's listings: libnftables' "list chains" and "list chain"
 * (with the table's or family's listing as fallbacks), parsed through
 * listing.c into the stores; and whole listings for the offline cache.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <nftables/libnftables.h>

#include "clock.h"
#include "listing.h"
#include "names.h"
#include "rulecache_int.h"
#include "ruletext.h"

/*
 * libnftables keeps what it listed in its context (hundreds of bytes per
 * rule): after a listing this big, a fresh context, and the freed heap
 * goes back to the system.
 */
#define BIG_LISTING_BYTES    (64u * 1024)
/* "list chains" again after a base chain change, at most this often */
#define META_MIN_INTERVAL_NS (10ull * 1000 * 1000)

#define LIST_FLAGS (NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_STATELESS | NFT_CTX_OUTPUT_TERSE)
#define NOENT_ERR  "No such file or directory"

/* ---- parsing listings ---- */

struct parse_ctx {
	struct rulecache *c;
	/* chain metadata into meta (may be NULL) */
	struct meta **meta;
	unsigned int nmeta, nbase;
	/* rule texts: of every chain (want_chain NULL) or of one */
	bool texts;
	uint8_t want_family;
	const char *want_table, *want_chain;
	bool want_seen;
	uint64_t want_handle; /* the chain's own handle, 0 unknown */
	/* the chain being read */
	struct builder b;
	bool building;
	uint8_t cur_family;
	char cur_table[LISTING_NAME_MAX], cur_chain[LISTING_NAME_MAX];
	/* every chain read, for load_listing */
	struct listed **got;
	unsigned int ngot, capgot;
	int err;
};

static int finish_chain(struct parse_ctx *p)
{
	struct listed *l, **g;
	int r;

	if (!p->building)
		return 0;
	p->building = false;
	if (p->want_chain)
		return 0; /* the caller takes p->b */
	l = rulecache_listed_alloc(p->cur_family, p->cur_table, p->cur_chain);
	if (!l)
		return -ENOMEM;
	r = rulecache_listed_fill(l, &p->b);
	rulecache_builder_reset(&p->b);
	if (r < 0) {
		rulecache_listed_free_now(p->c, l);
		return r;
	}
	if (p->ngot == p->capgot) {
		unsigned int cap = p->capgot ? 2 * p->capgot : 16;

		g = realloc(p->got, cap * sizeof(*g));
		if (!g) {
			rulecache_listed_free_now(p->c, l);
			return -ENOMEM;
		}
		p->got = g;
		p->capgot = cap;
	}
	p->got[p->ngot++] = l;
	return 0;
}

static int on_chain(void *data, const struct listing_table *t, const struct listing_chain *ch)
{
	struct parse_ctx *p = data;
	int r;

	if (p->meta) {
		r = rulecache_meta_add(p->c, p->meta, &p->nmeta, &p->nbase, t->family, t->name,
				       ch->name, ch->handle, ch->hook, ch->type, ch->has_priority,
				       ch->priority);
		if (r < 0)
			return r;
	}
	if (!p->texts)
		return 0;
	r = finish_chain(p);
	if (r < 0)
		return r;
	if (p->want_chain && (t->family != p->want_family || strcmp(t->name, p->want_table) != 0 ||
			      strcmp(ch->name, p->want_chain) != 0))
		return 0;
	if (p->want_chain) {
		/* listed twice (a fallback listing): the first one holds */
		if (p->want_seen)
			return 0;
		p->want_seen = true;
		p->want_handle = ch->handle;
	}
	p->building = true;
	p->cur_family = t->family;
	snprintf(p->cur_table, sizeof(p->cur_table), "%s", t->name);
	snprintf(p->cur_chain, sizeof(p->cur_chain), "%s", ch->name);
	return 0;
}

static int on_rule(void *data, const struct listing_table *t, const struct listing_chain *ch,
		   const struct listing_rule *r)
{
	struct parse_ctx *p = data;

	(void)t;
	(void)ch;
	if (!p->building)
		return 0;
	return rulecache_builder_add(&p->b, r->handle, r->text);
}

static const struct listing_ops parse_ops = {
	.chain = on_chain,
	.rule = on_rule,
};

static int parse(struct parse_ctx *p, const char *text)
{
	int r = listing_parse(text, strlen(text), &parse_ops, p, NULL);

	if (r == 0)
		r = finish_chain(p);
	return r;
}

static void parse_ctx_done(struct parse_ctx *p)
{
	rulecache_builder_reset(&p->b);
	for (unsigned int i = 0; i < p->ngot; i++)
		rulecache_listed_free_now(p->c, p->got[i]);
	free(p->got);
	if (p->meta) {
		rulecache_meta_clear(p->meta);
		free(p->meta);
	}
}

/* The new metadata replaces the old. */
static void meta_install(struct rulecache *c, struct parse_ctx *p)
{
	rulecache_meta_clear(c->meta);
	free(c->meta);
	c->meta = p->meta;
	c->nmeta = p->nmeta;
	c->nbase = p->nbase;
	c->meta_stale = false;
	p->meta = NULL;
	rulecache_meta_changed(c);
}

int rulecache_load_listing(struct rulecache *c, const char *listing)
{
	struct parse_ctx p = { .c = c, .texts = true };
	struct listed *l, *older;
	uint64_t now = now_ns();
	int r;

	c->gen++;
	p.meta = calloc(META_BUCKETS, sizeof(*p.meta));
	if (!p.meta)
		return -ENOMEM;
	r = parse(&p, listing);
	if (r < 0)
		goto out;
	meta_install(c, &p);
	for (unsigned int i = 0; i < p.ngot; i++) {
		p.got[i]->listed_ns = now;
		p.got[i]->gen = c->gen;
		rulecache_listed_install(c, p.got[i]);
	}
	/* listed chains that this listing no longer has were deleted */
	for (l = c->newest; l; l = older) {
		older = l->older;
		if (!l->gone && l->gen != c->gen)
			rulecache_listed_make_gone(c, l);
	}
	p.ngot = 0;
out:
	parse_ctx_done(&p);
	return r;
}

/* ---- libnftables ---- */

int rulecache_nft_ctx_fresh(struct rulecache *c)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!nft)
		return -ENOMEM;
	if (nft_ctx_buffer_output(nft) < 0 || nft_ctx_buffer_error(nft) < 0) {
		nft_ctx_free(nft);
		return -ENOMEM;
	}
	nft_ctx_output_set_flags(nft, LIST_FLAGS);
	if (c->nft)
		nft_ctx_free(c->nft);
	c->nft = nft;
	return 0;
}

/*
 * Run a listing command: 0 with its output, -ENOENT when the kernel has
 * no such object, -EINVAL when nft cannot read the command (a name that
 * is a keyword), -EIO otherwise.
 */
static int run_list(struct rulecache *c, const char *cmd, const char **ret_out)
{
	int r = nft_run_cmd_from_buffer(c->nft, cmd);
	const char *err = nft_ctx_get_error_buffer(c->nft);

	*ret_out = nft_ctx_get_output_buffer(c->nft);
	if (r == 0)
		return 0;
	if (err && strstr(err, NOENT_ERR))
		return -ENOENT;
	if (err && strstr(err, "syntax error"))
		return -EINVAL;
	return -EIO;
}

/* After a big listing: drop libnftables' copy of it and give the heap back. */
static void after_big_listing(struct rulecache *c, size_t out_len)
{
	if (out_len < BIG_LISTING_BYTES)
		return;
	if (rulecache_nft_ctx_fresh(c) < 0)
		return; /* the old context stays: bigger, still right */
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* "list chains": the metadata, replacing what was known. */
int rulecache_list_chains(struct rulecache *c)
{
	struct parse_ctx p = { .c = c };
	uint64_t start = now_ns(), cost;
	const char *out;
	int r;

	p.meta = calloc(META_BUCKETS, sizeof(*p.meta));
	if (!p.meta)
		return -ENOMEM;
	/* changes queued so far are covered by the listing that follows */
	c->meta_stale = false;
	r = run_list(c, "list chains", &out);
	if (r == 0)
		r = parse(&p, out);
	if (r == 0)
		meta_install(c, &p);
	else
		c->meta_stale = true;
	cost = now_ns() - start;
	c->meta_next_ns = start + (cost > META_MIN_INTERVAL_NS / RELIST_COST_FACTOR
					   ? cost
					   : META_MIN_INTERVAL_NS / RELIST_COST_FACTOR) *
					  (RELIST_COST_FACTOR + 1);
	parse_ctx_done(&p);
	return r;
}

/*
 * The command that lists a chain. nft 1.0.6 reads no quoted names, so a
 * name that is not a plain identifier (iptables-nft allows any) is found
 * in its table's listing, or in its family's.
 */
static int list_cmd(char *buf, size_t len, uint8_t family, const char *table, const char *chain,
		    int level)
{
	const char *fam = names_family(family);
	bool table_ok = ruletext_plain_name(table, strlen(table));
	int n;

	if (!fam)
		return -EINVAL;
	if (level == 0 && !ruletext_plain_name(chain, strlen(chain)))
		level = 1;
	if (level == 1 && !table_ok)
		level = 2;
	if (level == 0)
		n = snprintf(buf, len, "list chain %s %s %s", fam, table, chain);
	else if (level == 1)
		n = snprintf(buf, len, "list table %s %s", fam, table);
	else
		n = snprintf(buf, len, "list ruleset %s", fam);
	if (n < 0 || (size_t)n >= len)
		return -E2BIG;
	return level;
}

/*
 * List one chain into a new struct listed: its texts, or flagged missing
 * (no such chain) or too big. -errno only when nothing can be said.
 */
int rulecache_list_chain(struct rulecache *c, uint8_t family, const char *table, const char *chain,
			 struct listed **ret)
{
	struct parse_ctx p = { .c = c,
			       .texts = true,
			       .want_family = family,
			       .want_table = table,
			       .want_chain = chain };
	char cmd[3 * LISTING_NAME_MAX + 32];
	uint64_t start = now_ns();
	const char *out = "";
	struct listed *l;
	int level = 0, r;

	for (;;) {
		level = list_cmd(cmd, sizeof(cmd), family, table, chain, level);
		if (level < 0) {
			r = level;
			goto out;
		}
		r = run_list(c, cmd, &out);
		/* a keyword for a name: the table's listing has it */
		if (r == -EINVAL && level < 2) {
			level++;
			continue;
		}
		break;
	}
	c->stats.chain_listings++;
	if (r < 0 && r != -ENOENT)
		goto out;
	if (r == 0) {
		r = parse(&p, out);
		if (r < 0)
			goto out;
	}
	l = rulecache_listed_alloc(family, table, chain);
	if (!l) {
		r = -ENOMEM;
		goto out;
	}
	if (!p.want_seen) {
		l->missing = true;
	} else {
		r = rulecache_listed_fill(l, &p.b);
		if (r < 0) {
			rulecache_listed_free_now(c, l);
			goto out;
		}
		if (l->bytes > RULECACHE_MAX_BYTES) {
			struct listed *empty = rulecache_listed_alloc(family, table, chain);

			rulecache_listed_free_now(c, l);
			l = empty;
			if (!l) {
				r = -ENOMEM;
				goto out;
			}
			l->too_big = true;
		}
	}
	l->listed_ns = start;
	l->cost_ns = now_ns() - start;
	*ret = l;
	r = 0;
out:
	c->stats.listing_ns += now_ns() - start;
	if (r < 0)
		c->stats.listing_errors++;
	/* the builder first, so that its memory goes back too */
	parse_ctx_done(&p);
	after_big_listing(c, strlen(out));
	return r;
}
