/* daemon_opts.h: the command-line flags both daemons take (INTERFACE.md, Programs). */
#ifndef AG_IO_DAEMON_OPTS_H
#define AG_IO_DAEMON_OPTS_H

#include <stdbool.h>

struct daemon_opts {
	const char *config_path; /* -c, AG_DEFAULT_CONFIG unless given */
	bool foreground;	 /* -f */
	bool check;		 /* -t */
	bool dump;		 /* -n, only with -t */
	const char *routes;	 /* -T MTA, where the daemon takes it; else NULL */
};

enum daemon_opts_action {
	DAEMON_OPTS_RUN = 0, /* o is filled in */
	DAEMON_OPTS_VERSION, /* -V: print the version, exit 0 */
	DAEMON_OPTS_HELP,    /* -h: usage on stdout, exit 0 */
	DAEMON_OPTS_USAGE,   /* anything else: usage on stderr, exit 2 */
};

/* Parse argv; with_routes accepts the milter's -T. */
enum daemon_opts_action daemon_opts_parse(int argc, char **argv, bool with_routes,
					  struct daemon_opts *o);

#endif
