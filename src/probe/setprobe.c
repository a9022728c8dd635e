/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nftables/libnftables.h>

#include "clock.h"
#include "hash.h"
#include "setprobe.h"

/* Interface addresses change rarely; a packet's interfaces repeat. */
#define IFADDR_CACHE  16
#define IFADDR_TTL_NS (1000ull * 1000 * 1000)
#define CMD_MAX	      512

/*
 * libnftables 1.0.6 loads the whole set to answer "get element": 40-130 us
 * for a small set, 37 ms for one of 10,000 elements here. So besides the
 * rate, queries may take at most 1/(COST_FACTOR + 1) of the time, and an
 * answer is reused for the same question for ANSWER_TTL_NS (a set changed
 * meanwhile shows up that much later).
 */
#define COST_FACTOR   10
#define ANSWER_CACHE  64
#define ANSWER_TTL_NS (1000ull * 1000 * 1000)

/* "Could not process rule: No such file or directory": the key is absent. */
#define NOT_MEMBER_ERR "Could not process rule: No such file or directory"
/* An element's comment: the kernel keeps at most NFT_USERDATA_MAXLEN (256) bytes. */
#define COMMENT_MAX    257

struct ifaddr_entry {
	uint32_t index;
	uint8_t l3;
	bool ok;
	uint64_t at;
	uint8_t addr[16];
};

struct answer {
	uint64_t at; /* 0: empty */
	bool member;
	char query[CMD_MAX];
	char comment[COMMENT_MAX]; /* of the element, when member */
};

struct setprobe {
	struct nft_ctx *nft;
	uint64_t busy_until_ns; /* cost-based pause */
	struct answer answers[ANSWER_CACHE];
	struct rulecache *rules;
	uint64_t refill_ns;
	unsigned int tokens;
	struct setprobe_stats stats;
	struct ifaddr_entry ifa[IFADDR_CACHE];
};

int setprobe_new(struct rulecache *rules, struct setprobe **ret)
{
	struct setprobe *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->rules = rules;
	s->tokens = SETPROBE_BURST;
	s->refill_ns = now_ns();
	s->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!s->nft || nft_ctx_buffer_output(s->nft) < 0 || nft_ctx_buffer_error(s->nft) < 0) {
		setprobe_free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

struct setprobe *setprobe_free(struct setprobe *s)
{
	if (!s)
		return NULL;
	if (s->nft)
		nft_ctx_free(s->nft);
	free(s);
	return NULL;
}

const struct setprobe_stats *setprobe_stats(const struct setprobe *s)
{
	return &s->stats;
}

static uint32_t hash_str(const char *p)
{
	return hash_fnv1a(HASH_FNV1A_INIT, p, strlen(p));
}

static bool take_token(struct setprobe *s)
{
	uint64_t now = now_ns(), per = 1000000000ull / SETPROBE_RATE;

	while (s->tokens < SETPROBE_BURST && now - s->refill_ns >= per) {
		s->tokens++;
		s->refill_ns += per;
	}
	if (s->tokens == SETPROBE_BURST)
		s->refill_ns = now;
	if (s->tokens == 0)
		return false;
	s->tokens--;
	return true;
}

/* Defence in depth: explain_hints.c already built these from checked parts. */
static bool safe(const char *str, bool key)
{
	for (; *str; str++) {
		char c = *str;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == '-' || c == '/')
			continue;
		if (key && (c == ' ' || c == ':' || c == '"'))
			continue;
		return false;
	}
	return true;
}

/* The first line of libnftables' error, without "Error: ". */
static void first_error_line(const char *err, char *buf, size_t len)
{
	const char *nl;

	if (!err || !*err) {
		snprintf(buf, len, "libnftables gave no reason");
		return;
	}
	if (strncmp(err, "Error: ", 7) == 0)
		err += 7;
	nl = strchr(err, '\n');
	snprintf(buf, len, "%.*s", (int)(nl ? nl - err : (long)strlen(err)), err);
}

/*
 * libnftables 1.0.6 has no JSON for "get element"; its text shows the
 * element as "elements = { KEY comment "TEXT" : VERDICT }" (the comment
 * before the data, nft's own order). The comment's text, "" if none.
 */
static void elem_comment(const char *out, char *buf, size_t len)
{
	const char *elems = out ? strstr(out, "elements = { ") : NULL;
	const char *eol, *c, *end;

	buf[0] = '\0';
	if (!elems)
		return;
	eol = strchr(elems, '\n');
	c = strstr(elems, " comment \"");
	if (!c || (eol && c > eol))
		return;
	c += strlen(" comment \"");
	end = strchr(c, '"');
	if (!end || (eol && end > eol))
		return;
	snprintf(buf, len, "%.*s", (int)(end - c), c);
}

/*
 * "get element": 1 a member (with its comment), 0 not, or -errno with the
 * reason. Rate-limited; answers are reused for ANSWER_TTL_NS.
 */
