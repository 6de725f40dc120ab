/*
 * play.c - ./play: the trained emulator, played (SPEC.md section 6a). From a real start
 * frame, z = encode(frame); every step z = z + f(z, buttons) and the decoder draws the frame.
 *
 *   ./play [--run DIR] [--game NAME] [--start FILE.h5[:EPISODE[:STEP]] | FRAME.png] [--temperature T]
 *          [--fps 30] [--scale S] [--seed N] [--steps N] [--threads N]
 *      --script actions.csv | --policy random|idle --steps N      headless: no screen;
 *          [--gif FILE] [--png-dir DIR] [--csv FILE]              writes what it played
 *      --term                                                     the terminal (play_term.c)
 *      (neither)                                                  the window (play_window.c)
 *   ./play --check [--run DIR] [--game NAME] [--out DIR] [--check-frames N]   the measurements (play_check.c)
 *
 * Bad input is one line on stderr and exit 1, before any work and any file. The frame
 * clock keeps --fps with absolute deadlines (src/play_session.h); the achieved rate goes to
 * stderr on exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "data/gif.h"
#include "data/png.h"
#include "nn/gemm.h"       // blas_init
#include "src/cli.h"
#include "src/play.h"
#include "src/run.h"       // signals_install, mkdir_p

static void usage(FILE *f) {
    fprintf(f,
            "usage: play [--run DIR] [--game NAME] [--start FILE.h5[:EPISODE[:STEP]] | --start FRAME.png] [--temperature T]\n"
            "            [--fps 30] [--scale S] [--seed N] [--steps N] [--threads N] [--compose T]\n"
            "            [--deadband E] [--reencode N] [--script actions.csv | --policy random|idle --steps N] [--gif FILE]\n"
            "            [--png-dir DIR] [--csv FILE] [--term] [--shot-dir DIR]\n"
            "       play --check [--run DIR] [--game NAME] [--out DIR] [--check-frames N] [--seed N] [--threads N]\n"
            "                    [--compose T] [--deadband E] [--reencode N]\n"
            "Plays a trained emulator: from a real frame, z = encode(frame); each step z = z + f(z, buttons)\n"
            "and the decoder draws the frame.\n"
            "  --run DIR        run folder (default: the runs/*/ with the newest dyn_best.h5)\n"
            "  --game NAME      the runs/*/ with the newest dyn_best.h5 among those of game NAME (tetris, scroller,\n"
            "                   maze, ...: the game attribute of the run's data file, or its data.generate); with\n"
            "                   --run DIR of a run of several games (data.path lists one file per game): the game\n"
            "                   to play or --check, its column of the model's input (the window and --term\n"
            "                   offer a menu without it)\n"
            "  --start SPEC     start frame: FILE.h5[:EPISODE[:STEP]] (EPISODE the i of /episode_<i>, default the\n"
            "                   first; STEP default 0) or FRAME.png (any size, grey or RGB); every start frame gets\n"
            "                   the run's preprocessing (default: frame 0 of the run's first test episode); a run\n"
            "                   with dynamics.history takes a recording's frames before STEP as its past, as\n"
            "                   ./eval (a PNG: the start frame repeated)\n"
            "  --temperature T  vae dynamics: delta = mean + T * std * eps (default 0, the mean)\n"
            "  --fps F          frames per second, 0 = as fast as possible (default 30)\n"
            "  --scale S        pixels per model pixel (default: window 6, GIF/PNG 1, terminal: fit)\n"
            "  --seed N         seed of the vae's eps and of --policy random (default 1)\n"
            "  --steps N        stop after N steps (headless: required with --policy)\n"
            "  --threads N      threads (default: the run's run.threads; 0 = every core)\n"
            "  --compose T      keep the start frame's pixels wherever the prediction moved by <= T from the\n"
            "                   decoded start frame (0 = the decoder draws every pixel; default: the run's\n"
            "                   dynamics.compose)\n"
            "  --deadband E     after each step, a latent cell whose change has an RMS below E keeps its value, as\n"
            "                   ./eval --deadband (0 = off; default: the run's dynamics.deadband)\n"
            "  --reencode N     every N steps, the latent becomes the encoding of the frame as drawn, as\n"
            "                   ./eval --reencode (0 = off; default: the run's dynamics.reencode)\n"
            "Headless (no screen; one of):\n"
            "  --script FILE    buttons per step from a CSV in the `gen import` format (a header of button\n"
            "                   names, then one 0/1 row per step)\n"
            "  --policy P       random (each step, with probability 1/2, a new choice among no button, LEFT,\n"
            "                   RIGHT, DOWN, A, B) or idle (no button)\n"
            "  --gif FILE       the frames as an animated GIF (frame 0 = the start frame's reconstruction)\n"
            "  --png-dir DIR    the frames as DIR/frame_000000.png, ...\n"
            "  --csv FILE       one row per frame: step, time_s, fps, buttons (and one 0/1 column each), the\n"
            "                   frame's mean and standard deviation, its L1 change from the frame before, and\n"
            "                   with dynamics.hypotheses > 1 the candidate that drew it and its probability\n"
            "                   softmax(logits) (a chooser per cell: the one most cells took, their share)\n"
            "Interactive:\n"
            "  --term           draw in this terminal (truecolor half-blocks); else a window (SDL2)\n"
            "  --shot-dir DIR   where P writes screenshots (default .)\n"
            "  keys: Z = A, X = B, Q = SELECT, R = START, arrows = D-pad; + / - temperature, space pause,\n"
            "  Backspace reset to the start frame, P screenshot (PNG), Esc quit; a run of several games without\n"
            "  --game opens a game menu (Up/Down, Enter or Z plays, Esc quits); G or Tab opens it while playing\n"
            "Measurements:\n"
            "  --check          LEFT/RIGHT and gravity against the built-in game's engine, 60 s of --policy\n"
            "                   random against the nearest real frames, replay at T = 0 (and T = 1 for a vae),\n"
            "                   frame rates; a Markdown report on stdout and in --out DIR (default\n"
            "                   results/<run>/play_check/) with curve.png, nearest.csv, random.gif\n"
            "  --check-frames N real frames the nearest-frame search looks through (default 3000)\n"
            "On exit prints the achieved frame rate to stderr.\n");
}

