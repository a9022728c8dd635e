/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --check's report (checkreport.h): a line per expectation, a JSON record
 * through jsonw.h like every other record, and JUnit XML for CI.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "checkreport.h"
#include "strbuf.h"

static const char *verdict_name(enum expect_verdict v)
{
	switch (v) {
	case EXPECT_ACCEPT:
		return "accept";
	case EXPECT_DROP:
		return "drop";
	case EXPECT_REJECT:
		return "reject";
	}
	return "unknown";
}

void check_expected_str(const struct expectation *exp, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	strbuf_add(buf, len, &off, "%s", verdict_name(exp->verdict));
	if (exp->has_handle)
		strbuf_add(buf, len, &off, " by rule handle %" PRIu64, exp->handle);
	else if (exp->by_policy)
		strbuf_add(buf, len, &off, " by policy");
}

void check_judge(struct check_result *r)
{
	const struct expectation *exp = r->exp;
	size_t off = 0;

	r->detail[0] = '\0';
	r->passed = false;
	if (!r->known) {
		snprintf(r->detail, sizeof(r->detail), "the replay gave no verdict");
		return;
	}
	if (r->verdict != exp->verdict) {
		strbuf_add(r->detail, sizeof(r->detail), &off, "expected %s, got %s",
			   verdict_name(exp->verdict), verdict_name(r->verdict));
		return;
	}
	if (exp->has_handle && (!r->has_handle || r->handle != exp->handle)) {
		strbuf_add(r->detail, sizeof(r->detail), &off,
			   "%s as expected, but by ", verdict_name(r->verdict));
		if (r->has_handle)
			strbuf_add(r->detail, sizeof(r->detail), &off, "rule handle %" PRIu64,
				   r->handle);
		else
			strbuf_add(r->detail, sizeof(r->detail), &off,
				   r->by_policy ? "the chain's policy" : "no known rule");
		strbuf_add(r->detail, sizeof(r->detail), &off, ", not rule handle %" PRIu64,
			   exp->handle);
		return;
	}
	if (exp->by_policy && !r->by_policy) {
		strbuf_add(r->detail, sizeof(r->detail), &off, "%s as expected, but by ",
			   verdict_name(r->verdict));
		if (r->has_handle)
			strbuf_add(r->detail, sizeof(r->detail), &off, "rule handle %" PRIu64,
				   r->handle);
		else
			strbuf_add(r->detail, sizeof(r->detail), &off, "no known rule");
		strbuf_add(r->detail, sizeof(r->detail), &off, ", not the chain's policy");
		return;
	}
	r->passed = true;
}

int check_text_line(FILE *out, const struct check_result *r)
{
	const struct expectation *exp = r->exp;
	char want[64], at[16];

	/* the texts start in one column up to line 9999 */
	snprintf(at, sizeof(at), "%u:", exp->line);
	fprintf(out, "%s  line %-5s %s\n", r->passed ? "PASS" : "FAIL", at, exp->text);
	if (!r->passed) {
		check_expected_str(exp, want, sizeof(want));
		fprintf(out, "      expected: %s\n", want);
		fprintf(out, "      got:      %s\n", r->actual[0] ? r->actual : "unknown");
		if (r->detail[0])
			fprintf(out, "      (%s)\n", r->detail);
	}
	return ferror(out) ? -EIO : 0;
}

