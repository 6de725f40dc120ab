/*
 * test_maze.c - the built-in maze game (data/maze.h): the maze (closed, connected), the eater's
 * moves and turns at tile centres, dots and pellets, ghosts (release times, speed, choices only
 * among open ways, seeded and varied: the same state with another Rng goes elsewhere),
 * frightened ghosts eaten, lives, level clear, pause, edge cases, the bot's skill spread and the
 * game interface (replay, frame_info's eater box, palette, reward, mostly black frames).
 */
#include <stdlib.h>
#include <string.h>

#include "data/game.h"
#include "data/maze.h"
#include "tests/game_checks.h"
#include "tests/test.h"

enum { START = 8, UP = 16, DOWN = 32, LEFT = 64, RIGHT = 128 };

static void run(Maze *m, uint8_t b, int n) {
    for (int i = 0; i < n; i++) maze_step(m, b);
}

static void playing(Maze *m, uint64_t seed) {
    maze_init(m, seed);
    maze_step(m, START), maze_step(m, 0);
}

static void test_layout(void) {
    int open = 0, seen[MZ_ROWS][MZ_COLS] = {{0}}, q[MZ_ROWS * MZ_COLS], h = 0, t = 0, border = 1;
    for (int r = 0; r < MZ_ROWS; r++)
        for (int c = 0; c < MZ_COLS; c++) {
            open += !maze_wall(c, r);
            if (r == 0 || c == 0 || r == MZ_ROWS - 1 || c == MZ_COLS - 1) border &= maze_wall(c, r);
        }
    EXPECT(border, "the maze is closed");
    q[t++] = 9 * MZ_COLS + 7, seen[9][7] = 1;
    while (h < t) {
        const int i = q[h++];
        for (int d = 0; d < 4; d++) {
            int dx, dy;
            maze_dir_step(d, &dx, &dy);
            const int c = i % MZ_COLS + dx, r = i / MZ_COLS + dy;
            if (!maze_wall(c, r) && !seen[r][c]) seen[r][c] = 1, q[t++] = r * MZ_COLS + c;
        }
    }
    EXPECT(t == open, "every corridor reachable (%d of %d)", t, open);
    Maze m;
    maze_init(&m, 1);
    EXPECT(m.dots_left == open - 3 && m.dots[1][1] == 2 && m.dots[11][14] == 2, "dots everywhere but the middle and start (%d)",
           m.dots_left);
}

static void test_eater(void) {
    Maze m;
    playing(&m, 1);
    m.gh[0].wait = m.gh[1].wait = 1000;   // no ghost in the way
    const int x0 = m.px;
    run(&m, LEFT, 16);
    EXPECT(m.px == x0 - 16 && m.py == 9 * MZ_TILE, "1 pixel per frame (%d)", m.px);
    EXPECT(m.score == 10 && m.dots[9][6] == 0, "a dot: 10 points");
    run(&m, UP, 8);
    EXPECT(m.py == 9 * MZ_TILE && m.px == x0 - 24, "UP at a wall above: keeps going left");
    run(&m, RIGHT, 4);
    EXPECT(m.px == x0 - 20 && m.pdir == MZ_RIGHT, "a reversal at once, between tiles");
    playing(&m, 1);
    m.gh[0].wait = m.gh[1].wait = 1000;
    run(&m, LEFT, 6 * MZ_TILE);   // to column 1 of row 9
    EXPECT(m.px == MZ_TILE, "at column 1 (%d)", m.px / MZ_TILE);
    run(&m, LEFT, 20);
    EXPECT(m.px == MZ_TILE, "stops at a wall");
    run(&m, UP, MZ_TILE * 2);
    EXPECT(m.py == 7 * MZ_TILE && m.px == MZ_TILE, "turns up where it is open");
    // a pellet
    playing(&m, 1);
    m.px = 2 * MZ_TILE, m.py = 11 * MZ_TILE, m.pdir = MZ_LEFT;
    m.gh[0].x = 14 * MZ_TILE, m.gh[0].y = 3 * MZ_TILE, m.gh[0].wait = 0;
    run(&m, LEFT, MZ_TILE + 1);   // a dot is eaten in the frame after the eater reaches its tile
    EXPECT(m.score == 60 && m.fright_timer > 0 && m.gh[0].fright && !m.gh[2].fright, "a dot and a pellet: 10 + 50, frightens the ghosts out (%lld %d %d %d)", (long long)m.score, m.fright_timer, m.gh[0].fright, m.gh[2].fright);
}

