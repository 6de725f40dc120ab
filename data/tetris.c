/*
 * tetris.c - NES-Tetris rules (tetris_step) and the 256x240 renderer (tetris_render);
 * see tetris.h for the rules implemented. Screen layout follows NES Tetris type A:
 * well at x 96..175, y 48..207; LINES box above it; TOP/SCORE, NEXT and LEVEL boxes on
 * the right; A-TYPE and STATISTICS boxes on the left.
 */
#include "data/tetris.h"

#include <stdio.h>
#include <string.h>

#include "data/font8.h"
#include "base/err.h"
#include "base/rng.h"

// ---------------------------------------------------------------- rule tables

// NES orientation tables, (dx, dy) from the pivot; index + 1 is the clockwise rotation.
static const int8_t CELLS[PIECE_COUNT][4][4][2] = {
    [PIECE_T] = {{{-1, 0}, {0, 0}, {1, 0}, {0, 1}},     // T down (spawn)
                 {{0, -1}, {-1, 0}, {0, 0}, {0, 1}},    // T left
                 {{-1, 0}, {0, 0}, {1, 0}, {0, -1}},    // T up
                 {{0, -1}, {0, 0}, {1, 0}, {0, 1}}},    // T right
    [PIECE_J] = {{{-1, 0}, {0, 0}, {1, 0}, {1, 1}},
                 {{0, -1}, {0, 0}, {-1, 1}, {0, 1}},
                 {{-1, -1}, {-1, 0}, {0, 0}, {1, 0}},
                 {{0, -1}, {1, -1}, {0, 0}, {0, 1}}},
    [PIECE_Z] = {{{-1, 0}, {0, 0}, {0, 1}, {1, 1}},
                 {{1, -1}, {0, 0}, {1, 0}, {0, 1}}},
    [PIECE_O] = {{{-1, 0}, {0, 0}, {-1, 1}, {0, 1}}},
    [PIECE_S] = {{{0, 0}, {1, 0}, {-1, 1}, {0, 1}},
                 {{0, -1}, {0, 0}, {1, 0}, {1, 1}}},
    [PIECE_L] = {{{-1, 0}, {0, 0}, {1, 0}, {-1, 1}},
                 {{-1, -1}, {0, -1}, {0, 0}, {0, 1}},
                 {{1, -1}, {-1, 0}, {0, 0}, {1, 0}},
                 {{0, -1}, {0, 0}, {0, 1}, {1, 1}}},
    [PIECE_I] = {{{-2, 0}, {-1, 0}, {0, 0}, {1, 0}},
                 {{0, -2}, {0, -1}, {0, 0}, {0, 1}}},
};
static const int NROT[PIECE_COUNT] = {4, 4, 2, 1, 2, 4, 2};

static const uint8_t GRAVITY[30] = {48, 43, 38, 33, 28, 23, 18, 13, 8, 6,  5, 5, 5, 4, 4,
                                    4,  3,  3,  3,  2,  2,  2,  2,  2, 2,  2, 2, 2, 2, 1};

int tetris_gravity_frames(int level) {
    if (level < 0) level = 0;
    return level >= 29 ? 1 : GRAVITY[level];
}

int tetris_line_score(int lines, int level) {
    static const int BASE[5] = {0, 40, 100, 300, 1200};
    CHECK(lines >= 0 && lines <= 4, "lines %d", lines);
    return BASE[lines] * (level + 1);
}

int tetris_entry_delay(int lock_row) {
    int g = (TETRIS_ROWS - 1 - lock_row + 2) / 4;   // rows 18-19 -> 0, 14-17 -> 1, ...
    if (g < 0) g = 0;
    if (g > 4) g = 4;
    return 10 + 2 * g;
}

int tetris_level_for(int start_level, int lines) {
    int a = start_level * 10 + 10, b = start_level * 10 - 50;
    if (b < 100) b = 100;
    int first = a < b ? a : b;   // lines at the first level-up (NES rule)
    return lines < first ? start_level : start_level + 1 + (lines - first) / 10;
}

