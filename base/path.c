/* path.c - see path.h. */
#include "base/path.h"

#include <stddef.h>
#include <sys/stat.h>

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
