/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_H
#define NATTRACED_H

/* Exit statuses, documented in README.md and --help; scripts rely on them. */
enum nattraced_exit {
	EXIT_OK = 0,	  /* success */
	EXIT_RUNTIME = 1, /* runtime error */
	EXIT_USAGE = 2,	  /* usage error or a refused match */
	EXIT_TIMEOUT = 3, /* --timeout expired before --count timelines */
	/* --check: an expectation failed (a runtime error there is 1 as well) */
	EXIT_CHECK_FAILED = 1,
};

#endif
