/*
 * test_tetris.c - the built-in Tetris (data/tetris.h) against NES rules with known answers,
 * its renderer at known pixels, the bot (data/tetris_player.h), and determinism.
 */
#include <stdlib.h>
#include <string.h>

#include "data/game.h"
#include "data/tetris.h"
#include "data/tetris_player.h"
#include "tests/game_checks.h"
#include "tests/test.h"
#include "base/rng.h"

static void run_frames(Tetris *t, uint8_t b, int n) {
    for (int i = 0; i < n; i++) tetris_step(t, b);
}

static void test_tables(void) {
    EXPECT(tetris_line_score(1, 0) == 40 && tetris_line_score(2, 0) == 100 && tetris_line_score(3, 0) == 300 &&
               tetris_line_score(4, 0) == 1200,
           "line scores at level 0");
    EXPECT(tetris_line_score(4, 9) == 12000 && tetris_line_score(1, 18) == 760, "line scores x (level+1)");
    static const int lv[] = {0, 1, 5, 8, 9, 10, 12, 13, 15, 16, 18, 19, 28, 29, 40};
    static const int fr[] = {48, 43, 23, 8, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1};
    for (int i = 0; i < (int)(sizeof lv / sizeof lv[0]); i++)
        EXPECT(tetris_gravity_frames(lv[i]) == fr[i], "gravity level %d: %d, want %d", lv[i],
               tetris_gravity_frames(lv[i]), fr[i]);
    static const int row[] = {19, 18, 17, 14, 13, 10, 9, 6, 5, 2, 1, 0};
    static const int are[] = {10, 10, 12, 12, 14, 14, 16, 16, 18, 18, 18, 18};
    for (int i = 0; i < 12; i++)
        EXPECT(tetris_entry_delay(row[i]) == are[i], "ARE row %d: %d, want %d", row[i], tetris_entry_delay(row[i]), are[i]);
    EXPECT(tetris_level_for(0, 9) == 0 && tetris_level_for(0, 10) == 1 && tetris_level_for(0, 25) == 2,
           "level-up every 10 lines from level 0");
    EXPECT(tetris_level_for(5, 59) == 5 && tetris_level_for(5, 60) == 6 && tetris_level_for(15, 99) == 15 &&
               tetris_level_for(15, 100) == 16 && tetris_level_for(18, 130) == 19 && tetris_level_for(19, 139) == 19 &&
               tetris_level_for(19, 140) == 20,
           "NES first level-up thresholds");
}

// A set of 4 cells rotated clockwise (screen y down: (x,y) -> (-y,x)) equals another set.
static int same_set(const int8_t (*a)[2], const int8_t (*b)[2], int dx, int rotate) {
    for (int i = 0; i < 4; i++) {
        int x = rotate ? -a[i][1] : a[i][0], y = rotate ? a[i][0] : a[i][1];
        int found = 0;
        for (int j = 0; j < 4; j++) found |= b[j][0] == x + dx && b[j][1] == y;
        if (!found) return 0;
    }
    return 1;
}

