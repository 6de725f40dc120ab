/*
 * kill_at_rename.c - an LD_PRELOAD shim for tests/test_resume_kill_cli.py: SIGKILLs the process
 * at a chosen rename(2), the moment a nemu program commits a file it wrote as <file>.tmp.
 *
 *   NEMU_KILL_RENAME = "<n>:before" or "<n>:after": the n-th rename (counted from 1) kills the
 *       process just before or just after it renames;
 *   NEMU_RENAME_LOG = <path>: every rename's target is appended to <path>, one a line.
 *
 * Build: cc -shared -fPIC kill_at_rename.c -o kill_at_rename.so -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int g_count;

int rename(const char *from, const char *to) {
    static int (*real)(const char *, const char *);
    if (!real) real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    const char *log = getenv("NEMU_RENAME_LOG"), *kill_at = getenv("NEMU_KILL_RENAME");
    int n = ++g_count, at = kill_at ? atoi(kill_at) : 0;
    int after = kill_at && strstr(kill_at, ":after") != NULL;
    if (log) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dprintf(fd, "%s\n", to);
            close(fd);
        }
    }
    if (n == at && !after) raise(SIGKILL);
    int rc = real(from, to);
    if (n == at && after) raise(SIGKILL);
    return rc;
}
