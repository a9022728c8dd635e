/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_CHECKREPORT_H
#define NATTRACED_CHECKREPORT_H

/*
 * The report of --check (checkreport.c): per expectation a text line, a
 * JSON record ("type": "check", docs/json.md), and for all of them a
 * JUnit XML file (--junit). Pure: the caller replays and fills the results.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jsonw.h"
#include "replaypkt.h"

struct check_result {
	const struct expectation *exp;
	bool passed;
	/* the replay gave a verdict; false: actual says why it did not */
	bool known;
	/* "drop by rule `drop` (handle 11) in inet filter allowed_dnats" */
	char actual[512];
	/* what differs ("expected handle 11, got handle 12"), "" if nothing */
	char detail[256];
	double seconds;
	/* added: the actual verdict as fields (when known), for JSON and check_judge() */
	enum expect_verdict verdict;
	bool by_policy;
	bool has_handle;
	uint64_t handle; /* the real ruleset's, mapped back from the clone */
};

/*
 * Compare the actual verdict fields with r->exp: sets passed and detail.
 * A handle or "by policy" is compared only where the expectation names it.
 */
void check_judge(struct check_result *r);

/* "accept", "drop by rule handle 11", "drop by policy": the expectation's side */
void check_expected_str(const struct expectation *exp, char *buf, size_t len);

/*
 *   PASS  line 3:  tcp ... syn: drop by rule handle 11
 *   FAIL  line 4:  tcp ... syn: accept
 *         expected: accept
 *         got:      drop by rule `drop` (handle 11) in inet filter allowed_dnats
 * 0 or -EIO.
 */
int check_text_line(FILE *out, const struct check_result *r);

/* One "check" record (docs/json.md) into w; 0 or -ENOMEM. */
int check_json(struct jsonw *w, const struct check_result *r);
/* ... as one line on out; 0, -ENOMEM or -EIO. */
int check_json_line(FILE *out, const struct check_result *r);

/*
 * A JUnit XML report: one testsuite named suite, a testcase per result,
 * a failure element for each that did not pass. seconds: the whole run.
 * 0 or -EIO.
 */
int junit_write(FILE *out, const char *suite, const struct check_result *r, size_t n,
		double seconds);

#endif
