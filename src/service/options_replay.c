/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The options of a replay in a clone of the namespace (replay.h):
 * --replay, --check and their inputs.
 */
#include <stddef.h>

#include "options_int.h"
#include "strbuf.h"

/* --replay, --check and what goes with them: the clone's inputs. 1: not one of them. */
int options_parse_replay(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	static const struct {
		int opt;
		const char *name;
		size_t field;
	} files[] = {
		{ OPT_REPLAY, "replay", offsetof(struct options, replay) },
		{ OPT_ID, "id", offsetof(struct options, replay_id) },
		{ OPT_CHANGE_FILE, "change-file", offsetof(struct options, change_file) },
		{ OPT_CHECK, "check", offsetof(struct options, check) },
		{ OPT_RULESET, "ruleset", offsetof(struct options, ruleset) },
		{ OPT_JUNIT, "junit", offsetof(struct options, junit) },
	};

	if (c == OPT_CHANGE) {
		if (!arg[0])
			return strbuf_error(err, errlen, "--change: empty (give nft commands)");
		if (o->n_changes == OPTIONS_MAX_CHANGES)
			return strbuf_error(err, errlen,
					    "--change: at most %d (put more in --change-file)",
					    OPTIONS_MAX_CHANGES);
		o->changes[o->n_changes++] = arg;
		return 0;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (files[i].opt != c)
			continue;
		if (!arg[0])
			return strbuf_error(err, errlen, "--%s: empty", files[i].name);
		*(const char **)((char *)o + files[i].field) = arg;
		return 0;
	}
	return 1;
}

/*
 * --replay and --check run in a clone and trace nothing live: what only
 * makes sense live is refused, and so is what they do not take.
 */
int options_check_replay(const struct options *o, char *err, size_t errlen)
{
	const char *mode = o->replay ? "--replay" : "--check";
	const struct {
		bool given;
		const char *name;
	} live[] = {
		{ o->match != NULL, "--match" },
		{ o->count != 0, "--count" },
		{ o->timeout > 0, "--timeout" },
		{ o->follow, "--follow" },
		{ o->nat_log, "--nat-log" },
		{ o->nat_table, "--nat-table" },
		{ o->summary, "--summary" },
		{ o->pcap != NULL, "--pcap" },
		{ o->metrics_file != NULL, "--metrics-file" },
		{ o->verify, "--verify" },
		{ o->config != NULL, "--config" },
	};

	if (!o->replay && !o->check) {
		const char *alone = o->replay_id     ? "--id"
				    : o->n_changes   ? "--change"
				    : o->change_file ? "--change-file"
				    : o->ruleset     ? "--ruleset"
				    : o->junit	     ? "--junit"
						     : NULL;

		if (alone)
			return strbuf_error(err, errlen, "%s goes with --replay or --check", alone);
		if (o->verify && !o->match && !o->config)
			return strbuf_error(err, errlen,
					    "--verify checks live hints: it needs --match");
		return 0;
	}
	if (o->replay && o->check)
		return strbuf_error(err, errlen, "--replay and --check: give one of them");
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (live[i].given)
			return strbuf_error(
				err, errlen,
				"%s replays in a clone of the namespace: it does not go with %s",
				mode, live[i].name);
	if (o->replay_id && !o->replay)
		return strbuf_error(err, errlen, "--id picks a timeline of --replay's file");
	if (o->junit && !o->check)
		return strbuf_error(err, errlen, "--junit writes --check's report");
	return 0;
}
