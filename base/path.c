/* path.c - see path.h. */
#include "base/path.h"

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

const char *path_kind(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode)) return NULL;
    return S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
         : S_ISCHR(st.st_mode) ? "a character device" : S_ISBLK(st.st_mode) ? "a block device"
         : S_ISSOCK(st.st_mode) ? "a socket" : "not a regular file";
}

int path_check_file(const char *path, const char *what, Err *err) {
    const char *k = path_kind(path);
    return k ? err_set(err, "%s: is %s; expected a regular %s", path, k, what) : 0;
}

int path_same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int path_check_output(const char *opt, const char *out, const char *const *inputs, int n, Err *err) {
    for (int i = 0; i < n; i++)
        if (inputs[i] && path_same_file(out, inputs[i]))
            return err_set(err, "%s %s: is the same file as %s, an input of this command; expected a new path", opt,
                           out, inputs[i]);
    const char *k = path_kind(out);
    return k ? err_set(err, "%s %s: is %s; expected a file path to write", opt, out, k) : 0;
}

// Removes p when it is a regular file no process holds an flock on; says so in one line.
static void remove_if_stale(const char *p) {
    struct stat st;
    if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode)) return;
    int fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0 && unlink(p) == 0)
        warn("removed %s (%.1f MB), a temp file left by an interrupted run", p, st.st_size / 1048576.0);
    close(fd);   // releases the lock
}

void remove_stale_temps_of(const char *out) {
    static const char *suffix[] = {".tmp", ".part", ".part.tmp"};
    char p[4200];
    for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++)
        if ((size_t)snprintf(p, sizeof p, "%s%s", out, suffix[i]) < sizeof p) remove_if_stale(p);
}

void remove_stale_temps_in(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[4200];
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 4 && !strcmp(e->d_name + n - 4, ".tmp") && (size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < sizeof p)
            remove_if_stale(p);
    }
    closedir(d);
}
