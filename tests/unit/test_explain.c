/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Explaining timelines: on trace messages captured from the kernel
 * (tests/fixtures/trace_*.bin with the ruleset listed at capture time) and
 * on hand-built timelines against a ruleset listing written here. The rule
 * cache runs offline; set contents and interface addresses are fakes that
 * count the questions asked.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>

#include "explain.h"
#include "explain_text.h"
#include "format.h"
#include "helpers.h"
#include "owner_render.h"
#include "rulecache.h"
#include "timeline.h"

#define OWN "trace_debug"

/* ---- a resolver over an offline rule cache ---- */

struct env {
	struct rulecache *rc;
	const char *members[8]; /* "set|key" pairs that are in their set */
	unsigned int queries;
	int fail; /* set_member returns this if non-zero */
	/* set_elem_comment: "set|key" asked last, and the comment it answers */
	char elem_asked[256];
	const char *elem_comment;
	unsigned int elem_queries;
	struct timeline tl; /* the last timeline emitted */
	bool have;
	/* what the offline cache lists when it lists again, and how often it did */
	const char *listing;
	unsigned int lists;
};

static const char *r_list(void *ctx)
{
	struct env *e = ctx;

	e->lists++;
	return e->listing;
}

static const char *r_rule(void *ctx, uint8_t family, const char *table, const char *chain,
			  uint64_t handle, bool *ret_deleted)
{
	struct env *e = ctx;

	return rulecache_rule(e->rc, family, table, chain, handle, ret_deleted);
}

static const char *r_hook(void *ctx, uint8_t family, const char *table, const char *chain)
{
	struct env *e = ctx;

	return rulecache_hook(e->rc, family, table, chain);
}

static const char *r_ifname(void *ctx, uint32_t ifindex)
{
	(void)ctx;
	return ifindex == 2 ? "wan0" : ifindex == 3 ? "lan0" : NULL;
}

static int r_chain_rules(void *xctx, uint8_t family, const char *table, const char *chain,
			 uint64_t *ret, unsigned int max, unsigned int *ret_n)
{
	struct env *e = xctx;
	const uint64_t *h;
	unsigned int n;
	int r = rulecache_chain_rules(e->rc, family, table, chain, &h, &n);

	if (r < 0)
		return r;
	if (n > max)
		n = max;
	memcpy(ret, h, n * sizeof(*h));
	*ret_n = n;
	return 0;
}

static void r_base_hooks(void *xctx, uint8_t nfproto, unsigned int *all, unsigned int *nat)
{
	struct env *e = xctx;

	rulecache_base_hooks(e->rc, nfproto, all, nat);
}

static int r_ifaddr(void *xctx, uint32_t ifindex, uint8_t l3, uint8_t ret[16])
{
	(void)xctx;
	if (ifindex != 2 || l3 != 4)
		return -ENOENT;
	inet_pton(AF_INET, "198.51.100.1", ret);
	return 0;
}

static int r_set_member(void *xctx, uint8_t family, const char *table, const char *set,
			const char *key, char *reason, size_t len)
{
	struct env *e = xctx;
	char want[256];

	(void)family;
	(void)table;
	e->queries++;
	if (e->fail) {
		snprintf(reason, len, "fake failure");
		return e->fail;
	}
	snprintf(want, sizeof(want), "%s|%s", set, key);
	for (unsigned int i = 0; i < 8 && e->members[i]; i++)
		if (strcmp(e->members[i], want) == 0)
			return 1;
	return 0;
}

static int r_set_elem_comment(void *xctx, uint8_t family, const char *table, const char *set,
			      const char *key, char *buf, size_t len)
{
	struct env *e = xctx;

	(void)family;
	(void)table;
	e->elem_queries++;
	snprintf(e->elem_asked, sizeof(e->elem_asked), "%s|%s", set, key);
	if (!e->elem_comment)
		return -ENOENT;
	snprintf(buf, len, "%s", e->elem_comment);
	return 0;
}

static struct resolver resolver_for(struct env *e)
{
	return (struct resolver){
		.ctx = e,
		.rule = r_rule,
		.hook = r_hook,
		.ifname = r_ifname,
		.xctx = e,
		.chain_rules = r_chain_rules,
		.base_hooks = r_base_hooks,
		.ifaddr = r_ifaddr,
		.set_member = r_set_member,
		.set_elem_comment = r_set_elem_comment,
	};
}

static char *slurp(const char *name, size_t *ret_len)
{
	char path[512];
	char *buf;
	size_t len;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	buf = malloc(1 << 17);
	assert_non_null(buf);
	len = fread(buf, 1, (1 << 17) - 1, fp);
	fclose(fp);
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return buf;
}

static void keep(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	struct env *e = ctx;

	(void)why;
	e->tl = *tl; /* names stay interned in the table, which lives on */
	e->have = true;
}

static struct timeline_table *new_table(struct env *e)
{
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 4,
		.emit = keep,
		.emit_ctx = e,
	};
	struct timeline_table *t;

	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	return t;
}

/* Our trace rule's event: the packet is ours. */
static void own(struct timeline_table *t, uint32_t id, const struct test_pkt *p)
{
	struct trace_event ev = test_with_pkt(
		test_rule(id, OWN, "trace_prerouting", 1, NFT_CONTINUE, NULL), p, 2, 0);

	timeline_add(t, &ev, 0);
}

static void load_rules(struct env *e, const char *listing)
{
	assert_int_equal(rulecache_new_offline(&e->rc), 0);
	assert_int_equal(rulecache_load_listing(e->rc, listing), 0);
}

/* Feed a captured .bin into t and flush it. */
static void feed_fixture(struct timeline_table *t, const char *name)
{
	size_t len, off = 0;
	char *buf = slurp(name, &len);
	const struct nlmsghdr *nlh;
	bool bad;

	while ((nlh = trace_msg_next(buf, len, &off, &bad))) {
		struct trace_event ev;

		if (trace_decode(nlh, &ev) == 0)
			timeline_add(t, &ev, 0);
	}
	assert_false(bad);
	timeline_flush(t);
	free(buf);
}

/* ---- rule text ---- */

