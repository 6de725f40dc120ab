/* run.c - see run.h. */
#include "src/run.h"
#include "base/err.h"
#include "base/clock.h"
#include "base/path.h"   // path_kind

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int mkdir_p(const char *dir) {
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
    return is_dir(buf) ? 0 : -1;
}


// Folders "<dir><suffix><pid>" left by runs that were killed (SIGKILL, power loss) before they
// could clean up: those whose pid is no longer alive. ".tmp." folders (a start that never
// completed) are removed; ".old." folders (a run --force replaced, whose replacement died
// before its first checkpoint) hold a user's run and are only reported.
static void stale_folders(const char *dir, const char *suffix, int remove) {
    char parent[1024], base[1024];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash) { *slash = 0; snprintf(base, sizeof base, "%s%s", slash + 1, suffix); }
    else { snprintf(base, sizeof base, "%s%s", dir, suffix); snprintf(parent, sizeof parent, "."); }
    DIR *d = opendir(parent);
    if (!d) return;
    struct dirent *e;
    size_t bl = strlen(base);
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, base, bl) != 0) continue;
        char *end;
        long pid = strtol(e->d_name + bl, &end, 10);
        if (*end || pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno == EPERM)) continue;
        char sub[2100];
        snprintf(sub, sizeof sub, "%s/%s", parent, e->d_name);
        if (remove) remove_tree(sub);
        else warn("%s: the run that --force replaced before a killed run (pid %ld) wrote its first checkpoint; "
                  "kept: rename it back to %s or delete it", sub, pid, dir);
    }
    closedir(d);
}

int run_dir_create(RunDir *rd, const char *dir, int force, Err *err) {
    memset(rd, 0, sizeof *rd);
    if (strlen(dir) + 32 >= sizeof rd->final) return err_set(err, "run folder name too long: %s", dir);
    snprintf(rd->final, sizeof rd->final, "%s", dir);
    struct stat st;
    if (stat(dir, &st) == 0 && !force)
        return err_set(err, "%s already exists (use --resume to continue it or --force to replace it)", dir);
    char parent[1024];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = 0;
        if (mkdir_p(parent) != 0) return err_set(err, "cannot create %s: %s", parent, strerror(errno));
    }
    stale_folders(dir, ".tmp.", 1);
    stale_folders(dir, ".old.", 0);
    snprintf(rd->path, sizeof rd->path, "%s.tmp.%ld", dir, (long)getpid());
    remove_tree(rd->path);
    if (mkdir(rd->path, 0777) != 0) return err_set(err, "cannot create %s: %s", rd->path, strerror(errno));
    return 0;
}

int run_dir_commit(RunDir *rd, Err *err) {
    if (rd->committed) return 0;
    char old[1100] = "";
    if (is_dir(rd->final)) {
        snprintf(old, sizeof old, "%s.old.%ld", rd->final, (long)getpid());
        if (rename(rd->final, old) != 0) return err_set(err, "cannot move %s aside: %s", rd->final, strerror(errno));
    }
    if (rename(rd->path, rd->final) != 0) {
        int e = errno;
        if (*old) rename(old, rd->final);
        return err_set(err, "cannot rename %s to %s: %s", rd->path, rd->final, strerror(e));
    }
    snprintf(rd->old, sizeof rd->old, "%s", old);   // removed after the first checkpoint
    snprintf(rd->path, sizeof rd->path, "%s", rd->final);
    rd->committed = 1;
    return 0;
}

void run_dir_abort(RunDir *rd) {
    if (!rd->committed && rd->path[0]) remove_tree(rd->path);
    rd->path[0] = 0;
}

void run_dir_drop_old(RunDir *rd) {
    if (rd->old[0]) remove_tree(rd->old);
    rd->old[0] = 0;
}

void run_dir_restore_old(RunDir *rd) {
    if (!rd->old[0] || !rd->committed) return;
    remove_tree(rd->final);
    if (rename(rd->old, rd->final) != 0)
        warn("cannot put %s back to %s: %s", rd->old, rd->final, strerror(errno));
    rd->old[0] = 0;
}

int run_dir_open(RunDir *rd, const char *dir, Err *err) {
    memset(rd, 0, sizeof *rd);
    const char *k = path_kind(dir);
    if (k && strcmp(k, "a directory")) return err_set(err, "%s: is %s; expected a run folder to resume", dir, k);
    if (!is_dir(dir)) return err_set(err, "%s: no such run to resume: %s", dir, strerror(errno));
    // every checkpoint is a tmp file renamed in: the folder must take a new file (root too:
    // a read-only mount or an immutable folder refuses it whatever access() says)
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/.nemu_write_probe.%ld", dir, (long)getpid());
    int fd = open(probe, O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd < 0)
        return err_set(err, "%s: cannot resume into it: creating a file there fails: %s (expected a writable run "
                       "folder)", dir, strerror(errno));
    close(fd);
    unlink(probe);
    stale_folders(dir, ".old.", 0);
    snprintf(rd->final, sizeof rd->final, "%s", dir);
    snprintf(rd->path, sizeof rd->path, "%s", dir);
    rd->committed = 1;
    return 0;
}

const char *run_file(const RunDir *rd, const char *name, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%s", rd->path, name);
    return buf;
}

int write_file_atomic(const char *path, const char *text, size_t n, Err *err) {
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return err_set(err, "cannot write %s: %s", tmp, strerror(errno));
    int ok = fwrite(text, 1, n, f) == n;
    ok &= fflush(f) == 0;
    ok &= fsync(fileno(f)) == 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return err_set(err, "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

int remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return 0;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char sub[2048];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                remove_tree(sub);
            }
            closedir(d);
        }
        return rmdir(path);
    }
    return unlink(path);
}

// ---- signals

static volatile sig_atomic_t g_stop_signal;   // the one process-wide flag a handler may touch

static void on_signal(int sig) {
    if (g_stop_signal) {       // second Ctrl-C: the user insists
        signal(sig, SIG_DFL);
        raise(sig);
    }
    g_stop_signal = sig;
}

void signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int signals_stop_requested(void) { return g_stop_signal; }
void signals_reset(void) { g_stop_signal = 0; }

// ---- progress

void progress_init(Progress *p, const char *stage, int epochs) {
    memset(p, 0, sizeof *p);
    p->tty = isatty(STDERR_FILENO);
    p->stage = stage;
    p->epochs = epochs;
}

void progress_epoch_start(Progress *p, int epoch, long steps) {
    p->epoch = epoch;
    p->steps = steps;
    p->step = 0;
    p->t_start = now_seconds();
    p->t_last_draw = 0;
}

void progress_update(Progress *p, long step, float loss, long samples) {
    p->step = step;
    if (!p->tty) return;
    double t = now_seconds();
    if (step < p->steps && t - p->t_last_draw < 0.1) return;
    p->t_last_draw = t;
    double el = t - p->t_start;
    double rate = el > 0 ? samples / el : 0;
    double eta = step > 0 ? el * (p->steps - step) / step : 0;
    int width = 24, fill = p->steps ? (int)(width * step / p->steps) : 0;
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "\r%s %d/%d [%s] %ld/%ld loss %.5f %.0f samples/s ETA %02d:%02d  ",
            p->stage, p->epoch, p->epochs, bar, step, p->steps, loss, rate,
            (int)(eta / 60), (int)eta % 60);
    fflush(stderr);
}

void progress_clear(Progress *p) {
    if (p->tty) fprintf(stderr, "\r\033[K");
}
