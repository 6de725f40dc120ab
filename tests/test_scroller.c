/*
 * test_scroller.c - the built-in side-scroller (data/scroller.h): the runner's physics with
 * known answers, collisions with bricks, the camera, pits and lives, coins, beetles (stomp and
 * touch), pause, the level generator's limits, the edge cases, the bot's skill spread, and
 * the game interface (replay, frame_info's runner box, palette, reward).
 */
#include <stdlib.h>
#include <string.h>

#include "data/game.h"
#include "data/scroller.h"
#include "tests/game_checks.h"
#include "tests/test.h"

enum { A = 1, B = 2, START = 8, LEFT = 64, RIGHT = 128 };

static void run(Scroller *s, uint8_t b, int n) {
    for (int i = 0; i < n; i++) scroller_step(s, b);
}

// A game on a flat, empty world: ground from row 12 down in every kept column, no beetles.
static void flat_game(Scroller *s) {
    scroller_init(s, 3);
    scroller_step(s, START), scroller_step(s, 0);
    for (int c = 0; c < SCR_RING; c++) {
        memset(s->tiles[c], SCR_EMPTY, SCR_ROWS);
        for (int r = 12; r < SCR_ROWS; r++) s->tiles[c][r] = SCR_GROUND;
    }
    memset(s->en, 0, sizeof s->en);
    s->px = 64 * 16, s->py = (12 * SCR_TILE - SCR_PH) * 16, s->vx = s->vy = 0, s->on_ground = 1, s->best_col = 4;
}

static void set_tile(Scroller *s, int64_t col, int row, int t) { s->tiles[col % SCR_RING][row] = (uint8_t)t; }

static void test_physics(void) {
    Scroller s;
    flat_game(&s);
    run(&s, RIGHT, 10);
    EXPECT(s.vx == 10 && s.on_ground, "walk: +1 per frame (%d)", s.vx);
    run(&s, RIGHT, 30);
    EXPECT(s.vx == 24, "walk top speed 24 (%d)", s.vx);
    run(&s, RIGHT | B, 30);
    EXPECT(s.vx == 40, "run top speed 40 with B (%d)", s.vx);
    run(&s, RIGHT, 5);
    EXPECT(s.vx == 35, "above walking speed without B: slows by 1 (%d)", s.vx);
    run(&s, LEFT, 3);
    EXPECT(s.vx == 26 && s.facing == -1, "turning: 3 per frame (%d)", s.vx);
    run(&s, 0, 40);
    EXPECT(s.vx == 0, "no button on the ground: stops (%d)", s.vx);
    // jumps: A held rises higher than a tap, both land
    const int y0 = s.py;
    scroller_step(&s, A);
    EXPECT(s.vy == -60 + 7 - 5 || s.vy == -58, "jump from standing: vy -60, then gravity 2 (%d)", s.vy);
    int top_held = s.py;
    for (int f = 0; f < 80; f++) {
        scroller_step(&s, A);
        if (s.py < top_held) top_held = s.py;
    }
    EXPECT(s.on_ground && s.py == y0, "lands where it started");
    run(&s, 0, 2);
    int top_tap = s.py;
    scroller_step(&s, A);
    for (int f = 0; f < 80; f++) {
        scroller_step(&s, 0);
        if (s.py < top_tap) top_tap = s.py;
    }
    EXPECT(y0 - top_held > 2 * (y0 - top_tap), "held jump %d px, tap %d px", (y0 - top_held) / 16, (y0 - top_tap) / 16);
    EXPECT((y0 - top_held) / 16 >= 50 && (y0 - top_held) / 16 <= 64, "held jump 50..64 px (%d px)", (y0 - top_held) / 16);
    scroller_step(&s, A);
    run(&s, A, 3);
    EXPECT(!s.on_ground, "A held on landing does not jump again");
    run(&s, A, 80);
    EXPECT(s.on_ground, "no second jump without a new press");
}

static void test_walls_and_camera(void) {
    Scroller s;
    flat_game(&s);
    const int64_t col = (s.px >> 4) / SCR_TILE + 3;
    set_tile(&s, col, 11, SCR_BRICK), set_tile(&s, col, 10, SCR_BRICK);
    run(&s, RIGHT, 120);
    EXPECT((s.px >> 4) == col * SCR_TILE - SCR_PW && s.vx <= 8, "a brick wall stops the runner at its left face (x %lld)",
           (long long)(s.px >> 4));
    scroller_step(&s, RIGHT | A);
    run(&s, RIGHT | A, 60);
    EXPECT((s.px >> 4) > col * SCR_TILE, "and a held jump clears it");
    flat_game(&s);
    int64_t cam = s.cam, ok = 1;
    for (int f = 0; f < 600; f++) {
        scroller_step(&s, f < 400 ? RIGHT | B : LEFT);
        ok &= s.cam >= cam && (s.px >> 4) - s.cam <= SCR_CAM_LEAD && (s.px >> 4) >= s.cam;
        cam = s.cam;
    }
    EXPECT(ok, "the camera never moves back, the runner stays within 0..112 px of its left edge");
    EXPECT((s.px >> 4) == s.cam, "walking left ends at the screen's left edge");
    EXPECT(s.score == 10 * ((cam + SCR_CAM_LEAD) / SCR_TILE - 4), "10 points per new column (%lld)", (long long)s.score);
}

