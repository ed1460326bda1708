/* daemon_opts.h: the command-line flags both daemons take (INTERFACE.md, Programs). */
#ifndef AG_IO_DAEMON_OPTS_H
#define AG_IO_DAEMON_OPTS_H

#include <stdbool.h>
#include <stdio.h>

struct daemon_opts {
	const char *config_path; /* -c, AG_DEFAULT_CONFIG unless given */
	bool foreground;	 /* -f */
	bool check;		 /* -t */
	bool dump;		 /* -n, only with -t */
	const char *routes;	 /* -T MTA, where the daemon takes it; else NULL */
};

/*
 * Parse argv (with_routes: the milter's -T too). -1: run, o is filled in. Otherwise the
 * exit status, the answer already printed: 0 after version() for -V or usage(stdout) for
 * -h, 2 after usage(stderr) for anything not understood.
 */
int daemon_opts_parse(int argc, char **argv, bool with_routes, void (*usage)(FILE *out),
		      void (*version)(void), struct daemon_opts *o);

#endif