int tetris_rotations(int piece) { return NROT[piece]; }
int tetris_spawn_rot(int piece) { (void)piece; return 0; }
const int8_t (*tetris_cells(int piece, int rot))[2] { return CELLS[piece][rot]; }

int tetris_random_piece(Rng *r, int prev) {
    int p = (int)rng_below(r, 8);
    if (p == 7 || p == prev) p = (int)rng_below(r, 7);
    return p;
}

int tetris_fits(const uint8_t board[TETRIS_ROWS][TETRIS_COLS], int piece, int rot, int x, int y) {
    const int8_t(*c)[2] = CELLS[piece][rot];
    for (int i = 0; i < 4; i++) {
        int cx = x + c[i][0], cy = y + c[i][1];
        if (cx < 0 || cx >= TETRIS_COLS || cy >= TETRIS_ROWS) return 0;
        if (cy >= 0 && board[cy][cx]) return 0;
    }
    return 1;
}

// ---------------------------------------------------------------- game logic

void tetris_init(Tetris *t, uint64_t seed) {
    memset(t, 0, sizeof *t);
    rng_seed(&t->rng, seed);
    t->mode = TETRIS_TITLE;
    t->show_next = 1;
    t->top = 10000;   // NES's default high score
    t->piece = -1;
    t->next = -1;
}

static void spawn(Tetris *t) {
    t->piece = t->next;
    t->next = tetris_random_piece(&t->rng, t->piece);
    t->rot = tetris_spawn_rot(t->piece);
    t->px = 5;
    t->py = 0;
    t->fall_timer = t->soft_timer = t->soft_cells = 0;
    t->phase = PHASE_FALL;
    t->stats[t->piece]++;
    if (!tetris_fits(t->board, t->piece, t->rot, t->px, t->py)) {
        t->mode = TETRIS_GAMEOVER;
        t->curtain = 0;
        if (t->score > t->top) t->top = t->score;
    }
}

void tetris_start(Tetris *t, int level) {
    CHECK(level >= 0 && level <= 29, "level %d", level);
    memset(t->board, 0, sizeof t->board);
    memset(t->stats, 0, sizeof t->stats);
    t->mode = TETRIS_PLAY;
    t->paused = 0;
    t->start_level = t->level = level;
    t->lines = t->score = 0;
    t->das = 0;
    t->n_clear = t->clear_timer = t->entry_timer = 0;
    t->next = tetris_random_piece(&t->rng, -1);
    spawn(t);
}

static void lock_piece(Tetris *t) {
    const int8_t(*c)[2] = CELLS[t->piece][t->rot];
    int lowest = 0;
    for (int i = 0; i < 4; i++) {
        int cx = t->px + c[i][0], cy = t->py + c[i][1];
        if (cy >= 0) t->board[cy][cx] = (uint8_t)(t->piece + 1);
        if (cy > lowest) lowest = cy;
    }
    t->score += t->soft_cells;
    t->soft_cells = 0;
    t->entry_timer = tetris_entry_delay(lowest);
    t->n_clear = 0;
    for (int y = 0; y < TETRIS_ROWS; y++) {
        int full = 1;
        for (int x = 0; x < TETRIS_COLS && full; x++) full = t->board[y][x] != 0;
        if (full) t->clear_rows[t->n_clear++] = y;
    }
    if (t->n_clear) {
        t->phase = PHASE_CLEAR;
        t->clear_timer = 0;
    } else {
        t->phase = PHASE_ENTRY;
    }
}

static void finish_clear(Tetris *t) {
    for (int k = 0; k < t->n_clear; k++) {   // rows ascending: shifting keeps later indices valid
        int row = t->clear_rows[k];
        memmove(t->board[1], t->board[0], (size_t)row * TETRIS_COLS);
        memset(t->board[0], 0, TETRIS_COLS);
    }
    t->score += tetris_line_score(t->n_clear, t->level);
    if (t->score > 999999) t->score = 999999;
    t->lines += t->n_clear;
    int lv = tetris_level_for(t->start_level, t->lines);
    if (lv > t->level) t->level = lv;
    t->n_clear = 0;
    t->phase = PHASE_ENTRY;
}

