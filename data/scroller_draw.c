/*
 * scroller_draw.c - the side-scroller's renderer (scroller.h): sky, three parallax layers
 * (mountains 1/4, clouds 1/3 and drifting, hills 1/2), the tiles, coins, beetles, the runner
 * and the HUD, all in the colours of scroller_palette.
 */
#include "data/scroller.h"
#include "data/font8.h"

#include <stdio.h>
#include <string.h>

enum { C_SKY, C_MOUNT, C_WHITE, C_CLOUD_SHADE, C_HILL, C_HILL_DARK, C_GRASS, C_DIRT, C_DIRT_DARK, C_BRICK,
       C_BLACK, C_BRICK_LIGHT, C_GOLD, C_SHELL, C_RED, C_SKIN, C_BLUE, N_COLORS };

const uint32_t scroller_palette[N_COLORS] = {
    [C_SKY] = 0x5C94FC, [C_MOUNT] = 0x3C3C9C, [C_WHITE] = 0xFCFCFC, [C_CLOUD_SHADE] = 0xA4E4FC,
    [C_HILL] = 0x00A800, [C_HILL_DARK] = 0x005800, [C_GRASS] = 0x58D854, [C_DIRT] = 0xAC7C00,
    [C_DIRT_DARK] = 0x7C4C00, [C_BRICK] = 0xC84C0C, [C_BLACK] = 0x000000, [C_BRICK_LIGHT] = 0xFCA044,
    [C_GOLD] = 0xF8B800, [C_SHELL] = 0xA81000, [C_RED] = 0xD82800, [C_SKIN] = 0xFCB8A0, [C_BLUE] = 0x0000BC,
};
const int scroller_n_colors = N_COLORS;

static void put(uint8_t *rgb, int x, int y, int c) {
    if (x < 0 || x >= SCR_W || y < 0 || y >= SCR_H) return;
    uint8_t *p = rgb + ((size_t)y * SCR_W + x) * 3;
    const uint32_t v = scroller_palette[c];
    p[0] = (uint8_t)(v >> 16), p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)v;
}

static void rect(uint8_t *rgb, int x, int y, int w, int h, int c) {
    for (int j = y; j < y + h; j++)
        for (int i = x; i < x + w; i++) put(rgb, i, j, c);
}

// Text of font8 glyphs scaled by `scale`, with a black shadow one scaled pixel down-right.
static void text(uint8_t *rgb, int x, int y, const char *t, int c, int scale) {
    for (int pass = 0; pass < 2; pass++) {
        const int o = pass ? 0 : scale, col = pass ? c : C_BLACK;
        for (int i = 0; t[i]; i++) {
            const uint8_t *g = font8_glyph(t[i]);
            if (!g) continue;
            for (int r = 0; r < 7; r++)
                for (int k = 0; k < 7; k++)
                    if (g[r] & (0x40 >> k)) rect(rgb, x + (i * 8 + k) * scale + o, y + r * scale + o, scale, scale, col);
        }
    }
}