static void test_lookups_concat_negated_vmap(void **state)
{
	struct explain_lookup l[4];

	(void)state;
	assert_int_equal(explain_rule_lookups("ip daddr . tcp dport @allow_in accept", l, 4), 1);
	assert_string_equal(l[0].set, "allow_in");
	assert_int_equal(l[0].n_sel, 2);
	assert_int_equal(l[0].sel[0], EXPLAIN_SEL_IP_DADDR);
	assert_int_equal(l[0].sel[1], EXPLAIN_SEL_TCP_DPORT);
	assert_true(l[0].supported);
	assert_false(l[0].negated);
	assert_false(l[0].is_map);

	assert_int_equal(explain_rule_lookups("ip saddr != @blocked accept", l, 4), 1);
	assert_true(l[0].negated);
	assert_int_equal(l[0].sel[0], EXPLAIN_SEL_IP_SADDR);

	assert_int_equal(explain_rule_lookups("ip daddr vmap @m", l, 4), 1);
	assert_true(l[0].is_map);
	assert_string_equal(l[0].set, "m");

	assert_int_equal(
		explain_rule_lookups(
			"iifname . oifname . meta mark . meta l4proto . th dport . udp sport . ip6 saddr @k accept",
			l, 4),
		1);
	assert_int_equal(l[0].n_sel, 7);
	assert_int_equal(l[0].sel[0], EXPLAIN_SEL_IIFNAME);
	assert_int_equal(l[0].sel[1], EXPLAIN_SEL_OIFNAME);
	assert_int_equal(l[0].sel[2], EXPLAIN_SEL_MARK);
	assert_int_equal(l[0].sel[3], EXPLAIN_SEL_L4PROTO);
	assert_int_equal(l[0].sel[4], EXPLAIN_SEL_TH_DPORT);
	assert_int_equal(l[0].sel[5], EXPLAIN_SEL_UDP_SPORT);
	assert_int_equal(l[0].sel[6], EXPLAIN_SEL_IP6_SADDR);
	assert_true(l[0].supported);
}

static void test_lookups_unsupported_and_statements(void **state)
{
	struct explain_lookup l[4];

	(void)state;
	/* a mask, a ct key: found, but "not evaluated" */
	assert_int_equal(explain_rule_lookups("ip saddr & 255.255.0.0 == @blocked accept", l, 4),
			 1);
	assert_false(l[0].supported);
	assert_non_null(strstr(l[0].expr, "255.255.0.0"));
	assert_int_equal(explain_rule_lookups("ct mark @marks accept", l, 4), 1);
	assert_false(l[0].supported);
	assert_string_equal(l[0].expr, "ct mark");
	assert_int_equal(explain_rule_lookups("ip daddr . ct mark @k accept", l, 4), 1);
	assert_false(l[0].supported);
	/* statements that use a set are not lookups */
	assert_int_equal(explain_rule_lookups("add @seen { ip saddr } accept", l, 4), 0);
	assert_int_equal(explain_rule_lookups("update @seen { ip saddr timeout 1m }", l, 4), 0);
	assert_int_equal(explain_rule_lookups("dnat ip to ip saddr map @m", l, 4), 0);
	/* neither a comment nor a quoted string is a lookup */
	assert_int_equal(explain_rule_lookups("accept comment \"ip saddr @x\"", l, 4), 0);
	assert_int_equal(explain_rule_lookups("iifname \"@wan\" accept", l, 4), 0);
	/* a set name that would need quoting is marked so */
	assert_int_equal(explain_rule_lookups("ip saddr @a;b accept", l, 4), 1);
	assert_false(l[0].set_name_ok);
}

static void test_comment_is_the_quoted_last_comment(void **state)
{
	char buf[64];

	(void)state;
	assert_true(explain_rule_comment("tcp dport 22 drop comment \"no ssh; # really\"", buf,
					 sizeof(buf)));
	assert_string_equal(buf, "no ssh; # really");
	assert_false(explain_rule_comment("drop", buf, sizeof(buf)));
	assert_false(explain_rule_comment("iifname \"comment\" drop", buf, sizeof(buf)));
	assert_false(explain_rule_comment(NULL, buf, sizeof(buf)));
}

static void test_kernel_version_for_ct_attributes(void **state)
{
	(void)state;
	assert_true(explain_kernel_sends_ct("6.18.44-fc-v769"));
	assert_true(explain_kernel_sends_ct("6.16.0"));
	assert_true(explain_kernel_sends_ct("7.0.1"));
	assert_false(explain_kernel_sends_ct("6.15.9"));
	assert_false(explain_kernel_sends_ct("6.1.0-18-amd64"));
	assert_false(explain_kernel_sends_ct("garbage"));
}

/* ---- captured timelines ---- */

static void test_fixture_drop_hint_names_the_missing_pair(void **state)
{
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	char *rules = slurp("trace_drop.ruleset", NULL);
	struct resolver r;
	struct explain ex;
	char buf[512];

	(void)state;
	load_rules(&e, rules);
	r = resolver_for(&e);
	feed_fixture(t, "trace_drop.bin");
	assert_true(e.have);
	explain_timeline(&e.tl, &r, &ex);

	assert_int_equal(ex.sum.verdict, TL_VERDICT_DROP);
	assert_string_equal(explain_verdict_kind(&ex), "drop");
	assert_string_equal(ex.cause_hook, "forward");
	/* forward --jump (handle 8)--> allowed_dnats */
	assert_int_equal(ex.n_via, 1);
	assert_int_equal(e.tl.steps[ex.via[0]].handle, 8);
	/* DNAT from the headers, with the rule that did it */
	assert_int_equal(ex.n_nat, 1);
	assert_int_equal(ex.nat[0].kind, EXPLAIN_NAT_DNAT);
	assert_int_equal(e.tl.steps[ex.nat[0].rule_step].handle, 3);
	assert_string_equal(ex.nat[0].hook, "prerouting");
	/*
	 * Rule 9 (ip daddr . tcp dport @allow_in) did not match: asked with
	 * the key after DNAT. Rule 10 (ip6) cannot match an IPv4 packet.
	 */
	assert_int_equal(ex.n_hints, 1);
	assert_true(ex.hints[0].evaluated);
	assert_false(ex.hints[0].member);
	assert_string_equal(ex.hints[0].key, "203.0.113.10 . 22");
	assert_string_equal(ex.hints[0].set, "allow_in");
	assert_string_equal(ex.hints[0].table, "filter");
	assert_int_equal(ex.hints[0].handle, 9);
	assert_int_equal(e.queries, 1);
	explain_hint_str(&ex.hints[0], buf, sizeof(buf));
	assert_string_equal(buf, "203.0.113.10 . 22 is not in set inet filter allow_in");
	explain_hint_command(&ex.hints[0], buf, sizeof(buf));
	assert_string_equal(buf, "nft add element inet filter allow_in { 203.0.113.10 . 22 }");
	explain_cause_str(&e.tl, &ex, buf, sizeof(buf));
	assert_string_equal(
		buf,
		"drop by rule `drop` (handle 11) in inet filter allowed_dnats, reached from inet filter forward at hook forward via jump allowed_dnats (handle 8)");

	/* Once the pair is in the set, the hint says the rule failed elsewhere. */
	e.members[0] = "allow_in|203.0.113.10 . 22";
	explain_timeline(&e.tl, &r, &ex);
	assert_true(ex.hints[0].member);
	explain_hint_command(&ex.hints[0], buf, sizeof(buf));
	assert_string_equal(buf, "");

	timeline_table_free(t);
	rulecache_free(e.rc);
	free(rules);
}

