/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fields of a timeline's journal entry, built without sending them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "helpers.h"
#include "journal.h"
#include "natmap.h"

#define OWN "trace_debug"

static const char *fake_rule(void *ctx, uint8_t family, const char *table, const char *chain,
			     uint64_t handle, bool *ret_deleted)
{
	(void)ctx;
	(void)chain;
	(void)family;
	*ret_deleted = false;
	if (strcmp(table, "nat") == 0 && handle == 3)
		return "iifname \"wan0\" tcp dport 1222 dnat ip to 203.0.113.10:22";
	if (strcmp(table, "filter") == 0 && handle == 5)
		return "ct status dnat jump allowed_dnats";
	if (strcmp(table, "filter") == 0 && handle == 7)
		return "drop";
	if (handle == 9)
		return "drop comment \"\x1b]0;pwned\x07\"";
	return NULL;
}

static const char *fake_hook(void *ctx, uint8_t family, const char *table, const char *chain)
{
	(void)ctx;
	(void)family;
	(void)table;
	return strcmp(chain, "allowed_dnats") == 0 ? NULL : chain;
}

static const struct resolver resolver = { .rule = fake_rule, .hook = fake_hook };

static struct journal_fields fields;
static struct explain ex;

static void collect(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	(void)ctx;
	(void)why;
	journal_fields_free(&fields);
	explain_timeline(tl, &resolver, &ex);
	assert_int_equal(journal_timeline_fields(tl, &ex, &fields), 0);
}

static void add(struct timeline_table *t, struct trace_event ev)
{
	timeline_add(t, &ev, 0);
}

/* The value of KEY, NULL if absent; fails if KEY is there twice. */
static const char *field(const char *key)
{
	const char *found = NULL;
	size_t n = strlen(key);

	for (size_t i = 0; i < fields.n; i++) {
		if (strncmp(fields.field[i], key, n) == 0 && fields.field[i][n] == '=') {
			assert_null(found);
			found = fields.field[i] + n + 1;
		}
	}
	return found;
}

static struct timeline_table *table(void)
{
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 4,
		.emit = collect,
	};
	struct timeline_table *t;

	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	return t;
}

static void test_drop_fields_priority_message(void **state)
{
	struct timeline_table *t = table();
	struct test_pkt in, fwd;
	const uint32_t id = 0x06fed0fb;

	(void)state;
	test_ipv4_tcp(&in, "198.51.100.2", 44976, "198.51.100.1", 1222, 0x02);
	test_ipv4_tcp(&fwd, "198.51.100.2", 44976, "203.0.113.10", 22, 0x02);
	add(t, test_with_pkt(test_rule(id, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL), &in, 2,
			     0));
	add(t, test_with_pkt(test_rule(id, "nat", "prerouting", 3, NF_ACCEPT, NULL), &in, 2, 0));
	add(t, test_with_pkt(test_rule(id, "filter", "forward", 5, NFT_JUMP, "allowed_dnats"), &fwd,
			     2, 3));
	add(t, test_rule(id, "filter", "allowed_dnats", 7, NF_DROP, NULL));
	timeline_table_free(t);

	assert_string_equal(field("MESSAGE_ID"), JOURNAL_MSGID_TIMELINE);
	assert_string_equal(field("PRIORITY"), "4");
	assert_string_equal(field("SYSLOG_IDENTIFIER"), "nattraced");
	assert_string_equal(field("NATTRACE_ID"), "06fed0fb");
	assert_string_equal(field("NATTRACE_VERDICT"), "drop");
	assert_string_equal(field("NATTRACE_COMPLETE"), "true");
	assert_string_equal(field("NATTRACE_PROTO"), "tcp");
	assert_string_equal(field("NATTRACE_SRC"), "198.51.100.2:44976");
	assert_string_equal(field("NATTRACE_DST"), "198.51.100.1:1222");
	assert_string_equal(field("NATTRACE_NAT"), "dnat 198.51.100.1:1222 -> 203.0.113.10:22");
	assert_string_equal(field("NATTRACE_CAUSE"), "drop");
	assert_string_equal(field("NATTRACE_CAUSE_FAMILY"), "inet");
	assert_string_equal(field("NATTRACE_CAUSE_TABLE"), "filter");
	assert_string_equal(field("NATTRACE_CAUSE_CHAIN"), "allowed_dnats");
	assert_string_equal(field("NATTRACE_CAUSE_HANDLE"), "7");
	assert_string_equal(field("NATTRACE_CAUSE_CHAIN_PATH"), "forward -> allowed_dnats");
	assert_non_null(strstr(field("NATTRACE_JSON"), "\"verdict\":\"drop\""));
	assert_null(strchr(field("NATTRACE_JSON"), '\n'));
	/* summary line first, then the steps, no trailing blank line */
	static const char summary[] =
		"tcp 198.51.100.2:44976 -> 198.51.100.1:1222, dnat 198.51.100.1:1222 -> "
		"203.0.113.10:22: drop by rule `drop` (handle 7) in inet filter "
		"allowed_dnats [trace 06fed0fb]\n";
	if (strncmp(field("MESSAGE"), summary, strlen(summary)) != 0)
		fail_msg("MESSAGE starts '%.200s'", field("MESSAGE"));
	assert_non_null(
		strstr(field("MESSAGE"), "\n      rule `ct status dnat jump allowed_dnats`"));
	assert_false(field("MESSAGE")[strlen(field("MESSAGE")) - 1] == '\n');
	journal_fields_free(&fields);
}

