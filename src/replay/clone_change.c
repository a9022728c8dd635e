/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --change: nft commands for the clone only. The user read the handles
 * in the real ruleset, so "handle N" and "position N" of a rule command
 * (add, insert, replace, delete, destroy rule [FAMILY] TABLE CHAIN) are
 * the source's and become the clone's before the one batch runs.
 * "index N" is a place in the chain, the same in both: left alone.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>

#include "clone.h"
#include "clone_int.h"
#include "listing.h"

/* Words of one command that matter: verb, "rule", family, table, chain, key, number. */
#define CHANGE_WORDS 7
#define WORD_MAX     256

struct word {
	const char *p;
	size_t n;
};

static bool is(const struct word *w, const char *s)
{
	return w->n == strlen(s) && memcmp(w->p, s, w->n) == 0;
}

/* The end of the command starting at p: ';' or a newline outside braces and quotes. */
static const char *command_end(const char *p)
{
	int depth = 0;
	bool quoted = false;

	for (; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (*p == '{')
			depth++;
		else if (*p == '}' && depth > 0)
			depth--;
		else if ((*p == ';' || *p == '\n') && depth == 0)
			break;
	}
	return p;
}

static size_t words_of(const char *p, const char *end, struct word *w, size_t max)
{
	size_t n = 0;

	while (n < max) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p >= end)
			break;
		w[n].p = p;
		while (p < end && !isspace((unsigned char)*p))
			p++;
		w[n].n = (size_t)(p - w[n].p);
		n++;
	}
	return n;
}

/* nft's family keyword: the listing parser knows them (listing_family()). */
static int family_of(const struct word *w, uint8_t *family)
{
	int f = listing_family(w->p, w->n);

	if (f < 0)
		return 0;
	*family = (uint8_t)f;
	return 1;
}

/*
 * The number word of a rule command's "handle N" / "position N", and the
 * clone's handle in *to; NULL when the command has none.
 */
static int translate(const struct clone *c, const struct word *w, size_t n, const struct word **num,
		     uint64_t *to, char *err, size_t errlen)
{
	char table[WORD_MAX], *endp;
	uint8_t family = NFPROTO_IPV4;
	size_t t = 2;
	uint64_t real;

	*num = NULL;
	if (n < 5 || !is(&w[1], "rule") ||
	    !(is(&w[0], "add") || is(&w[0], "insert") || is(&w[0], "replace") ||
	      is(&w[0], "delete") || is(&w[0], "destroy")))
		return 0;
	t += (size_t)family_of(&w[2], &family);
	if (n < t + 4 || !(is(&w[t + 2], "handle") || is(&w[t + 2], "position")))
		return 0;
	if (w[t].n >= sizeof(table))
		return 0;
	snprintf(table, sizeof(table), "%.*s", (int)w[t].n, w[t].p);
	real = strtoull(w[t + 3].p, &endp, 10);
	if (endp != w[t + 3].p + w[t + 3].n)
		return 0; /* not a number: nft's own message says so */
	if (!clone_clone_handle(c, family, table, real, to)) {
		snprintf(err, errlen, "no rule with handle %llu in table %.*s%s%s",
			 (unsigned long long)real, t == 3 ? (int)w[2].n : 0, w[2].p,
			 t == 3 ? " " : "", table);
		return -ENOENT;
	}
	*num = &w[t + 3];
	return 0;
}

/* text with every rule command's handle the clone's: malloc'ed into *out. */
static int rewrite(const struct clone *c, const char *text, char **out, char *err, size_t errlen)
{
	size_t len = strlen(text), cap = len + 64, o = 0;
	char *buf = malloc(cap);
	const char *p = text;

	if (!buf)
		return -ENOMEM;
	while (*p) {
		const char *end = command_end(p), *from = p;
		const struct word *num = NULL;
		struct word w[CHANGE_WORDS];
		uint64_t to = 0;
		size_t n = words_of(p, end, w, CHANGE_WORDS);
		int r = translate(c, w, n, &num, &to, err, errlen);

		if (r < 0) {
			free(buf);
			return r;
		}
		if (num) {
			/* a handle is at most 20 digits: the copy grows by at most that */
			if (o + (size_t)(end - p) + 24 >= cap) {
				char *b = realloc(buf, cap = cap * 2 + (size_t)(end - p) + 24);

				if (!b) {
					free(buf);
					return -ENOMEM;
				}
				buf = b;
			}
			memcpy(buf + o, from, (size_t)(num->p - from));
			o += (size_t)(num->p - from);
			o += (size_t)sprintf(buf + o, "%llu", (unsigned long long)to);
			from = num->p + num->n;
		}
		if (o + (size_t)(end - from) + 2 >= cap) {
			char *b = realloc(buf, cap = cap * 2 + (size_t)(end - from) + 2);

			if (!b) {
				free(buf);
				return -ENOMEM;
			}
			buf = b;
		}
		memcpy(buf + o, from, (size_t)(end - from));
		o += (size_t)(end - from);
		if (*end)
			buf[o++] = *end++;
		p = end;
	}
	buf[o] = '\0';
	*out = buf;
	return 0;
}

int clone_apply_change(struct clone *c, const char *nft_text, char *err, size_t errlen)
{
	char *text = NULL;
	int r, back;

	err[0] = '\0';
	if (c->listing) {
		r = rewrite(c, nft_text, &text, err, errlen);
		if (r < 0)
			return r;
	}
	r = clone_visit(c, &back);
	if (r == 0) {
		r = clone_ruleset_run(c, text ? text : nft_text, "nft refused the change", err,
				      errlen);
		clone_return(back);
	}
	free(text);
	return r;
}
