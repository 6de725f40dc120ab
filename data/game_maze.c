/*
 * game_maze.c - the built-in maze game (data/maze.h) and its seeded bot behind the game
 * interface (data/game.h).
 *
 * The bot finds its way with a breadth-first search over the maze: toward the nearest dot (or
 * a frightened ghost, when it is bold), away from any ghost closer than its danger distance.
 * Its skill is drawn per player: the danger distance (2..5 tiles), how often it re-plans
 * (every 1..4 steps), mistakes (a random way held for a few steps), button noise, boldness
 * and pauses, so some episodes end in game over and some clear levels.
 *
 * Episode e of `gen maze --seed S` draws a game seed, a bot seed and a warm-up from a master
 * Rng seeded with S (3 draws); 15% of episodes start at the title, the rest after 20..1019
 * bot steps. The three numbers are the attributes of /episode_<i>.
 */
#include "data/episodes.h"   // NES_BUTTONS
#include "data/game.h"
#include "data/maze.h"

#include <string.h>

enum { B_START = 8 };
static const uint8_t DIR_BUTTON[4] = {16, 32, 64, 128};   // UP, DOWN, LEFT, RIGHT

typedef struct {
    Rng rng;
    int danger, react;
    float mistake, noise, bold, pause_rate;
    int plan, hold, since, pause_left, menu_wait;
    uint8_t prev;
} MazeBot;

typedef struct {
    Maze g;
    MazeBot p;
} MazeState;

static int abs_i(int v) { return v < 0 ? -v : v; }

static void bot_init(MazeBot *p, uint64_t seed) {
    memset(p, 0, sizeof *p);
    rng_seed(&p->rng, seed);
    p->danger = 2 + (int)rng_below(&p->rng, 4);
    p->react = 1 + (int)rng_below(&p->rng, 4);
    p->mistake = rng_uniformf(&p->rng, 0.f, 0.04f);
    p->noise = rng_uniformf(&p->rng, 0.f, 0.05f);
    p->bold = rng_uniformf(&p->rng, 0.f, 1.f);
    p->pause_rate = rng_uniform(&p->rng) < 0.3 ? 0.002f : 0.f;
    p->menu_wait = (int)rng_below(&p->rng, 20);
    p->plan = MZ_LEFT;
}

// Breadth-first search from tile (c, r): dist [rows*cols] (-1 unreachable) and the first way
// taken toward every tile.
static void bfs(int c, int r, int *dist, int *first) {
    int q[MZ_ROWS * MZ_COLS], h = 0, t = 0;
    for (int i = 0; i < MZ_ROWS * MZ_COLS; i++) dist[i] = -1, first[i] = MZ_NONE;
    dist[r * MZ_COLS + c] = 0, q[t++] = r * MZ_COLS + c;
    while (h < t) {
        const int i = q[h++], ic = i % MZ_COLS, ir = i / MZ_COLS;
        for (int d = 0; d < 4; d++) {
            if (!maze_open(ic, ir, d)) continue;
            int dx, dy;
            maze_dir_step(d, &dx, &dy);
            const int j = (ir + dy) * MZ_COLS + ic + dx;
            if (dist[j] >= 0) continue;
            dist[j] = dist[i] + 1, first[j] = dist[i] == 0 ? d : first[i], q[t++] = j;
        }
    }
}

static int plan(MazeBot *p, const Maze *g) {
    const int c = (g->px + 8) / MZ_TILE, r = (g->py + 8) / MZ_TILE;
    int dist[MZ_ROWS * MZ_COLS], first[MZ_ROWS * MZ_COLS];
    bfs(c, r, dist, first);
    int threat = 0;
    for (int k = 0; k < MZ_GHOSTS; k++) {
        const MzGhost *h = &g->gh[k];
        const int gi = ((h->y + 8) / MZ_TILE) * MZ_COLS + (h->x + 8) / MZ_TILE;
        threat |= !h->wait && !h->fright && dist[gi] >= 0 && dist[gi] <= p->danger;
    }
    if (threat) {   // the open way whose next tile is farthest from the nearest dangerous ghost
        int best = p->plan, bd = -1;
        for (int d = 0; d < 4; d++) {
            if (!maze_open(c, r, d)) continue;
            int dx, dy, near = 1 << 20;
            maze_dir_step(d, &dx, &dy);
            for (int k = 0; k < MZ_GHOSTS; k++) {
                const MzGhost *h = &g->gh[k];
                if (h->wait || h->fright) continue;
                const int gd = abs_i((h->x + 8) / MZ_TILE - c - dx) + abs_i((h->y + 8) / MZ_TILE - r - dy);
                if (gd < near) near = gd;
            }
            if (near > bd) bd = near, best = d;
        }
        return best;
    }
    int target = -1, td = 1 << 20;
    for (int k = 0; k < MZ_GHOSTS && p->bold > 0.5f; k++) {
        const MzGhost *h = &g->gh[k];
        const int gi = ((h->y + 8) / MZ_TILE) * MZ_COLS + (h->x + 8) / MZ_TILE;
        if (h->fright && !h->wait && dist[gi] > 0 && dist[gi] < td) td = dist[gi], target = gi;
    }
    for (int i = 0; i < MZ_ROWS * MZ_COLS && target < 0; i++) {
        int best = -1, bd = 1 << 20;
        for (int j = 0; j < MZ_ROWS * MZ_COLS; j++)
            if (g->dots[j / MZ_COLS][j % MZ_COLS] && dist[j] > 0 && dist[j] < bd) bd = dist[j], best = j;
        target = best >= 0 ? best : -2;
    }
    return target >= 0 ? first[target] : p->plan;
}

