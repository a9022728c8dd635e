/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --match as a filter on conntrack entries. Reads the expression tree
 * libnftables built (JSON, shapes of nft 1.0.6: tests/fixtures/match) and
 * keeps what can be checked against a connection's original tuple; see
 * natfilter.h for what is understood and why the rest is ignored.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "natfilter.h"

static const struct {
	const char *name;
	uint8_t proto;
	bool ports;
} l4_names[] = {
	{ "tcp", IPPROTO_TCP, true },	      { "udp", IPPROTO_UDP, true },
	{ "sctp", IPPROTO_SCTP, true },	      { "dccp", IPPROTO_DCCP, true },
	{ "udplite", IPPROTO_UDPLITE, true }, { "icmp", IPPROTO_ICMP, false },
	{ "icmpv6", IPPROTO_ICMPV6, false },  { "ipv6-icmp", IPPROTO_ICMPV6, false },
	{ "gre", IPPROTO_GRE, false },	      { "esp", IPPROTO_ESP, false },
	{ "ah", IPPROTO_AH, false },
};

static int l4_index(const char *name)
{
	for (size_t i = 0; i < sizeof(l4_names) / sizeof(l4_names[0]); i++)
		if (strcmp(name, l4_names[i].name) == 0)
			return (int)i;
	return -1;
}

static void value_u32(uint32_t v, uint8_t *out)
{
	uint32_t be = htonl(v);

	memset(out, 0, 16);
	memcpy(out + 12, &be, 4);
}

/* IPv4 in the last 4 bytes: the same number space as value_u32. */
static bool value_addr(const char *s, uint8_t l3, uint8_t *out)
{
	memset(out, 0, 16);
	if (l3 == 4)
		return inet_pton(AF_INET, s, out + 12) == 1;
	return inet_pton(AF_INET6, s, out) == 1;
}

static void note_ignored(struct natfilter *f, const char *what)
{
	size_t used = strlen(f->ignored);

	f->n_ignored++;
	if (strstr(f->ignored, what))
		return;
	snprintf(f->ignored + used, sizeof(f->ignored) - used, "%s%s", used ? ", " : "", what);
}

/* Prefix length to a range: the host bits all 0, then all 1. */
static bool prefix_range(const uint8_t *addr, uint8_t l3, json_int_t len, struct natfilter_range *r)
{
	unsigned int bits = l3 == 4 ? 32 : 128, start = 128 - bits;

	if (len < 0 || (unsigned int)len > bits)
		return false;
	memcpy(r->lo, addr, 16);
	memcpy(r->hi, addr, 16);
	for (unsigned int b = start + (unsigned int)len; b < 128; b++) {
		r->lo[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
		r->hi[b / 8] |= (uint8_t)(0x80u >> (b % 8));
	}
	return true;
}

static bool scalar(const json_t *v, const struct natfilter_cond *c, uint8_t *out)
{
	const char *s;
	int i;

	if (c->field == NATFILTER_SADDR || c->field == NATFILTER_DADDR)
		return json_is_string(v) && value_addr(json_string_value(v), c->l3, out);
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);

		if (n < 0 || n > 65535)
			return false;
		value_u32((uint32_t)n, out);
		return true;
	}
	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	if (c->field == NATFILTER_L4PROTO && (i = l4_index(s)) >= 0) {
		value_u32(l4_names[i].proto, out);
		return true;
	}
	if (c->field == NATFILTER_L3) {
		/* meta nfproto ipv4, meta protocol ip */
		if (strcmp(s, "ipv4") == 0 || strcmp(s, "ip") == 0)
			value_u32(4, out);
		else if (strcmp(s, "ipv6") == 0 || strcmp(s, "ip6") == 0)
			value_u32(6, out);
		else
			return false;
		return true;
	}
	/* a service name nft did not print as a number: not ours to resolve */
	return false;
}

static bool add_range(struct natfilter_cond *c, const uint8_t *lo, const uint8_t *hi)
{
	if (c->n >= NATFILTER_MAX_VALUES)
		return false;
	memcpy(c->r[c->n].lo, lo, 16);
	memcpy(c->r[c->n].hi, hi, 16);
	c->n++;
	return true;
}

/* A value, prefix, range, or (at the top only) an anonymous set of them. */
static bool add_values(struct natfilter_cond *c, const json_t *v, bool top)
{
	uint8_t lo[16], hi[16];
	const json_t *x;

	if (json_is_object(v) && (x = json_object_get(v, "elem")))
		return add_values(c, json_object_get(x, "val"), false);
	if (json_is_object(v) && (x = json_object_get(v, "set"))) {
		size_t i;
		const json_t *e;

		if (!top)
			return false;
		/* a set of one value is printed as the bare value */
		if (!json_is_array(x))
			return add_values(c, x, false);
		json_array_foreach(x, i, e) if (!add_values(c, e, false)) return false;
		return json_array_size(x) > 0;
	}
	if (json_is_object(v) && (x = json_object_get(v, "range"))) {
		if (json_array_size(x) != 2 || !scalar(json_array_get(x, 0), c, lo) ||
		    !scalar(json_array_get(x, 1), c, hi) || memcmp(lo, hi, 16) > 0)
			return false;
		return add_range(c, lo, hi);
	}
	if (json_is_object(v) && (x = json_object_get(v, "prefix"))) {
		struct natfilter_range r;

		if ((c->field != NATFILTER_SADDR && c->field != NATFILTER_DADDR) ||
		    !scalar(json_object_get(x, "addr"), c, lo) ||
		    !json_is_integer(json_object_get(x, "len")) ||
		    !prefix_range(lo, c->l3, json_integer_value(json_object_get(x, "len")), &r))
			return false;
		return add_range(c, r.lo, r.hi);
	}
	if (!scalar(v, c, lo))
		return false;
	return add_range(c, lo, lo);
}

