/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/netfilter.h>

#include "listing.h"

#define HANDLE_TRAILER " # handle "

enum block {
	IN_NOTHING,
	IN_TABLE,
	IN_CHAIN,
	IN_OBJECT, /* set, map, counter, flowtable, ct helper, ... */
};

struct parser {
	const struct listing_ops *ops;
	void *data;
	struct listing_stats stats;
	enum block in;
	bool skip_table;
	bool skip_chain;

	struct listing_table table;
	char table_name[LISTING_NAME_MAX];

	struct listing_chain chain;
	char chain_name[LISTING_NAME_MAX];
	char hook[LISTING_HOOK_MAX];
	char type[LISTING_TYPE_MAX];
	bool chain_reported;

	/* The rule being assembled; more than one line for a chain binding. */
	char rule[LISTING_RULE_MAX];
	size_t rule_len;
	bool rule_truncated;
	bool rule_open;	     /* a line without handle that may start one */
	bool rule_continued; /* deeper lines followed it */
};

static const struct {
	const char *word;
	uint8_t nfproto;
} families[] = {
	{ "ip", NFPROTO_IPV4 }, { "ip6", NFPROTO_IPV6 },      { "inet", NFPROTO_INET },
	{ "arp", NFPROTO_ARP }, { "bridge", NFPROTO_BRIDGE }, { "netdev", NFPROTO_NETDEV },
};

int listing_family(const char *word, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		if (strlen(families[i].word) == len && memcmp(families[i].word, word, len) == 0)
			return families[i].nfproto;
	}
	return -EINVAL;
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/*
 * The printer appends " # handle N" last, so the trailer is taken from the
 * end: a comment "x # handle 9" earlier on the line stays rule text.
 */
static bool split_handle(const char *s, size_t len, size_t *ret_len, uint64_t *ret_handle)
{
	size_t end = len, start, n = strlen(HANDLE_TRAILER);
	uint64_t handle = 0;
	size_t i;

	while (end > 0 && s[end - 1] >= '0' && s[end - 1] <= '9')
		end--;
	start = end;
	if (start == len || start < n || memcmp(s + start - n, HANDLE_TRAILER, n) != 0)
		return false;
	for (i = start; i < len; i++) {
		unsigned int digit = s[i] - '0';

		if (handle > (UINT64_MAX - digit) / 10)
			return false;
		handle = handle * 10 + digit;
	}
	*ret_len = start - n;
	*ret_handle = handle;
	return true;
}

/* A block header: "NAME {" once the handle trailer is gone. */
static bool split_block_header(const char *s, size_t len, size_t *ret_len)
{
	if (len >= 1 && s[len - 1] == '{' && (len == 1 || s[len - 2] == ' ')) {
		*ret_len = len >= 2 ? len - 2 : 0;
		return true;
	}
	return false;
}

/*
 * nft 1.0.6 prints names bare; accept a quoted form too in case a later
 * nft quotes names with spaces, since the kernel's names are unquoted.
 */
