/* supervise.c: the parent process: turns SIGHUP into a reload the libmilter worker can take. */
#include "milter.h"
#include "supervise.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

/*
 * Why two processes: libmilter's smfi_main() starts its own signal thread that
 * sigwait()s for SIGHUP, SIGTERM and SIGINT and, on SIGHUP, stops the milter
 * (libmilter/signal.c: "case SIGHUP: case SIGTERM: mi_stop_milters(MILTER_STOP)").
 * A second sigwait() thread of ours would race it for every SIGHUP, and losing
 * the race means the milter stops instead of reloading. So:
 *
 *   parent (this file)   holds no state; SIGHUP -> SIGUSR2 to the worker,
 *                        SIGUSR1 -> SIGUSR1, SIGTERM/SIGINT -> SIGTERM; exits
 *                        with the worker's status.
 *   worker (main.c)      its main thread ignores SIGHUP with the signal
 *                        unblocked, so the kernel discards a SIGHUP sent to it
 *                        before libmilter's thread can see it; that thread
 *                        sigwait()s SIGUSR1/SIGUSR2; libmilter keeps SIGTERM.
 *
 * The parent parses nothing and talks to nobody, so it keeps its privileges:
 * it must be able to signal the worker after the worker changed user.
 */

static int supervise_wait(pid_t child)
{
	sigset_t set;
	int sig, status;
	pid_t r;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		switch (sig) {
		case SIGHUP:
			milter_log(LOG_INFO, "SIGHUP: asking the worker to reload");
			kill(child, SIGUSR2);
			break;
		case SIGUSR1:
			kill(child, SIGUSR1);
			break;
		case SIGTERM:
		case SIGINT:
			milter_log(LOG_INFO, "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			kill(child, SUPERVISE_SIG_DRAIN);
			break;
		case SIGCHLD:
			do
				r = waitpid(child, &status, WNOHANG);
			while (r < 0 && errno == EINTR);
			if (r != child)
				break;
			if (WIFEXITED(status)) {
				if (WEXITSTATUS(status) != 0)
					milter_log(LOG_ERR, "worker exited with status %d",
						   WEXITSTATUS(status));
				return WEXITSTATUS(status);
			}
			milter_log(LOG_ERR, "worker killed by signal %d",
				   WIFSIGNALED(status) ? WTERMSIG(status) : 0);
			return 1;
		default:
			break;
		}
	}
}

int supervise_run(int (*worker)(void *), void *arg)
{
	sigset_t set, old;
	pid_t parent, child;

	/* Blocked before fork, so no signal is lost between fork and sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SUPERVISE_SIG_DRAIN);
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0) {
		milter_log(LOG_ERR, "sigprocmask: %s", strerror(errno));
		return 1;
	}
	parent = getpid();
	child = fork();
	if (child < 0) {
		milter_log(LOG_ERR, "fork: %s", strerror(errno));
		return 1;
	}
	if (child == 0) {
		/* A worker must not outlive its parent: nobody would turn SIGHUP into a reload. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(1);
		/* exit(), not _exit(): the worker is the real program (atexit, LeakSanitizer). */
		exit(worker(arg));
	}
	return supervise_wait(child);
}
