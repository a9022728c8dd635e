/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The user's match is spliced into "add rule ... <match> <our statements>"
 * and run with CAP_NET_ADMIN, so it is checked twice:
 *
 * 1. match_precheck(), on the text, against nftables 1.0.6's scanner
 *    (src/scanner.l): ';' and newline end a command, '#' comments out the
 *    rest of the line (our statements), '$' expands a variable, "include"
 *    reads a file and "define" defines a variable, a '"' without its partner
 *    opens a string that may span lines and so run into the next command of
 *    a batch, and unbalanced braces could close a block we opened.
 *
 * 2. match_verify_listing(), on what libnftables built from it: the text is
 *    valid nft, but only the expression tree says whether it merely selects
 *    packets. Shapes below were captured from nft 1.0.6 (see
 *    tests/fixtures/match/README.txt).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "match.h"
#include "strbuf.h"

/* Longer than any sensible match; keeps error messages and batches small. */
#define MATCH_TEXT_MAX	  4096
/* Depth of nested (), [] and {} accepted in a match. */
#define MATCH_NESTING_MAX 32
/* nft stores a limit rate as u64, but nobody traces more than 2^32/unit. */
#define MATCH_RATE_MAX	  UINT32_MAX
/* How much of an unexpected statement we quote back. */
#define MATCH_QUOTE_MAX	  48

/* The units --rate takes (nft has "week" too: a typo more likely than a wish). */
static const char *const rate_units[] = {
	"second",
	"minute",
	"hour",
	"day",
};

/*
 * "N/unit" exactly as nft's limit statement spells a packet rate. Anything
 * else (byte rates, spaces, "over") is not ours to splice into a rule.
 */
int match_parse_rate(const char *rate, unsigned long long *ret_n, const char **ret_unit)
{
	unsigned long long n;
	const char *p = rate;
	size_t i;

	if (*p < '1' || *p > '9')
		return -EINVAL;
	n = 0;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (unsigned long long)(*p - '0');
		if (n > MATCH_RATE_MAX)
			return -EINVAL;
		p++;
	}
	if (*p++ != '/')
		return -EINVAL;
	for (i = 0; i < sizeof(rate_units) / sizeof(rate_units[0]); i++) {
		if (strcmp(p, rate_units[i]) == 0) {
			*ret_n = n;
			*ret_unit = rate_units[i];
			return 0;
		}
	}
	return -EINVAL;
}

/* Characters that continue an unquoted nft word (scanner.l {string}). */
static bool is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-' || c == '/' || c == '*' || c == '\\';
}

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Keywords that act on the parser rather than on packets. They can only
 * start a command, which ';' and newline refusal already prevents; refusing
 * the words too costs nothing. Erring strict: "_include" is refused.
 */
static const struct {
	const char *word;
	const char *why;
} parser_keywords[] = {
	{ "include", "would read a file" },
	{ "define", "would define a variable" },
	{ "redefine", "would define a variable" },
	{ "undefine", "would undefine a variable" },
};

static const char *parser_keyword_at(const char *text, size_t pos, const char **ret_why)
{
	size_t i, n;

	if (pos > 0 && is_letter(text[pos - 1]))
		return NULL;
	for (i = 0; i < sizeof(parser_keywords) / sizeof(parser_keywords[0]); i++) {
		n = strlen(parser_keywords[i].word);
		if (strncasecmp(text + pos, parser_keywords[i].word, n) == 0 &&
		    !is_word_char(text[pos + n])) {
			*ret_why = parser_keywords[i].why;
			return parser_keywords[i].word;
		}
	}
	return NULL;
}

static char closer_of(char open)
{
	switch (open) {
	case '(':
		return ')';
	case '[':
		return ']';
	default:
		return '}';
	}
}

