/*
 * play.c - an exported nemu emulator, played: the proof that `./export`'s file stands alone.
 * It links nothing of nemu: only emu.c (from `./export --name emu --out DIR`), libc and libm.
 *
 *   ./export --run runs/dynD --out emu_out --name emu
 *   cc -std=c99 -O2 -I emu_out examples/standalone/play.c emu_out/emu.c -lm -o play
 *   ./play                       the terminal (truecolor half-blocks): arrows move, Z = A, X = B,
 *                                Q = SELECT, R = START, Backspace resets, Esc quits
 *   ./play --pgm out 60 [BITS]   60 steps with BITS held (8 chars of 0/1, A B SELECT START UP
 *                                DOWN LEFT RIGHT; default none), frames out_000.pgm ...
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"

static emu_state st;   /* a few hundred KB: not on the stack */
static unsigned char rgba[EMU_HEIGHT * EMU_WIDTH * 4];

static int write_pgm(const char *path) {   /* grey: the RGBA's red channel */
    FILE *f = fopen(path, "wb");
    int i;
    if (!f) return -1;
    fprintf(f, "P5\n%d %d\n255\n", EMU_WIDTH, EMU_HEIGHT);
    for (i = 0; i < EMU_WIDTH * EMU_HEIGHT; i++) fputc(rgba[4 * i], f);
    return fclose(f);
}

static int headless(const char *prefix, int steps, const char *bits) {
    unsigned char b[EMU_BUTTONS] = {0};
    char path[1024];
    int k, j;
    for (j = 0; bits && bits[j] && j < EMU_BUTTONS; j++) b[j] = bits[j] == '1';
    emu_init(&st, 1);
    for (k = 0; k <= steps; k++) {
        if (k > 0) emu_step(&st, b);
        emu_frame_rgba(&st, rgba);
        snprintf(path, sizeof path, "%s_%03d.pgm", prefix, k);
        if (write_pgm(path) != 0) { perror(path); return 1; }
    }
    printf("%d frames %s_000.pgm .. %s_%03d.pgm\n", steps + 1, prefix, prefix, steps);
    return 0;
}

static void draw(void) {   /* two pixel rows per text row: upper half block, fg top, bg bottom */
    int y, x;
    printf("\033[H");
    for (y = 0; y + 1 < EMU_HEIGHT; y += 2) {
        for (x = 0; x < EMU_WIDTH; x++) {
            const unsigned char *t = rgba + 4 * (y * EMU_WIDTH + x), *u = t + 4 * EMU_WIDTH;
            printf("\033[38;2;%d;%d;%dm\033[48;2;%d;%d;%dm\xe2\x96\x80", t[0], t[1], t[2], u[0], u[1], u[2]);
        }
        printf("\033[0m\n");
    }
    printf("arrows, Z X Q R, Backspace reset, Esc quit\n");
    fflush(stdout);
}

/* The buttons of the keys read since the last frame (held for this step), -1 on Esc. */
static int read_keys(unsigned char *b) {
    unsigned char c[64];
    ssize_t n = read(0, c, sizeof c), i;
    memset(b, 0, EMU_BUTTONS);
    for (i = 0; i < n; i++) {
        if (c[i] == 27 && i + 2 < n && c[i + 1] == '[') {   /* arrows: ESC [ A..D */
            char d = (char)c[i + 2];
            if (d == 'A') b[4] = 1; else if (d == 'B') b[5] = 1; else if (d == 'D') b[6] = 1; else if (d == 'C') b[7] = 1;
            i += 2;
        } else if (c[i] == 27) return -1;
        else if (c[i] == 'z') b[0] = 1; else if (c[i] == 'x') b[1] = 1;
        else if (c[i] == 'q') b[2] = 1; else if (c[i] == 'r') b[3] = 1;
        else if (c[i] == 127 || c[i] == 8) emu_init(&st, 1);
    }
    return 0;
}

int main(int argc, char **argv) {
    struct termios old, raw;
    unsigned char b[EMU_BUTTONS];
    struct timespec tick = {0, 1000000000L / 15};   /* 15 steps a second: 4 game frames each */
    if (argc >= 4 && !strcmp(argv[1], "--pgm")) return headless(argv[2], atoi(argv[3]), argc > 4 ? argv[4] : NULL);
    if (argc > 1 || tcgetattr(0, &old) != 0) {
        fprintf(stderr, "usage: %s (on a terminal) | %s --pgm PREFIX STEPS [BITS]\n", argv[0], argv[0]);
        return 2;
    }
    raw = old;
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    raw.c_cc[VMIN] = 0, raw.c_cc[VTIME] = 0;
    tcsetattr(0, TCSANOW, &raw);
    printf("\033[2J\033[?25l");
    emu_init(&st, 1);
    while (read_keys(b) == 0) {
        emu_step(&st, b);
        emu_frame_rgba(&st, rgba);
        draw();
        nanosleep(&tick, NULL);
    }
    tcsetattr(0, TCSANOW, &old);
    printf("\033[?25h\n");
    return 0;
}
