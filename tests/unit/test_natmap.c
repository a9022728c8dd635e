/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NAT mappings from real ctnetlink messages (tests/fixtures/conntrack, see
 * its README for how they were captured), their text and JSON, the natstat
 * table, and the mapping cache.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>

#include "natcache.h"
#include "natmap.h"
#include "trace.h"

#define MAX_MAPS 64

/* Fixture ids (conntrack -L -o id at capture time). */
#define ID_DNAT4 3812008634u
#define ID_DNAT6 3184359379u
#define ID_SNAT	 2742937618u
#define ID_UDP	 283073806u

struct fixture {
	char *buf;
	size_t len;
	struct natmap maps[MAX_MAPS];
	size_t n;
};

static void load(const char *name, bool dump, struct fixture *f)
{
	char path[512];
	const struct nlmsghdr *nlh;
	size_t off = 0;
	bool bad;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/conntrack/%s", FIXTURES, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	f->buf = malloc(1 << 16);
	assert_non_null(f->buf);
	f->len = fread(f->buf, 1, 1 << 16, fp);
	fclose(fp);
	f->n = 0;
	while ((nlh = trace_msg_next(f->buf, f->len, &off, &bad))) {
		assert_true(f->n < MAX_MAPS);
		assert_int_equal(natmap_parse_msg(nlh, dump, &f->maps[f->n]), 0);
		f->n++;
	}
	assert_false(bad);
}

static const struct natmap *find(const struct fixture *f, uint32_t id, enum natmap_event ev)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->maps[i].ct_id == id && f->maps[i].event == ev)
			return &f->maps[i];
	return NULL;
}

static void test_events_parse_with_their_kind(void **state)
{
	struct fixture f;
	size_t news = 0, updates = 0, destroys = 0;

	(void)state;
	load("events.bin", false, &f);
	assert_int_equal(f.n, 26);
	for (size_t i = 0; i < f.n; i++) {
		news += f.maps[i].event == NATMAP_EV_NEW;
		updates += f.maps[i].event == NATMAP_EV_UPDATE;
		destroys += f.maps[i].event == NATMAP_EV_DESTROY;
		assert_true(f.maps[i].has_ct_id);
	}
	/* 3 NATed TCP connections of 7 events each, one UDP flow: new and destroy */
	assert_int_equal(news, 4);
	assert_int_equal(updates, 18);
	assert_int_equal(destroys, 4);
	free(f.buf);
}

static void test_port_forward_is_dnat_to_the_real_destination(void **state)
{
	struct fixture f;
	const struct natmap *m;
	char line[512];

	(void)state;
	load("events.bin", false, &f);
	m = find(&f, ID_DNAT4, NATMAP_EV_NEW);
	assert_non_null(m);
	assert_int_equal(m->nat, NATMAP_NAT_DNAT);
	assert_int_equal(m->l3, 4);
	assert_int_equal(m->l4proto, IPPROTO_TCP);
	assert_int_equal(m->orig_dst.port, 1222);
	assert_int_equal(m->reply_src.port, 22);
	natmap_text(m, line, sizeof(line));
	assert_string_equal(
		line,
		"nat + tcp 198.51.100.2:55022 -> 198.51.100.1:1222 dnat 203.0.113.10:22 id 3812008634 SYN_SENT");

	m = find(&f, ID_DNAT4, NATMAP_EV_DESTROY);
	assert_non_null(m);
	natmap_text(m, line, sizeof(line));
	assert_string_equal(
		line,
		"nat - tcp 198.51.100.2:55022 -> 198.51.100.1:1222 dnat 203.0.113.10:22 id 3812008634 TIME_WAIT");
	free(f.buf);
}