static void test_ghosts(void) {
    Maze m;
    playing(&m, 2);
    int out[MZ_GHOSTS] = {0};
    for (int f = 0; f < 400; f++) {
        m.lives = 3;
        if (m.mode != MZ_PLAY) m.mode = MZ_PLAY;
        m.px = -100, m.py = -100;   // the eater out of the ghosts' reach
        maze_step(&m, 0);
        for (int g = 0; g < MZ_GHOSTS; g++)
            if (!out[g] && m.gh[g].wait == 0) out[g] = f + 1;
    }
    EXPECT(out[0] == 1 && out[1] >= 89 && out[1] <= 92 && out[3] >= 329 && out[3] <= 332, "release at 0, 90, 210, 330 (%d %d %d %d)",
           out[0], out[1], out[2], out[3]);
    // a ghost always stands on a corridor and moves 7 pixels in 8 frames
    playing(&m, 3);
    int ok = 1;
    const int x = m.gh[0].x, y = m.gh[0].y;
    run(&m, 0, 8);
    ok &= abs(m.gh[0].x - x) + abs(m.gh[0].y - y) == 7;
    EXPECT(ok, "7 pixels in 8 frames");
    // the same state with different Rng draws: the ghosts go different ways
    int differ = 0;
    for (int k = 0; k < 8; k++) {
        Maze a, b;
        playing(&a, 4);
        run(&a, 0, 100);
        b = a;
        rng_seed(&b.rng, 1000 + k);
        for (int f = 0; f < 120; f++) {
            a.mode = b.mode = MZ_PLAY;
            maze_step(&a, 0), maze_step(&b, 0);
            for (int g = 0; g < MZ_GHOSTS; g++) {
                ok &= !maze_wall((a.gh[g].x + 8) / MZ_TILE, (a.gh[g].y + 8) / MZ_TILE);
                ok &= a.gh[g].x % MZ_TILE == 0 || a.gh[g].y % MZ_TILE == 0;
            }
        }
        int same = 1;
        for (int g = 0; g < MZ_GHOSTS; g++) same &= a.gh[g].x == b.gh[g].x && a.gh[g].y == b.gh[g].y;
        differ += !same;
    }
    EXPECT(ok, "ghosts stay on corridors, on tile rows or columns");
    EXPECT(differ >= 6, "the Rng decides: %d of 8 reseeded copies differ after 2 s", differ);
}

