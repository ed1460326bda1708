/* configfile.h: reading authgate.conf from its file (the parsing is policy/config.c's). */
#ifndef AG_IO_CONFIGFILE_H
#define AG_IO_CONFIGFILE_H

#include "policy/config.h"

/* Open path and load it; NULL with err->msg = "FILE:LINE: key: what is wrong" (or "FILE:
 * cannot open: why") on any problem. */
struct ag_config *config_load(const char *path, struct ag_config_error *err);

#endif
