/* configfile.c: open authgate.conf and hand the stream to policy/'s loader. */
#include "io/configfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct ag_config *config_load(const char *path, struct ag_config_error *err)
{
	struct ag_config *c;
	FILE *fp;

	if (path == NULL)
		return config_load_fp(NULL, "(null)", err);
	fp = fopen(path, "re");
	if (fp == NULL) {
		if (err != NULL)
			snprintf(err->msg, sizeof(err->msg), "%s: cannot open: %s", path,
				 strerror(errno));
		return NULL;
	}
	c = config_load_fp(fp, path, err);
	fclose(fp);
	return c;
}
