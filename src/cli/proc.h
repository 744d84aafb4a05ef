/*
 * proc.h -- starting and describing child processes for the verbs that run
 * other programs (`loupe demo`, `loupe generate`): fork/exec without a shell,
 * an exec failure reported back to the parent with its errno, optional own
 * process group and parent-death signal, and wait statuses in words.
 */
#ifndef LOUPE_CLI_PROC_H
#define LOUPE_CLI_PROC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct cli_spawn_opts {
    /* argv[0] without a '/' is looked up in PATH (as execvp does); NULL-terminated. */
    const char *const *argv;
    /* The child's whole environment (NULL-terminated "K=V"), or NULL to inherit ours. */
    const char *const *envp;
    const char *cwd;           /* working directory, or NULL to inherit */
    int new_process_group;     /* 1: the child leads a new process group (killable as a whole) */
    int parent_death_signal;   /* signal the child gets when we die (Linux), or 0 */
    int stdout_fd, stderr_fd;  /* descriptors to give the child, or -1 to inherit ours */
} cli_spawn_opts;

/*
 * Starts a child. stdin is /dev/null; signal dispositions and the signal mask
 * are reset to the defaults. Returns 0 with *pid set once the program is
 * running, or -1 with a message in err (errcap bytes) when the fork failed or
 * the program could not be executed ("cannot run 'x': No such file or
 * directory"); no child is left over then.
 */
int cli_spawn(const cli_spawn_opts *opts, pid_t *pid, char *err, size_t errcap);

/* "exit status 3", "killed by signal 9 (SIGKILL)" for a waitpid status. */
void cli_describe_wait_status(int status, char *buf, size_t cap);

/* The absolute path of the running executable (from /proc/self/exe), or -1. */
int cli_self_exe(char *buf, size_t cap);

/* Looks name up in PATH; writes the path of the first executable file found.
 * Returns 0, or -1 when there is none. */
int cli_find_in_path(const char *name, char *buf, size_t cap);

#endif
