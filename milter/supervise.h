/* supervise.h: run the milter worker under a parent that forwards signals to it. */
#ifndef AG_MILTER_SUPERVISE_H
#define AG_MILTER_SUPERVISE_H

/*
 * Fork; the child runs worker(arg) and exits with its result. The parent
 * forwards SIGHUP as SIGUSR2, SIGUSR1 as SIGUSR1, SIGTERM/SIGINT as
 * SUPERVISE_SIG_DRAIN, and returns the worker's exit status. Call before any
 * thread exists. The child starts with SIGHUP, SIGUSR1, SIGUSR2, SIGTERM,
 * SIGINT, SIGCHLD and SUPERVISE_SIG_DRAIN blocked: the worker sets the mask it wants.
 */
#include <signal.h>

/*
 * "Stop when idle": not SIGTERM, which libmilter's own signal thread takes and
 * answers by closing the listener at once, so an MTA session that opens its
 * milter connection during the drain (the proxy's backend connection is made
 * at MAIL FROM) would be tempfailed.
 */
#define SUPERVISE_SIG_DRAIN (SIGRTMIN + 1)

int supervise_run(int (*worker)(void *), void *arg);

#endif
