/* supervise.h: run the milter worker under a parent that forwards signals to it. */
#ifndef AG_MILTER_SUPERVISE_H
#define AG_MILTER_SUPERVISE_H

/*
 * Fork; the child runs worker(arg) and exits with its result. The parent
 * forwards SIGHUP as SIGUSR2, SIGUSR1 as SIGUSR1, SIGTERM/SIGINT as SIGTERM,
 * and returns the worker's exit status. Call before any thread exists.
 * The child starts with SIGHUP, SIGUSR1, SIGUSR2, SIGTERM, SIGINT and SIGCHLD
 * blocked: the worker sets the mask it wants.
 */
int supervise_run(int (*worker)(void *), void *arg);

#endif