static void test_fixture_accept_lists_accepts_and_asks_nothing(void **state)
{
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	char *rules = slurp("trace_accept.ruleset", NULL);
	struct resolver r;
	struct explain ex;

	(void)state;
	load_rules(&e, rules);
	r = resolver_for(&e);
	feed_fixture(t, "trace_accept.bin");
	assert_true(e.have);
	explain_timeline(&e.tl, &r, &ex);
	assert_int_equal(ex.sum.verdict, TL_VERDICT_ACCEPT);
	assert_int_equal(ex.n_hints, 0);
	assert_int_equal(e.queries, 0);
	/* nat prerouting (dnat rule), filter forward (allow_in rule), postrouting policy */
	assert_int_equal(ex.n_accepts, 3);
	assert_string_equal(ex.hooks[ex.accepts[0]], "prerouting");
	assert_int_equal(e.tl.steps[ex.accepts[0]].handle, 3);
	assert_string_equal(ex.hooks[ex.accepts[1]], "forward");
	assert_string_equal(e.tl.steps[ex.accepts[1]].chain, "allowed_dnats");
	assert_string_equal(ex.hooks[ex.accepts[2]], "postrouting");
	assert_int_equal(e.tl.steps[ex.accepts[2]].type, TRACE_TYPE_POLICY);
	/* reached postrouting: nothing lost outside the ruleset */
	assert_false(ex.outside);
	timeline_table_free(t);
	rulecache_free(e.rc);
	free(rules);
}

static void test_fixture_ct_watch_quiet_when_kernel_sends_ct(void **state)
{
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	char *rules = slurp("trace_drop.ruleset", NULL);
	struct explain_ct_watch w = {};
	struct resolver r;

	(void)state;
	load_rules(&e, rules);
	r = resolver_for(&e);
	feed_fixture(t, "trace_drop.bin");
	assert_false(explain_ct_watch(&w, &e.tl, &r));
	assert_true(w.seen);
	timeline_table_free(t);
	rulecache_free(e.rc);
	free(rules);
}

/*
 * A reply whose mark mangle prerouting restores with `meta mark set ct
 * mark` (tests/fixtures/trace_mark.bin). The kernel sends the mark as it
 * is after each event's rule, so that rule's own event, the chain's first,
 * already carries 0xca6c. The packet came in unmarked, as `nft monitor
 * trace` shows (the mark first on the policy line after the rule): the
 * mark on entry is the previous event's, and the change is the rule's.
 */
static void test_fixture_mark_restored_by_first_rule_is_not_on_entry(void **state)
{
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	char *rules = slurp("trace_mark.ruleset", NULL), *out = NULL;
	const struct timeline *tl = &e.tl;
	const struct tl_hdr *pre = NULL, *fwd = NULL;
	struct resolver r;
	struct explain ex;
	size_t len;
	FILE *f;

	(void)state;
	load_rules(&e, rules);
	r = resolver_for(&e);
	feed_fixture(t, "trace_mark.bin");
	assert_true(e.have);
	explain_timeline(tl, &r, &ex);
	assert_int_equal(ex.sum.verdict, TL_VERDICT_ACCEPT);
	for (int i = 0; i < tl->n_steps; i++) {
		const struct tl_step *s = &tl->steps[i];

		if (s->hdr >= 0 && strcmp(s->table, "mangle") == 0)
			*(strcmp(s->chain, "prerouting") == 0 ? &pre : &fwd) = &tl->hdrs[s->hdr];
	}
	assert_non_null(pre);
	assert_non_null(fwd);
	/* entered mangle prerouting unmarked, mangle forward marked */
	assert_false(pre->present & TRACE_HAS_MARK);
	assert_int_equal(pre->mark, 0);
	assert_true(fwd->present & TRACE_HAS_MARK);
	assert_int_equal(fwd->mark, 0xca6c);
	assert_false(ex.sum.packet->present & TRACE_HAS_MARK);

	f = open_memstream(&out, &len);
	assert_int_equal(format_text(f, tl, &ex), 0);
	fclose(f);
	/* the change at the rule that made it, and nowhere else */
	assert_non_null(strstr(out,
			       "      rule `ct direction reply meta mark set ct mark` (handle 3): "
			       "continue; mark 0x0 -> 0xca6c\n"));
	assert_null(strstr(strstr(out, "-> 0xca6c") + 1, "-> 0x"));
	assert_null(strstr(out, "iif lan0 mark"));
	free(out);

	f = open_memstream(&out, &len);
	assert_int_equal(format_json_line(f, tl, &ex), 0);
	fclose(f);
	assert_non_null(strstr(out, "\"mark_change\":{\"from\":0,\"to\":51820}"));
	assert_null(strstr(strstr(out, "mark_change") + 1, "mark_change"));
	free(out);
	timeline_table_free(t);
	rulecache_free(e.rc);
	free(rules);
}

/* ---- hand-built timelines ---- */

static const char lab_rules[] =
	"table inet nat { # handle 1\n"
	"\tchain prerouting { # handle 1\n"
	"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	"\t\tiifname \"wan0\" tcp dport 1222 dnat ip to 203.0.113.10:22 # handle 3\n"
	"\t}\n"
	"\tchain postrouting { # handle 2\n"
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	"\t\toifname \"wan0\" masquerade # handle 4\n"
	"\t\tip saddr 203.0.113.11 tcp dport 80 snat ip to 198.51.100.1:2000 # handle 5\n"
	"\t}\n"
	"}\n"
	"table inet filter { # handle 2\n"
	"\tchain input { # handle 1\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t}\n"
	"\tchain forward { # handle 2\n"
	"\t\ttype filter hook forward priority filter; policy drop;\n"
	"\t\tip saddr @trusted accept # handle 10\n"
	"\t\tiifname . ip daddr @ifaddr_ok accept comment \"per interface\" # handle 11\n"
	"\t\tjump checks # handle 12\n"
	"\t\tgoto final # handle 13\n"
	"\t}\n"
	"\tchain checks { # handle 3\n"
	"\t\tip daddr vmap @dispatch # handle 20\n"
	"\t\tmeta mark @marks accept # handle 21\n"
	"\t\tct mark @ctmarks accept # handle 22\n"
	"\t}\n"
	"\tchain final { # handle 4\n"
	"\t\tudp dport @udp_ok accept # handle 30\n"
	"\t\ttcp dport @tcp_ok accept # handle 31\n"
	"\t\treject with tcp reset comment \"last resort\" # handle 32\n"
	"\t}\n"
	"}\n";