static uint8_t play_act(MazeBot *p, const Maze *g) {
    if (p->pause_left > 0) return --p->pause_left == 0 ? B_START : 0;
    if (g->paused) return (p->prev & B_START) ? 0 : B_START;
    if (p->pause_rate > 0 && rng_uniform(&p->rng) < p->pause_rate) {
        p->pause_left = 5 + (int)rng_below(&p->rng, 40);
        return B_START;
    }
    if (p->hold > 0) p->hold--;
    else if (rng_uniform(&p->rng) < p->mistake) p->plan = (int)rng_below(&p->rng, 4), p->hold = 1 + (int)rng_below(&p->rng, 4);
    else if (++p->since >= p->react) {
        p->since = 0;
        const int d = plan(p, g);
        if (d != MZ_NONE) p->plan = d;
    }
    uint8_t b = DIR_BUTTON[p->plan];
    if (rng_uniform(&p->rng) < p->noise) b = DIR_BUTTON[rng_below(&p->rng, 4)];
    return b;
}

static uint8_t bot_act(MazeBot *p, const Maze *g) {
    uint8_t b = 0;
    if (g->mode == MZ_TITLE || (g->mode == MZ_GAMEOVER && g->timer >= 60)) {
        if (p->menu_wait > 0) p->menu_wait--;
        else if (!(p->prev & B_START)) b = B_START, p->menu_wait = (int)rng_below(&p->rng, 20);
    } else if (g->mode == MZ_PLAY) b = play_act(p, g);
    p->prev = b;
    return b;
}

static void advance(MazeState *s, int K, uint8_t *buttons) {
    const uint8_t b = bot_act(&s->p, &s->g);
    for (int k = 0; k < K; k++) maze_step(&s->g, b);
    if (buttons) game_buttons_from_bits(b, NES_BUTTONS, buttons);
}

static void replay_start(MazeState *s, const int64_t *attrs, int K) {
    maze_init(&s->g, (uint64_t)attrs[0]);
    bot_init(&s->p, (uint64_t)attrs[1]);
    for (int64_t t = 0; t < attrs[2]; t++) advance(s, K, NULL);
}

static void m_start(void *st, Rng *master, int K, int64_t *attrs) {
    attrs[0] = (int64_t)rng_u64(master), attrs[1] = (int64_t)rng_u64(master);
    const uint64_t w = rng_u64(master);
    attrs[2] = game_warmup_steps(w);
    replay_start(st, attrs, K);
}

static void m_replay(void *st, const int64_t *attrs, int K) { replay_start(st, attrs, K); }

static float m_bot_step(void *st, int K, uint8_t *buttons) {
    MazeState *s = st;
    const int64_t score = s->g.score;
    const int playing = s->g.mode == MZ_PLAY;
    advance(s, K, buttons);
    return playing && s->g.mode != MZ_TITLE ? (float)(s->g.score - score) : 0.f;
}

static void m_step(void *st, const uint8_t *buttons, int K) {
    const uint8_t b = game_buttons_bits(buttons, NES_BUTTONS);
    for (int k = 0; k < K; k++) maze_step(&((MazeState *)st)->g, b);
}

static void m_render(const void *st, uint8_t *rgb) { maze_render(&((const MazeState *)st)->g, rgb, 0); }
static void m_render_hidden(const void *st, uint8_t *rgb) { maze_render(&((const MazeState *)st)->g, rgb, 1); }

static void m_frame_info(const void *st, GameFrameInfo *fi) {
    const Maze *g = &((const MazeState *)st)->g;
    *fi = (GameFrameInfo){.playing = g->mode == MZ_PLAY && !g->paused, .game_over = g->mode == MZ_GAMEOVER,
                          .score = g->mode == MZ_TITLE ? -1 : g->score, .lines = -1,
                          .level = g->mode == MZ_TITLE ? -1 : g->level};
    if (fi->playing) fi->has_piece = maze_eater_box(g, &fi->piece_x0, &fi->piece_y0, &fi->piece_x1, &fi->piece_y1);
}

static void m_title(void *st, uint64_t seed) {
    MazeState *s = st;
    Rng r;
    rng_seed(&r, seed);
    maze_init(&s->g, rng_u64(&r));
    bot_init(&s->p, rng_u64(&r));
}

