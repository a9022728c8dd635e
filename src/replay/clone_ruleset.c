/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The clone's ruleset: one `list ruleset` of the source through
 * libnftables, less our own table and the owner/persist flags, loaded in
 * the clone in one batch; then the handle map, from a rule dump of each
 * side matched by (family, table, chain, place in the chain).
 *
 * The source's generation id is read before the listing and after its
 * rule dump: a change in between (a rule added, a reload) would map
 * handles of two different rulesets, so the listing is taken again.
 *
 * The clone's libnftables context is made while the thread is in the
 * clone and used only there: its netlink socket, whenever libnftables
 * opens it, is the clone's.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>

#include "clone.h"
#include "clone_int.h"

static struct nft_ctx *nft_new(void)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!nft)
		return NULL;
	if (nft_ctx_buffer_output(nft) < 0 || nft_ctx_buffer_error(nft) < 0) {
		nft_ctx_free(nft);
		return NULL;
	}
	return nft;
}

/*
 * nft's error text after what. libnftables empties its error buffer as it
 * hands it out: read once, here.
 */
static void nft_error_text(const char *e, const char *what, char *err, size_t errlen)
{
	size_t n = e ? strlen(e) : 0;

	while (n && e[n - 1] == '\n')
		n--;
	snprintf(err, errlen, "%s%s%.*s", what, n ? ": " : "", (int)n, n ? e : "");
}

static void nft_error(struct nft_ctx *nft, const char *what, char *err, size_t errlen)
{
	nft_error_text(nft_ctx_get_error_buffer(nft), what, err, errlen);
}

/* ---- generation id and rule dumps ---- */

static void nft_req(struct nlmsghdr *nlh, uint16_t msg, uint16_t flags)
{
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | msg;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
}

static int genid(uint32_t *id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct clone_msgs m = { 0 };
	int r;

	nft_req(nlh, NFT_MSG_GETGEN, NLM_F_ACK); /* the ack ends the answer */
	r = clone_nl_dump(NETLINK_NETFILTER, nlh, &m);
	*id = 0;
	for (size_t i = 0; r == 0 && i < m.n; i++) {
		const struct nlattr *a;

		mnl_attr_for_each(a, m.v[i], sizeof(struct nfgenmsg))
		{
			if (mnl_attr_get_type(a) == NFTA_GEN_ID &&
			    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				*id = ntohl(mnl_attr_get_u32(a));
		}
	}
	clone_msgs_free(&m);
	return r;
}

void clone_rules_free(struct clone_rules *r)
{
	for (size_t i = 0; i < r->nstrs; i++)
		free(r->strs[i]);
	free(r->strs);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* name in the pool: the dump gives a chain's rules in a row, so the last one usually. */
static const char *pool_name(struct clone_rules *r, const char *name)
{
	char *copy;

	if (r->nstrs && strcmp(r->strs[r->nstrs - 1], name) == 0)
		return r->strs[r->nstrs - 1];
	if (r->nstrs > 1 && strcmp(r->strs[r->nstrs - 2], name) == 0)
		return r->strs[r->nstrs - 2];
	if (r->nstrs == r->strcap) {
		size_t cap = r->strcap ? r->strcap * 2 : 64;
		void *v = realloc(r->strs, cap * sizeof(*r->strs));

		if (!v)
			return NULL;
		r->strs = v;
		r->strcap = cap;
	}
	copy = strdup(name);
	if (copy)
		r->strs[r->nstrs++] = copy;
	return copy;
}

struct dump_state {
	struct clone_rules *rules;
	const char *skip_table;
	int err;
};

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const char *table = NULL, *chain = NULL;
	struct dump_state *d = data;
	struct clone_rules *r = d->rules;
	struct clone_rule *e, *prev;
	const struct nlattr *a;
	uint64_t handle = 0;

	mnl_attr_for_each(a, nlh, sizeof(*g))
	{
		switch (mnl_attr_get_type(a)) {
		case NFTA_RULE_TABLE:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				table = mnl_attr_get_str(a);
			break;
		case NFTA_RULE_CHAIN:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				chain = mnl_attr_get_str(a);
			break;
		case NFTA_RULE_HANDLE:
			if (mnl_attr_validate(a, MNL_TYPE_U64) == 0)
				handle = be64toh(mnl_attr_get_u64(a));
			break;
		}
	}
	if (!table || !chain || (d->skip_table && strcmp(table, d->skip_table) == 0))
		return MNL_CB_OK;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		void *v = realloc(r->v, cap * sizeof(*r->v));

		if (!v)
			goto nomem;
		r->v = v;
		r->cap = cap;
	}
	e = &r->v[r->n];
	e->family = g->nfgen_family;
	e->table = pool_name(r, table);
	e->chain = pool_name(r, chain);
	if (!e->table || !e->chain)
		goto nomem;
	e->handle = handle;
	prev = r->n ? &r->v[r->n - 1] : NULL;
	e->pos = prev && prev->family == e->family && strcmp(prev->table, e->table) == 0 &&
				 strcmp(prev->chain, e->chain) == 0
			 ? prev->pos + 1
			 : 0;
	r->n++;
	return MNL_CB_OK;
nomem:
	d->err = -ENOMEM;
	return MNL_CB_ERROR;
}