static void test_rotations(void) {
    static const int nrot[PIECE_COUNT] = {4, 4, 2, 1, 2, 4, 2};
    for (int p = 0; p < PIECE_COUNT; p++) {
        EXPECT(tetris_rotations(p) == nrot[p], "piece %d has %d rotations", p, tetris_rotations(p));
        for (int r = 0; r < tetris_rotations(p); r++) {
            const int8_t(*c)[2] = tetris_cells(p, r);
            int has_pivot = 0, distinct = 1;
            for (int i = 0; i < 4; i++) {
                has_pivot |= c[i][0] == 0 && c[i][1] == 0;
                for (int j = 0; j < i; j++) distinct &= !(c[i][0] == c[j][0] && c[i][1] == c[j][1]);
            }
            EXPECT(has_pivot && distinct, "piece %d rot %d: 4 distinct cells around the pivot", p, r);
        }
    }
    // T, J, L: each state is the clockwise rotation of the one before, about the pivot
    int four[3] = {PIECE_T, PIECE_J, PIECE_L};
    for (int k = 0; k < 3; k++)
        for (int r = 0; r < 4; r++)
            EXPECT(same_set(tetris_cells(four[k], r), tetris_cells(four[k], (r + 1) % 4), 0, 1),
                   "piece %d: rot %d -> %d is a clockwise turn", four[k], r, (r + 1) % 4);
    // I turns about its pivot; NES's vertical S and Z sit one column right of a pure turn
    EXPECT(same_set(tetris_cells(PIECE_I, 0), tetris_cells(PIECE_I, 1), 0, 1), "I vertical");
    EXPECT(same_set(tetris_cells(PIECE_S, 0), tetris_cells(PIECE_S, 1), 1, 1), "S vertical (NES offset)");
    EXPECT(same_set(tetris_cells(PIECE_Z, 0), tetris_cells(PIECE_Z, 1), 1, 1), "Z vertical (NES offset)");
    // spawn shapes: T points down, I is flat across columns 3..6 at spawn column 5
    const int8_t(*t)[2] = tetris_cells(PIECE_T, 0);
    EXPECT(t[3][0] == 0 && t[3][1] == 1, "T spawns pointing down");
    const int8_t(*i)[2] = tetris_cells(PIECE_I, 0);
    EXPECT(i[0][0] == -2 && i[3][0] == 1 && i[0][1] == 0, "I spawns flat, pivot third from left");

    // in play: A clockwise, B counter-clockwise, on press edges only, blocked by the wall
    Tetris g;
    tetris_init(&g, 1);
    tetris_start(&g, 0);
    g.piece = PIECE_T, g.rot = 0, g.px = 5, g.py = 5;
    tetris_step(&g, BTN_A);
    EXPECT(g.rot == 1, "A rotates clockwise: rot %d", g.rot);
    run_frames(&g, BTN_A, 5);
    EXPECT(g.rot == 1, "holding A does not rotate again: rot %d", g.rot);
    tetris_step(&g, 0);
    tetris_step(&g, BTN_B);
    tetris_step(&g, 0);
    tetris_step(&g, BTN_B);
    EXPECT(g.rot == 3, "B twice from 1 gives 3: rot %d", g.rot);
    g.piece = PIECE_I, g.rot = 1, g.px = 0, g.py = 5;   // vertical I against the left wall
    tetris_step(&g, 0);
    tetris_step(&g, BTN_A);
    EXPECT(g.rot == 1 && g.px == 0, "no wall kick: I stays vertical at the wall (rot %d px %d)", g.rot, g.px);
}

static void test_randomiser(void) {
    // exact rule: roll 0..7; a 7 or a repeat is re-rolled once in 0..6
    Rng a, b;
    rng_seed(&a, 99);
    b = a;
    int prev = 3, rerolls = 0;
    for (int i = 0; i < 2000; i++) {
        int got = tetris_random_piece(&a, prev);
        int want = (int)rng_below(&b, 8);
        if (want == 7 || want == prev) want = (int)rng_below(&b, 7), rerolls++;
        if (got != want) { EXPECT(0, "draw %d: %d, want %d", i, got, want); break; }
        prev = got;
    }
    EXPECT(rerolls > 400 && rerolls < 600, "about 2/8 of draws re-roll: %d of 2000", rerolls);
    // distribution: P(repeat) = 2/8 (re-roll) * 1/7 = 1/28; each piece 1/7 in the long run
    Rng r;
    rng_seed(&r, 7);
    int n = 112000, repeats = 0, count[PIECE_COUNT] = {0}, bad = 0;
    prev = -1;
    for (int i = 0; i < n; i++) {
        int p = tetris_random_piece(&r, prev);
        bad |= p < 0 || p >= PIECE_COUNT;
        if (!bad) count[p]++;
        repeats += p == prev;
        prev = p;
    }
    EXPECT(!bad, "pieces in 0..6");
    double rep = (double)repeats / n;
    EXPECT(rep > 1.0 / 28 - 0.003 && rep < 1.0 / 28 + 0.003, "repeat rate %.4f, want 1/28 = %.4f", rep, 1.0 / 28);
    for (int p = 0; p < PIECE_COUNT; p++)
        EXPECT(count[p] > n / 7 * 0.96 && count[p] < n / 7 * 1.04, "piece %d count %d, want about %d", p, count[p], n / 7);
}