/* "<", ">", "<=", ">=" on a number: one range. */
static bool add_comparison(struct natfilter_cond *c, const char *op, const json_t *v)
{
	uint32_t n, max = c->field == NATFILTER_L4PROTO ? 255 : 65535;
	uint8_t lo[16], hi[16];

	if (c->field != NATFILTER_SPORT && c->field != NATFILTER_DPORT &&
	    c->field != NATFILTER_L4PROTO)
		return false;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return false;
	n = (uint32_t)json_integer_value(v);
	if ((strcmp(op, "<") == 0 && n == 0) || (strcmp(op, ">") == 0 && n == max))
		return false;
	if (op[0] == '<') {
		value_u32(0, lo);
		value_u32(strcmp(op, "<") == 0 ? n - 1 : n, hi);
	} else {
		value_u32(strcmp(op, ">") == 0 ? n + 1 : n, lo);
		value_u32(max, hi);
	}
	return add_range(c, lo, hi);
}

static struct natfilter_cond *new_cond(struct natfilter *f, enum natfilter_field field, uint8_t l3)
{
	struct natfilter_cond *c;

	if (f->n >= NATFILTER_MAX_CONDS)
		return NULL;
	c = &f->c[f->n];
	memset(c, 0, sizeof(*c));
	c->field = field;
	c->l3 = l3;
	return c;
}

/* What nft adds as a dependency: "tcp dport" needs l4proto tcp. */
static void add_implied(struct natfilter *f, enum natfilter_field field, uint32_t value)
{
	struct natfilter_cond *c;
	uint8_t v[16];

	value_u32(value, v);
	for (unsigned int i = 0; i < f->n; i++)
		if (f->c[i].field == field && !f->c[i].negate && f->c[i].n == 1 &&
		    memcmp(f->c[i].r[0].lo, v, 16) == 0 && memcmp(f->c[i].r[0].hi, v, 16) == 0)
			return;
	c = new_cond(f, field, 0);
	if (!c) {
		note_ignored(f, field == NATFILTER_L3 ? "family" : "protocol");
		return;
	}
	add_range(c, v, v);
	f->n++;
}

static void describe_left(const json_t *left, char *buf, size_t len)
{
	const json_t *x;
	const char *key;

	if (json_is_object(left) && (x = json_object_get(left, "payload"))) {
		const char *p = json_string_value(json_object_get(x, "protocol"));
		const char *fld = json_string_value(json_object_get(x, "field"));

		snprintf(buf, len, "%.16s %.16s", p ? p : "?", fld ? fld : "?");
		return;
	}
	if (json_is_object(left) && json_object_size(left) == 1) {
		key = json_object_iter_key(json_object_iter((json_t *)left));
		x = json_object_get(left, key);
		if (json_is_object(x) && json_is_string(json_object_get(x, "key"))) {
			if (strcmp(key, "meta") == 0)
				snprintf(buf, len, "%.24s",
					 json_string_value(json_object_get(x, "key")));
			else
				snprintf(buf, len, "%.16s %.24s", key,
					 json_string_value(json_object_get(x, "key")));
			return;
		}
		snprintf(buf, len, "%.24s", key);
		return;
	}
	snprintf(buf, len, "an expression");
}

/*
 * Which field a match's left side is, and what it implies. Returns false
 * if the field is not one we filter on (after adding what it implies).
 */
