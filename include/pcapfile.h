/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_PCAPFILE_H
#define NATTRACED_PCAPFILE_H

#include "sink.h"

/*
 * --pcap FILE: a sink tap writing every timeline as pcapng (pcapng.h).
 * The file is created (or emptied) at once with its Section Header
 * Block; each timeline's blocks go out in one write, so the file is
 * readable while it grows and after a crash. 0, or -errno said here.
 */
int pcapfile_open(const char *path, struct sink_tap *ret);

#endif