static void test_masquerade_is_snat_to_the_alias(void **state)
{
	struct fixture f;
	const struct natmap_ep *local, *pub, *alias;
	const struct natmap *m;
	char line[512], buf[NATMAP_ENDPOINT_STRLEN];

	(void)state;
	load("events.bin", false, &f);
	m = find(&f, ID_SNAT, NATMAP_EV_NEW);
	assert_non_null(m);
	assert_int_equal(m->nat, NATMAP_NAT_SNAT);
	natmap_text(m, line, sizeof(line));
	assert_string_equal(
		line,
		"nat + tcp 203.0.113.10:43606 -> 198.51.100.2:8080 snat 198.51.100.1:43606 id 2742937618 SYN_SENT");
	natmap_roles(m, &local, &pub, &alias);
	natmap_endpoint_str(m, alias, buf, sizeof(buf));
	assert_string_equal(buf, "198.51.100.1:43606");
	natmap_endpoint_str(m, local, buf, sizeof(buf));
	assert_string_equal(buf, "203.0.113.10:43606");
	natmap_endpoint_str(m, pub, buf, sizeof(buf));
	assert_string_equal(buf, "198.51.100.2:8080");
	free(f.buf);
}

static void test_unnated_flow_is_not_a_mapping(void **state)
{
	struct fixture f;
	const struct natmap *m;

	(void)state;
	load("events.bin", false, &f);
	m = find(&f, ID_UDP, NATMAP_EV_NEW);
	assert_non_null(m);
	assert_int_equal(m->nat, NATMAP_NAT_NONE);
	assert_int_equal(m->l4proto, IPPROTO_UDP);
	assert_string_equal(natmap_state_name(m), "UNREPLIED");
	free(f.buf);
}

/* The mapping as the daemon writes it, read back. */
static json_t *map_json(const struct natmap *m)
{
	struct jsonw w;
	json_t *o;

	jsonw_init(&w, NULL, 0);
	natmap_json(&w, NULL, m);
	o = json_loads(jsonw_text(&w), 0, NULL);
	assert_non_null(o);
	jsonw_release(&w);
	return o;
}

static void test_json_has_the_documented_keys(void **state)
{
	struct fixture f;
	const struct natmap *m;
	json_t *o;

	(void)state;
	load("events.bin", false, &f);
	m = find(&f, ID_DNAT6, NATMAP_EV_NEW);
	assert_non_null(m);
	o = map_json(m);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "nat");
	assert_string_equal(json_string_value(json_object_get(o, "event")), "new");
	assert_string_equal(json_string_value(json_object_get(o, "proto")), "tcp");
	assert_string_equal(json_string_value(json_object_get(o, "family")), "ip6");
	assert_string_equal(json_string_value(json_object_get(o, "orig_src")),
			    "[2001:db8:1::2]:55634");
	assert_string_equal(json_string_value(json_object_get(o, "orig_dst")),
			    "[2001:db8:1::1]:1222");
	assert_string_equal(json_string_value(json_object_get(o, "reply_src")),
			    "[2001:db8:2::10]:22");
	assert_string_equal(json_string_value(json_object_get(o, "reply_dst")),
			    "[2001:db8:1::2]:55634");
	assert_string_equal(json_string_value(json_object_get(o, "nat")), "dnat");
	assert_int_equal(json_integer_value(json_object_get(o, "ct_id")), ID_DNAT6);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "SYN_SENT");
	assert_true(json_is_array(json_object_get(o, "status")));
	json_decref(o);
	free(f.buf);
}

static void test_dump_entries_have_no_event(void **state)
{
	struct fixture f;
	size_t nated = 0;
	json_t *o;

	(void)state;
	load("dump.bin", true, &f);
	assert_int_equal(f.n, 4);
	for (size_t i = 0; i < f.n; i++) {
		assert_int_equal(f.maps[i].event, NATMAP_EV_NONE);
		nated += f.maps[i].nat != NATMAP_NAT_NONE;
	}
	assert_int_equal(nated, 3);
	o = map_json(&f.maps[0]);
	assert_null(json_object_get(o, "event"));
	json_decref(o);
	free(f.buf);
}

