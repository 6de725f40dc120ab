/*
 * export_web.c - ./export --web DIR: the exported C file compiled to WebAssembly with
 * emscripten's emcc (Debian's package `emscripten`: it brings its own clang, wasm-ld and
 * libc, where clang's bare wasm32 target would also need wasi-libc and a hand-written loader),
 * and a static page (src/export_rt/index.html) that plays it: canvas at integer scale, gymemu's
 * keys, a temperature slider for VAE dynamics, a frames/s readout, reset. No network at run time.
 */
#include "src/export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "export_rt.h"   // RT_web, RT_index_html

int export_have_emcc(void) { return system("command -v emcc >/dev/null 2>&1") == 0; }

static int write_text(const char *dir, const char *file, const char *text, Err *err) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f) return err_set(err, "%s: %s", path, strerror(errno));
    fputs(text, f);
    if (ferror(f) | fclose(f)) return err_set(err, "%s: write error", path);
    return 0;
}

// index.html with every @NAME@ replaced by name.
static char *page(const char *name) {
    StrBuf sb = {0};
    const char *p = RT_index_html, *q;
    while ((q = strstr(p, "@NAME@"))) {
        sb_printf(&sb, "%.*s%s", (int)(q - p), p, name);
        p = q + 6;
    }
    sb_printf(&sb, "%s", p);
    return sb.s;
}

// emcc in dir, its output into dir/emcc.log; 0 when it exits 0.
static int run_emcc(const char *dir, const char *name, Err *err) {
    char c_file[128], js[128];
    snprintf(c_file, sizeof c_file, "%s.c", name);
    snprintf(js, sizeof js, "%s.js", name);
    char *argv[] = {"emcc", "-O2", c_file, "web.c", "-o", js, "-s", "ENVIRONMENT=web",
                    "-s", "EXPORTED_FUNCTIONS=_web_reset,_web_step,_web_frame,_web_temperature,_web_width,_web_height,"
                    "_web_vae,_web_buttons,_web_format",
                    "-s", "EXPORTED_RUNTIME_METHODS=UTF8ToString,HEAPU8", NULL};
    pid_t pid = fork();
    if (pid < 0) return err_set(err, "--web: fork: %s", strerror(errno));
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(127);
        int fd = open("emcc.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) dup2(fd, 1), dup2(fd, 2), close(fd);
        setenv("NODE_PATH", getenv("NODE_PATH") ? getenv("NODE_PATH") : "/usr/share/nodejs", 1);   // Debian's node modules
        execvp("emcc", argv);
        _exit(127);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return err_set(err, "--web: emcc failed (exit %d): see %s/emcc.log", WIFEXITED(st) ? WEXITSTATUS(st) : -1, dir);
    return 0;
}

int export_web(const ExModel *m, ExFormat fmt, const char *dir, const char *name, Err *err) {
    if (export_write_c(m, fmt, dir, name, 0, err) < 0) return -1;
    char up[128];
    export_upper(name, up, sizeof up);
    StrBuf sb = {0};
    sb_printf(&sb, "#include \"%s.h\"\n#define EMU_(f) %s_##f\n#define EMU_UP(f) %s_##f\n%s", name, name, up, RT_web);
    char *html = page(name);
    int rc = write_text(dir, "web.c", sb.s, err);
    if (rc == 0) rc = write_text(dir, "index.html", html, err);
    free(sb.s), free(html);
    return rc < 0 ? -1 : run_emcc(dir, name, err);
}