static int m_edge_case(void *st, int which, char *name, size_t cap) {
    MazeState *s = st;
    bot_init(&s->p, 1);
    return maze_edge_case(&s->g, which, name, cap);
}

const Maze *game_maze_state(const void *state) { return state ? &((const MazeState *)state)->g : NULL; }

// ---------------------------------------------------------------- ./eval's object measures

static int m_object_mask(const void *st, int H, int W, uint8_t *mask) {
    const Maze *g = &((const MazeState *)st)->g;
    int x0, y0, x1, y1;
    if (g->mode != MZ_PLAY || g->paused || !maze_eater_box(g, &x0, &y0, &x1, &y1)) return 0;
    return game_box_mask(&game_maze, x0, y0, x1, y1, H, W, mask);
}

// Nothing but the eater moves in its rows: no ghost overlaps them, no pellet blinks there.
static int quiet_rows(const Maze *g) {
    for (int k = 0; k < MZ_GHOSTS; k++)
        if (g->gh[k].y > g->py - MZ_TILE && g->gh[k].y < g->py + MZ_TILE) return 0;
    for (int c = 0; c < MZ_COLS; c++)
        if (g->dots[g->py / MZ_TILE][c] == 2) return 0;
    return 1;
}

// The eater in play in a row of tiles with its rows quiet; LEFT and RIGHT held for k steps each
// move it at least a tile that way in the same row, alive, the rows still quiet.
static int m_dir_start(const GameDef *gd, const void *state, int K, int k, void *scratch) {
    const Maze *g = &((const MazeState *)state)->g, *o = &((const MazeState *)scratch)->g;
    if (g->mode != MZ_PLAY || g->paused || g->py % MZ_TILE || !quiet_rows(g)) return 0;
    for (int dir = 0; dir < 2; dir++) {
        memcpy(scratch, state, gd->state_size);
        for (int i = 0; i < k; i++) gd->step(scratch, gd->eval->dir_buttons[dir], K);
        const int moved = (o->px - g->px) * (dir ? 1 : -1);
        if (o->mode != MZ_PLAY || o->py != g->py || moved < MZ_TILE || o->lives != g->lives || !quiet_rows(o)) return 0;
    }
    return 1;
}

static void m_dir_region(const void *st, int H, int W, uint8_t *mask, double *cw, double *ch) {
    const Maze *g = &((const MazeState *)st)->g;
    game_box_mask(&game_maze, 0, MZ_TOP + g->py, MZ_W - 1, MZ_TOP + g->py + MZ_TILE - 1, H, W, mask);
    *cw = (double)MZ_TILE * W / MZ_W, *ch = (double)MZ_TILE * H / MZ_H;
}

// The ghosts' boxes, each grown by half a tile (where it is and where it goes next).
static int m_enemy_mask(const void *st, int H, int W, uint8_t *mask) {
    const Maze *g = &((const MazeState *)st)->g;
    int b[MZ_GHOSTS][4], nb = 0;
    for (int k = 0; k < MZ_GHOSTS; k++)
        if (maze_ghost_box(g, k, &b[nb][0], &b[nb][1], &b[nb][2], &b[nb][3])) {
            b[nb][0] -= MZ_TILE / 2, b[nb][1] -= MZ_TILE / 2, b[nb][2] += MZ_TILE / 2, b[nb][3] += MZ_TILE / 2;
            nb++;
        }
    return game_boxes_mask(&game_maze, (const int (*)[4])b, nb, H, W, mask);
}

static const GameEval MAZE_EVAL = {
    .object = "eater", .object_mask = m_object_mask,
    .n_dirs = 2, .dir_frames = 24,
    .dir_buttons = {{0, 0, 0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 0, 0, 1}},
    .dir_start = m_dir_start, .dir_region = m_dir_region, .bright_on_black = 0, .enemy_mask = m_enemy_mask,
};

static const char *const ATTRS[] = {"maze_game_seed", "maze_bot_seed", "maze_warmup_steps"};
static const int64_t ATTR_MAX[3] = {0, 0, GAME_WARMUP_MAX};

const GameDef game_maze = {
    .name = "maze", .H = MZ_H, .W = MZ_W, .C = 3,
    .n_buttons = NES_BUTTONS, .button_names = NES_ACTION_NAMES,
    .palette = maze_palette, .n_colors = 12,
    .episodes = 120, .steps = 400, .frame_skip = 4,
    .n_attrs = 3, .attr_names = ATTRS, .attr_max = ATTR_MAX,
    .state_size = sizeof(MazeState),
    .start = m_start, .replay = m_replay, .bot_step = m_bot_step, .step = m_step, .render = m_render,
    .render_hidden = m_render_hidden, .frame_info = m_frame_info,
    .title = m_title, .n_edge_cases = 13, .edge_case = m_edge_case,
    .eval = &MAZE_EVAL,
};