static void play_frame(Tetris *t, uint8_t b, uint8_t pressed) {
    if (t->paused) {
        if (pressed & BTN_START) t->paused = 0;
        return;
    }
    if (pressed & BTN_START) { t->paused = 1; return; }
    if (pressed & BTN_SELECT) t->show_next ^= 1;
    int dirs = b & (BTN_UP | BTN_DOWN | BTN_LEFT | BTN_RIGHT);
    int hdir = (b & BTN_RIGHT) ? 1 : (b & BTN_LEFT) ? -1 : 0;

    if (t->phase == PHASE_CLEAR) {
        if (++t->clear_timer >= TETRIS_CLEAR_FRAMES) finish_clear(t);
        if (hdir && t->das < 16) t->das++;
        return;
    }
    if (t->phase == PHASE_ENTRY) {
        if (hdir && t->das < 16) t->das++;
        if (--t->entry_timer <= 0) spawn(t);
        return;
    }
    // 1. shift (DAS 16/6); ignored while DOWN is held
    if (hdir && !(b & BTN_DOWN)) {
        int move = 0;
        if (pressed & (hdir > 0 ? BTN_RIGHT : BTN_LEFT)) {
            t->das = 0;
            move = 1;
        } else if (++t->das >= 16) {
            t->das = 10;
            move = 1;
        }
        if (move) {
            if (tetris_fits(t->board, t->piece, t->rot, t->px + hdir, t->py)) t->px += hdir;
            else t->das = 16;   // against a wall: stays charged
        }
    }
    // 2. rotate on press edges, no wall kicks
    int n = NROT[t->piece];
    int r = t->rot;
    if (pressed & BTN_A) r = (r + 1) % n;
    else if (pressed & BTN_B) r = (r + n - 1) % n;
    if (r != t->rot && tetris_fits(t->board, t->piece, r, t->px, t->py)) t->rot = r;
    // 3. drop: gravity, or 1 cell per 2 frames while only DOWN (of the d-pad) is held
    int soft = dirs == BTN_DOWN;
    if (!soft) t->soft_cells = 0, t->soft_timer = 0;
    t->fall_timer++;
    if (soft) t->soft_timer++;
    if ((soft && t->soft_timer >= 2) || t->fall_timer >= tetris_gravity_frames(t->level)) {
        t->fall_timer = t->soft_timer = 0;
        if (tetris_fits(t->board, t->piece, t->rot, t->px, t->py + 1)) {
            t->py++;
            if (soft) t->soft_cells++;
        } else {
            lock_piece(t);
        }
    }
}

void tetris_step(Tetris *t, uint8_t b) {
    uint8_t pressed = (uint8_t)(b & ~t->prev_buttons);
    t->prev_buttons = b;
    t->frame++;
    switch (t->mode) {
    case TETRIS_TITLE:
        if (pressed & BTN_LEFT) t->title_level = (t->title_level + 9) % 10;
        if (pressed & BTN_RIGHT) t->title_level = (t->title_level + 1) % 10;
        if (pressed & BTN_UP) t->title_level = (t->title_level + 5) % 10;
        if (pressed & BTN_DOWN) t->title_level = (t->title_level + 5) % 10;
        if (pressed & BTN_START) tetris_start(t, t->title_level + ((b & BTN_A) ? 10 : 0));
        break;
    case TETRIS_GAMEOVER:
        if (t->curtain < TETRIS_CURTAIN_FRAMES) t->curtain++;
        else if (pressed & BTN_START) t->mode = TETRIS_TITLE;
        break;
    case TETRIS_PLAY:
        play_frame(t, b, pressed);
        break;
    }
}

// ---------------------------------------------------------------- rendering

