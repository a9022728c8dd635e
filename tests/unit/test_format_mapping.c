/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A timeline names the NAT mapping of its connection (--nat-log). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <jansson.h>

#include "format.h"
#include "helpers.h"
#include "natmap.h"

#define OWN "trace_debug"

static struct natmap known = {
	.event = NATMAP_EV_NEW,
	.nat = NATMAP_NAT_DNAT,
	.l3 = 4,
	.l4proto = IPPROTO_TCP,
	.has_ports = true,
	.orig_src = { { 198, 51, 100, 2 }, 44976 },
	.orig_dst = { { 198, 51, 100, 1 }, 1222 },
	.reply_src = { { 203, 0, 113, 10 }, 22 },
	.reply_dst = { { 198, 51, 100, 2 }, 44976 },
	.ct_id = 77,
	.has_ct_id = true,
	.tcp_state = 1,
	.has_tcp_state = true,
};

static const struct natmap *fake_mapping(void *ctx, const struct tl_ct *ct,
					 const struct packet_info *orig)
{
	(void)ctx;
	(void)orig;
	return ct && (ct->present & TRACE_HAS_CT_ID) && ct->id == known.ct_id ? &known : NULL;
}

struct out {
	const struct resolver *r;
	char *json, *text;
};

static struct explain ex;

static void render(void *ctx, const struct timeline *tl, enum timeline_end why)
{
	struct out *o = ctx;
	size_t len;
	FILE *f;

	(void)why;
	explain_timeline(tl, o->r, &ex);
	f = open_memstream(&o->json, &len);
	assert_int_equal(format_json_line(f, tl, &ex), 0);
	fclose(f);
	f = open_memstream(&o->text, &len);
	assert_int_equal(format_text(f, tl, &ex), 0);
	fclose(f);
}

/* A port-forwarded SYN whose nat prerouting event carries ct id ct_id. */
static struct out run(const struct resolver *r, uint32_t ct_id)
{
	struct out o = { .r = r };
	struct timeline_config cfg = {
		.own_table = OWN,
		.own_family = NFPROTO_INET,
		.max_inflight = 4,
		.emit = render,
		.emit_ctx = &o,
	};
	struct timeline_table *t;
	struct test_pkt in, fwd;
	struct trace_event ev;
	const uint32_t id = 0x06fed0fb;

	assert_int_equal(timeline_table_new(&cfg, &t), 0);
	test_ipv4_tcp(&in, "198.51.100.2", 44976, "198.51.100.1", 1222, 0x02);
	test_ipv4_tcp(&fwd, "198.51.100.2", 44976, "203.0.113.10", 22, 0x02);
	ev = test_with_pkt(test_rule(id, OWN, "trace_prerouting", 2, NFT_CONTINUE, NULL), &in, 2,
			   0);
	timeline_add(t, &ev, 0);
	ev = test_with_pkt(test_rule(id, "nat", "prerouting", 3, NF_ACCEPT, NULL), &in, 2, 0);
	ev.present |= TRACE_HAS_CT_ID;
	ev.ct_id = ct_id;
	timeline_add(t, &ev, 0);
	ev = test_with_pkt(test_rule(id, "filter", "forward", 5, NF_DROP, NULL), &fwd, 2, 3);
	timeline_add(t, &ev, 0);
	timeline_table_free(t);
	assert_non_null(o.json);
	return o;
}

static void test_timeline_names_its_mapping_by_ct_id(void **state)
{
	struct resolver r = { .mapping = fake_mapping };
	struct out o = run(&r, 77);
	json_t *j = json_loads(o.json, 0, NULL);
	json_t *m = json_object_get(j, "mapping");

	(void)state;
	assert_non_null(m);
	assert_int_equal(json_integer_value(json_object_get(m, "ct_id")), 77);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "ct"), "id")), 77);
	assert_string_equal(json_string_value(json_object_get(m, "reply_src")), "203.0.113.10:22");
	assert_non_null(strstr(
		o.text,
		"\n  mapping: nat + tcp 198.51.100.2:44976 -> 198.51.100.1:1222 dnat 203.0.113.10:22 id 77 SYN_SENT\n"));
	json_decref(j);
	free(o.json);
	free(o.text);
}

/* Nothing known is not "no translation": no mapping key, no line. */
static void test_unknown_mapping_is_not_shown(void **state)
{
	struct resolver r = { .mapping = fake_mapping };
	struct out o = run(&r, 78);
	json_t *j = json_loads(o.json, 0, NULL);

	(void)state;
	assert_null(json_object_get(j, "mapping"));
	assert_null(strstr(o.text, "mapping"));
	json_decref(j);
	free(o.json);
	free(o.text);
}

static void test_without_nat_log_no_mapping(void **state)
{
	struct resolver r = {};
	struct out o = run(&r, 77);
	json_t *j = json_loads(o.json, 0, NULL);

	(void)state;
	assert_null(json_object_get(j, "mapping"));
	assert_null(strstr(o.text, "mapping"));
	json_decref(j);
	free(o.json);
	free(o.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeline_names_its_mapping_by_ct_id),
		cmocka_unit_test(test_unknown_mapping_is_not_shown),
		cmocka_unit_test(test_without_nat_log_no_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