static void test_policy_drop_scans_base_and_returned_chains(void **state)
{
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	struct test_pkt fwd;
	struct resolver r;
	struct explain ex;
	char buf[512];

	(void)state;
	load_rules(&e, lab_rules);
	r = resolver_for(&e);
	test_ipv4_tcp(&fwd, "198.51.100.2", 40000, "203.0.113.10", 22, 0x02);
	/* forward: jump checks, checks ends, back, ... falls to the policy. */
	{
		struct trace_event ev;

		own(t, 1, &fwd);
		ev = test_with_pkt(test_rule(1, "filter", "forward", 12, NFT_JUMP, "checks"), &fwd,
				   2, 3);
		ev.present |= TRACE_HAS_MARK;
		ev.mark = 0x10;
		timeline_add(t, &ev, 0);
		ev = test_rule(1, "filter", "checks", 0, NFT_CONTINUE, NULL);
		timeline_add(t, &ev, 0);
		/* goto is not taken here: the rule 13 is skipped by hand below */
		ev = test_rule(1, "filter", "forward", 0, NFT_CONTINUE, NULL);
		timeline_add(t, &ev, 0);
		ev = test_policy(1, "filter", "forward", NF_DROP);
		timeline_add(t, &ev, 0);
	}
	assert_true(e.have);
	explain_timeline(&e.tl, &r, &ex);
	assert_int_equal(ex.sum.verdict, TL_VERDICT_DROP);
	assert_int_equal(ex.n_via, 0);
	explain_cause_str(&e.tl, &ex, buf, sizeof(buf));
	assert_string_equal(buf, "drop by policy in inet filter forward at hook forward");
	/*
	 * forward 10, 11 (before the jump), checks 20, 21, 22 (to its end);
	 * 13 after the jump has no set.
	 */
	assert_int_equal(ex.n_hints, 5);
	assert_string_equal(ex.hints[0].set, "trusted");
	assert_string_equal(ex.hints[0].key, "198.51.100.2");
	assert_string_equal(ex.hints[1].set, "ifaddr_ok");
	assert_string_equal(ex.hints[1].key, "\"wan0\" . 203.0.113.10");
	assert_string_equal(ex.hints[2].set, "dispatch");
	assert_true(ex.hints[2].is_map);
	assert_string_equal(ex.hints[2].key, "203.0.113.10");
	explain_hint_command(&ex.hints[2], buf, sizeof(buf));
	assert_string_equal(buf, "nft add element inet filter dispatch { 203.0.113.10 : VERDICT }");
	explain_hint_str(&ex.hints[2], buf, sizeof(buf));
	assert_string_equal(buf, "203.0.113.10 is not in map inet filter dispatch");
	/* meta mark, as the kernel sent it */
	assert_string_equal(ex.hints[3].set, "marks");
	assert_string_equal(ex.hints[3].key, "0x00000010");
	assert_true(ex.hints[3].evaluated);
	/* ct mark: not evaluated, never guessed */
	assert_string_equal(ex.hints[4].set, "ctmarks");
	assert_false(ex.hints[4].evaluated);
	assert_non_null(strstr(ex.hints[4].reason, "`ct mark` is not supported"));
	assert_int_equal(e.queries, 4);
	timeline_table_free(t);
	rulecache_free(e.rc);
}

static void test_goto_path_and_reject_with_comment(void **state)
{
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	struct test_pkt fwd;
	struct resolver r;
	struct explain ex;
	struct trace_event ev;
	char buf[512];

	(void)state;
	load_rules(&e, lab_rules);
	r = resolver_for(&e);
	test_ipv4_tcp(&fwd, "198.51.100.2", 40000, "203.0.113.10", 22, 0x02);
	/* ip saddr is trusted? no; jump checks returns; goto final; reject */
	own(t, 2, &fwd);
	ev = test_with_pkt(test_rule(2, "filter", "forward", 12, NFT_JUMP, "checks"), &fwd, 2, 3);
	timeline_add(t, &ev, 0);
	ev = test_rule(2, "filter", "checks", 0, NFT_CONTINUE, NULL);
	timeline_add(t, &ev, 0);
	ev = test_rule(2, "filter", "forward", 13, NFT_GOTO, "final");
	timeline_add(t, &ev, 0);
	ev = test_rule(2, "filter", "final", 32, NF_DROP, NULL);
	timeline_add(t, &ev, 0);
	assert_true(e.have);
	e.fail = 0;
	explain_timeline(&e.tl, &r, &ex);
	assert_string_equal(explain_verdict_kind(&ex), "reject");
	assert_int_equal(ex.n_via, 1);
	assert_int_equal(e.tl.steps[ex.via[0]].verdict, NFT_GOTO);
	explain_cause_str(&e.tl, &ex, buf, sizeof(buf));
	assert_string_equal(
		buf,
		"reject by rule `reject with tcp reset comment \"last resort\"` (handle 32, comment \"last resort\") in inet filter final, reached from inet filter forward at hook forward via goto final (handle 13)");
	/* final: udp dport cannot match tcp (no hint); tcp dport 22 asked */
	{
		bool tcp_ok = false;

		for (unsigned int i = 0; i < ex.n_hints; i++) {
			assert_string_not_equal(ex.hints[i].set, "udp_ok");
			if (strcmp(ex.hints[i].set, "tcp_ok") == 0) {
				tcp_ok = true;
				assert_string_equal(ex.hints[i].key, "22");
				assert_int_equal(ex.hints[i].handle, 31);
			}
		}
		assert_true(tcp_ok);
	}
	timeline_table_free(t);
	rulecache_free(e.rc);
}