// NES 2C02 palette (the common FCEUX approximation), 0xRRGGBB.
const uint32_t tetris_nes_palette[64] = {
    0x7C7C7C, 0x0000FC, 0x0000BC, 0x4428BC, 0x940084, 0xA80020, 0xA81000, 0x881400,
    0x503000, 0x007800, 0x006800, 0x005800, 0x004058, 0x000000, 0x000000, 0x000000,
    0xBCBCBC, 0x0078F8, 0x0058F8, 0x6844FC, 0xD800CC, 0xE40058, 0xF83800, 0xE45C10,
    0xAC7C00, 0x00B800, 0x00A800, 0x00A844, 0x008888, 0x000000, 0x000000, 0x000000,
    0xF8F8F8, 0x3CBCFC, 0x6888FC, 0x9878F8, 0xF878F8, 0xF85898, 0xF87858, 0xFCA044,
    0xF8B800, 0xB8F818, 0x58D854, 0x58F898, 0x00E8D8, 0x787878, 0x000000, 0x000000,
    0xFCFCFC, 0xA4E4FC, 0xB8B8F8, 0xD8B8F8, 0xF8B8F8, 0xF8A4C0, 0xF0D0B0, 0xFCE0A8,
    0xF8D878, 0xD8F878, 0xB8F8B8, 0xB8F8D8, 0x00FCFC, 0xF8D8F8, 0x000000, 0x000000,
};
// Block colours per level (mod 10): NES Tetris's palette table, colours 2 and 3.
static const uint8_t LEVEL_COLORS[10][2] = {
    {0x21, 0x12}, {0x29, 0x1A}, {0x24, 0x14}, {0x2A, 0x12}, {0x2B, 0x15},
    {0x22, 0x2B}, {0x00, 0x16}, {0x05, 0x13}, {0x16, 0x12}, {0x27, 0x16},
};

#define C_WHITE 0xFCFCFCu
#define C_BLACK 0x000000u
#define C_RED 0xF83800u

typedef struct { uint8_t *px; } Canvas;   // [TETRIS_H, TETRIS_W, 3]

static void put(Canvas *cv, int x, int y, uint32_t c) {
    if (x < 0 || y < 0 || x >= TETRIS_W || y >= TETRIS_H) return;
    uint8_t *p = cv->px + ((size_t)y * TETRIS_W + x) * 3;
    p[0] = (uint8_t)(c >> 16), p[1] = (uint8_t)(c >> 8), p[2] = (uint8_t)c;
}

static void fill(Canvas *cv, int x0, int y0, int w, int h, uint32_t c) {
    int x1 = x0 + w, y1 = y0 + h;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > TETRIS_W) x1 = TETRIS_W;
    if (y1 > TETRIS_H) y1 = TETRIS_H;
    uint8_t r = (uint8_t)(c >> 16), g = (uint8_t)(c >> 8), b = (uint8_t)c;
    for (int y = y0; y < y1; y++) {
        uint8_t *p = cv->px + ((size_t)y * TETRIS_W + x0) * 3;
        for (int x = x0; x < x1; x++, p += 3) p[0] = r, p[1] = g, p[2] = b;
    }
}