static int copy_name(char *dst, const char *s, size_t len)
{
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s++;
		len -= 2;
	}
	if (len == 0)
		return -EINVAL;
	if (len >= LISTING_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

static void rule_reset(struct parser *p)
{
	p->rule_len = 0;
	p->rule[0] = '\0';
	p->rule_truncated = false;
	p->rule_open = false;
	p->rule_continued = false;
}

/* Back up to a UTF-8 character boundary so a cut never splits one. */
static size_t utf8_boundary(const char *s, size_t len)
{
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return len;
}

static void rule_append(struct parser *p, const char *s, size_t len)
{
	size_t room = LISTING_RULE_MAX - 1 - p->rule_len;
	size_t mark = strlen(LISTING_TRUNCATED_MARK);

	if (p->rule_truncated)
		return;
	if (len <= room) {
		memcpy(p->rule + p->rule_len, s, len);
		p->rule_len += len;
		p->rule[p->rule_len] = '\0';
		return;
	}
	memcpy(p->rule + p->rule_len, s, room);
	p->rule_len = utf8_boundary(p->rule, LISTING_RULE_MAX - 1 - mark);
	memcpy(p->rule + p->rule_len, LISTING_TRUNCATED_MARK, mark);
	p->rule_len += mark;
	p->rule[p->rule_len] = '\0';
	p->rule_truncated = true;
}

/* Joins the lines of a chain binding back into nft's one-line syntax. */
static void rule_append_line(struct parser *p, const char *s, size_t len)
{
	if (p->rule_len > 0) {
		if (p->rule[p->rule_len - 1] == '{')
			rule_append(p, " ", 1);
		else
			rule_append(p, "; ", 2);
	}
	rule_append(p, s, len);
}

static int report_chain(struct parser *p)
{
	int r = 0;

	if (p->chain_reported || p->skip_chain)
		return 0;
	p->chain_reported = true;
	p->stats.chains++;
	if (p->ops && p->ops->chain)
		r = p->ops->chain(p->data, &p->table, &p->chain);
	return r;
}

static int emit_rule(struct parser *p, uint64_t handle)
{
	struct listing_rule rule = {
		.handle = handle,
		.text = p->rule,
		.truncated = p->rule_truncated,
	};
	int r;

	r = report_chain(p);
	if (r < 0)
		return r;
	p->stats.rules++;
	if (p->rule_truncated)
		p->stats.truncated++;
	if (p->ops && p->ops->rule)
		r = p->ops->rule(p->data, &p->table, &p->chain, &rule);
	rule_reset(p);
	return r;
}

static int close_chain(struct parser *p)
{
	int r;

	if (p->rule_open && p->rule_continued)
		p->stats.skipped_lines++;
	rule_reset(p);
	r = report_chain(p);
	p->in = IN_TABLE;
	p->skip_chain = false;
	return r;
}

static int close_table(struct parser *p)
{
	int r = 0;

	if (p->in == IN_CHAIN)
		r = close_chain(p);
	p->in = IN_NOTHING;
	p->skip_table = false;
	return r;
}

/*
 * An owned table's line names its owner after the handle: "table inet t {
 * # handle 1 progname nattraced". The length without " progname ...".
 */
static size_t without_progname(const char *s, size_t len)
{
	const char *h = memmem(s, len, " # handle ", strlen(" # handle "));
	const char *end = s + len, *d;

	if (!h)
		return len;
	for (d = h + strlen(" # handle "); d < end && *d >= '0' && *d <= '9'; d++)
		;
	if (end - d > (ptrdiff_t)strlen(" progname ") &&
	    memcmp(d, " progname ", strlen(" progname ")) == 0)
		return (size_t)(d - s);
	return len;
}

static int open_table(struct parser *p, const char *s, size_t len)
{
	uint64_t handle = 0;
	const char *family, *name;
	size_t flen;
	int nfproto, r;

	r = close_table(p);
	if (r < 0)
		return r;
	p->in = IN_TABLE;

	len = without_progname(s, len);
	split_handle(s, len, &len, &handle);
	/* "table {" has no family and no name: nothing after "table " to read */
	if (!split_block_header(s, len, &len) || len <= strlen("table "))
		goto skip;
	family = s + strlen("table ");
	name = memchr(family, ' ', s + len - family);
	if (!name)
		goto skip;
	flen = name - family;
	name++;
	nfproto = listing_family(family, flen);
	if (nfproto < 0)
		goto skip;
	if (copy_name(p->table_name, name, s + len - name) < 0)
		goto skip;

	p->table.family = (uint8_t)nfproto;
	p->table.name = p->table_name;
	p->table.handle = handle;
	p->stats.tables++;
	if (p->ops && p->ops->table)
		return p->ops->table(p->data, &p->table);
	return 0;
skip:
	p->skip_table = true;
	p->stats.skipped_tables++;
	return 0;
}

/* A line one tab in: a block header, "}" or a table attribute. */
static int table_line(struct parser *p, const char *s, size_t len)
{
	uint64_t handle = 0;
	size_t hlen = len;

	if (p->in != IN_TABLE) {
		if (len == 1 && s[0] == '}') {
			if (p->in == IN_CHAIN)
				return close_chain(p);
			p->in = IN_TABLE;
			return 0;
		}
		p->stats.skipped_lines++;
		return 0;
	}

	split_handle(s, len, &hlen, &handle);
	if (!split_block_header(s, hlen, &hlen))
		return 0; /* "flags owner", "comment ...": not ours */
	if (!starts_with(s, hlen, "chain ")) {
		p->in = IN_OBJECT;
		return 0;
	}

	p->in = IN_CHAIN;
	p->chain_reported = false;
	p->skip_chain = false;
	p->hook[0] = '\0';
	p->chain.hook = NULL;
	p->type[0] = '\0';
	p->chain.type = NULL;
	p->chain.has_priority = false;
	p->chain.priority = 0;
	p->chain.handle = handle;
	p->chain.name = p->chain_name;
	rule_reset(p);
	if (copy_name(p->chain_name, s + strlen("chain "), hlen - strlen("chain ")) < 0) {
		p->skip_chain = true;
		p->stats.skipped_chains++;
	}
	return 0;
}

/*
 * nft's priority names (nft(8), "CHAINS"): the bridge family has its own
 * values for some of them.
 */
static bool priority_name(const char *s, size_t n, uint8_t family, int32_t *ret)
{
	static const struct {
		const char *name;
		int32_t inet, bridge;
	} names[] = {
		{ "raw", -300, INT32_MIN }, { "mangle", -150, INT32_MIN }, { "dstnat", -100, -300 },
		{ "filter", 0, -200 },	    { "security", 50, INT32_MIN }, { "srcnat", 100, 300 },
		{ "out", INT32_MIN, 100 },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int32_t v = family == NFPROTO_BRIDGE ? names[i].bridge : names[i].inet;

		if (strlen(names[i].name) == n && memcmp(names[i].name, s, n) == 0 &&
		    v != INT32_MIN) {
			*ret = v;
			return true;
		}
	}
	return false;
}

static bool parse_int(const char *s, size_t n, int32_t *ret)
{
	long v = 0;
	bool neg = n && *s == '-';
	size_t i = neg;

	if (i == n || n - i > 10)
		return false;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > INT32_MAX)
		return false;
	*ret = (int32_t)(neg ? -v : v);
	return true;
}