/* Every rule of the current namespace, in the kernel's order. */
static int dump_rules(struct clone_rules *rules, const char *skip_table)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct dump_state d = { rules, skip_table, 0 };
	struct clone_msgs m = { 0 };
	int r;

	clone_rules_free(rules);
	nft_req(nlh, NFT_MSG_GETRULE, NLM_F_DUMP);
	r = clone_nl_dump(NETLINK_NETFILTER, nlh, &m);
	for (size_t i = 0; r == 0 && i < m.n; i++)
		if (rule_cb(m.v[i], &d) != MNL_CB_OK)
			r = d.err;
	clone_msgs_free(&m);
	return r;
}

/* ---- the listing ---- */

static bool starts(const char *s, const char *end, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(end - s) >= n && memcmp(s, word, n) == 0;
}

/* "table inet name {": the name's length, its start in *name. */
static size_t table_name(const char *line, const char *end, const char **name)
{
	const char *p = line + 6, *q;

	while (p < end && *p != ' ')
		p++; /* the family */
	q = ++p;
	while (q < end && *q != ' ')
		q++;
	*name = p;
	return p < end ? (size_t)(q - p) : 0;
}

/* "\tflags owner,persist" less owner and persist, with its newline; nothing when none is left. */
static size_t strip_flags(const char *line, const char *end, char *out)
{
	const char *p = line + 7;
	size_t n = 0;

	while (p < end) {
		const char *q = memchr(p, ',', (size_t)(end - p));
		size_t len;

		if (!q)
			q = end;
		len = (size_t)(q - p);
		if (!(len == 5 && memcmp(p, "owner", 5) == 0) &&
		    !(len == 7 && memcmp(p, "persist", 7) == 0)) {
			memcpy(out + n, n ? "," : "\tflags ", n ? 1 : 7);
			n += n ? 1 : 7;
			memcpy(out + n, p, len);
			n += len;
		}
		p = q + 1;
	}
	if (n)
		out[n++] = '\n';
	return n;
}

/*
 * The listing less skip_table (every family) and the owner/persist flags,
 * which would tie the clone's tables to a process. *bridge names the first
 * table of family bridge, if any.
 */
static char *strip_listing(const char *in, const char *skip, char *bridge, size_t blen)
{
	size_t len = strlen(in), o = 0;
	char *out = malloc(len + 2);
	bool skipping = false;
	const char *p = in;

	if (!out)
		return NULL;
	bridge[0] = '\0';
	while (*p) {
		const char *end = strchr(p, '\n'), *name;
		size_t n;

		if (!end)
			end = p + strlen(p);
		if (starts(p, end, "table ")) {
			n = table_name(p, end, &name);
			skipping = skip && n == strlen(skip) && memcmp(name, skip, n) == 0;
			if (!skipping && starts(p, end, "table bridge ") && !bridge[0])
				snprintf(bridge, blen, "%.*s", (int)n, name);
		}
		if (!skipping && starts(p, end, "\tflags ")) {
			o += strip_flags(p, end, out + o);
		} else if (!skipping) {
			memcpy(out + o, p, (size_t)(end - p));
			o += (size_t)(end - p);
			out[o++] = '\n';
		}
		if (skipping && starts(p, end, "}"))
			skipping = false;
		p = *end ? end + 1 : end;
	}
	out[o] = '\0';
	return out;
}

static int list_once(struct clone *c, const char *skip, char *bridge, size_t blen, char *err,
		     size_t errlen)
{
	struct nft_ctx *nft = nft_new();
	int r = 0;

	if (!nft)
		return -ENOMEM;
	if (nft_run_cmd_from_buffer(nft, "list ruleset") != 0) {
		nft_error(nft, "cannot list the source's ruleset", err, errlen);
		r = -EIO;
	} else {
		free(c->listing);
		c->listing = strip_listing(nft_ctx_get_output_buffer(nft), skip, bridge, blen);
		if (!c->listing)
			r = -ENOMEM;
	}
	nft_ctx_free(nft);
	return r;
}

static int refuse_bridge(const struct clone *c, const char *table, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->nlinks; i++)
		if (c->links[i].bridge) {
			snprintf(err, errlen,
				 "bridge %s: the ruleset has table bridge %s, and bridge family "
				 "chains are not replayed",
				 c->links[i].name, table);
			return -EOPNOTSUPP;
		}
	return 0;
}