static void text(Canvas *cv, int x, int y, const char *s, uint32_t c) {
    uint8_t rgb[3] = {(uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c};
    font8_draw(cv->px, TETRIS_W, TETRIS_H, 3, x, y, s, rgb, 8);
}

// Background: grey bricks (tile pattern), or white during a Tetris flash.
static void background(Canvas *cv, int flash) {
    uint8_t line[3][TETRIS_W * 3];   // mortar row, brick row, brick row shifted by 4
    uint32_t brick = flash ? C_WHITE : 0x747474, mortar = flash ? 0xBCBCBC : 0x3C3C3C;
    for (int x = 0; x < TETRIS_W; x++)
        for (int k = 0; k < 3; k++) {
            uint32_t c = k == 0 ? mortar : (((x + (k == 2 ? 4 : 0)) & 15) == 15 ? mortar : brick);
            line[k][3 * x] = (uint8_t)(c >> 16), line[k][3 * x + 1] = (uint8_t)(c >> 8);
            line[k][3 * x + 2] = (uint8_t)c;
        }
    for (int y = 0; y < TETRIS_H; y++)
        memcpy(cv->px + (size_t)y * TETRIS_W * 3, line[(y & 7) == 7 ? 0 : 1 + ((y >> 3) & 1)],
               sizeof line[0]);
}

// Black box with a light rounded-looking frame; inclusive corners.
static void box(Canvas *cv, int x0, int y0, int x1, int y1) {
    fill(cv, x0, y0, x1 - x0 + 1, y1 - y0 + 1, 0x202020);
    fill(cv, x0 + 1, y0 + 1, x1 - x0 - 1, y1 - y0 - 1, 0xBCBCBC);
    fill(cv, x0 + 3, y0 + 3, x1 - x0 - 5, y1 - y0 - 5, 0x7C7C7C);
    fill(cv, x0 + 4, y0 + 4, x1 - x0 - 7, y1 - y0 - 7, C_BLACK);
}

// One block of piece type `piece` at (x, y), cell size s (8 in the well, 6 in statistics).
static void block(Canvas *cv, int x, int y, int piece, int level, int s) {
    const uint8_t *lc = LEVEL_COLORS[level % 10];
    uint32_t c1 = tetris_nes_palette[lc[0]], c2 = tetris_nes_palette[lc[1]];
    int b = s - 1;
    if (piece == PIECE_T || piece == PIECE_O || piece == PIECE_I) {   // white with colour rim
        fill(cv, x, y, b, b, c1);
        fill(cv, x + 1, y + 1, b - 2, b - 2, C_WHITE);
        put(cv, x, y, C_WHITE);
    } else {                                                          // solid with a shine
        fill(cv, x, y, b, b, (piece == PIECE_J || piece == PIECE_S) ? c2 : c1);
        put(cv, x, y, C_WHITE);
        put(cv, x + 1, y + 1, C_WHITE);
        put(cv, x + 2, y + 1, C_WHITE);
        put(cv, x + 1, y + 2, C_WHITE);
    }
}

// A whole piece centred on (cx, cy) with cell size s.
static void piece_centred(Canvas *cv, int piece, int cx, int cy, int level, int s) {
    const int8_t(*c)[2] = CELLS[piece][0];
    int x0 = 9, x1 = -9, y0 = 9, y1 = -9;
    for (int i = 0; i < 4; i++) {
        if (c[i][0] < x0) x0 = c[i][0];
        if (c[i][0] > x1) x1 = c[i][0];
        if (c[i][1] < y0) y0 = c[i][1];
        if (c[i][1] > y1) y1 = c[i][1];
    }
    int ox = cx - (x1 - x0 + 1) * s / 2 - x0 * s, oy = cy - (y1 - y0 + 1) * s / 2 - y0 * s;
    for (int i = 0; i < 4; i++) block(cv, ox + c[i][0] * s, oy + c[i][1] * s, piece, level, s);
}

static void render_title(const Tetris *t, Canvas *cv) {
    static const uint32_t LOGO[6] = {0xF83800, 0xFCA044, 0xF8B800, 0x58D854, 0x3CBCFC, 0x9878F8};
    background(cv, 0);
    box(cv, 16, 16, 239, 119);
    const char *logo = "TETRIS";
    for (int i = 0; i < 6; i++) {
        const uint8_t *g = font8_glyph(logo[i]);
        int gx = 34 + i * 32, gy = 40;
        for (int r = 0; r < 7; r++)
            for (int c = 0; c < 7; c++)
                if (g[r] & (0x40 >> c)) {
                    fill(cv, gx + c * 4, gy + r * 4, 3, 3, LOGO[i]);
                    put(cv, gx + c * 4, gy + r * 4, C_WHITE);
                }
    }
    text(cv, 48, 88, "NEMU  NES-STYLE", 0xBCBCBC);
    text(cv, 88, 132, "PUSH START", C_WHITE);
    box(cv, 72, 148, 183, 215);
    text(cv, 108, 156, "LEVEL", C_WHITE);
    for (int d = 0; d < 10; d++) {
        int x = 92 + (d % 5) * 16, y = 176 + (d / 5) * 18;
        if (d == t->title_level) fill(cv, x - 3, y - 3, 13, 13, 0xFCA044);
        char s[2] = {(char)('0' + d), 0};
        text(cv, x, y, s, d == t->title_level ? C_BLACK : C_WHITE);
    }
}

static void render_play(const Tetris *t, Canvas *cv) {
    char s[32];
    int flash = t->mode == TETRIS_PLAY && !t->paused && t->phase == PHASE_CLEAR && t->n_clear == 4 &&
                (t->clear_timer & 4) == 0;
    background(cv, flash);
    box(cv, 16, 16, 87, 39);
    text(cv, 28, 24, "A-TYPE", C_WHITE);
    box(cv, 88, 8, 183, 39);
    snprintf(s, sizeof s, "LINES-%03d", t->lines % 1000);
    text(cv, 100, 20, s, C_WHITE);
    box(cv, 184, 16, 247, 79);
    text(cv, 192, 24, "TOP", C_WHITE);
    snprintf(s, sizeof s, "%06d", t->top > t->score ? t->top : t->score);
    text(cv, 192, 34, s, C_WHITE);
    text(cv, 192, 52, "SCORE", C_WHITE);
    snprintf(s, sizeof s, "%06d", t->score);
    text(cv, 192, 62, s, C_WHITE);
    box(cv, 184, 96, 231, 143);
    text(cv, 192, 104, "NEXT", C_WHITE);
    box(cv, 184, 152, 231, 187);
    text(cv, 188, 160, "LEVEL", C_WHITE);
    snprintf(s, sizeof s, "%02d", t->level % 100);
    text(cv, 200, 172, s, C_WHITE);
    box(cv, 8, 48, 87, 223);
    font8_draw(cv->px, TETRIS_W, TETRIS_H, 3, 13, 56, "STATISTICS",
               (const uint8_t[3]){0xFC, 0xFC, 0xFC}, 7);
    for (int p = 0; p < PIECE_COUNT; p++) {
        int y = 76 + p * 20;
        piece_centred(cv, p, 34, y + 7, t->level, 6);
        snprintf(s, sizeof s, "%03d", t->stats[p] % 1000);
        text(cv, 56, y + 4, s, C_RED);
    }
    // the well
    box(cv, 88, 40, 183, 215);
    if (t->paused) {
        text(cv, 116, 124, "PAUSE", C_WHITE);
        return;
    }
    for (int y = 0; y < TETRIS_ROWS; y++)
        for (int x = 0; x < TETRIS_COLS; x++) {
            int v = t->board[y][x];
            if (!v) continue;
            if (t->phase == PHASE_CLEAR && t->mode == TETRIS_PLAY) {
                int clearing = 0;
                for (int k = 0; k < t->n_clear; k++) clearing |= t->clear_rows[k] == y;
                int reach = t->clear_timer / 4;   // columns 4-reach .. 5+reach are gone
                if (clearing && x >= 4 - reach && x <= 5 + reach) continue;
            }
            block(cv, TETRIS_WELL_X + x * 8, TETRIS_WELL_Y + y * 8, v - 1, t->level, 8);
        }
    if (t->phase == PHASE_FALL && t->piece >= 0) {
        const int8_t(*c)[2] = CELLS[t->piece][t->rot];
        for (int i = 0; i < 4; i++) {
            int cy = t->py + c[i][1];
            if (cy < 0) continue;
            block(cv, TETRIS_WELL_X + (t->px + c[i][0]) * 8, TETRIS_WELL_Y + cy * 8, t->piece, t->level, 8);
        }
    }
    if (t->show_next && t->next >= 0) piece_centred(cv, t->next, 208, 126, t->level, 8);
    if (t->mode == TETRIS_GAMEOVER) {
        int rows = t->curtain / 4;
        if (rows > TETRIS_ROWS) rows = TETRIS_ROWS;
        for (int r = 0; r < rows; r++) {   // the curtain: striped rows falling from the top
            int y = TETRIS_WELL_Y + r * 8;
            fill(cv, TETRIS_WELL_X, y, 80, 2, 0x3C3C3C);
            fill(cv, TETRIS_WELL_X, y + 2, 80, 4, 0xBCBCBC);
            fill(cv, TETRIS_WELL_X, y + 6, 80, 2, C_WHITE);
        }
        if (t->curtain >= TETRIS_CURTAIN_FRAMES) {
            fill(cv, 108, 108, 56, 32, C_BLACK);
            text(cv, 120, 112, "GAME", C_WHITE);
            text(cv, 120, 126, "OVER", C_WHITE);
        }
    }
}

void tetris_render(const Tetris *t, uint8_t *rgb) {
    Canvas cv = {rgb};
    if (t->mode == TETRIS_TITLE) render_title(t, &cv);
    else render_play(t, &cv);
}

// ---------------------------------------------------------------- edge cases

static const char *const EDGE_NAMES[] = {
    "title",        "empty_board",  "piece_left",   "piece_centre", "piece_right",  "piece_top",
    "piece_bottom", "i_wall_left",  "i_wall_right", "stack_low",    "stack_high",   "full_board",
    "line_clear",   "tetris_flash", "paused",       "no_preview",   "curtain",      "game_over",
    "level_1",      "level_2",      "level_3",      "level_4",      "level_5",      "level_6",
    "level_7",      "level_8",      "level_9",      "max_score",
};
enum { N_EDGE = (int)(sizeof EDGE_NAMES / sizeof EDGE_NAMES[0]) };

int tetris_edge_case_count(void) { return N_EDGE; }

// Rows [from, TETRIS_ROWS) filled with seeded blocks, `holes` empty cells per row (>= 1, so
// no row is complete).
static void edge_stack(Tetris *t, int from, int holes, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed);
    for (int y = from; y < TETRIS_ROWS; y++) {
        for (int x = 0; x < TETRIS_COLS; x++) t->board[y][x] = (uint8_t)(1 + rng_below(&r, PIECE_COUNT));
        for (int k = 0; k < holes; k++) t->board[y][rng_below(&r, TETRIS_COLS)] = 0;
        int empty = 0;
        for (int x = 0; x < TETRIS_COLS; x++) empty += !t->board[y][x];
        if (!empty) t->board[y][rng_below(&r, TETRIS_COLS)] = 0;   // two holes drawn in one cell
    }
}