/* A goto does not return: the chain it leaves is not resumed. */
static void test_goto_returns_to_the_caller_of_the_jump(void **state)
{
	static const char rules[] = "table inet t { # handle 1\n"
				    "\tchain fw { # handle 1\n"
				    "\t\ttype filter hook forward priority filter; policy drop;\n"
				    "\t\tjump a # handle 1\n"
				    "\t\tip saddr @after_jump accept # handle 2\n"
				    "\t}\n"
				    "\tchain a { # handle 2\n"
				    "\t\tgoto b # handle 3\n"
				    "\t\tip saddr @in_a_after_goto accept # handle 4\n"
				    "\t}\n"
				    "\tchain b { # handle 3\n"
				    "\t\tip daddr @in_b accept # handle 5\n"
				    "\t}\n"
				    "}\n";
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	struct test_pkt p;
	struct trace_event ev;
	struct resolver r;
	struct explain ex;

	(void)state;
	load_rules(&e, rules);
	r = resolver_for(&e);
	test_ipv4_tcp(&p, "192.0.2.7", 1, "192.0.2.8", 2, 0x02);
	own(t, 11, &p);
	ev = test_with_pkt(test_rule(11, "t", "fw", 1, NFT_JUMP, "a"), &p, 2, 3);
	timeline_add(t, &ev, 0);
	ev = test_rule(11, "t", "a", 3, NFT_GOTO, "b");
	timeline_add(t, &ev, 0);
	ev = test_rule(11, "t", "b", 0, NFT_CONTINUE, NULL);
	timeline_add(t, &ev, 0);
	ev = test_rule(11, "t", "fw", 0, NFT_CONTINUE, NULL);
	timeline_add(t, &ev, 0);
	ev = test_policy(11, "t", "fw", NF_DROP);
	timeline_add(t, &ev, 0);
	explain_timeline(&e.tl, &r, &ex);
	assert_int_equal(ex.n_hints, 2);
	assert_string_equal(ex.hints[0].set, "in_b");
	assert_string_equal(ex.hints[1].set, "after_jump");
	timeline_table_free(t);
	rulecache_free(e.rc);
}

static void test_same_key_asked_once_and_errors_not_evaluated(void **state)
{
	static const char rules[] = "table ip f { # handle 1\n"
				    "\tchain fw { # handle 1\n"
				    "\t\ttype filter hook forward priority filter; policy drop;\n"
				    "\t\tip saddr @s accept # handle 2\n"
				    "\t\tip saddr @s counter accept # handle 3\n"
				    "\t\tip saddr @gone accept # handle 4\n"
				    "\t\tip daddr @d1 accept # handle 5\n"
				    "\t\tip daddr @d2 accept # handle 6\n"
				    "\t\tip daddr @d3 accept # handle 7\n"
				    "\t}\n"
				    "}\n";
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	struct test_pkt p;
	struct trace_event ev;
	struct resolver r;
	struct explain ex;

	(void)state;
	load_rules(&e, rules);
	r = resolver_for(&e);
	test_ipv4_tcp(&p, "192.0.2.7", 1, "192.0.2.8", 2, 0x02);
	own(t, 3, &p);
	ev = test_with_pkt(test_rule(3, "f", "fw", 0, NFT_CONTINUE, NULL), &p, 2, 3);
	ev.family = NFPROTO_IPV4;
	timeline_add(t, &ev, 0);
	ev = test_policy(3, "f", "fw", NF_DROP);
	ev.family = NFPROTO_IPV4;
	timeline_add(t, &ev, 0);
	explain_timeline(&e.tl, &r, &ex);
	assert_int_equal(ex.n_hints, 6);
	/* @s once, @gone, @d1, @d2: then the per-packet limit */
	assert_int_equal(e.queries, EXPLAIN_MAX_QUERIES);
	assert_true(ex.hints[1].evaluated);
	assert_string_equal(ex.hints[1].key, "192.0.2.7");
	assert_true(ex.hints[4].evaluated);
	assert_false(ex.hints[5].evaluated);
	assert_string_equal(ex.hints[5].key, "192.0.2.8");
	assert_non_null(strstr(ex.hints[5].reason, "set lookups in one packet"));

	e.queries = 0;
	e.fail = -EIO;
	explain_timeline(&e.tl, &r, &ex);
	assert_false(ex.hints[0].evaluated);
	assert_string_equal(ex.hints[0].reason, "fake failure");
	timeline_table_free(t);
	rulecache_free(e.rc);
}

static const struct natmap masq = {
	.nat = NATMAP_NAT_SNAT,
	.l3 = 4,
	.l4proto = IPPROTO_TCP,
	.has_ports = true,
	.orig_src = { { 203, 0, 113, 10 }, 40000 },
	.orig_dst = { { 198, 51, 100, 2 }, 80 },
	.reply_src = { { 198, 51, 100, 2 }, 80 },
	.reply_dst = { { 198, 51, 100, 1 }, 50123 },
};

static const struct natmap *masq_mapping(void *ctx, const struct tl_ct *ct,
					 const struct packet_info *orig)
{
	(void)ctx;
	(void)ct;
	return orig->sport == 40000 ? &masq : NULL;
}

static void test_masquerade_and_snat_from_postrouting_rule(void **state)
{
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	struct test_pkt out, in;
	struct trace_event ev;
	struct resolver r;
	struct explain ex;
	char from[PACKET_ADDRSTRLEN], to[PACKET_ADDRSTRLEN], buf[256];

	(void)state;
	load_rules(&e, lab_rules);
	r = resolver_for(&e);
	/* server 203.0.113.10 connects out through wan0 (ifindex 2) */
	test_ipv4_tcp(&in, "203.0.113.10", 40000, "198.51.100.2", 80, 0x02);
	test_ipv4_tcp(&out, "203.0.113.10", 40000, "198.51.100.2", 80, 0x02);
	ev = test_with_pkt(test_rule(4, OWN, "trace_prerouting", 1, NFT_CONTINUE, NULL), &in, 3, 0);
	timeline_add(t, &ev, 0);
	ev = test_with_pkt(test_rule(4, "filter", "forward", 10, NF_ACCEPT, NULL), &in, 3, 2);
	timeline_add(t, &ev, 0);
	ev = test_with_pkt(test_rule(4, "nat", "postrouting", 4, NF_ACCEPT, NULL), &out, 3, 2);
	timeline_add(t, &ev, 0);
	timeline_flush(t);
	explain_timeline(&e.tl, &r, &ex);
	assert_int_equal(ex.n_nat, 1);
	assert_int_equal(ex.nat[0].kind, EXPLAIN_NAT_MASQUERADE);
	assert_int_equal(ex.nat[0].source, EXPLAIN_NAT_FROM_RULE);
	assert_int_equal(ex.nat[0].oif, 2);
	explain_nat_endpoints(&ex.nat[0], from, to, sizeof(from));
	assert_string_equal(from, "203.0.113.10:40000");
	/* the kernel may pick another port: never assume it kept this one */
	assert_string_equal(to, "198.51.100.1:?");
	explain_nat_str(&ex.nat[0], buf, sizeof(buf));
	assert_string_equal(buf, "masquerade 203.0.113.10:40000 -> 198.51.100.1:? via wan0");

	/* conntrack knows the port it chose (fully-random, a clash, ...) */
	r.mapping = masq_mapping;
	explain_timeline(&e.tl, &r, &ex);
	assert_true(ex.has_mapping);
	assert_true(ex.nat[0].from_ct);
	explain_nat_endpoints(&ex.nat[0], from, to, sizeof(from));
	assert_string_equal(to, "198.51.100.1:50123");
	r.mapping = NULL;

	/* snat to a fixed address and port */
	test_ipv4_tcp(&out, "203.0.113.11", 40001, "198.51.100.2", 80, 0x02);
	ev = test_with_pkt(test_rule(5, OWN, "trace_prerouting", 1, NFT_CONTINUE, NULL), &out, 3,
			   0);
	timeline_add(t, &ev, 0);
	ev = test_with_pkt(test_rule(5, "nat", "postrouting", 5, NF_ACCEPT, NULL), &out, 3, 2);
	timeline_add(t, &ev, 0);
	timeline_flush(t);
	explain_timeline(&e.tl, &r, &ex);
	assert_int_equal(ex.n_nat, 1);
	assert_int_equal(ex.nat[0].kind, EXPLAIN_NAT_SNAT);
	explain_nat_endpoints(&ex.nat[0], from, to, sizeof(from));
	assert_string_equal(to, "198.51.100.1:2000");

	/* no address for that interface: say where, not what */
	r.ifaddr = NULL;
	test_ipv4_tcp(&out, "203.0.113.10", 40000, "198.51.100.2", 80, 0x02);
	own(t, 6, &out);
	ev = test_with_pkt(test_rule(6, "nat", "postrouting", 4, NF_ACCEPT, NULL), &out, 3, 2);
	timeline_add(t, &ev, 0);
	timeline_flush(t);
	explain_timeline(&e.tl, &r, &ex);
	explain_nat_str(&ex.nat[0], buf, sizeof(buf));
	assert_string_equal(buf, "masquerade 203.0.113.10:40000 -> address of wan0");
	timeline_table_free(t);
	rulecache_free(e.rc);
}

