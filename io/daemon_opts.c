/* daemon_opts.c: parse the flags authgate-proxy and authgate-milter share. */
#include "io/daemon_opts.h"

#include <getopt.h>
#include <stddef.h>
#include <string.h>

#include "policy/config.h"

static const struct option long_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

int daemon_opts_parse(int argc, char **argv, bool with_routes, void (*usage)(FILE *out),
		      void (*version)(void), struct daemon_opts *o)
{
	int ch;

	memset(o, 0, sizeof(*o));
	o->config_path = AG_DEFAULT_CONFIG;
	while ((ch = getopt_long(argc, argv, with_routes ? "c:fhntT:V" : "c:fhntV", long_options,
				 NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config_path = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'n':
			o->dump = true;
			break;
		case 't':
			o->check = true;
			break;
		case 'T':
			o->routes = optarg;
			break;
		case 'V':
			version();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (o->dump && !o->check)) {
		usage(stderr);
		return 2;
	}
	return -1;
}