static void test_pits_lives(void) {
    Scroller s;
    flat_game(&s);
    const int64_t col = (s.px >> 4) / SCR_TILE;
    for (int c = 1; c <= 3; c++) memset(s.tiles[(col + c) % SCR_RING], SCR_EMPTY, SCR_ROWS);
    int f = 0;
    while (s.mode == SCR_PLAY && f++ < 300) scroller_step(&s, RIGHT);
    EXPECT(s.mode == SCR_DYING && s.lives == 3, "walking into a pit: dying");
    run(&s, 0, SCR_DYING_FRAMES);
    EXPECT(s.mode == SCR_PLAY && s.lives == 2 && s.invuln > 0 && s.on_ground, "then a respawn on the ground, 2 lives");
    s.lives = 1;
    s.py = (SCR_H + 1) * 16 - 16, s.on_ground = 0;
    run(&s, 0, 2);
    EXPECT(s.mode == SCR_DYING, "below the screen: dying");
    run(&s, 0, SCR_DYING_FRAMES);
    EXPECT(s.mode == SCR_GAMEOVER && s.lives == 0, "the last life: GAME OVER");
    scroller_step(&s, START), scroller_step(&s, 0);
    EXPECT(s.mode == SCR_GAMEOVER, "START is ignored in the first 60 frames");
    run(&s, 0, 60);
    scroller_step(&s, START);
    EXPECT(s.mode == SCR_TITLE, "then START returns to the title");
    scroller_step(&s, 0), scroller_step(&s, START);
    EXPECT(s.mode == SCR_PLAY && s.lives == SCR_LIVES && s.score == 0, "and START on the title starts a game");
}

static void test_coins_beetles_pause(void) {
    Scroller s;
    flat_game(&s);
    const int64_t col = (s.px >> 4) / SCR_TILE + 2;
    set_tile(&s, col, 11, SCR_COIN);
    run(&s, RIGHT, 40);
    EXPECT(s.coins == 1 && scroller_tile(&s, col, 11) == SCR_EMPTY && s.score >= 100, "a coin: +100, gone");
    // a beetle walking into the standing runner kills
    flat_game(&s);
    s.en[0] = (ScrEnemy){.x = ((s.px >> 4) + 40) * 16, .y = 12 * SCR_TILE - 12, .dir = -1, .state = 1};
    int f = 0;
    while (s.mode == SCR_PLAY && f++ < 200) scroller_step(&s, 0);
    EXPECT(s.mode == SCR_DYING && f < 100, "a beetle's touch: dying after %d frames", f);
    // landing on one stomps it
    flat_game(&s);
    s.en[0] = (ScrEnemy){.x = ((s.px >> 4) - 1) * 16, .y = 12 * SCR_TILE - 12, .dir = 1, .state = 1};
    s.py -= 40 * 16, s.on_ground = 0, s.vy = 16;
    const int64_t score = s.score;
    f = 0;
    while (s.en[0].state == 1 && s.mode == SCR_PLAY && f++ < 60) scroller_step(&s, 0);
    EXPECT(s.mode == SCR_PLAY && s.en[0].state == 2 && s.score - score == 200 && s.vy < 0, "a stomp: +200 (%lld), bounce (%d)",
           (long long)(s.score - score), s.vy);
    run(&s, 0, 25);
    EXPECT(s.en[0].state == 0, "the squashed beetle goes away");
    // pause
    flat_game(&s);
    run(&s, RIGHT, 10);
    scroller_step(&s, RIGHT | START);
    Scroller p = s;
    run(&s, RIGHT, 30);
    EXPECT(s.paused && s.px == p.px && s.clock == p.clock, "paused: nothing moves");
    scroller_step(&s, RIGHT | START);
    EXPECT(!s.paused, "START again resumes");
}

static void test_generator(void) {
    Scroller s;
    scroller_init(&s, 99);
    scroller_step(&s, START);
    int ok = 1, pit = 0, max_pit = 0, bricks = 0, coins = 0;
    for (int f = 0; f < 40000; f++) {
        s.lives = 3, s.invuln = 10;
        if (s.mode != SCR_PLAY) { s.mode = SCR_PLAY; }
        s.py = 0, s.vy = 0;   // the runner flies over everything at the top
        scroller_step(&s, RIGHT | B);
        const int64_t c = s.cam / SCR_TILE + SCR_AHEAD - 1;
        if (f % 3) continue;
        int top = -1;
        for (int r = 0; r < SCR_ROWS; r++)
            if (scroller_tile(&s, c, r) == SCR_GROUND) { top = r; break; }
        ok &= top < 0 || (top >= 9 && top <= 12);
        for (int r = 0; r < SCR_ROWS; r++) bricks += scroller_tile(&s, c, r) == SCR_BRICK, coins += scroller_tile(&s, c, r) == SCR_COIN;
    }
    for (int64_t c = s.gen_col - SCR_RING; c < s.gen_col; c++) {
        int any = 0;
        for (int r = 0; r < SCR_ROWS; r++) any |= scroller_tile(&s, c, r) == SCR_GROUND;
        pit = any ? 0 : pit + 1;
        if (pit > max_pit) max_pit = pit;
    }
    EXPECT(ok, "ground rows 9..12");
    EXPECT(max_pit >= 2 && max_pit <= 3, "pits 2..3 columns wide (%d)", max_pit);
    EXPECT(bricks > 0 && coins > 0, "bricks and coins appear");
    Scroller t;
    scroller_init(&t, 99);
    for (int c = 0; c < 16; c++) EXPECT(scroller_tile(&t, c, 12) == SCR_GROUND, "safe start: ground at column %d", c);
}