static void test_gravity_das_soft_drop(void) {
    Tetris g;
    tetris_init(&g, 2);
    tetris_start(&g, 0);
    g.piece = PIECE_T, g.rot = 0, g.px = 5, g.py = 0;
    run_frames(&g, 0, 47);
    EXPECT(g.py == 0, "level 0: still on row 0 after 47 frames (row %d)", g.py);
    tetris_step(&g, 0);
    EXPECT(g.py == 1, "level 0: row 1 after 48 frames (row %d)", g.py);
    tetris_start(&g, 9);
    g.piece = PIECE_T, g.rot = 0, g.px = 5, g.py = 0;
    run_frames(&g, 0, 18);
    EXPECT(g.py == 3, "level 9: 3 rows in 18 frames (row %d)", g.py);

    // DAS: move on the press, then after 16 frames, then every 6
    tetris_start(&g, 0);
    g.piece = PIECE_T, g.rot = 0, g.px = 1, g.py = 0;
    int expect_px[30];
    for (int f = 1; f <= 29; f++) expect_px[f] = f < 17 ? 2 : f < 23 ? 3 : f < 29 ? 4 : 5;
    int ok = 1;
    for (int f = 1; f <= 29 && ok; f++) {
        tetris_step(&g, BTN_RIGHT);
        if (g.px != expect_px[f]) {
            ok = 0;
            printf("  DAS frame %d: column %d, want %d\n", f, g.px, expect_px[f]);
        }
    }
    EXPECT(ok, "DAS 16/6");
    tetris_step(&g, 0);
    tetris_step(&g, BTN_LEFT);
    EXPECT(g.px == 4, "tap LEFT moves one column (column %d)", g.px);

    // soft drop: a cell per 2 frames, one point per cell on lock
    tetris_start(&g, 0);
    g.piece = PIECE_T, g.rot = 0, g.px = 5, g.py = 0;
    g.next = PIECE_O;
    run_frames(&g, BTN_DOWN, 10);
    EXPECT(g.py == 5, "soft drop: 5 rows in 10 frames (row %d)", g.py);
    int f = 10;
    while (g.phase == PHASE_FALL && f < 100) tetris_step(&g, BTN_DOWN), f++;
    EXPECT(g.phase == PHASE_ENTRY && g.score == 18, "soft drop to the floor: 18 points (score %d)", g.score);
    EXPECT(g.board[19][5] == PIECE_T + 1 && g.board[18][4] == PIECE_T + 1, "T locked at the bottom");
    // ARE: lowest cell on row 19 -> 10 frames, then the next piece spawns
    run_frames(&g, 0, 9);
    EXPECT(g.phase == PHASE_ENTRY, "still in entry delay after 9 frames");
    tetris_step(&g, 0);
    EXPECT(g.phase == PHASE_FALL && g.piece == PIECE_O && g.py == 0 && g.px == 5, "O spawned at column 5 row 0 after ARE 10");
}

static void fill_row(Tetris *g, int row, int hole_from, int hole_to) {
    for (int x = 0; x < TETRIS_COLS; x++)
        g->board[row][x] = (x >= hole_from && x <= hole_to) ? 0 : (uint8_t)(1 + (x + row) % 7);
}