// Dies unless the folder that is to hold file `path` exists.
static void parent_exists(const char *opt, const char *path) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return;
    if (slash == dir) slash[1] = 0;
    else *slash = 0;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) die("%s %s: no folder %s to write it in", opt, path, dir);
}

static void parse_options(int argc, char **argv, PlayOptions *o) {
    memset(o, 0, sizeof *o);
    o->fps = 30, o->open.seed = 1, o->open.threads = -1, o->open.compose = -1, o->open.deadband = -1;
    o->open.reencode = -1;
    o->check_frames = 3000;
    static const char *const known[] = {"--run", "--game", "--start", "--temperature", "--fps", "--scale", "--seed",
                                        "--steps", "--script", "--policy", "--gif", "--png-dir", "--csv",
                                        "--shot-dir", "--out", "--check-frames", "--threads", "--compose",
                                        "--deadband", "--reencode"};
    static const char *const flags[] = {"--term", "--check"};
    const CliText texts[] = {{"--run", &o->open.run},   {"--game", &o->open.game},     {"--start", &o->open.start},
                             {"--script", &o->script},  {"--policy", &o->policy},      {"--gif", &o->gif},
                             {"--png-dir", &o->png_dir}, {"--csv", &o->csv},           {"--shot-dir", &o->shot_dir},
                             {"--out", &o->check_out}};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); exit(0); }
        char name[40];
        const char *v;
        cli_option(argc, argv, &i, known, sizeof known / sizeof *known, flags, sizeof flags / sizeof *flags, "play",
                   name, sizeof name, &v);
        if (cli_text(texts, sizeof texts / sizeof *texts, name, v)) continue;
        if (!strcmp(name, "--temperature")) o->open.temperature = cli_double(name, v, 0, 100), o->has_temperature = 1;
        else if (!strcmp(name, "--fps")) o->fps = cli_double(name, v, 0, 1000);
        else if (!strcmp(name, "--scale")) o->scale = (int)cli_long(name, v, 1, 64);
        else if (!strcmp(name, "--seed")) o->open.seed = cli_u64(name, v);
        else if (!strcmp(name, "--threads")) o->open.threads = (int)cli_long(name, v, 0, 4096);
        else if (!strcmp(name, "--compose")) o->open.compose = cli_double(name, v, 0, 1);
        else if (!strcmp(name, "--deadband")) o->open.deadband = cli_double(name, v, 0, 5);
        else if (!strcmp(name, "--reencode")) o->open.reencode = (int)cli_long(name, v, 0, 100000);
        else if (!strcmp(name, "--steps")) o->steps = cli_long(name, v, 1, 100000000);
        else if (!strcmp(name, "--check-frames")) o->check_frames = cli_long(name, v, 10, 1000000);
        else if (!strcmp(name, "--term")) o->term = 1;
        else if (!strcmp(name, "--check")) o->check = 1;
    }
    int headless = o->script || o->policy;
    if (o->script && o->policy) die("--script and --policy both choose the buttons: give one");
    if (o->policy && strcmp(o->policy, "random") && strcmp(o->policy, "idle"))
        die("--policy expects random or idle, got '%s'", o->policy);
    if (o->policy && o->steps <= 0) die("--policy %s needs --steps N", o->policy);
    if ((o->gif || o->png_dir || o->csv) && !headless)
        die("--gif, --png-dir and --csv belong to the headless mode: give --script FILE or --policy random|idle");
    if (o->term && headless) die("--term is interactive; --script and --policy are headless: give one");
    if (o->check && (headless || o->term || o->open.start || o->has_temperature || o->shot_dir || o->steps ||
                     o->scale))
        die("--check takes only --run, --game, --out, --check-frames, --seed, --threads, --compose, --deadband and "
            "--reencode");
    if ((o->check_out || o->check_frames != 3000) && !o->check)
        die("--out and --check-frames belong to --check (headless output: --gif, --png-dir, --csv)");
    if (o->shot_dir && headless) die("--shot-dir is for the P key of the interactive modes");
    if (o->script && access(o->script, R_OK) != 0) die("--script %s: %s", o->script, strerror(errno));
    if (o->gif) parent_exists("--gif", o->gif);
    if (o->csv) parent_exists("--csv", o->csv);
    struct stat st;
    if (o->png_dir && stat(o->png_dir, &st) == 0 && !S_ISDIR(st.st_mode)) die("--png-dir %s: not a folder", o->png_dir);
    if (o->shot_dir && (stat(o->shot_dir, &st) != 0 || !S_ISDIR(st.st_mode))) die("--shot-dir %s: no such folder", o->shot_dir);
}