static void test_lives_levels(void) {
    Maze m;
    playing(&m, 5);
    m.gh[0].x = m.px - 20, m.gh[0].y = m.py, m.gh[0].dir = MZ_RIGHT, m.gh[0].wait = 0;
    for (int f = 0; f < 12 && m.mode == MZ_PLAY; f++) maze_step(&m, 0);
    EXPECT(m.mode == MZ_DYING, "a ghost's touch: dying");
    run(&m, 0, MZ_DYING_FRAMES);
    EXPECT(m.mode == MZ_PLAY && m.lives == 2 && m.px == 7 * MZ_TILE && m.gh[1].wait == 90, "a life lost, positions reset");
    // eating frightened ghosts: 200, 400
    playing(&m, 5);
    m.fright_timer = 300;
    for (int g = 0; g < 2; g++) m.gh[g] = (MzGhost){.x = m.px - 24 - 4 * g, .y = m.py, .dir = MZ_LEFT, .fright = 1};
    m.gh[2].wait = m.gh[3].wait = 1000;
    const int64_t s0 = m.score;
    run(&m, LEFT, 40);
    EXPECT(m.score - s0 >= 600 && m.gh[0].wait > 0 && m.gh[1].wait > 0, "two frightened ghosts: 200 + 400 (%lld)",
           (long long)(m.score - s0));
    // the last dot clears the level
    playing(&m, 6);
    memset(m.dots, 0, sizeof m.dots);
    m.dots[9][6] = 1, m.dots_left = 1;
    for (int g = 0; g < MZ_GHOSTS; g++) m.gh[g].wait = 1000;
    run(&m, LEFT, 16);
    EXPECT(m.mode == MZ_CLEAR, "the last dot: level clear");
    run(&m, 0, MZ_CLEAR_FRAMES);
    EXPECT(m.mode == MZ_PLAY && m.level == 2 && m.dots_left > 50, "then the next level, dots back");
    // game over and back
    m.lives = 1, m.mode = MZ_DYING, m.timer = 0;
    run(&m, 0, MZ_DYING_FRAMES);
    EXPECT(m.mode == MZ_GAMEOVER, "the last life: GAME OVER");
    run(&m, 0, 60), maze_step(&m, START);
    EXPECT(m.mode == MZ_TITLE, "START: the title");
    maze_step(&m, 0), maze_step(&m, START);
    EXPECT(m.mode == MZ_PLAY && m.lives == MZ_LIVES && m.score == 0 && m.level == 1, "START: a new game");
    // pause
    maze_step(&m, 0);
    Maze p = m;
    maze_step(&m, START);
    run(&m, LEFT, 30);
    EXPECT(m.paused && m.px == p.px && m.gh[0].x == p.gh[0].x, "paused: nothing moves");
}

static void test_edge_cases(void) {
    game_check_edge_cases(&game_maze);
    Maze m;
    char name[32];
    maze_edge_case(&m, 7, name, sizeof name);
    EXPECT(!strcmp(name, "game_over") && m.mode == MZ_GAMEOVER, "game_over");
}

typedef struct {
    uint8_t *fh;
    int boxes, box_ok, in_palette;
    double black;
    long frames;
} MazeChecks;

// Every 15th frame: the eater's box holds the only pixels render_hidden changes; the palette;
// black pixels counted.
static void maze_frame(const GameDef *g, const void *st, uint8_t *fa, int t, const GameFrameInfo *before,
                       const GameFrameInfo *fi, void *ctx) {
    MazeChecks *c = ctx;
    (void)before;
    if (t % 15) return;
    g->render_hidden(st, c->fh);
    long in = 0, outside = 0, k = 0;
    for (int y = 0; y < g->H; y++)
        for (int x = 0; x < g->W; x++, k += 3) {
            const int d = memcmp(fa + k, c->fh + k, 3) != 0;
            const int inb = fi->has_piece && x >= fi->piece_x0 && x <= fi->piece_x1 && y >= fi->piece_y0 && y <= fi->piece_y1;
            in += d && inb, outside += d && !inb;
            c->black += !fa[k] && !fa[k + 1] && !fa[k + 2];
            c->in_palette &= game_in_palette(g, fa + k);
        }
    c->frames++;
    if (fi->has_piece) c->boxes++, c->box_ok &= outside == 0 && in >= 60;
}

static void test_game_interface(void) {
    const GameDef *g = game_find("maze");
    EXPECT(g == &game_maze && g->H == MZ_H && g->W == MZ_W && g->n_buttons == 8, "game_find, frame");
    EXPECT(g->n_colors == maze_n_colors && g->n_edge_cases == maze_edge_case_count(), "palette, edge cases");
    MazeChecks c = {.fh = malloc((size_t)g->H * g->W * 3), .box_ok = 1, .in_palette = 1};
    game_check_replay(g, 9, 4, 300, maze_frame, &c);
    EXPECT(c.boxes > 30 && c.box_ok, "eater box: the only pixels render_hidden changes (%d frames)", c.boxes);
    EXPECT(c.in_palette, "every pixel in the palette");
    const double black = c.black / ((double)c.frames * g->H * g->W);
    EXPECT(black > 0.5, "mostly black (%.2f)", black);
    free(c.fh);
}