/*
 * Events lost while the packet was in flight: its last accept may be from
 * the middle of its path, so the verdict is unknown, never "accept".
 */
static void test_ipv6_accept_with_lost_events_is_unknown(void **state)
{
	struct timeline_table *t = table();
	struct test_pkt p;
	struct trace_event ev;

	(void)state;
	test_ipv6_udp(&p, "2001:db8:1::2", 5353, "2001:db8:2::10", 53);
	ev = test_with_pkt(test_rule(9, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL), &p, 2, 0);
	ev.nfproto = NFPROTO_IPV6;
	add(t, ev);
	ev = test_with_pkt(test_rule(9, "filter", "input", 0, NFT_CONTINUE, NULL), &p, 2, 0);
	ev.nfproto = NFPROTO_IPV6;
	add(t, ev);
	ev = test_policy(9, "filter", "input", NF_ACCEPT);
	ev.nfproto = NFPROTO_IPV6;
	add(t, ev);
	timeline_mark_lossy(t);
	timeline_flush(t);
	timeline_table_free(t);

	assert_string_equal(field("NATTRACE_VERDICT"), "unknown");
	assert_string_equal(field("NATTRACE_COMPLETE"), "false");
	assert_string_equal(field("PRIORITY"), "5"); /* incomplete: notice */
	assert_string_equal(field("NATTRACE_PROTO"), "udp");
	assert_string_equal(field("NATTRACE_SRC"), "[2001:db8:1::2]:5353");
	assert_string_equal(field("NATTRACE_DST"), "[2001:db8:2::10]:53");
	assert_null(field("NATTRACE_NAT"));
	assert_null(field("NATTRACE_CAUSE"));
	assert_null(field("NATTRACE_CAUSE_HANDLE"));
	assert_non_null(strstr(field("MESSAGE"), ": unknown (incomplete)"));
	assert_non_null(strstr(field("MESSAGE"), "verdict unknown: events were lost"));
	journal_fields_free(&fields);
}

/* A port forward's mapping: one entry with the endpoints in both directions. */
static void test_nat_mapping_fields(void **state)
{
	struct natmap m = {
		.event = NATMAP_EV_NEW,
		.nat = NATMAP_NAT_DNAT,
		.l3 = 4,
		.l4proto = 6,
		.has_ports = true,
		.ct_id = 4242,
		.has_ct_id = true,
		.orig_src = { .addr = { 198, 51, 100, 2 }, .port = 40000 },
		.orig_dst = { .addr = { 198, 51, 100, 1 }, .port = 1222 },
		.reply_src = { .addr = { 203, 0, 113, 10 }, .port = 22 },
		.reply_dst = { .addr = { 198, 51, 100, 2 }, .port = 40000 },
	};

	(void)state;
	journal_fields_free(&fields);
	assert_int_equal(journal_natmap_fields(&m, &fields), 0);
	assert_string_equal(field("MESSAGE_ID"), JOURNAL_MSGID_NAT);
	assert_string_equal(field("NATTRACE_NAT_EVENT"), "new");
	assert_string_equal(field("NATTRACE_NAT_KIND"), "dnat");
	assert_string_equal(field("NATTRACE_ORIG_SRC"), "198.51.100.2:40000");
	assert_string_equal(field("NATTRACE_ORIG_DST"), "198.51.100.1:1222");
	assert_string_equal(field("NATTRACE_REPLY_SRC"), "203.0.113.10:22");
	assert_string_equal(field("NATTRACE_REPLY_DST"), "198.51.100.2:40000");
	assert_string_equal(field("NATTRACE_CT_ID"), "4242");
	assert_non_null(strstr(field("MESSAGE"), "198.51.100.1:1222"));
	assert_non_null(strstr(field("NATTRACE_JSON"), "\"ct_id\":4242"));
	journal_fields_free(&fields);
}

/*
 * MESSAGE is text for people, as the text output: the ruleset's control
 * bytes escaped, its lines the renderer's own. The fields keep the bytes
 * (issue 19 item 8).
 */
static void test_message_escapes_control_bytes(void **state)
{
	struct timeline_table *t = table();
	struct test_pkt in;

	(void)state;
	test_ipv4_tcp(&in, "198.51.100.2", 44976, "198.51.100.1", 1222, 0x02);
	add(t,
	    test_with_pkt(test_rule(5, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL), &in, 2, 0));
	add(t, test_with_pkt(test_rule(5, "filter", "in\nput", 9, NF_DROP, NULL), &in, 2, 0));
	timeline_table_free(t);
	for (const char *p = field("MESSAGE"); *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			assert_int_equal(*p, '\n');
	assert_non_null(strstr(field("MESSAGE"), "comment \"\\x1b]0;pwned\\x07\""));
	/* the summary line names the chain, escaped: still one line */
	assert_non_null(strstr(field("MESSAGE"), "in inet filter in\\x0aput [trace 00000005]\n"));
	assert_string_equal(field("NATTRACE_CAUSE_CHAIN"), "in\nput");
	journal_fields_free(&fields);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nat_mapping_fields),
		cmocka_unit_test(test_drop_fields_priority_message),
		cmocka_unit_test(test_ipv6_accept_with_lost_events_is_unknown),
		cmocka_unit_test(test_message_escapes_control_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