// ---------------------------------------------------------------- headless

typedef struct {
    GifWriter *gif;
    FILE *csv;
    char csv_part[1100];
    uint8_t *px;
    int scale;
    double t_prev;
} Outputs;

static void outputs_open(Outputs *w, const PlaySession *s, const PlayOptions *o) {
    Err err = {{0}};
    memset(w, 0, sizeof *w);
    w->scale = o->scale > 0 ? o->scale : 1;
    w->px = xmalloc((size_t)s->C * s->H * s->W * w->scale * w->scale);
    if (o->png_dir && mkdir_p(o->png_dir) != 0) die("--png-dir %s: cannot create the folder: %s", o->png_dir, strerror(errno));
    if (o->csv) {
        snprintf(w->csv_part, sizeof w->csv_part, "%s.part", o->csv);
        w->csv = fopen(w->csv_part, "w");
        if (!w->csv) die("--csv %s: cannot create %s: %s", o->csv, w->csv_part, strerror(errno));
        fprintf(w->csv, "step,time_s,fps,buttons");
        for (int i = 0; i < s->A; i++) fprintf(w->csv, ",%s", s->names[i]);
        fprintf(w->csv, ",mean,sd,l1_prev,hypothesis,hyp_p\n");
    }
    if (o->gif) {
        int delay = (int)(100.0 / (o->fps > 0 ? o->fps : 30) + 0.5);
        w->gif = gif_open(o->gif, s->W * w->scale, s->H * w->scale, s->C, delay, &err);
        if (!w->gif) {
            if (w->csv) fclose(w->csv), remove(w->csv_part);
            die("--gif %s", err.msg);
        }
    }
}