static void test_snat_from_conntrack_status(void **state)
{
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	struct test_pkt p;
	struct trace_event ev;
	struct resolver r;
	struct explain ex;

	(void)state;
	load_rules(&e, lab_rules);
	r = resolver_for(&e);
	test_ipv4_tcp(&p, "203.0.113.10", 40000, "198.51.100.2", 80, 0x10);
	own(t, 7, &p);
	ev = test_with_pkt(test_rule(7, "filter", "forward", 10, NF_ACCEPT, NULL), &p, 3, 2);
	ev.present |= TRACE_HAS_CT_STATUS | TRACE_HAS_CT_DIRECTION | TRACE_HAS_CT_STATE;
	ev.ct_status = 0x19e; /* seen-reply,assured,confirmed,snat,snat-done */
	ev.ct_state = 2;
	timeline_add(t, &ev, 0);
	timeline_flush(t);
	explain_timeline(&e.tl, &r, &ex);
	assert_int_equal(ex.n_nat, 1);
	assert_int_equal(ex.nat[0].source, EXPLAIN_NAT_FROM_CONNTRACK);
	assert_false(ex.nat[0].addr_known);
	timeline_table_free(t);
	rulecache_free(e.rc);
}

static void test_outside_ruleset_only_when_later_hooks_have_chains(void **state)
{
	static const char only_pre[] =
		"table ip raw { # handle 1\n"
		"\tchain pre { # handle 1\n"
		"\t\ttype filter hook prerouting priority raw; policy accept;\n"
		"\t}\n"
		"}\n";
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	struct test_pkt p;
	struct trace_event ev;
	struct resolver r;
	struct explain ex;
	char buf[512];

	(void)state;
	load_rules(&e, lab_rules);
	r = resolver_for(&e);
	/* accepted at prerouting, never seen at input or forward */
	test_ipv4_tcp(&p, "198.51.100.2", 40000, "198.51.100.1", 9999, 0x02);
	ev = test_with_pkt(test_rule(8, OWN, "trace_prerouting", 1, NFT_CONTINUE, NULL), &p, 2, 0);
	timeline_add(t, &ev, 0);
	ev = test_with_pkt(test_rule(8, "nat", "prerouting", 0, NFT_CONTINUE, NULL), &p, 2, 0);
	ev.present |= TRACE_HAS_CT_STATE;
	ev.ct_state = 8;
	timeline_add(t, &ev, 0);
	ev = test_policy(8, "nat", "prerouting", NF_ACCEPT);
	timeline_add(t, &ev, 0);
	timeline_flush(t);
	explain_timeline(&e.tl, &r, &ex);
	assert_true(ex.outside);
	assert_string_equal(ex.outside_after, "prerouting");
	assert_int_equal(ex.outside_expected, 1u << NF_INET_LOCAL_IN | 1u << NF_INET_FORWARD |
						      1u << NF_INET_POST_ROUTING);
	explain_cause_str(&e.tl, &ex, buf, sizeof(buf));
	assert_non_null(strstr(
		buf, "never reached input, forward or postrouting: dropped outside the ruleset"));

	/* incomplete timelines prove nothing */
	e.tl.lossy = true;
	explain_timeline(&e.tl, &r, &ex);
	assert_false(ex.outside);
	e.tl.lossy = false;

	/* with no base chain at input or forward, nothing was expected */
	assert_int_equal(rulecache_load_listing(e.rc, only_pre), 0);
	explain_timeline(&e.tl, &r, &ex);
	assert_false(ex.outside);
	timeline_table_free(t);
	rulecache_free(e.rc);
}

/* A kernel that answers with a fixed result, and records the question. */
struct fake_kernel {
	struct vanish_result answer;
	struct vanish_query asked;
	int calls;
};

static void fake_vanish(void *vctx, const struct vanish_query *q, struct vanish_result *ret)
{
	struct fake_kernel *k = vctx;

	k->asked = *q;
	k->calls++;
	*ret = k->answer;
}

/*
 * With only a nat prerouting chain, an accept there proves nothing: the
 * kernel is asked whatever later chains exist, and its answer decides
 * between lost (a named reason) and where the packet went.
 */