// A game at `level` with an empty board and `piece` falling at (px, py) in rotation rot.
static void edge_game(Tetris *t, int level, int piece, int rot, int px, int py) {
    tetris_init(t, 2024);
    tetris_start(t, level);
    memset(t->stats, 0, sizeof t->stats);
    t->piece = piece, t->rot = rot, t->px = px, t->py = py;
    t->next = PIECE_L;
    t->stats[piece] = 1;
    t->frame = 1;
}

// A game in progress: lines, score and statistics of some play, `piece` falling.
static void edge_midgame(Tetris *t, int level, int lines, int piece, int px, int py) {
    static const int STATS[PIECE_COUNT] = {9, 7, 6, 8, 7, 6, 5};
    edge_game(t, level, piece, 0, px, py);
    t->lines = lines;
    t->score = 1180 + 40 * lines * (level + 1);
    memcpy(t->stats, STATS, sizeof t->stats);
    t->frame = 3000;
}

// The board with rows from..19 stacked and the given rows completed (a clear under way).
static void edge_clear(Tetris *t, const int *rows, int n, int timer) {
    edge_midgame(t, 0, 12, PIECE_I, 5, 0);
    edge_stack(t, 14, 2, 7);
    for (int k = 0; k < n; k++) {
        memset(t->board[rows[k]], PIECE_I + 1, TETRIS_COLS);
        t->clear_rows[k] = rows[k];
    }
    t->n_clear = n;
    t->phase = PHASE_CLEAR;
    t->clear_timer = timer;
    t->entry_timer = tetris_entry_delay(rows[n - 1]);
}