static int get_element(struct setprobe *s, uint8_t family, const char *table, const char *set,
		       const char *key, char *comment, size_t comment_len, char *reason,
		       size_t reason_len)
{
	const char *fam = trace_family_name(family), *err, *out;
	char cmd[CMD_MAX];
	struct answer *ans;
	uint64_t now, end;
	int r, n;

	if (!safe(table, false) || !safe(set, false) || !safe(key, true) || !safe(fam, false)) {
		snprintf(reason, reason_len,
			 "a name or the key has characters nft would read as syntax");
		return -EINVAL;
	}
	n = snprintf(cmd, sizeof(cmd), "get element %s %s %s { %s }", fam, table, set, key);
	if (n < 0 || (size_t)n >= sizeof(cmd)) {
		snprintf(reason, reason_len, "the query is too long");
		return -E2BIG;
	}
	ans = &s->answers[hash_str(cmd) % ANSWER_CACHE];
	now = now_ns();
	if (ans->at && now - ans->at < ANSWER_TTL_NS && strcmp(ans->query, cmd) == 0) {
		s->stats.cached++;
		if (comment && comment_len)
			snprintf(comment, comment_len, "%s", ans->comment);
		return ans->member;
	}
	if (now < s->busy_until_ns || !take_token(s)) {
		s->stats.limited++;
		snprintf(reason, reason_len,
			 "set queries are rate-limited (%d per second, %d%% of the time)",
			 SETPROBE_RATE, 100 / (COST_FACTOR + 1));
		return -EAGAIN;
	}
	s->stats.queries++;
	r = nft_run_cmd_from_buffer(s->nft, cmd);
	out = nft_ctx_get_output_buffer(s->nft); /* read, which also empties it */
	err = nft_ctx_get_error_buffer(s->nft);
	end = now_ns();
	s->busy_until_ns = end + (end - now) * COST_FACTOR;
	if (r == 0 || (err && strstr(err, NOT_MEMBER_ERR))) {
		ans->at = end;
		ans->member = r == 0;
		memcpy(ans->query, cmd, (size_t)n + 1);
		ans->comment[0] = '\0';
		if (ans->member)
			elem_comment(out, ans->comment, sizeof(ans->comment));
		if (comment && comment_len)
			snprintf(comment, comment_len, "%s", ans->comment);
		return ans->member;
	}
	s->stats.errors++;
	first_error_line(err, reason, reason_len);
	if (strcmp(reason, "No such file or directory") == 0)
		snprintf(reason, reason_len, "no set or map %s in table %s %s", set, fam, table);
	return -EIO;
}

static int set_member(void *xctx, uint8_t family, const char *table, const char *set,
		      const char *key, char *reason, size_t reason_len)
{
	return get_element(xctx, family, table, set, key, NULL, 0, reason, reason_len);
}

static int set_elem_comment(void *xctx, uint8_t family, const char *table, const char *set,
			    const char *key, char *buf, size_t len)
{
	char reason[128];
	int r;

	if (len)
		buf[0] = '\0';
	r = get_element(xctx, family, table, set, key, buf, len, reason, sizeof(reason));
	return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

static int chain_rules(void *xctx, uint8_t family, const char *table, const char *chain,
		       uint64_t *ret_handles, unsigned int max, unsigned int *ret_n)
{
	struct setprobe *s = xctx;
	const uint64_t *h;
	unsigned int n;
	int r;

	r = rulecache_chain_rules(s->rules, family, table, chain, &h, &n);
	if (r < 0)
		return r;
	if (n > max)
		n = max;
	memcpy(ret_handles, h, n * sizeof(*h));
	*ret_n = n;
	return 0;
}

static void base_hooks(void *xctx, uint8_t nfproto, unsigned int *ret_all, unsigned int *ret_nat)
{
	struct setprobe *s = xctx;

	rulecache_base_hooks(s->rules, nfproto, ret_all, ret_nat);
}

static bool link_local6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/*
 * The first address of the interface (the first global one for IPv6):
 * what masquerade picks on an interface with one address per family. With
 * several, the kernel chooses by route, which this does not redo.
 */
static int lookup_ifaddr(uint32_t ifindex, uint8_t l3, uint8_t *ret)
{
	struct ifaddrs *list, *i;
	char name[IF_NAMESIZE];
	int r = -ENOENT;

	if (!if_indextoname(ifindex, name))
		return -errno;
	if (getifaddrs(&list) < 0)
		return -errno;
	for (i = list; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, name) != 0)
			continue;
		if (l3 == 4 && i->ifa_addr->sa_family == AF_INET) {
			memcpy(ret, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
			r = 0;
			break;
		}
		if (l3 == 6 && i->ifa_addr->sa_family == AF_INET6) {
			const uint8_t *a =
				((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr.s6_addr;

			if (link_local6(a))
				continue;
			memcpy(ret, a, 16);
			r = 0;
			break;
		}
	}
	freeifaddrs(list);
	return r;
}

static int ifaddr(void *xctx, uint32_t ifindex, uint8_t l3, uint8_t ret_addr[16])
{
	struct setprobe *s = xctx;
	struct ifaddr_entry *e = &s->ifa[(ifindex * 2 + (l3 == 6)) % IFADDR_CACHE];
	uint64_t now = now_ns();

	if (!(e->at && e->index == ifindex && e->l3 == l3 && now - e->at < IFADDR_TTL_NS)) {
		e->index = ifindex;
		e->l3 = l3;
		e->at = now;
		e->ok = lookup_ifaddr(ifindex, l3, e->addr) == 0;
	}
	if (!e->ok)
		return -ENOENT;
	memcpy(ret_addr, e->addr, 16);
	return 0;
}

void setprobe_resolver(struct setprobe *s, struct resolver *r)
{
	r->xctx = s;
	r->chain_rules = chain_rules;
	r->base_hooks = base_hooks;
	r->ifaddr = ifaddr;
	r->set_member = set_member;
	r->set_elem_comment = set_elem_comment;
}