static void test_outside_asks_the_kernel_without_later_chains(void **state)
{
	static const char only_pre[] =
		"table inet nat { # handle 1\n"
		"\tchain prerouting { # handle 1\n"
		"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		"\t}\n"
		"}\n";
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	struct fake_kernel k = {};
	struct test_pkt p;
	struct trace_event ev;
	struct resolver r;
	struct explain ex;
	char buf[512];

	(void)state;
	load_rules(&e, only_pre);
	r = resolver_for(&e);
	r.vctx = &k;
	r.vanish = fake_vanish;
	test_ipv4_tcp(&p, "198.51.100.2", 40000, "203.0.113.10", 22, 0x02);
	ev = test_with_pkt(test_rule(8, OWN, "trace_prerouting", 1, NFT_CONTINUE, NULL), &p, 2, 0);
	timeline_add(t, &ev, 0);
	ev = test_with_pkt(test_rule(8, "nat", "prerouting", 0, NFT_CONTINUE, NULL), &p, 2, 0);
	ev.present |= TRACE_HAS_CT_STATE | TRACE_HAS_CT_DIRECTION;
	ev.ct_state = 8;
	timeline_add(t, &ev, 0);
	ev = test_policy(8, "nat", "prerouting", NF_ACCEPT);
	timeline_add(t, &ev, 0);
	timeline_flush(t);

	/* the kernel refuses it: lost, with the reason, though no chain follows */
	k.answer.reason = VANISH_FORWARDING_OFF;
	snprintf(k.answer.evidence, sizeof(k.answer.evidence),
		 "not forwarded: net.ipv4.ip_forward is 0 in this namespace");
	explain_timeline(&e.tl, &r, &ex);
	assert_int_equal(k.calls, 1);
	assert_int_equal(k.asked.hook, VANISH_HOOK_PREROUTING);
	assert_int_equal(k.asked.expected, 0);
	assert_true(k.asked.ct_known && k.asked.ct_new && !k.asked.ct_reply);
	assert_true(ex.outside);
	assert_false(ex.after_ruleset);
	assert_string_equal(ex.outside_after, "prerouting");
	explain_cause_str(&e.tl, &ex, buf, sizeof(buf));
	assert_non_null(strstr(buf, "; then dropped outside the ruleset: not forwarded: "
				    "net.ipv4.ip_forward is 0 in this namespace"));

	/* the kernel forwards it: where it went, nothing lost */
	memset(&k.answer, 0, sizeof(k.answer));
	k.answer.reason = VANISH_UNKNOWN;
	k.answer.next = VANISH_NEXT_FORWARD;
	snprintf(k.answer.next_oif, sizeof(k.answer.next_oif), "lan0");
	explain_timeline(&e.tl, &r, &ex);
	assert_false(ex.outside);
	assert_true(ex.after_ruleset);
	assert_string_equal(vanish_next_name(&ex.outside_why), "forwarded");
	explain_cause_str(&e.tl, &ex, buf, sizeof(buf));
	assert_null(strstr(buf, "outside"));

	/* not checked (rate limit): neither lost nor said to have gone on */
	memset(&k.answer, 0, sizeof(k.answer));
	k.answer.reason = VANISH_NOT_CHECKED;
	explain_timeline(&e.tl, &r, &ex);
	assert_false(ex.outside);
	assert_true(ex.after_ruleset);
	assert_string_equal(vanish_next_name(&ex.outside_why), "not_checked");

	/* without a kernel to ask, nothing is said (as before) */
	r.vanish = NULL;
	explain_timeline(&e.tl, &r, &ex);
	assert_false(ex.outside);
	assert_false(ex.after_ruleset);
	timeline_table_free(t);
	rulecache_free(e.rc);
}

static void test_ct_watch_fires_once_without_ct_attributes(void **state)
{
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	struct explain_ct_watch w = {};
	struct test_pkt p;
	struct trace_event ev;
	struct resolver r;

	(void)state;
	load_rules(&e, lab_rules);
	r = resolver_for(&e);
	test_ipv4_tcp(&p, "198.51.100.2", 40000, "203.0.113.10", 22, 0x02);
	ev = test_with_pkt(test_rule(9, OWN, "trace_prerouting", 1, NFT_CONTINUE, NULL), &p, 2, 0);
	timeline_add(t, &ev, 0);
	ev = test_with_pkt(test_rule(9, "nat", "prerouting", 3, NF_ACCEPT, NULL), &p, 2, 0);
	timeline_add(t, &ev, 0);
	timeline_flush(t);
	/* prerouting only: a raw-priority chain has no ct either; no claim */
	assert_false(explain_ct_watch(&w, &e.tl, &r));
	ev = test_with_pkt(test_rule(10, OWN, "trace_prerouting", 1, NFT_CONTINUE, NULL), &p, 2, 0);
	timeline_add(t, &ev, 0);
	ev = test_with_pkt(test_rule(10, "filter", "forward", 10, NF_ACCEPT, NULL), &p, 2, 3);
	timeline_add(t, &ev, 0);
	timeline_flush(t);
	assert_true(explain_ct_watch(&w, &e.tl, &r));
	assert_false(explain_ct_watch(&w, &e.tl, &r));
	timeline_table_free(t);
	rulecache_free(e.rc);
}

/* kube-proxy's no-endpoints path, as tests/rulesets/kube-proxy lists it */
static const char kube_rules[] =
	"table ip kube-proxy { # handle 1\n"
	"\tchain filter-forward { # handle 1\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tct state new jump service-endpoints-check # handle 10\n"
	"\t}\n"
	"\tchain service-endpoints-check { # handle 2\n"
	"\t\tip daddr . meta l4proto . th dport vmap @no-endpoint-services # handle 20\n"
	"\t}\n"
	"\tchain reject-chain { # handle 3\n"
	"\t\treject # handle 30\n"
	"\t}\n"
	"}\n";

/*
 * A Service without endpoints is named by its map element's comment,
 * asked of the resolver once, with the packet's key (issue 19 item 8:
 * it was named by its address only).
 */
static void test_kube_service_named_by_element_comment(void **state)
{
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	struct test_pkt syn;
	struct trace_event ev;
	struct resolver r;
	struct explain ex;
	char buf[512];

	(void)state;
	load_rules(&e, kube_rules);
	r = resolver_for(&e);
	test_ipv4_tcp(&syn, "203.0.113.2", 40000, "198.51.100.46", 80, 0x02);
	own(t, 3, &syn);
	ev = test_with_pkt(test_rule(3, "kube-proxy", "filter-forward", 10, NFT_JUMP,
				     "service-endpoints-check"),
			   &syn, 2, 3);
	ev.family = NFPROTO_IPV4;
	timeline_add(t, &ev, 0);
	ev = test_rule(3, "kube-proxy", "service-endpoints-check", 20, NFT_GOTO, "reject-chain");
	ev.family = NFPROTO_IPV4;
	timeline_add(t, &ev, 0);
	ev = test_rule(3, "kube-proxy", "reject-chain", 30, NF_DROP, NULL);
	ev.family = NFPROTO_IPV4;
	timeline_add(t, &ev, 0);
	assert_true(e.have);

	e.elem_comment = "ns6/svc6:p80";
	explain_timeline(&e.tl, &r, &ex);
	assert_string_equal(explain_verdict_kind(&ex), "reject");
	assert_int_equal(e.elem_queries, 1);
	assert_string_equal(e.elem_asked, "no-endpoint-services|198.51.100.46 . tcp . 80");
	assert_true(ex.has_cause_owner);
	owner_str(&ex.cause_owner, false, buf, sizeof(buf));
	assert_string_equal(
		buf, "kube-proxy no endpoints, Service ns6/svc6:p80, address 198.51.100.46:80/tcp");

	/* no comment, or none of kube-proxy's form: the address alone */
	e.elem_comment = NULL;
	explain_timeline(&e.tl, &r, &ex);
	owner_str(&ex.cause_owner, false, buf, sizeof(buf));
	assert_string_equal(buf, "kube-proxy no endpoints, Service 198.51.100.46:80/tcp");
	e.elem_comment = "\x1b]0;pwned\a";
	explain_timeline(&e.tl, &r, &ex);
	owner_str(&ex.cause_owner, false, buf, sizeof(buf));
	assert_string_equal(buf, "kube-proxy no endpoints, Service 198.51.100.46:80/tcp");
	assert_int_equal(e.elem_queries, 3);
	timeline_table_free(t);
	rulecache_free(e.rc);
}