int tetris_edge_case(Tetris *t, int which, char *name, size_t cap) {
    if (which < 0 || which >= N_EDGE) return -1;
    const char *nm = EDGE_NAMES[which];
    if (!strcmp(nm, "title")) {
        tetris_init(t, 2024);
    } else if (!strcmp(nm, "empty_board")) {
        edge_game(t, 0, PIECE_T, 0, 5, 0);   // just started: the first piece at its spawn point
    } else if (!strcmp(nm, "piece_left")) {
        edge_game(t, 0, PIECE_T, 0, 1, 9);
    } else if (!strcmp(nm, "piece_centre")) {
        edge_game(t, 0, PIECE_T, 0, 5, 9);
    } else if (!strcmp(nm, "piece_right")) {
        edge_game(t, 0, PIECE_T, 0, 8, 9);
    } else if (!strcmp(nm, "piece_top")) {
        edge_game(t, 0, PIECE_Z, 0, 2, 0);
    } else if (!strcmp(nm, "piece_bottom")) {
        edge_game(t, 0, PIECE_T, 0, 5, 18);   // resting on the floor
    } else if (!strcmp(nm, "i_wall_left")) {
        edge_game(t, 0, PIECE_I, 1, 0, 10);   // vertical I against the left wall
    } else if (!strcmp(nm, "i_wall_right")) {
        edge_game(t, 0, PIECE_I, 1, 9, 10);
    } else if (!strcmp(nm, "stack_low") || !strcmp(nm, "paused") || !strcmp(nm, "no_preview") ||
               !strncmp(nm, "level_", 6)) {
        int level = !strncmp(nm, "level_", 6) ? nm[6] - '0' : 0;
        edge_midgame(t, level, level * 10 + 4, PIECE_S, 4, 5);
        edge_stack(t, 16, 2, 11);
        t->paused = !strcmp(nm, "paused");
        t->show_next = strcmp(nm, "no_preview") != 0;
    } else if (!strcmp(nm, "stack_high")) {
        edge_midgame(t, 0, 8, PIECE_J, 5, 2);
        edge_stack(t, 8, 2, 13);
    } else if (!strcmp(nm, "full_board")) {
        edge_midgame(t, 0, 8, PIECE_O, 5, 0);
        edge_stack(t, 2, 1, 17);              // rows 2..19, one hole each
    } else if (!strcmp(nm, "line_clear")) {
        static const int rows[2] = {18, 19};
        edge_clear(t, rows, 2, 10);           // columns 2..7 of both rows gone
    } else if (!strcmp(nm, "tetris_flash")) {
        static const int rows[4] = {16, 17, 18, 19};
        edge_clear(t, rows, 4, 8);            // (timer & 4) == 0: the white flash
    } else if (!strcmp(nm, "curtain") || !strcmp(nm, "game_over")) {
        edge_midgame(t, 0, 8, PIECE_O, 5, 0);
        edge_stack(t, 2, 1, 17);
        for (int x = 3; x < 7; x++) t->board[1][x] = PIECE_T + 1;   // the spawn no longer fits
        t->mode = TETRIS_GAMEOVER;
        t->curtain = !strcmp(nm, "curtain") ? TETRIS_CURTAIN_FRAMES / 2 : TETRIS_CURTAIN_FRAMES;
    } else {   // max_score: the widest numbers the screen shows, at the fastest level
        edge_midgame(t, 29, 999, PIECE_I, 5, 6);
        edge_stack(t, 12, 3, 19);
        t->start_level = 19;
        t->score = t->top = 999999;
    }
    snprintf(name, cap, "%s", nm);
    return 0;
}