/* "priority filter", "priority -150", "priority srcnat + 10" up to ';' */
static void parse_priority(struct parser *p, const char *s, const char *end)
{
	const char *prio = NULL, *w;
	int32_t base, off;
	size_t n;

	for (; s + strlen(" priority ") <= end; s++) {
		if (memcmp(s, " priority ", strlen(" priority ")) == 0) {
			prio = s + strlen(" priority ");
			break;
		}
	}
	if (!prio)
		return;
	for (n = 0; prio + n < end && prio[n] != ' ' && prio[n] != ';'; n++)
		;
	if (!parse_int(prio, n, &base) && !priority_name(prio, n, p->table.family, &base))
		return;
	w = prio + n;
	if (end - w > 3 && w[0] == ' ' && (w[1] == '+' || w[1] == '-') && w[2] == ' ') {
		const char *num = w + 3;

		for (n = 0; num + n < end && num[n] != ';' && num[n] != ' '; n++)
			;
		if (!parse_int(num, n, &off) || off < 0)
			return;
		base = w[1] == '+' ? base + off : base - off;
	}
	p->chain.priority = base;
	p->chain.has_priority = true;
}

/* "type filter hook input priority filter; policy accept;" */
static void parse_hook(struct parser *p, const char *s, size_t len)
{
	const char *h = NULL, *line = s, *end = s + len;
	size_t n;

	for (; s + strlen(" hook ") <= end; s++) {
		if (memcmp(s, " hook ", strlen(" hook ")) == 0) {
			h = s + strlen(" hook ");
			break;
		}
	}
	if (!h) {
		p->stats.skipped_lines++;
		return;
	}
	for (n = 0; h + n < end && h[n] != ' ' && h[n] != ';'; n++)
		;
	if (n == 0 || n >= LISTING_HOOK_MAX) {
		p->stats.skipped_lines++;
		return;
	}
	memcpy(p->hook, h, n);
	p->hook[n] = '\0';
	p->chain.hook = p->hook;
	parse_priority(p, h + n, end);

	/* "type nat hook ...": nat chains see only a connection's first packet */
	s = line + strlen("type ");
	for (n = 0; s + n < end && s[n] != ' '; n++)
		;
	if (n > 0 && n < LISTING_TYPE_MAX) {
		memcpy(p->type, s, n);
		p->type[n] = '\0';
		p->chain.type = p->type;
	}
}