static void test_line_clear(void) {
    Tetris g;
    tetris_init(&g, 3);
    tetris_start(&g, 0);
    fill_row(&g, 19, 3, 6);             // room for a flat I in columns 3..6
    fill_row(&g, 18, 0, 6);             // a partial row above it, open above the gap
    uint8_t row18[TETRIS_COLS];
    memcpy(row18, g.board[18], TETRIS_COLS);
    g.piece = PIECE_I, g.rot = 0, g.px = 5, g.py = 17;
    int f = 0;
    while (g.phase == PHASE_FALL && f < 200) tetris_step(&g, 0), f++;
    EXPECT(g.phase == PHASE_CLEAR && g.n_clear == 1 && g.clear_rows[0] == 19, "one full row found (n %d)", g.n_clear);
    run_frames(&g, 0, TETRIS_CLEAR_FRAMES - 1);
    EXPECT(g.phase == PHASE_CLEAR && g.lines == 0, "animation still running after 19 frames");
    tetris_step(&g, 0);
    EXPECT(g.phase == PHASE_ENTRY && g.lines == 1 && g.score == 40, "after 20 frames: 1 line, 40 points (%d, %d)",
           g.lines, g.score);
    EXPECT(!memcmp(g.board[19], row18, TETRIS_COLS), "row 18 moved down to 19");
    int empty = 1;
    for (int y = 0; y < 19; y++)
        for (int x = 0; x < TETRIS_COLS; x++) empty &= !g.board[y][x];
    EXPECT(empty, "rows above are empty");

    // a Tetris at level 9 with 9 lines already: 1200 * 10 points, 13 lines, level stays 9
    // (first level-up from 9 is at 100 lines); from level 0 with 9 lines it goes to level 1
    for (int start = 0; start <= 9; start += 9) {
        tetris_start(&g, start);
        g.lines = 9;
        for (int r = 16; r < 20; r++) fill_row(&g, r, 0, 0);
        g.piece = PIECE_I, g.rot = 1, g.px = 0, g.py = 10;
        f = 0;
        while (g.mode == TETRIS_PLAY && g.phase != PHASE_ENTRY && f < 1000) tetris_step(&g, 0), f++;
        EXPECT(g.lines == 13 && g.score == 1200 * (start + 1), "Tetris from level %d: lines %d score %d", start,
               g.lines, g.score);
        EXPECT(g.level == (start == 0 ? 1 : 9), "level after 13 lines from %d: %d", start, g.level);
    }
}

static void test_modes(void) {
    Tetris g;
    tetris_init(&g, 4);
    EXPECT(g.mode == TETRIS_TITLE, "starts at the title");
    tetris_step(&g, BTN_RIGHT);
    tetris_step(&g, 0);
    tetris_step(&g, BTN_RIGHT);
    tetris_step(&g, 0);
    tetris_step(&g, BTN_DOWN);
    tetris_step(&g, 0);
    EXPECT(g.title_level == 7, "title level 0 +1 +1 +5 = 7 (%d)", g.title_level);
    tetris_step(&g, BTN_A);
    tetris_step(&g, BTN_A | BTN_START);
    EXPECT(g.mode == TETRIS_PLAY && g.level == 17, "A+START starts at level 17 (%d)", g.level);

    // pause: the piece stops, START again resumes
    int py = g.py, fall = g.fall_timer;
    tetris_step(&g, 0);
    tetris_step(&g, BTN_START);
    run_frames(&g, 0, 100);
    EXPECT(g.paused && g.py == py && g.fall_timer == fall + 1, "paused: nothing moves");
    tetris_step(&g, BTN_START);
    EXPECT(!g.paused, "START resumes");

    // game over when the new piece overlaps the stack
    tetris_start(&g, 0);
    for (int x = 3; x <= 6; x++) g.board[0][x] = g.board[1][x] = 1;
    g.phase = PHASE_ENTRY, g.entry_timer = 1;
    tetris_step(&g, 0);
    EXPECT(g.mode == TETRIS_GAMEOVER, "spawn overlap ends the game");
    tetris_step(&g, BTN_START);
    EXPECT(g.mode == TETRIS_GAMEOVER, "START ignored during the curtain");
    run_frames(&g, 0, TETRIS_CURTAIN_FRAMES);
    tetris_step(&g, BTN_START);
    EXPECT(g.mode == TETRIS_TITLE, "START after the curtain returns to the title");

    // SELECT toggles the preview
    tetris_start(&g, 0);
    int sn = g.show_next;
    tetris_step(&g, BTN_SELECT);
    EXPECT(g.show_next == !sn, "SELECT toggles the next preview");
}

static uint8_t *px(uint8_t *img, int x, int y) { return img + ((size_t)y * TETRIS_W + x) * 3; }

