/*
 * proc.c -- child processes for `loupe demo` and `loupe generate` (see proc.h):
 * fork + execvpe with the arguments as given (never a shell), an exec-error
 * pipe so a missing program is an error of the spawn call itself, and helpers
 * to name wait statuses and find programs.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Runs in the child between fork and exec: only async-signal-safe calls. On
 * failure writes errno to errfd and exits 127. */
static void child_exec(const cli_spawn_opts *o, pid_t parent, int errfd) {
    int e = 0;
    if (o->new_process_group && setpgid(0, 0) != 0) goto fail;
    if (o->parent_death_signal) {
        if (prctl(PR_SET_PDEATHSIG, o->parent_death_signal) != 0) goto fail;
        if (getppid() != parent) _exit(127); /* the parent died before prctl */
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0) goto fail;
    if (devnull > 2) close(devnull);
    if (o->stdout_fd >= 0 && dup2(o->stdout_fd, 1) < 0) goto fail;
    if (o->stderr_fd >= 0 && dup2(o->stderr_fd, 2) < 0) goto fail;
    if (o->cwd && chdir(o->cwd) != 0) goto fail;
    execvpe(o->argv[0], (char *const *)o->argv, (char *const *)(o->envp ? o->envp : (const char *const *)environ));
fail:
    e = errno;
    if (write(errfd, &e, sizeof e) < 0) { /* nothing more we can do */
    }
    _exit(127);
}

int cli_spawn(const cli_spawn_opts *o, pid_t *pid, char *err, size_t errcap) {
    int ep[2];
    if (pipe2(ep, O_CLOEXEC) != 0) {
        snprintf(err, errcap, "cannot run '%s': pipe: %s", o->argv[0], strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        snprintf(err, errcap, "cannot run '%s': fork: %s (too many processes?)", o->argv[0], strerror(errno));
        close(ep[0]);
        close(ep[1]);
        return -1;
    }
    if (child == 0) {
        close(ep[0]);
        child_exec(o, parent, ep[1]);
    }
    close(ep[1]);
    /* Also set the group from here, so the parent can signal the group at once
     * without racing the child's own setpgid. */
    if (o->new_process_group) setpgid(child, child);
    int e = 0;
    ssize_t n;
    do {
        n = read(ep[0], &e, sizeof e);
    } while (n < 0 && errno == EINTR);
    close(ep[0]);
    if (n == (ssize_t)sizeof e) { /* exec failed: reap the child, report why */
        int st;
        while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
        }
        if (e == ENOENT)
            snprintf(err, errcap, "cannot run '%s': %s (check the program name, its path and PATH)", o->argv[0],
                     strerror(e));
        else if (e == EACCES)
            snprintf(err, errcap, "cannot run '%s': %s (is it an executable file? chmod +x it)", o->argv[0],
                     strerror(e));
        else
            snprintf(err, errcap, "cannot run '%s'%s%s: %s", o->argv[0], o->cwd ? " in " : "", o->cwd ? o->cwd : "",
                     strerror(e));
        return -1;
    }
    *pid = child;
    return 0;
}

void cli_describe_wait_status(int status, char *buf, size_t cap) {
    if (WIFEXITED(status)) {
        snprintf(buf, cap, "exit status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char *abbrev = sigabbrev_np(sig);
        snprintf(buf, cap, "killed by signal %d (SIG%s)%s", sig, abbrev ? abbrev : "?",
                 WCOREDUMP(status) ? ", core dumped" : "");
    } else {
        snprintf(buf, cap, "wait status 0x%x", (unsigned)status);
    }
}

int cli_self_exe(char *buf, size_t cap) {
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0 || (size_t)n >= cap - 1) return -1;
    buf[n] = '\0';
    return 0;
}

int cli_find_in_path(const char *name, char *buf, size_t cap) {
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        int n = len ? snprintf(buf, cap, "%.*s/%s", (int)len, path, name) : snprintf(buf, cap, "./%s", name);
        struct stat sb;
        if (n > 0 && (size_t)n < cap && stat(buf, &sb) == 0 && S_ISREG(sb.st_mode) && access(buf, X_OK) == 0)
            return 0;
        if (!colon) break;
        path = colon + 1;
    }
    return -1;
}