/* A line two tabs in, inside a chain. */
static int chain_line(struct parser *p, const char *s, size_t len)
{
	uint64_t handle;
	size_t tlen;

	if (!split_handle(s, len, &tlen, &handle)) {
		if (!p->chain_reported && starts_with(s, len, "type ")) {
			parse_hook(p, s, len);
			return 0;
		}
		if (starts_with(s, len, "comment \""))
			return 0; /* the chain's own comment */
		/* Maybe the first line of "... jump {": kept until we know. */
		if (p->rule_open)
			p->stats.skipped_lines++;
		rule_reset(p);
		rule_append(p, s, len);
		p->rule_open = true;
		return 0;
	}

	if (p->rule_open && p->rule_continued && s[0] == '}') {
		rule_append_line(p, s, tlen);
		return emit_rule(p, handle);
	}
	if (p->rule_open)
		p->stats.skipped_lines++;
	rule_reset(p);
	rule_append(p, s, tlen);
	return emit_rule(p, handle);
}

static int parse_line(struct parser *p, const char *s, size_t len)
{
	unsigned int depth = 0;

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	while (depth < len && s[depth] == '\t')
		depth++;
	s += depth;
	len -= depth;
	if (len == 0)
		return 0;

	if (depth == 0) {
		if (starts_with(s, len, "table "))
			return open_table(p, s, len);
		if (len == 1 && s[0] == '}' && p->in != IN_NOTHING)
			return close_table(p);
		p->stats.skipped_lines++;
		return 0;
	}
	if (p->in == IN_NOTHING) {
		p->stats.skipped_lines++;
		return 0;
	}
	if (p->skip_table)
		return 0;
	if (depth == 1)
		return table_line(p, s, len);
	if (p->in != IN_CHAIN || p->skip_chain)
		return 0; /* inside a set, map or object */
	if (depth == 2)
		return chain_line(p, s, len);

	/* Deeper: the body of a chain binding. */
	if (!p->rule_open) {
		p->stats.skipped_lines++;
		return 0;
	}
	while (len > 0 && *s == ' ') {
		s++;
		len--;
	}
	rule_append_line(p, s, len);
	p->rule_continued = true;
	return 0;
}

int listing_parse(const char *text, size_t len, const struct listing_ops *ops, void *data,
		  struct listing_stats *ret_stats)
{
	struct parser p = {
		.ops = ops,
		.data = data,
		.in = IN_NOTHING,
	};
	const char *end = text + strnlen(text, len);
	int r = 0;

	while (text < end) {
		const char *eol = memchr(text, '\n', end - text);
		size_t n = eol ? (size_t)(eol - text) : (size_t)(end - text);

		r = parse_line(&p, text, n);
		if (r < 0)
			goto out;
		text += n + (eol ? 1 : 0);
	}
	/* A listing cut short still reports what it had. */
	r = close_table(&p);
	if (r < 0)
		goto out;
	if (ret_stats)
		*ret_stats = p.stats;
out:
	return r;
}