int match_precheck(const char *match, char *err, size_t errlen)
{
	char stack[MATCH_NESTING_MAX];
	size_t depth = 0, len, i;
	bool blank = true, quoted = false;
	const char *word, *why;
	unsigned char c;

	if (!match)
		return strbuf_error(err, errlen, "match refused: the match is empty");
	len = strnlen(match, MATCH_TEXT_MAX + 1);
	if (len > MATCH_TEXT_MAX)
		return strbuf_error(err, errlen, "match refused: longer than %d bytes",
				    MATCH_TEXT_MAX);

	for (i = 0; i < len; i++) {
		c = (unsigned char)match[i];

		/* These hold inside quotes too: simpler to explain. */
		if (c == '\n' || c == '\r')
			return strbuf_error(
				err, errlen,
				"match refused: a line break would end the command and chain "
				"another one");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return strbuf_error(err, errlen, "match refused: control character 0x%02x",
					    c);
		if (c == ';')
			return strbuf_error(
				err, errlen,
				"match refused: ';' would start another command (refused "
				"even inside quotes)");
		if (c == '#')
			return strbuf_error(
				err, errlen,
				"match refused: '#' would comment out the rest of the rule "
				"(refused even inside quotes)");
		if (c == '$')
			return strbuf_error(
				err, errlen,
				"match refused: '$' would expand an nft variable (refused "
				"even inside quotes)");
		if (c != ' ' && c != '\t')
			blank = false;

		if (c == '"') {
			quoted = !quoted;
			continue;
		}
		if (quoted)
			continue;

		switch (c) {
		case '(':
		case '[':
		case '{':
			if (depth == MATCH_NESTING_MAX)
				return strbuf_error(err, errlen,
						    "match refused: nested deeper than %d brackets",
						    MATCH_NESTING_MAX);
			stack[depth++] = (char)c;
			break;
		case ')':
		case ']':
		case '}':
			if (depth == 0)
				return strbuf_error(
					err, errlen,
					"match refused: '%c' closes nothing opened in the match",
					c);
			if (closer_of(stack[depth - 1]) != (char)c)
				return strbuf_error(err, errlen, "match refused: '%c' closes '%c'",
						    c, stack[depth - 1]);
			depth--;
			break;
		default:
			word = parser_keyword_at(match, i, &why);
			if (word)
				return strbuf_error(err, errlen, "match refused: '%s' %s", word,
						    why);
			break;
		}
	}

	if (blank)
		return strbuf_error(err, errlen, "match refused: the match is empty");
	/* A string opened here would close at the next '"' in the batch. */
	if (quoted)
		return strbuf_error(
			err, errlen,
			"match refused: unterminated '\"' would run into the next command");
	if (depth)
		return strbuf_error(err, errlen, "match refused: '%c' is never closed",
				    stack[depth - 1]);
	return 0;
}

int match_rule_text(const char *match, const char *rate, char *buf, size_t len)
{
	unsigned long long n;
	const char *unit;
	int ret;

	/*
	 * The rate is spliced as text too: refuse anything but "N/unit" so
	 * a bad caller cannot chain commands through it.
	 */
	if (!match || (rate && match_parse_rate(rate, &n, &unit) < 0))
		return -EINVAL;
	if (rate)
		ret = snprintf(buf, len, "%s limit rate %s counter meta nftrace set 1", match,
			       rate);
	else
		ret = snprintf(buf, len, "%s counter meta nftrace set 1", match);
	if (ret < 0)
		return -EINVAL;
	if ((size_t)ret >= len)
		return -ENOSPC;
	return 0;
}

/*
 * A short name for an element of a rule's "expr" array, for messages:
 * its only key ("counter", "jump", "ct count"), or for a mangle what it
 * sets ("ct mark set"). nft 1.0.6 prints a statement without a JSON
 * callback as a bare string of its text.
 */