static void test_edge_cases(void) {
    game_check_edge_cases(&game_scroller);
    Scroller s;
    char name[32];
    int x0, y0, x1, y1;
    scroller_edge_case(&s, 8, name, sizeof name);
    EXPECT(!strcmp(name, "blinking") && !scroller_runner_box(&s, &x0, &y0, &x1, &y1), "blinking: the runner is off");
    scroller_edge_case(&s, 10, name, sizeof name);
    EXPECT(!strcmp(name, "game_over") && s.mode == SCR_GAMEOVER, "game_over");
}

// frame_info's runner box: inside the frame, and the only place where render and render_hidden differ.
static void check_box(const GameDef *g, const void *st, uint8_t *fa, uint8_t *fh, int *boxes, int *ok) {
    GameFrameInfo fi;
    g->frame_info(st, &fi);
    g->render(st, fa), g->render_hidden(st, fh);
    long inside = 0, outside = 0;
    for (int y = 0; y < g->H; y++)
        for (int x = 0; x < g->W; x++) {
            const int d = memcmp(fa + ((size_t)y * g->W + x) * 3, fh + ((size_t)y * g->W + x) * 3, 3) != 0;
            const int in = fi.has_piece && x >= fi.piece_x0 && x <= fi.piece_x1 && y >= fi.piece_y0 && y <= fi.piece_y1;
            inside += d && in, outside += d && !in;
        }
    if (!fi.has_piece) return;
    (*boxes)++;
    *ok &= outside == 0 && inside >= 40 && fi.piece_x0 >= 0 && fi.piece_x1 < g->W && fi.piece_y1 < g->H;
}

typedef struct {
    uint8_t *fh;
    int boxes, box_ok, in_palette;
} ScrollerChecks;

// Every 20th frame: the runner's box and the palette.
static void scroller_frame(const GameDef *g, const void *st, uint8_t *fa, int t, const GameFrameInfo *before,
                           const GameFrameInfo *fi, void *ctx) {
    ScrollerChecks *c = ctx;
    (void)before, (void)fi;
    if (t % 20) return;
    check_box(g, st, fa, c->fh, &c->boxes, &c->box_ok);
    for (size_t i = 0; i < (size_t)g->H * g->W * 3; i += 3) c->in_palette &= game_in_palette(g, fa + i);
}

static void test_game_interface(void) {
    const GameDef *g = game_find("scroller");
    EXPECT(g == &game_scroller && g->H == SCR_H && g->W == SCR_W && g->C == 3 && g->n_buttons == 8, "game_find, frame");
    EXPECT(g->n_colors == scroller_n_colors && g->n_edge_cases == scroller_edge_case_count(), "palette, edge cases");
    ScrollerChecks c = {.fh = malloc((size_t)g->H * g->W * 3), .box_ok = 1, .in_palette = 1};
    game_check_replay(g, 5, 4, 400, scroller_frame, &c);
    EXPECT(c.boxes > 30 && c.box_ok, "runner box: the only pixels render_hidden changes (%d frames)", c.boxes);
    EXPECT(c.in_palette, "every pixel in the palette");
    free(c.fh);
}

// The bot's skill varies: over 12 players, both a game over and a long survival happen.
static void test_bot(void) {
    int min_overs, max_overs, max_level;
    int64_t best;
    game_bot_spread(&game_scroller, 1500, &min_overs, &max_overs, &max_level, &best);
    EXPECT(max_overs >= 2 && min_overs <= 1, "game overs per player vary: %d..%d", min_overs, max_overs);
    EXPECT(best >= 3000, "a good player gets far (best score %lld)", (long long)best);
}

// ./eval's hooks (GameDef.eval): the object's mask lies inside frame_info's box and inside the
// direction region; fair direction starts exist in bot play and, in the engine, LEFT and RIGHT
// move the object's mask that way by at least half a tile.
static void test_eval_hooks(void) {
    game_check_eval_hooks(&game_scroller);
}

int main(void) {
    test_physics();
    test_walls_and_camera();
    test_pits_lives();
    test_coins_beetles_pause();
    test_generator();
    test_edge_cases();
    test_game_interface();
    test_eval_hooks();
    test_bot();
    return test_summary();
}