/*
 * Rule R's table is deleted along with more rules than the deleted ring
 * keeps, while the cache is stale. A packet meets R (still in the cache),
 * then a rule no listing has (a chain binding's): the miss lists again,
 * which pushes R out of the ring (issue 21: out of the live chains). R's
 * text must live on until the explanation has been rendered (ASan sees it
 * otherwise), and a second change right after must wait for the re-list
 * rate limit.
 */
#define FILLERS 1100
static void test_text_outlives_a_relist_during_its_explanation(void **state)
{
	static const char keep_table[] =
		"table inet keep { # handle 9\n"
		"\tchain fwd { # handle 1\n"
		"\t\ttype filter hook forward priority filter; policy accept;\n"
		"\t\tmeta l4proto tcp counter # handle 3\n"
		"\t}\n"
		"}\n";
	struct env e = {};
	struct timeline_table *t = new_table(&e);
	size_t cap = 256 + FILLERS * 48 + sizeof(keep_table), off;
	char *before = malloc(cap), buf[512];
	struct test_pkt p, f;
	struct trace_event ev;
	struct resolver r;
	struct explain ex;

	(void)state;
	assert_non_null(before);
	off = (size_t)snprintf(before, cap,
			       "table inet vict { # handle 7\n"
			       "\tchain pre { # handle 1\n"
			       "\t\ttype filter hook prerouting priority filter; policy accept;\n"
			       "\t\ttcp dport 22 counter comment \"R, about to go\" # handle 2\n"
			       "\t}\n"
			       "}\n"
			       "table inet fill { # handle 8\n"
			       "\tchain c { # handle 1\n");
	for (unsigned int i = 0; i < FILLERS; i++)
		off += (size_t)snprintf(before + off, cap - off,
					"\t\ttcp dport %u counter # handle %u\n", 1000 + i, 2 + i);
	snprintf(before + off, cap - off, "\t}\n}\n%s", keep_table);
	load_rules(&e, before);
	rulecache_offline_lister(e.rc, r_list, &e);
	e.listing = keep_table;
	/* `delete table inet vict; delete table inet fill`, not listed yet */
	rulecache_offline_changed(e.rc);
	r = resolver_for(&e);

	test_ipv4_tcp(&p, "198.51.100.2", 40000, "203.0.113.10", 22, 0x02);
	test_ipv4_tcp(&f, "198.51.100.2", 40000, "203.0.113.10", 22, 0x02);
	for (uint32_t id = 11; id <= 12; id++) {
		own(t, id, &p);
		ev = test_with_pkt(test_rule(id, "vict", "pre", 2, NFT_CONTINUE, NULL), &p, 2, 0);
		timeline_add(t, &ev, 0);
		ev = test_policy(id, "vict", "pre", NF_ACCEPT);
		timeline_add(t, &ev, 0);
		/* a chain binding's rule: its handle is in no listing */
		ev = test_with_pkt(test_rule(id, "keep", "fwd", 77, NF_ACCEPT, NULL), &f, 2, 3);
		timeline_add(t, &ev, 0);
		timeline_flush(t);
		explain_timeline(&e.tl, &r, &ex);
		if (id == 11) {
			/* the miss listed again, and R left the deleted ring */
			assert_int_equal(e.lists, 1);
			explain_step_str(&e.tl.steps[0], &ex.rules[0], true, buf, sizeof(buf));
			assert_non_null(strstr(buf, "tcp dport 22 counter"));
			assert_non_null(strstr(buf, "R, about to go"));
			explain_cause_str(&e.tl, &ex, buf, sizeof(buf));
			assert_non_null(strstr(buf, "handle 77"));
			/* rendered: what it handed out may go now */
			rulecache_epoch_end(e.rc);
			/* another change at once: within the rate limit, no listing */
			rulecache_offline_changed(e.rc);
		} else {
			assert_int_equal(e.lists, 1);
			/*
			 * Issue 21: R's chain went with its table, and a deleted
			 * chain keeps its texts while the LRU keeps it: R is
			 * still named, said deleted (issue 19's version of this
			 * test had it pushed out of the ring: "unknown").
			 */
			assert_non_null(ex.rules[0].text);
			assert_true(ex.rules[0].deleted);
			assert_non_null(strstr(ex.rules[0].text, "R, about to go"));
		}
	}
	timeline_table_free(t);
	rulecache_free(e.rc);
	free(before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups_concat_negated_vmap),
		cmocka_unit_test(test_lookups_unsupported_and_statements),
		cmocka_unit_test(test_comment_is_the_quoted_last_comment),
		cmocka_unit_test(test_kernel_version_for_ct_attributes),
		cmocka_unit_test(test_fixture_drop_hint_names_the_missing_pair),
		cmocka_unit_test(test_fixture_accept_lists_accepts_and_asks_nothing),
		cmocka_unit_test(test_fixture_ct_watch_quiet_when_kernel_sends_ct),
		cmocka_unit_test(test_fixture_mark_restored_by_first_rule_is_not_on_entry),
		cmocka_unit_test(test_policy_drop_scans_base_and_returned_chains),
		cmocka_unit_test(test_goto_path_and_reject_with_comment),
		cmocka_unit_test(test_goto_returns_to_the_caller_of_the_jump),
		cmocka_unit_test(test_same_key_asked_once_and_errors_not_evaluated),
		cmocka_unit_test(test_masquerade_and_snat_from_postrouting_rule),
		cmocka_unit_test(test_snat_from_conntrack_status),
		cmocka_unit_test(test_outside_ruleset_only_when_later_hooks_have_chains),
		cmocka_unit_test(test_outside_asks_the_kernel_without_later_chains),
		cmocka_unit_test(test_ct_watch_fires_once_without_ct_attributes),
		cmocka_unit_test(test_kube_service_named_by_element_comment),
		cmocka_unit_test(test_text_outlives_a_relist_during_its_explanation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