static void describe_stmt(const json_t *stmt, char *buf, size_t len)
{
	const json_t *mangle, *key, *inner;
	const char *name = NULL, *a, *b;
	void *iter;

	if (json_is_string(stmt)) {
		snprintf(buf, len, "%.*s", MATCH_QUOTE_MAX, json_string_value(stmt));
		return;
	}
	if (!json_is_object(stmt) || json_object_size(stmt) != 1) {
		snprintf(buf, len, "unrecognised element");
		return;
	}
	iter = json_object_iter((json_t *)stmt);
	name = json_object_iter_key(iter);

	mangle = json_object_get(stmt, "mangle");
	key = json_object_get(mangle, "key");
	if (!json_is_object(key) || json_object_size(key) != 1) {
		snprintf(buf, len, "%.*s", MATCH_QUOTE_MAX, name);
		return;
	}
	iter = json_object_iter((json_t *)key);
	inner = json_object_iter_value(iter);
	a = json_string_value(json_object_get(inner, "key"));
	if (a) {
		/* {"meta": {"key": "mark"}}, {"ct": {"key": "mark"}} */
		snprintf(buf, len, "%.16s %.24s set", json_object_iter_key(iter), a);
		return;
	}
	a = json_string_value(json_object_get(inner, "protocol"));
	b = json_string_value(json_object_get(inner, "field"));
	if (a && b) {
		/* {"payload": {"protocol": "ip", "field": "ttl"}} */
		snprintf(buf, len, "%.16s %.24s set", a, b);
		return;
	}
	a = json_string_value(json_object_get(inner, "name"));
	/* {"tcp option": {"name": "maxseg", "field": "size"}} */
	snprintf(buf, len, "%.16s%s%.24s set", json_object_iter_key(iter), a ? " " : "",
		 a ? a : "");
}

/*
 * A set element may carry statements: "ip saddr { 192.0.2.1 counter }"
 * lists as {"elem": {"val": ..., "counter": {...}}}. Only its value and
 * the element's plain attributes select packets; anything else is a
 * statement (counter, limit, quota, ...). Returns the first such key in
 * the tree under e, NULL if there is none.
 */
static const char *elem_statement(const json_t *e, unsigned int depth)
{
	static const char *const plain[] = { "val", "comment", "timeout", "expires" };
	const char *key, *found;
	const json_t *v;
	size_t i;

	/* nft nests no deeper than the precheck's bracket bound allows */
	if (depth > 64)
		return "deeply nested element";
	if (json_is_array(e)) {
		json_array_foreach(e, i,
				   v) if ((found = elem_statement(v, depth + 1))) return found;
		return NULL;
	}
	if (!json_is_object(e))
		return NULL;
	json_object_foreach((json_t *)e, key, v)
	{
		if (strcmp(key, "elem") == 0 && json_is_object(v)) {
			const char *k;
			const json_t *x;

			json_object_foreach((json_t *)v, k, x)
			{
				for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
					if (strcmp(k, plain[i]) == 0)
						break;
				if (i == sizeof(plain) / sizeof(plain[0]))
					return k;
			}
		}
		if ((found = elem_statement(v, depth + 1)))
			return found;
	}
	return NULL;
}

static bool is_match_expr(const json_t *e)
{
	return json_is_object(e) && json_object_size(e) == 1 &&
	       json_is_object(json_object_get(e, "match"));
}

/* The statement a name like "limit" refers to, if e is one. */
static const json_t *stmt_body(const json_t *e, const char *name)
{
	if (!json_is_object(e) || json_object_size(e) != 1)
		return NULL;
	return json_object_get(e, name);
}

/* {"limit": {"rate": N, "burst": B, "per": unit}}: no "inv", no bytes. */
static bool is_our_limit(const json_t *e, unsigned long long n, const char *unit)
{
	const json_t *l = stmt_body(e, "limit");
	const json_t *rate, *per, *burst;
	size_t keys = 2;

	if (!json_is_object(l))
		return false;
	rate = json_object_get(l, "rate");
	per = json_object_get(l, "per");
	burst = json_object_get(l, "burst");
	if (burst) {
		if (!json_is_integer(burst))
			return false;
		keys++;
	}
	return json_object_size(l) == keys && json_is_integer(rate) &&
	       json_integer_value(rate) >= 0 && (unsigned long long)json_integer_value(rate) == n &&
	       json_is_string(per) && strcmp(json_string_value(per), unit) == 0;
}

/* {"counter": {"packets": P, "bytes": B}}: anonymous, not a named one. */
static bool is_our_counter(const json_t *e)
{
	const json_t *c = stmt_body(e, "counter");

	return json_is_object(c) && json_object_size(c) == 2 &&
	       json_is_integer(json_object_get(c, "packets")) &&
	       json_is_integer(json_object_get(c, "bytes"));
}