static void test_render(void) {
    uint8_t *img = malloc((size_t)TETRIS_W * TETRIS_H * 3), *img2 = malloc((size_t)TETRIS_W * TETRIS_H * 3);
    Tetris g;
    tetris_init(&g, 5);
    tetris_start(&g, 0);
    g.board[19][0] = PIECE_J + 1;   // level 0: J is solid dark blue (NES $12) with a white shine
    g.piece = PIECE_O, g.rot = 0, g.px = 5, g.py = 3;
    tetris_render(&g, img);
    uint8_t *c = px(img, TETRIS_WELL_X, TETRIS_WELL_Y + 19 * 8);
    EXPECT(c[0] == 0xFC && c[1] == 0xFC && c[2] == 0xFC, "block shine pixel is white");
    c = px(img, TETRIS_WELL_X + 4, TETRIS_WELL_Y + 19 * 8 + 4);
    EXPECT(c[0] == 0x00 && c[1] == 0x58 && c[2] == 0xF8, "J block body is NES $12 at level 0 (%d,%d,%d)", c[0], c[1], c[2]);
    c = px(img, TETRIS_WELL_X + 7, TETRIS_WELL_Y + 19 * 8 + 3);
    EXPECT(!c[0] && !c[1] && !c[2], "1-pixel black gap between blocks");
    c = px(img, TETRIS_WELL_X + 8 * 8 + 3, TETRIS_WELL_Y + 10 * 8 + 3);
    EXPECT(!c[0] && !c[1] && !c[2], "empty well is black");
    c = px(img, TETRIS_WELL_X + 4 * 8 + 3, TETRIS_WELL_Y + 3 * 8 + 3);   // O cell (4,3): white centre
    EXPECT(c[0] == 0xFC && c[1] == 0xFC && c[2] == 0xFC, "falling O drawn at its cells");
    g.paused = 1;
    tetris_render(&g, img2);
    c = px(img2, TETRIS_WELL_X + 4, TETRIS_WELL_Y + 19 * 8 + 4);
    EXPECT(!c[0] && !c[1] && !c[2], "pause hides the well");
    g.paused = 0;
    g.level = 1;
    tetris_render(&g, img2);
    c = px(img2, TETRIS_WELL_X + 4, TETRIS_WELL_Y + 19 * 8 + 4);
    EXPECT(c[0] == 0x00 && c[1] == 0xA8 && c[2] == 0x00, "level 1 palette: J is NES $1A (%d,%d,%d)", c[0], c[1], c[2]);
    Tetris title;
    tetris_init(&title, 5);
    tetris_render(&title, img2);
    EXPECT(memcmp(img, img2, (size_t)TETRIS_W * TETRIS_H * 3) != 0, "title differs from play");
    free(img);
    free(img2);
}