static void test_bot(void) {
    const GameDef *g = &game_maze;
    void *st = malloc(g->state_size);
    uint8_t btn[8];
    int min_overs = 1 << 30, max_overs = 0, max_level = 0;
    for (int seed = 1; seed <= 12; seed++) {
        g->title(st, (uint64_t)seed);
        int overs = 0;
        GameFrameInfo p, f;
        g->frame_info(st, &p);
        for (int t = 0; t < 2000; t++) {
            g->bot_step(st, 4, btn);
            g->frame_info(st, &f);
            overs += f.game_over && !p.game_over;
            if (f.level > max_level) max_level = (int)f.level;
            p = f;
        }
        if (overs < min_overs) min_overs = overs;
        if (overs > max_overs) max_overs = overs;
    }
    EXPECT(max_overs >= 2 && min_overs <= 1, "game overs per player vary: %d..%d", min_overs, max_overs);
    EXPECT(max_level >= 2, "a good player clears a level (level %d)", max_level);
    free(st);
}

// ./eval's hooks (GameDef.eval): the object's mask lies inside frame_info's box and inside the
// direction region; fair direction starts exist in bot play and, in the engine, LEFT and RIGHT
// move the object's mask that way by at least half a tile.
static void test_eval_hooks(void) {
    game_check_eval_hooks(&game_maze);
}

// GameEval.enemy_mask: the ghosts' boxes grown by half a tile, nothing when none is in play.
static void test_enemy_mask(void) {
    const GameDef *g = &game_maze;
    void *st = malloc(g->state_size);
    uint8_t *mask = malloc((size_t)MZ_H * MZ_W), *small = malloc(80 * 80);
    g->title(st, 5);
    EXPECT(g->eval->enemy_mask(st, MZ_H, MZ_W, mask) == 0, "no enemy on the title screen");
    Rng r;
    rng_seed(&r, 7);
    int64_t attrs[3];
    g->start(st, &r, 4, attrs);
    uint8_t btn[8];
    for (int t = 0; t < 30; t++) g->bot_step(st, 4, btn);
    const Maze *m = game_maze_state(st);
    int n = g->eval->enemy_mask(st, MZ_H, MZ_W, mask), inside = 1, far_out = 1;
    for (int k = 0; k < MZ_GHOSTS; k++) {
        int x0, y0, x1, y1;
        if (!maze_ghost_box(m, k, &x0, &y0, &x1, &y1)) continue;
        for (int y = y0 - MZ_TILE / 2; y <= y1 + MZ_TILE / 2; y++)
            for (int x = x0 - MZ_TILE / 2; x <= x1 + MZ_TILE / 2; x++)
                if (x >= 0 && x < MZ_W && y >= 0 && y < MZ_H) inside &= mask[y * MZ_W + x];
    }
    for (int y = 0; y < MZ_H; y++)   // a masked pixel is within half a tile of some ghost box
        for (int x = 0; x < MZ_W; x++) {
            int near = 0;
            for (int k = 0; k < MZ_GHOSTS && mask[y * MZ_W + x]; k++) {
                int x0, y0, x1, y1;
                if (maze_ghost_box(m, k, &x0, &y0, &x1, &y1))
                    near |= x >= x0 - MZ_TILE / 2 && x <= x1 + MZ_TILE / 2 && y >= y0 - MZ_TILE / 2 && y <= y1 + MZ_TILE / 2;
            }
            far_out &= !mask[y * MZ_W + x] || near;
        }
    EXPECT(m->mode == MZ_PLAY && n >= 4 * MZ_TILE * MZ_TILE && n <= MZ_GHOSTS * 4 * MZ_TILE * MZ_TILE,
           "in play: %d pixels (4 ghosts, each 32x32 at most)", n);
    EXPECT(inside && far_out, "the mask is the ghost boxes grown by half a tile, nothing else");
    const int ns = g->eval->enemy_mask(st, 80, 80, small);
    EXPECT(ns > 0 && ns < n, "at 80x80: %d pixels", ns);
    free(st), free(mask), free(small);
}

int main(void) {
    test_layout();
    test_eater();
    test_ghosts();
    test_lives_levels();
    test_edge_cases();
    test_game_interface();
    test_eval_hooks();
    test_enemy_mask();
    test_bot();
    return test_summary();
}