/* {"mangle": {"key": {"meta": {"key": "nftrace"}}, "value": 1}} */
static bool is_our_nftrace(const json_t *e)
{
	json_t *want;
	bool same;

	want = json_pack("{s:{s:{s:{s:s}},s:i}}", "mangle", "key", "meta", "key", "nftrace",
			 "value", 1);
	if (!want)
		return false;
	same = json_equal((json_t *)e, want);
	json_decref(want);
	return same;
}

static void describe_limit(const json_t *e, char *buf, size_t len)
{
	const json_t *l = stmt_body(e, "limit");
	const char *per = json_string_value(json_object_get(l, "per"));

	snprintf(buf, len, "limit %srate %" JSON_INTEGER_FORMAT "/%.16s%s",
		 json_is_true(json_object_get(l, "inv")) ? "over " : "",
		 json_integer_value(json_object_get(l, "rate")), per ? per : "?",
		 json_object_get(l, "rate_unit") ? " (bytes)" : "");
}

enum own_stmt {
	OWN_LIMIT,
	OWN_COUNTER,
	OWN_NFTRACE,
};

static const char *const own_stmt_names[] = {
	[OWN_LIMIT] = "limit",
	[OWN_COUNTER] = "counter",
	[OWN_NFTRACE] = "meta nftrace set",
};

/* The statements of one rule, already known to be a JSON array. */
static int verify_exprs(const json_t *exprs, const char *rate, unsigned long long n,
			const char *unit, char *err, size_t errlen)
{
	enum own_stmt own[3];
	size_t nown = 0, nexpr, i, t;
	char name[MATCH_QUOTE_MAX + 32], got[64];
	const json_t *e;
	bool ok;

	if (rate)
		own[nown++] = OWN_LIMIT;
	own[nown++] = OWN_COUNTER;
	own[nown++] = OWN_NFTRACE;

	nexpr = json_array_size(exprs);
	for (i = 0; i < nexpr && is_match_expr(json_array_get(exprs, i)); i++)
		;

	for (t = 0; t < nown; t++) {
		if (i + t >= nexpr)
			return strbuf_error(
				err, errlen,
				"match refused: nattraced's own '%s' statement is missing "
				"from the rule",
				own_stmt_names[own[t]]);
		e = json_array_get(exprs, i + t);
		switch (own[t]) {
		case OWN_LIMIT:
			ok = is_our_limit(e, n, unit);
			break;
		case OWN_COUNTER:
			ok = is_our_counter(e);
			break;
		default:
			ok = is_our_nftrace(e);
			break;
		}
		if (ok)
			continue;
		/* One short and the next one is ours: ours went missing. */
		if (t + 1 < nown && nexpr - i == nown - 1 &&
		    ((own[t + 1] == OWN_COUNTER && is_our_counter(e)) ||
		     (own[t + 1] == OWN_NFTRACE && is_our_nftrace(e))))
			return strbuf_error(
				err, errlen,
				"match refused: nattraced's own '%s' statement is missing "
				"from the rule",
				own_stmt_names[own[t]]);
		if (own[t] == OWN_LIMIT && stmt_body(e, "limit")) {
			describe_limit(e, got, sizeof(got));
			return strbuf_error(
				err, errlen,
				"match refused: statement '%s' is not a match (nattraced "
				"adds only limit rate %s)",
				got, rate);
		}
		describe_stmt(e, name, sizeof(name));
		return strbuf_error(err, errlen, "match refused: statement '%s' is not a match",
				    name);
	}
	if (i + nown < nexpr) {
		/*
		 * Matches after a copy of our statements: the copy is the
		 * user's, name its first statement rather than the match.
		 */
		e = json_array_get(exprs, i + nown);
		if (is_match_expr(e))
			e = json_array_get(exprs, i);
		if (stmt_body(e, "limit"))
			describe_limit(e, name, sizeof(name));
		else
			describe_stmt(e, name, sizeof(name));
		return strbuf_error(err, errlen, "match refused: statement '%s' is not a match",
				    name);
	}
	for (t = 0; t < i; t++) {
		const char *stmt = elem_statement(json_array_get(exprs, t), 0);

		if (stmt)
			return strbuf_error(
				err, errlen,
				"match refused: statement '%.*s' inside a set element is not a "
				"match",
				MATCH_QUOTE_MAX, stmt);
	}
	/* Tracing every packet is a decision, not something to slip in. */
	if (i == 0)
		return strbuf_error(
			err, errlen,
			"match refused: no match expression, the rule would trace every packet");
	return 0;
}