static bool classify(struct natfilter *f, const json_t *left, enum natfilter_field *ret_field,
		     uint8_t *ret_l3)
{
	const json_t *x;
	const char *p, *fld, *key;
	int i;

	*ret_l3 = 0;
	if ((x = json_object_get(left, "payload"))) {
		p = json_string_value(json_object_get(x, "protocol"));
		fld = json_string_value(json_object_get(x, "field"));
		if (!p || !fld)
			return false;
		if (strcmp(p, "ip") == 0 || strcmp(p, "ip6") == 0) {
			*ret_l3 = p[2] == '6' ? 6 : 4;
			add_implied(f, NATFILTER_L3, *ret_l3);
			if (strcmp(fld, "saddr") == 0 || strcmp(fld, "daddr") == 0) {
				*ret_field = fld[0] == 's' ? NATFILTER_SADDR : NATFILTER_DADDR;
				return true;
			}
			if ((*ret_l3 == 4 && strcmp(fld, "protocol") == 0) ||
			    (*ret_l3 == 6 && strcmp(fld, "nexthdr") == 0)) {
				*ret_field = NATFILTER_L4PROTO;
				return true;
			}
			return false;
		}
		i = l4_index(p);
		if (i >= 0)
			add_implied(f, NATFILTER_L4PROTO, l4_names[i].proto);
		if ((i >= 0 && l4_names[i].ports) || strcmp(p, "th") == 0) {
			if (strcmp(fld, "sport") == 0 || strcmp(fld, "dport") == 0) {
				*ret_field = fld[0] == 's' ? NATFILTER_SPORT : NATFILTER_DPORT;
				return true;
			}
		}
		return false;
	}
	if ((x = json_object_get(left, "meta"))) {
		key = json_string_value(json_object_get(x, "key"));
		if (key && strcmp(key, "l4proto") == 0) {
			*ret_field = NATFILTER_L4PROTO;
			return true;
		}
		if (key && (strcmp(key, "nfproto") == 0 || strcmp(key, "protocol") == 0)) {
			*ret_field = NATFILTER_L3;
			return true;
		}
	}
	return false;
}

static void add_match(struct natfilter *f, const json_t *match)
{
	const json_t *left = json_object_get(match, "left"),
		     *right = json_object_get(match, "right");
	const char *op = json_string_value(json_object_get(match, "op"));
	enum natfilter_field field;
	struct natfilter_cond *c;
	char what[64];
	bool ok;
	uint8_t l3;

	describe_left(left, what, sizeof(what));
	if (!json_is_object(left) || !op || !classify(f, left, &field, &l3)) {
		note_ignored(f, what);
		return;
	}
	c = new_cond(f, field, l3);
	if (!c) {
		note_ignored(f, what);
		return;
	}
	if (strcmp(op, "==") == 0 || strcmp(op, "in") == 0) {
		ok = add_values(c, right, true);
	} else if (strcmp(op, "!=") == 0) {
		c->negate = true;
		ok = add_values(c, right, true);
	} else if (strcmp(op, "<") == 0 || strcmp(op, ">") == 0 || strcmp(op, "<=") == 0 ||
		   strcmp(op, ">=") == 0) {
		ok = add_comparison(c, op, right);
	} else {
		ok = false;
	}
	if (!ok) {
		/* named sets (@name), concatenations, too many values, names */
		note_ignored(f, what);
		return;
	}
	f->n++;
}

int natfilter_from_listing(const char *json, struct natfilter *ret)
{
	const json_t *items, *item, *rule = NULL, *exprs, *e;
	json_error_t jerr;
	json_t *root;
	size_t i;
	int r = -EINVAL;

	memset(ret, 0, sizeof(*ret));
	root = json_loads(json ? json : "", 0, &jerr);
	if (!root)
		return -EINVAL;
	items = json_object_get(root, "nftables");
	json_array_foreach(items, i, item) if (json_object_get(item, "rule")) rule =
		json_object_get(item, "rule");
	exprs = json_object_get(rule, "expr");
	if (!json_is_array(exprs))
		goto out;
	/* The match comes first; our own statements follow it. */
	json_array_foreach(exprs, i, e)
	{
		const json_t *m = json_object_get(e, "match");

		if (!json_is_object(m))
			break;
		add_match(ret, m);
	}
	r = 0;
out:
	json_decref(root);
	return r;
}

static bool cond_value(const struct natfilter_cond *c, const struct natmap *m, uint8_t *v)
{
	const struct natmap_ep *ep;

	switch (c->field) {
	case NATFILTER_SADDR:
	case NATFILTER_DADDR:
		if (m->l3 != c->l3)
			return false;
		ep = c->field == NATFILTER_SADDR ? &m->orig_src : &m->orig_dst;
		memset(v, 0, 16);
		if (m->l3 == 4)
			memcpy(v + 12, ep->addr, 4);
		else
			memcpy(v, ep->addr, 16);
		return true;
	case NATFILTER_SPORT:
	case NATFILTER_DPORT:
		if (!m->has_ports)
			return false;
		value_u32(c->field == NATFILTER_SPORT ? m->orig_src.port : m->orig_dst.port, v);
		return true;
	case NATFILTER_L4PROTO:
		value_u32(m->l4proto, v);
		return true;
	case NATFILTER_L3:
		value_u32(m->l3, v);
		return true;
	}
	return false;
}

bool natfilter_match(const struct natfilter *f, const struct natmap *m)
{
	uint8_t v[16];

	for (unsigned int i = 0; i < f->n; i++) {
		const struct natfilter_cond *c = &f->c[i];
		bool in = false;

		/* Like nft: a field the packet does not have matches neither == nor !=. */
		if (!cond_value(c, m, v))
			return false;
		for (unsigned int j = 0; j < c->n && !in; j++)
			in = memcmp(v, c->r[j].lo, 16) >= 0 && memcmp(v, c->r[j].hi, 16) <= 0;
		if (in == c->negate)
			return false;
	}
	return true;
}