int clone_ruleset_read(struct clone *c, const char *skip_table, char *err, size_t errlen)
{
	char bridge[256];

	for (int i = 0; i < CLONE_LIST_TRIES; i++) {
		uint32_t before, after;
		int r;

		if ((r = genid(&before)) < 0 ||
		    (r = list_once(c, skip_table, bridge, sizeof(bridge), err, errlen)) < 0 ||
		    (r = dump_rules(&c->src_rules, skip_table)) < 0 ||
		    (r = clone_xt_read(c, err, errlen)) < 0 || (r = genid(&after)) < 0) {
			if (!err[0])
				snprintf(err, errlen, "cannot read the source's ruleset: %s",
					 strerror(-r));
			return r;
		}
		if (before == after)
			return bridge[0] ? refuse_bridge(c, bridge, err, errlen) : 0;
	}
	snprintf(err, errlen, "the source's ruleset changed while it was copied, %d times",
		 CLONE_LIST_TRIES);
	return -EAGAIN;
}

/* ---- the handle map ---- */

static int cmp_place(const void *a, const void *b)
{
	const struct clone_rule *x = a, *y = b;
	int r;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if ((r = strcmp(x->table, y->table)) || (r = strcmp(x->chain, y->chain)))
		return r;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int cmp_key(uint8_t fa, const char *ta, uint64_t ha, uint8_t fb, const char *tb, uint64_t hb)
{
	int r;

	if (fa != fb)
		return fa < fb ? -1 : 1;
	if ((r = strcmp(ta, tb)))
		return r;
	return ha < hb ? -1 : ha > hb;
}

static int cmp_clone(const void *a, const void *b)
{
	const struct clone_hmap *x = a, *y = b;

	return cmp_key(x->family, x->table, x->clone_handle, y->family, y->table, y->clone_handle);
}

static int cmp_real(const void *a, const void *b)
{
	const struct clone_hmap *x = a, *y = b;

	return cmp_key(x->family, x->table, x->real, y->family, y->table, y->real);
}

/* The clone's rules, place by place against the source's: both sides sorted. */
static int build_map(struct clone *c, char *err, size_t errlen)
{
	struct clone_rules *s = &c->src_rules, *k = &c->clone_rules;
	size_t n = s->n;
	int r;

	free(c->map);
	free(c->rmap);
	c->map = c->rmap = NULL;
	c->nmap = 0;
	r = dump_rules(k, NULL);
	if (r < 0) {
		snprintf(err, errlen, "cannot list the clone's rules: %s", strerror(-r));
		return r;
	}
	qsort(s->v, s->n, sizeof(*s->v), cmp_place);
	qsort(k->v, k->n, sizeof(*k->v), cmp_place);
	for (size_t i = 0; i < n || i < k->n; i++) {
		const struct clone_rule *x = i < n ? &s->v[i] : NULL,
					*y = i < k->n ? &k->v[i] : NULL;

		if (!x || !y || cmp_place(x, y) != 0) {
			x = x ? x : y;
			snprintf(err, errlen,
				 "the clone's rules differ from the source's in chain %s of table "
				 "%s (%zu rules copied of %zu)",
				 x->chain, x->table, k->n, n);
			return -EPROTO;
		}
	}
	c->map = calloc(n ? n : 1, sizeof(*c->map));
	c->rmap = calloc(n ? n : 1, sizeof(*c->rmap));
	if (!c->map || !c->rmap)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		c->map[i] = (struct clone_hmap){ k->v[i].table, k->v[i].handle, s->v[i].handle,
						 s->v[i].family };
	memcpy(c->rmap, c->map, n * sizeof(*c->map));
	qsort(c->map, n, sizeof(*c->map), cmp_clone);
	qsort(c->rmap, n, sizeof(*c->rmap), cmp_real);
	c->nmap = n;
	return 0;
}

bool clone_real_handle(const struct clone *c, uint8_t family, const char *table,
		       uint64_t clone_handle, uint64_t *real)
{
	struct clone_hmap key = { table, clone_handle, 0, family }, *m;

	if (!c->nmap || !table)
		return false;
	m = bsearch(&key, c->map, c->nmap, sizeof(key), cmp_clone);
	if (m)
		*real = m->real;
	return m != NULL;
}

bool clone_clone_handle(const struct clone *c, uint8_t family, const char *table, uint64_t real,
			uint64_t *clone_handle)
{
	struct clone_hmap key = { table, 0, real, family }, *m;

	if (!c->nmap || !table)
		return false;
	m = bsearch(&key, c->rmap, c->nmap, sizeof(key), cmp_real);
	if (m)
		*clone_handle = m->clone_handle;
	return m != NULL;
}

bool clone_map_entry(const struct clone *c, size_t i, uint8_t *family, const char **table,
		     uint64_t *clone_handle, uint64_t *real)
{
	if (i >= c->nmap)
		return false;
	*family = c->map[i].family;
	*table = c->map[i].table;
	*clone_handle = c->map[i].clone_handle;
	*real = c->map[i].real;
	return true;
}

/* ---- loading ---- */

/* nft's "PATH:LINE:" in its error: the listing's table at that line. */
static void failing_table(const char *listing, const char *path, const char *nfterr, char *out,
			  size_t len)
{
	const char *p = nfterr ? strstr(nfterr, path) : NULL, *t = NULL;
	long line, at = 1;

	out[0] = '\0';
	if (!p || p[strlen(path)] != ':' || (line = strtol(p + strlen(path) + 1, NULL, 10)) <= 0)
		return;
	for (p = listing; *p && at <= line; p++) {
		if ((p == listing || p[-1] == '\n') && strncmp(p, "table ", 6) == 0)
			t = p;
		if (*p == '\n')
			at++;
	}
	if (t) {
		int n = (int)strcspn(t, "{\n");

		while (n > 0 && t[n - 1] == ' ')
			n--;
		snprintf(out, len, "%.*s", n, t);
	}
}

/* e with the memfd's path as "listing": the user never saw that file. */
static void unpath(const char *e, const char *path, char *out, size_t len)
{
	size_t o = 0, plen = strlen(path);

	while (e && *e && o + 8 < len) {
		if (strncmp(e, path, plen) == 0) {
			o += (size_t)snprintf(out + o, len - o, "listing");
			e += plen;
		} else {
			out[o++] = *e++;
		}
	}
	out[o < len ? o : len - 1] = '\0';
}

/*
 * The listing through a memfd: nft names the file's line in its errors
 * and shows that line (from a buffer it shows the wrong one).
 */
static int load_listing(struct clone *c, const char *text, char *err, size_t errlen)
{
	char path[64], where[300], what[400];
	size_t len = strlen(text), off = 0;
	int fd = memfd_create("nattraced-clone", MFD_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	while (off < len && r == 0) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0)
			r = -errno;
		else
			off += (size_t)n;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (r == 0 && nft_run_cmd_from_filename(c->nft, path) != 0) {
		const char *e = nft_ctx_get_error_buffer(c->nft);

		char *msg = malloc(errlen ? errlen : 1);

		failing_table(text, path, e, where, sizeof(where));
		snprintf(what, sizeof(what), "the source ruleset cannot be loaded back%s%s%s",
			 where[0] ? " (" : "", where, where[0] ? ")" : "");
		if (msg)
			unpath(e, path, msg, errlen ? errlen : 1);
		nft_error_text(msg, what, err, errlen);
		free(msg);
		r = -EOPNOTSUPP;
	}
	close(fd);
	return r;
}

int clone_ruleset_run(struct clone *c, const char *text, const char *what, char *err, size_t errlen)
{
	if (nft_run_cmd_from_buffer(c->nft, text) == 0)
		return 0;
	nft_error(c->nft, what, err, errlen);
	return -EINVAL;
}

/* In the clone: the listing (or the file) in one batch, then the map. */
int clone_ruleset_load(struct clone *c, char *err, size_t errlen)
{
	int r;

	if (!c->nft && !(c->nft = nft_new()))
		return -ENOMEM;
	if (c->ruleset_file) {
		if (nft_run_cmd_from_filename(c->nft, c->ruleset_file) == 0)
			return 0;
		nft_error(c->nft, "the --ruleset file cannot be loaded", err, errlen);
		return -EINVAL;
	}
	r = load_listing(c, c->listing, err, errlen);
	if (r == 0)
		r = clone_xt_load(c, err, errlen);
	if (r < 0)
		return r;
	return build_map(c, err, errlen);
}

int clone_reset_ruleset(struct clone *c, char *err, size_t errlen)
{
	int back, r = clone_visit(c, &back);

	if (r < 0)
		return r;
	if (c->ruleset_file) {
		r = clone_ruleset_run(c, "flush ruleset", "cannot flush the clone's ruleset", err,
				      errlen);
		if (r == 0)
			r = clone_ruleset_load(c, err, errlen);
	} else {
		size_t n = strlen(c->listing);
		char *text = malloc(n + 16);

		r = -ENOMEM;
		if (text) {
			/* one batch: the clone is never seen empty */
			snprintf(text, n + 16, "flush ruleset\n%s", c->listing);
			r = load_listing(c, text, err, errlen);
			free(text);
		}
		if (r == 0)
			r = clone_xt_load(c, err, errlen);
		if (r == 0)
			r = build_map(c, err, errlen);
	}
	clone_return(back);
	return r;
}