static void test_player(void) {
    uint8_t board[TETRIS_ROWS][TETRIS_COLS] = {{0}};
    int x, r, lines;
    tetris_best_placement(board, PIECE_I, 0, &x, &r);
    EXPECT(r == 0, "I on an empty board lies flat (rot %d)", r);
    for (int y = 16; y < 20; y++)
        for (int k = 0; k < 9; k++) board[y][k] = 1;
    double v = tetris_best_placement(board, PIECE_I, 0, &x, &r);
    tetris_placement_value(board, PIECE_I, r, x, 0, &lines);
    EXPECT(r == 1 && x == 9 && lines == 4, "I goes down the well for a Tetris (x %d rot %d lines %d v %.2f)", x, r, lines, v);
    EXPECT(tetris_placement_value(board, PIECE_O, 0, 0, 30, NULL) < -1e29, "placement that does not fit");

    // bots playing from the title: games start, lines get cleared, some games end
    long clears = 0, overs = 0, starts = 0, pauses = 0;
    for (int e = 0; e < 4; e++) {
        Tetris g;
        TetrisPlayer p;
        tetris_init(&g, 100 + e);
        tetris_player_init(&p, 200 + e);
        for (int s = 0; s < 2500; s++) {
            TetrisMode m = g.mode;
            int l = g.lines, pz = g.paused;
            uint8_t b = tetris_player_act(&p, &g);
            run_frames(&g, b, 4);
            starts += m == TETRIS_TITLE && g.mode == TETRIS_PLAY;
            overs += m == TETRIS_PLAY && g.mode == TETRIS_GAMEOVER;
            clears += g.lines > l;
            pauses += !pz && g.paused;
        }
    }
    printf("  bot: %ld games started, %ld line clears, %ld game overs, %ld pauses in 4 x 2500 steps\n", starts,
           clears, overs, pauses);
    EXPECT(starts >= 4 && clears >= 10 && overs >= 1, "bots play: starts %ld clears %ld overs %ld", starts, clears, overs);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static uint64_t run_hash(uint64_t seed, int steps) {
    Tetris g;
    TetrisPlayer p;
    tetris_init(&g, seed);
    tetris_player_init(&p, seed ^ 0x5555);
    uint8_t *img = malloc((size_t)TETRIS_W * TETRIS_H * 3);
    uint64_t h = 1469598103934665603ull;
    for (int s = 0; s < steps; s++) {
        uint8_t b = tetris_player_act(&p, &g);
        h = fnv(h, &b, 1);
        run_frames(&g, b, 3);
        if (s % 100 == 99) {
            tetris_render(&g, img);
            h = fnv(h, img, (size_t)TETRIS_W * TETRIS_H * 3);
        }
    }
    free(img);
    return h;
}

static void test_determinism(void) {
    uint64_t a = run_hash(11, 1500), b = run_hash(11, 1500), c = run_hash(12, 1500);
    EXPECT(a == b, "same seed, same frames and buttons");
    EXPECT(a != c, "different seed, different play");
}

// The game interface (data/game.h) over Tetris: found by name; an episode rebuilt from its
// recorded attributes and buttons gives the same frames; the falling piece's box is in the
// well and drawn; the bot's reward is the score it made.
typedef struct {
    int boxes, box_ok;
} TetrisChecks;

// The falling piece's box lies in the well and is drawn.
static void tetris_frame(const GameDef *g, const void *st, uint8_t *fa, int t, const GameFrameInfo *before,
                         const GameFrameInfo *fi, void *ctx) {
    TetrisChecks *c = ctx;
    (void)st, (void)t, (void)before;
    if (!fi->has_piece) return;
    c->boxes++;
    c->box_ok &= fi->piece_x0 >= TETRIS_WELL_X && fi->piece_x1 < TETRIS_WELL_X + 8 * TETRIS_COLS &&
                 fi->piece_y0 >= TETRIS_WELL_Y && fi->piece_y1 < TETRIS_WELL_Y + 8 * TETRIS_ROWS;
    long lit = 0;   // pixels of the box that are not black
    for (int y = fi->piece_y0; y <= fi->piece_y1; y++)
        for (int x = fi->piece_x0; x <= fi->piece_x1; x++) {
            const uint8_t *px = fa + ((size_t)y * g->W + x) * 3;
            lit += px[0] || px[1] || px[2];
        }
    c->box_ok &= lit >= 7 * 7 / 2;   // at least half a cell's pixels are drawn (rows above the well hide cells)
}

static void test_game_interface(void) {
    const GameDef *g = game_find("tetris");
    EXPECT(g == &game_tetris && !game_find("pong"), "game_find");
    EXPECT(g->H == TETRIS_H && g->W == TETRIS_W && g->C == 3 && g->n_buttons == 8 && g->n_colors == 64, "frame, buttons");
    TetrisChecks c = {.box_ok = 1};
    game_check_replay(g, 11, 3, 300, tetris_frame, &c);
    EXPECT(c.boxes > 100 && c.box_ok, "falling piece box in the well and drawn (%d frames with a piece)", c.boxes);
}

int main(void) {
    test_tables();
    test_rotations();
    test_randomiser();
    test_gravity_das_soft_drop();
    test_line_clear();
    test_modes();
    test_render();
    test_player();
    test_determinism();
    test_game_interface();
    return test_summary();
}