static void test_table_columns_line_up(void **state)
{
	struct fixture f;
	struct natmap rows[MAX_MAPS];
	size_t n = 0, len;
	char *text = NULL, *line, *save;
	const char *cols[] = { "LOCAL", "PUBLIC", "ALIAS", "STATE" };
	size_t at[4];
	FILE *out;
	int lines = 0;

	(void)state;
	load("dump.bin", true, &f);
	for (size_t i = 0; i < f.n; i++)
		if (f.maps[i].nat != NATMAP_NAT_NONE)
			rows[n++] = f.maps[i];
	out = open_memstream(&text, &len);
	assert_int_equal(natmap_table_print(out, rows, n), 0);
	fclose(out);
	line = strtok_r(text, "\n", &save);
	assert_non_null(line);
	assert_memory_equal(line, "TYPE", 4);
	for (int c = 0; c < 4; c++)
		at[c] = (size_t)(strstr(line, cols[c]) - line);
	/* every row: each column starts where its header does */
	while ((line = strtok_r(NULL, "\n", &save))) {
		lines++;
		for (int c = 0; c < 4; c++) {
			assert_true(strlen(line) > at[c]);
			assert_true(line[at[c] - 1] == ' ' && line[at[c]] != ' ');
		}
		if (strncmp(line, "snat", 4) == 0) {
			char type[8], proto[8], local[64], pub[64], alias[64];

			/* masquerade: local is the inside client, alias the router */
			assert_int_equal(sscanf(line, "%7s %7s %63s %63s %63s", type, proto, local,
						pub, alias),
					 5);
			assert_string_equal(local, "203.0.113.10:43606");
			assert_string_equal(pub, "198.51.100.2:8080");
			assert_string_equal(alias, "198.51.100.1:43606");
		}
	}
	assert_int_equal(lines, 3);
	free(text);
	free(f.buf);
}

static void test_update_without_state_keeps_the_known_one(void **state)
{
	struct fixture f;
	struct natmap m;
	const struct natmap *est;

	(void)state;
	load("events.bin", false, &f);
	est = NULL;
	for (size_t i = 0; i < f.n; i++)
		if (f.maps[i].ct_id == ID_DNAT4 && f.maps[i].has_tcp_state &&
		    f.maps[i].tcp_state == 3 /* ESTABLISHED */)
			est = &f.maps[i];
	assert_non_null(est);
	m = *est;
	m.has_tcp_state = false;
	m.has_status = false;
	natmap_merge(&m, est);
	assert_string_equal(natmap_state_name(&m), "ESTABLISHED");
	free(f.buf);
}

/* Every shorter length of every message: an error or a mapping, never a crash. */
static void test_truncated_messages_do_not_crash(void **state)
{
	struct fixture f;
	const struct nlmsghdr *nlh;
	size_t off = 0;
	bool bad;
	char copy[4096] __attribute__((aligned(8)));

	(void)state;
	load("events.bin", false, &f);
	while ((nlh = trace_msg_next(f.buf, f.len, &off, &bad))) {
		for (uint32_t len = 0; len < nlh->nlmsg_len; len++) {
			struct nlmsghdr *h = (struct nlmsghdr *)copy;
			struct natmap m;

			memcpy(copy, nlh, nlh->nlmsg_len);
			h->nlmsg_len = len < sizeof(*h) ? (uint32_t)sizeof(*h) : len;
			(void)natmap_parse_msg(h, false, &m);
		}
	}
	free(f.buf);
}

/*
 * libnetfilter_conntrack calls exit(1) on an attribute that fails its
 * validation: CTA_TUPLE_ORIG 52 -> 56 bytes in a real event did it. Every
 * byte of every real message, changed three ways: an error or a mapping,
 * and the test process still here.
 */