int match_verify_listing(const char *json, const char *rate, char *err, size_t errlen)
{
	const json_t *items, *item, *rule = NULL, *exprs;
	unsigned long long n = 0;
	const char *unit = NULL, *kind;
	size_t i, nrules = 0;
	json_error_t jerr;
	json_t *root;
	int ret;

	if (!json)
		return strbuf_error(err, errlen, "match refused: no listing of the check chain");
	if (rate && match_parse_rate(rate, &n, &unit) < 0)
		return strbuf_error(err, errlen, "rate '%.32s' is not <n>/<second|minute|hour|day>",
				    rate);

	root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return strbuf_error(
			err, errlen,
			"match refused: the check chain listing is not JSON (%s, line %d)",
			jerr.text, jerr.line);

	items = json_object_get(root, "nftables");
	if (!json_is_array(items)) {
		ret = strbuf_error(
			err, errlen,
			"match refused: the check chain listing has no \"nftables\" array");
		goto out;
	}
	for (i = 0; i < json_array_size(items); i++) {
		item = json_array_get(items, i);
		if (!json_is_object(item) || json_object_size(item) != 1) {
			ret = strbuf_error(
				err, errlen,
				"match refused: unexpected element %zu in the check chain listing",
				i);
			goto out;
		}
		kind = json_object_iter_key(json_object_iter((json_t *)item));
		if (strcmp(kind, "rule") == 0) {
			rule = json_object_get(item, "rule");
			nrules++;
		} else if (strcmp(kind, "metainfo") != 0 && strcmp(kind, "chain") != 0) {
			ret = strbuf_error(
				err, errlen,
				"match refused: unexpected '%.32s' in the check chain listing",
				kind);
			goto out;
		}
	}
	if (nrules != 1) {
		ret = strbuf_error(
			err, errlen,
			"match refused: the check chain holds %zu rules, expected exactly one",
			nrules);
		goto out;
	}
	exprs = json_object_get(rule, "expr");
	if (!json_is_array(exprs)) {
		ret = strbuf_error(
			err, errlen,
			"match refused: the rule in the check chain has no \"expr\" array");
		goto out;
	}
	ret = verify_exprs(exprs, rate, n, unit, err, errlen);
out:
	json_decref(root);
	return ret;
}

/* A line of only spaces, '^' and '~', with at least one mark. */
static bool marks_line(const char *l, size_t n, size_t *ret_first, size_t *ret_last)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (l[i] == ' ')
			continue;
		if (l[i] != '^' && l[i] != '~')
			return false;
		if (!any)
			*ret_first = i;
		*ret_last = i;
		any = true;
	}
	return any;
}

size_t match_error_marker(const char *nft_err, const char *match, char *buf, size_t len)
{
	size_t mlen = match ? strlen(match) : 0;
	const char *line, *next;

	if (!len)
		return 0;
	buf[0] = '\0';
	if (!nft_err || !mlen)
		return 0;
	for (line = nft_err; *line; line = next) {
		const char *end = strchr(line, '\n'), *at, *m, *mend;
		size_t first, last, off;
		int n;

		next = end ? end + 1 : line + strlen(line);
		if (!end)
			break;
		/* the echoed command holds the match as we spliced it */
		at = memmem(line, (size_t)(end - line), match, mlen);
		if (!at)
			continue;
		m = end + 1;
		mend = strchr(m, '\n');
		if (!mend)
			mend = m + strlen(m);
		if (!marks_line(m, (size_t)(mend - m), &first, &last))
			continue;
		off = (size_t)(at - line);
		if (first < off || first >= off + mlen)
			return 0;
		if (last >= off + mlen)
			last = off + mlen - 1;
		n = snprintf(buf, len, "  %s\n  %*s%.*s", match, (int)(first - off), "",
			     (int)(last - first + 1), m + first);
		if (n < 0 || (size_t)n >= len) {
			buf[0] = '\0';
			return 0;
		}
		return (size_t)n;
	}
	return 0;
}