int check_json(struct jsonw *w, const struct check_result *r)
{
	const struct expectation *exp = r->exp;

	jsonw_object_open(w, NULL);
	jsonw_string(w, "type", "check");
	jsonw_uint(w, "line", exp->line);
	jsonw_string(w, "expectation", exp->text);
	jsonw_object_open(w, "expected");
	jsonw_string(w, "verdict", verdict_name(exp->verdict));
	if (exp->has_handle)
		jsonw_uint(w, "handle", exp->handle);
	else
		jsonw_null(w, "handle");
	jsonw_bool(w, "by_policy", exp->by_policy);
	jsonw_object_close(w);
	jsonw_bool(w, "passed", r->passed);
	jsonw_object_open(w, "actual");
	jsonw_string(w, "verdict", r->known ? verdict_name(r->verdict) : "unknown");
	jsonw_string(w, "cause", r->actual[0] ? r->actual : NULL);
	if (r->known && r->has_handle)
		jsonw_uint(w, "handle", r->handle);
	else
		jsonw_null(w, "handle");
	jsonw_object_close(w);
	jsonw_string(w, "detail", r->detail[0] ? r->detail : NULL);
	jsonw_object_close(w);
	return w->failed ? -ENOMEM : 0;
}

int check_json_line(FILE *out, const struct check_result *r)
{
	char stack[4096];
	struct jsonw w;
	int ret;

	jsonw_init(&w, stack, sizeof(stack));
	check_json(&w, r);
	ret = jsonw_write_line(&w, out);
	jsonw_release(&w);
	return ret;
}

/* ---- JUnit XML ----
 *
 * Written by hand: the format is a dozen elements (testsuites, testsuite,
 * testcase, failure), and no library among our dependencies writes XML;
 * libxml2 for that would be a new dependency of the daemon. What needs
 * care is the escaping, below.
 */

/* Length of the valid UTF-8 sequence at s, 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, c = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, c = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and beyond U+10FFFF are not XML characters */
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff || c == 0xfffe || c == 0xffff)
		return 0;
	return n;
}

/*
 * Text for an attribute or element: the five markup characters as
 * entities, control characters (not allowed in XML 1.0, even as
 * references) left out, a newline kept in an element and written as a
 * reference in an attribute (where a parser would turn it into a blank),
 * an invalid UTF-8 byte as U+FFFD.
 */
static void xml_text(FILE *out, const char *s, bool attr)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		size_t n;

		switch (*p) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		case '\n':
			fputs(attr ? "&#10;" : "\n", out);
			break;
		case '\t':
			fputs(attr ? "&#9;" : "\t", out);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				break;
			n = utf8_len(p);
			if (!n) {
				fputs("\xef\xbf\xbd", out);
				break;
			}
			fwrite(p, 1, n, out);
			p += n;
			continue;
		}
		p++;
	}
}

int junit_write(FILE *out, const char *suite, const struct check_result *r, size_t n,
		double seconds)
{
	size_t failures = 0;
	char want[64];

	for (size_t i = 0; i < n; i++)
		failures += !r[i].passed;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out, "<testsuites name=\"nattraced --check\" tests=\"%zu\" failures=\"%zu\" "
		     "errors=\"0\" time=\"%.3f\">\n",
		n, failures, seconds);
	fputs("  <testsuite name=\"", out);
	xml_text(out, suite, true);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"%.3f\">\n",
		n, failures, seconds);
	for (size_t i = 0; i < n; i++) {
		const struct check_result *c = &r[i];
		char name[REPLAY_TEXT_MAX + 32];

		snprintf(name, sizeof(name), "line %u: %s", c->exp->line, c->exp->text);
		fputs("    <testcase classname=\"", out);
		xml_text(out, suite, true);
		fputs("\" name=\"", out);
		xml_text(out, name, true);
		fprintf(out, "\" time=\"%.3f\"", c->seconds);
		if (c->passed) {
			fputs("/>\n", out);
			continue;
		}
		check_expected_str(c->exp, want, sizeof(want));
		fputs(">\n      <failure type=\"verdict\" message=\"", out);
		xml_text(out, c->detail[0] ? c->detail : "failed", true);
		fputs("\">expected: ", out);
		xml_text(out, want, false);
		fputs("\ngot: ", out);
		xml_text(out, c->actual[0] ? c->actual : "unknown", false);
		fputs("</failure>\n    </testcase>\n", out);
	}
	fputs("  </testsuite>\n</testsuites>\n", out);
	return ferror(out) || fflush(out) ? -EIO : 0;
}