static void test_malformed_attributes_never_exit(void **state)
{
	struct fixture f;
	const struct nlmsghdr *nlh;
	size_t off = 0, refused = 0, orig_seen = 0;
	bool bad;
	char copy[4096] __attribute__((aligned(8)));

	(void)state;
	load("events.bin", false, &f);
	while ((nlh = trace_msg_next(f.buf, f.len, &off, &bad))) {
		struct nlmsghdr *h = (struct nlmsghdr *)copy;
		struct nlattr *orig;
		struct natmap m;

		/* the reported case: CTA_TUPLE_ORIG 4 bytes longer */
		memcpy(copy, nlh, nlh->nlmsg_len);
		orig = (struct nlattr *)(copy + NLMSG_HDRLEN + sizeof(struct nfgenmsg));
		if ((orig->nla_type & NLA_TYPE_MASK) == CTA_TUPLE_ORIG) {
			orig_seen++;
			orig->nla_len += 4;
			assert_int_equal(natmap_parse_msg(h, false, &m), -EINVAL);
			refused++;
		}
		for (uint32_t i = NLMSG_HDRLEN; i < nlh->nlmsg_len; i++) {
			static const int delta[] = { 4, -4, 0x80 };

			for (size_t k = 0; k < sizeof(delta) / sizeof(delta[0]); k++) {
				memcpy(copy, nlh, nlh->nlmsg_len);
				copy[i] = (char)((unsigned char)copy[i] + delta[k]);
				(void)natmap_parse_msg(h, false, &m);
			}
		}
	}
	assert_true(orig_seen > 0);
	assert_int_equal(refused, orig_seen);
	free(f.buf);
}

static void test_other_messages_are_not_conntrack(void **state)
{
	struct nlmsghdr h = { .nlmsg_len = sizeof(h) + 4, .nlmsg_type = 0x0a11 };
	char buf[64] __attribute__((aligned(8))) = {};
	struct natmap m;

	(void)state;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(natmap_parse_msg((struct nlmsghdr *)buf, false, &m), -ENOMSG);
}

static void test_cache_finds_updates_and_evicts_the_oldest(void **state)
{
	struct natcache *c;
	struct natmap m = { .has_ct_id = true, .l3 = 4, .l4proto = IPPROTO_TCP };

	(void)state;
	assert_int_equal(natcache_new(3, &c), 0);
	for (uint32_t id = 1; id <= 3; id++) {
		m.ct_id = id;
		m.event = NATMAP_EV_NEW;
		natcache_put(c, &m);
	}
	m.ct_id = 2;
	m.event = NATMAP_EV_DESTROY;
	natcache_put(c, &m);
	assert_int_equal(natcache_get(c, 2)->event, NATMAP_EV_DESTROY);
	assert_int_equal(natcache_stats(c)->updated, 1);
	/* full: a fourth pushes out the first */
	m.ct_id = 4;
	m.event = NATMAP_EV_NEW;
	natcache_put(c, &m);
	assert_null(natcache_get(c, 1));
	assert_non_null(natcache_get(c, 2));
	assert_non_null(natcache_get(c, 3));
	assert_non_null(natcache_get(c, 4));
	assert_int_equal(natcache_stats(c)->evicted, 1);
	/* many more: never more than 3 kept, every push-out counted */
	for (uint32_t id = 100; id < 1100; id++) {
		m.ct_id = id;
		natcache_put(c, &m);
	}
	assert_non_null(natcache_get(c, 1099));
	assert_null(natcache_get(c, 1096));
	assert_int_equal(natcache_stats(c)->evicted, 1001);
	/* no ct id: nothing to key on */
	m.has_ct_id = false;
	m.ct_id = 7;
	natcache_put(c, &m);
	assert_null(natcache_get(c, 7));
	natcache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_parse_with_their_kind),
		cmocka_unit_test(test_port_forward_is_dnat_to_the_real_destination),
		cmocka_unit_test(test_masquerade_is_snat_to_the_alias),
		cmocka_unit_test(test_unnated_flow_is_not_a_mapping),
		cmocka_unit_test(test_json_has_the_documented_keys),
		cmocka_unit_test(test_dump_entries_have_no_event),
		cmocka_unit_test(test_table_columns_line_up),
		cmocka_unit_test(test_update_without_state_keeps_the_known_one),
		cmocka_unit_test(test_truncated_messages_do_not_crash),
		cmocka_unit_test(test_other_messages_are_not_conntrack),
		cmocka_unit_test(test_malformed_attributes_never_exit),
		cmocka_unit_test(test_cache_finds_updates_and_evicts_the_oldest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