// Frame s->step of the session into every output; t: seconds since the start.
static void outputs_frame(Outputs *w, const PlaySession *s, const PlayOptions *o, const uint8_t *buttons, double t) {
    Err err = {{0}};
    if (w->gif || o->png_dir) play_pixels(s, w->scale, w->px);
    if (w->gif && gif_add(w->gif, w->px, &err) < 0) die("--gif %s", err.msg);
    if (o->png_dir) {
        char path[1200];
        snprintf(path, sizeof path, "%s/frame_%06ld.png", o->png_dir, s->step);
        if (png_write(path, w->px, s->W * w->scale, s->H * w->scale, s->C, &err) < 0) die("--png-dir %s", err.msg);
    }
    if (w->csv) {
        char b[256];
        FrameStats fs = play_frame_stats(s);
        fprintf(w->csv, "%ld,%.6f,", s->step, t);
        if (s->step > 0 && t > w->t_prev) fprintf(w->csv, "%.3f", 1.0 / (t - w->t_prev));
        fprintf(w->csv, ",%s", play_buttons_str(s, buttons, b, sizeof b));
        for (int i = 0; i < s->A; i++) fprintf(w->csv, ",%d", buttons[i] ? 1 : 0);
        fprintf(w->csv, ",%.6f,%.6f,%.6f,", fs.mean, fs.sd, fs.l1_prev);
        double p;
        int h = s->step > 0 ? dynm_hyp_taken(&s->dyn, 0, &p) : -1;   // the candidate that drew this frame
        if (h >= 0) fprintf(w->csv, "%d,%.4f", h, p);
        else fputc(',', w->csv);
        fputc('\n', w->csv);
    }
    w->t_prev = t;
}

static void outputs_close(Outputs *w, const PlayOptions *o) {
    Err err = {{0}};
    if (w->gif && gif_close(w->gif, &err) < 0) die("--gif %s", err.msg);
    if (w->csv) {
        int bad = ferror(w->csv) | (fclose(w->csv) != 0);
        if (bad || rename(w->csv_part, o->csv) != 0) remove(w->csv_part), die("--csv %s: cannot write the file", o->csv);
    }
    free(w->px);
}

static int play_headless(PlaySession *s, const PlayOptions *o) {
    Policy pol;
    if (o->script) policy_script(&pol, s, o->script);
    else policy_init(&pol, s, !strcmp(o->policy, "random") ? POLICY_RANDOM : POLICY_IDLE, o->steps, o->open.seed);
    long steps = o->steps > 0 && o->steps < pol.steps ? o->steps : pol.steps;
    Outputs w;
    outputs_open(&w, s, o);
    uint8_t *buttons = xcalloc((size_t)s->A, 1);
    signals_install();
    play_reset(s);
    FrameClock clk;
    clock_start(&clk, o->fps);
    outputs_frame(&w, s, o, buttons, 0);
    clock_wait(&clk);
    long k = 0;
    for (; k < steps && !signals_stop_requested(); k++) {
        policy_buttons(&pol, k, buttons, s->A);
        play_step(s, buttons);
        outputs_frame(&w, s, o, buttons, now_seconds() - clk.t0);
        clock_wait(&clk);
    }
    outputs_close(&w, o);
    play_report(s, &clk, k);
    free(buttons);
    policy_free(&pol);
    return signals_stop_requested() ? 128 + signals_stop_requested() : 0;
}

int main(int argc, char **argv) {
    set_progname(argv[0]);
    blas_init(argc, argv);
    PlayOptions o;
    parse_options(argc, argv, &o);
    if (o.check) return play_check(&o);
    if (!o.script && !o.policy && !o.term && !play_window_built())
        die("this ./play was built without SDL2, so it has no window: install it (make deps, or apt-get install "
            "libsdl2-dev) and rebuild (make), or play in the terminal with --term");
    if (o.term && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
        die("--term needs a terminal on stdin and stdout (for files, use the headless mode: --script or --policy)");
    if (!o.script && !o.policy && !o.term) play_window_preflight();
    PlaySession s;
    o.open.menu = !o.script && !o.policy;   // the window and the terminal: a run of several games offers a menu
    play_open(&s, &o.open);
    int rc = o.script || o.policy ? play_headless(&s, &o) : o.term ? play_term(&s, &o) : play_window(&s, &o);
    play_close(&s);
    return rc;
}