static int64_t pmod(int64_t a, int64_t m) { return ((a % m) + m) % m; }
static uint32_t hash(int64_t k) {
    uint64_t h = (uint64_t)k * 0x9E3779B97F4A7C15ull;
    return (uint32_t)((h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ull >> 40);
}

// ---------------------------------------------------------------- background layers

static void mountains(uint8_t *rgb, int64_t cam) {
    static const int HT[8] = {56, 76, 44, 84, 64, 40, 72, 52};
    for (int x = 0; x < SCR_W; x++) {
        const int64_t m = x + cam / 4;
        const int p = (int)pmod(m, 128), top = HT[pmod(m / 128, 8)];
        const int h = top - (p < 64 ? 64 - p : p - 64) * top / 64;
        for (int y = 184 - h; y < 184; y++) put(rgb, x, y, top >= 64 && y < 184 - top + 10 ? C_WHITE : C_MOUNT);
    }
}

static void clouds(uint8_t *rgb, int64_t cam, int64_t clock) {
    const int64_t off = cam / 3 + clock / 8, P = 176;
    for (int64_t k = off / P - 1; k <= (off + SCR_W) / P + 1; k++) {
        const uint32_t h = hash(k);
        const int cx = (int)(k * P - off) + 40 + (int)(h % 64), cy = 44 + (int)(h / 64 % 40);
        static const int BLOB[3][4] = {{-14, 2, 14, 8}, {2, -4, 14, 11}, {17, 2, 12, 8}};   // dx, dy, rx, ry
        for (int b = 0; b < 3; b++)
            for (int y = -BLOB[b][3]; y <= BLOB[b][3]; y++)
                for (int x = -BLOB[b][2]; x <= BLOB[b][2]; x++) {
                    const int rx = BLOB[b][2], ry = BLOB[b][3];
                    if (x * x * ry * ry + y * y * rx * rx > rx * rx * ry * ry) continue;
                    put(rgb, cx + BLOB[b][0] + x, cy + BLOB[b][1] + y, y > ry - 3 ? C_CLOUD_SHADE : C_WHITE);
                }
    }
}

static void hills(uint8_t *rgb, int64_t cam) {
    static const int HT[4] = {30, 44, 22, 36};
    for (int x = 0; x < SCR_W; x++) {
        const int64_t m = x + cam / 2;
        const int p = (int)pmod(m, 96), top = HT[pmod(m / 96, 4)];
        const int h = top - (p - 48) * (p - 48) * top / (48 * 48);
        for (int y = 208 - h; y < 208; y++)
            put(rgb, x, y, pmod(m, 16) < 3 && pmod(y + m / 16 * 5, 12) < 3 ? C_HILL_DARK : C_HILL);
    }
}

// ---------------------------------------------------------------- tiles and sprites

static void tile(uint8_t *rgb, const Scroller *s, int64_t col, int row, int sx, int sy) {
    const int t = scroller_tile(s, col, row);
    if (t == SCR_GROUND) {
        const int grass = !scroller_solid(s, col, row - 1);
        for (int y = 0; y < SCR_TILE; y++)
            for (int x = 0; x < SCR_TILE; x++) {
                const int64_t wx = col * SCR_TILE + x, wy = row * SCR_TILE + y;
                int c = (wx * 7 + wy * 13) % 23 == 0 || (wx * 5 + wy * 3) % 31 == 0 ? C_DIRT_DARK : C_DIRT;
                if (grass && y < 4) c = C_GRASS;
                if (grass && y == 4) c = x % 4 == 1 ? C_GRASS : C_DIRT_DARK;
                put(rgb, sx + x, sy + y, c);
            }
    } else if (t == SCR_BRICK) {
        for (int y = 0; y < SCR_TILE; y++)
            for (int x = 0; x < SCR_TILE; x++) {
                const int shift = (y / 8) % 2 ? 4 : 0;
                int c = y % 8 == 7 || (x + shift) % 8 == 7 ? C_BLACK : y % 8 == 0 ? C_BRICK_LIGHT : C_BRICK;
                put(rgb, sx + x, sy + y, c);
            }
    } else if (t == SCR_COIN) {
        static const int HW[4] = {5, 3, 1, 3};   // half widths of the spin cycle
        const int hw = HW[pmod(s->clock / 8 + col, 4)];
        for (int y = -6; y <= 6; y++)
            for (int x = -hw; x <= hw; x++) {
                if (x * x * 36 + y * y * hw * hw > 36 * hw * hw + hw) continue;
                const int edge = (x + 1) * (x + 1) * 36 + y * y * hw * hw > 36 * hw * hw + hw || y == -6 || y == 6;
                put(rgb, sx + 8 + x, sy + 8 + y, hw > 1 && x == 0 && y > -4 && y < 4 ? C_DIRT : edge ? C_DIRT : C_GOLD);
            }
    }
}

static void beetle(uint8_t *rgb, const ScrEnemy *e, int64_t cam, int64_t clock) {
    const int sx = (int)((e->x >> 4) - cam), sy = e->y;
    if (e->state == 2) {   // squashed
        rect(rgb, sx, sy + 8, 14, 4, C_SHELL);
        rect(rgb, sx + 2, sy + 9, 10, 1, C_BRICK_LIGHT);
        return;
    }
    for (int y = 0; y < 9; y++)
        for (int x = 0; x < 14; x++) {
            const int dx = 2 * x - 13, dy = 2 * (y - 9);   // a half ellipse, radii 13 and 18 in half pixels
            if (dx * dx * 324 + dy * dy * 169 > 169 * 324) continue;
            put(rgb, sx + x, sy + y, (x + y) % 5 == 0 && y < 7 ? C_BRICK_LIGHT : C_SHELL);
        }
    const int ex = e->dir < 0 ? 2 : 9;
    rect(rgb, sx + ex, sy + 4, 3, 3, C_WHITE), put(rgb, sx + ex + (e->dir < 0 ? 0 : 2), sy + 5, C_BLACK);
    rect(rgb, sx + 1, sy + 9, 12, 1, C_BRICK_LIGHT);
    const int step = (int)(clock / 8) & 1;   // the feet alternate
    rect(rgb, sx + (step ? 1 : 3), sy + 10, 4, 2, C_BLACK), rect(rgb, sx + (step ? 9 : 7), sy + 10, 4, 2, C_BLACK);
}

// The runner, facing right: head and body rows 0..13 (R cap, S skin, K eye, B suit), legs after.
static const char *const BODY[14] = {
    "......RRRRR.....", ".....RRRRRRRRR..", ".....SSSSSS.....", "....SSSSSSKS....", "....SSSSSSKS....",
    "....SSSSSSSSS...", ".....SSSSSS.....", "......SSSS......", "....BBBBBBB.....", "...BBBBBBBBB....",
    "..SBBBBBBBBBS...", "..SSBBBBBBBSS...", "....BBBBBBB.....", "....RRRRRRR.....",
};

static int body_colour(char ch) {
    return ch == 'R' ? C_RED : ch == 'S' ? C_SKIN : ch == 'K' ? C_BLACK : ch == 'B' ? C_BLUE : -1;
}

// Legs rows 14..23: two 3-pixel legs from the hips, swinging by the run cycle, boots at the end.
static void legs(uint8_t *rgb, int sx, int sy, int facing, int pose) {
    static const int SW[6][2] = {{0, 0}, {4, -4}, {2, -2}, {-4, 4}, {-2, 2}, {5, -3}};   // front, back swing
    static const int LEN[6][2] = {{8, 8}, {8, 8}, {7, 8}, {8, 8}, {8, 7}, {6, 8}};
    for (int l = 0; l < 2; l++) {
        const int hip = l ? 5 : 8, sw = SW[pose][l], len = LEN[pose][l];
        for (int r = 0; r < len; r++) {
            const int x = hip + sw * r / 8;
            for (int k = 0; k < 3; k++) {
                const int px = facing > 0 ? x + k : 15 - (x + k);
                put(rgb, sx + px, sy + 14 + r, C_BLUE);
            }
        }
        const int bx = hip + sw * (len - 1) / 8;
        for (int r = 0; r < 2; r++)
            for (int k = 0; k < 5; k++) {
                const int px = facing > 0 ? bx + k - 1 : 15 - (bx + k - 1);
                put(rgb, sx + px, sy + 14 + len + r, C_BLACK);
            }
    }
}

static void runner(uint8_t *rgb, const Scroller *s) {
    const int sx = (int)((s->px >> 4) - s->cam) - 2, sy = (s->py >> 4) - 2, f = s->facing >= 0 ? 1 : -1;
    for (int y = 0; y < 14; y++)
        for (int x = 0; x < 16; x++) {
            const int c = body_colour(BODY[y][x]);
            if (c >= 0) put(rgb, sx + (f > 0 ? x : 15 - x), sy + y, c);
        }
    int pose = 0;
    if (s->mode == SCR_DYING || !s->on_ground) pose = 5;
    else if (s->vx) pose = 1 + (int)((s->anim >> 7) & 3);
    legs(rgb, sx, sy, f, pose);
}

static void hud(uint8_t *rgb, const Scroller *s) {
    char buf[32];
    text(rgb, 16, 8, "SCORE", C_WHITE, 1);
    snprintf(buf, sizeof buf, "%06lld", (long long)s->score);
    text(rgb, 16, 18, buf, C_WHITE, 1);
    text(rgb, 112, 8, "COINS", C_WHITE, 1);
    snprintf(buf, sizeof buf, "%02d", s->coins);
    text(rgb, 128, 18, buf, C_GOLD, 1);
    text(rgb, 192, 8, "LIVES", C_WHITE, 1);
    snprintf(buf, sizeof buf, "%d", s->lives);
    text(rgb, 208, 18, buf, C_WHITE, 1);
}

void scroller_render(const Scroller *s, uint8_t *rgb, int hide_runner) {
    for (size_t i = 0; i < (size_t)SCR_W * SCR_H; i++) put(rgb, (int)(i % SCR_W), (int)(i / SCR_W), C_SKY);
    mountains(rgb, s->cam);
    clouds(rgb, s->cam, s->clock);
    hills(rgb, s->cam);
    const int64_t c0 = s->cam / SCR_TILE;
    const int ox = (int)(s->cam % SCR_TILE);
    for (int64_t c = c0; c <= c0 + SCR_W / SCR_TILE; c++)
        for (int r = 0; r < SCR_ROWS; r++) tile(rgb, s, c, r, (int)((c - c0) * SCR_TILE) - ox, r * SCR_TILE);
    for (int i = 0; i < SCR_MAX_ENEMIES; i++)
        if (s->en[i].state) beetle(rgb, &s->en[i], s->cam, s->clock);
    int x0, y0, x1, y1;
    if (!hide_runner && scroller_runner_box(s, &x0, &y0, &x1, &y1)) runner(rgb, s);
    if (s->mode == SCR_TITLE) {
        text(rgb, 128 - 4 * 8 * 3, 64, "HILL RUN", C_GOLD, 3);
        if ((s->clock / 32) % 2 == 0) text(rgb, 128 - 5 * 8 * 2, 120, "PUSH START", C_WHITE, 2);
        return;
    }
    hud(rgb, s);
    if (s->mode == SCR_GAMEOVER) text(rgb, 128 - 9 * 8, 100, "GAME OVER", C_WHITE, 2);
    if (s->mode == SCR_PLAY && s->paused) text(rgb, 128 - 5 * 8, 100, "PAUSE", C_WHITE, 2);
}
