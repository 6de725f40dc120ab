/*
 * maze.c - the rules of the built-in maze game (maze.h): the maze, the eater, the ghosts'
 * seeded choices, pellets, lives, levels and the fixed edge-case states. The renderer is
 * data/maze_draw.c.
 */
#include "data/maze.h"

#include <stdio.h>
#include <string.h>

enum { BTN_START = 8, BTN_UP = 16, BTN_DOWN = 32, BTN_LEFT = 64, BTN_RIGHT = 128 };

// '#' wall, '.' dot, 'o' power pellet, ' ' corridor without a dot (the middle, the eater's start)
static const char *const LAYOUT[MZ_ROWS] = {
    "################",
    "#o.....##.....o#",
    "#.##.#.##.#.##.#",
    "#..............#",
    "#.##.##..##.##.#",
    "#....#....#....#",
    "###.##.  .##.###",
    "#....#....#....#",
    "#.##.##..##.##.#",
    "#...... .......#",
    "#.##.#.##.#.##.#",
    "#o.....##.....o#",
    "################",
};

static const float CHASE[MZ_GHOSTS] = {0.6f, 0.4f, 0.25f, 0.1f};
static const int RELEASE[MZ_GHOSTS] = {0, 90, 210, 330};
#define HOME_X (7 * MZ_TILE)
#define HOME_Y (6 * MZ_TILE)
#define START_X (7 * MZ_TILE)
#define START_Y (9 * MZ_TILE)

int maze_wall(int col, int row) {
    if (col < 0 || col >= MZ_COLS || row < 0 || row >= MZ_ROWS) return 1;
    return LAYOUT[row][col] == '#';
}

void maze_dir_step(int dir, int *dx, int *dy) {
    *dx = dir == MZ_LEFT ? -1 : dir == MZ_RIGHT ? 1 : 0;
    *dy = dir == MZ_UP ? -1 : dir == MZ_DOWN ? 1 : 0;
}

int maze_open(int col, int row, int dir) {
    int dx, dy;
    if (dir == MZ_NONE) return 0;
    maze_dir_step(dir, &dx, &dy);
    return !maze_wall(col + dx, row + dy);
}

static int reverse(int dir) { return dir == MZ_UP ? MZ_DOWN : dir == MZ_DOWN ? MZ_UP : dir == MZ_LEFT ? MZ_RIGHT : dir == MZ_RIGHT ? MZ_LEFT : MZ_NONE; }

static void fill_dots(Maze *m) {
    m->dots_left = 0;
    for (int r = 0; r < MZ_ROWS; r++)
        for (int c = 0; c < MZ_COLS; c++) {
            const char ch = LAYOUT[r][c];
            m->dots[r][c] = ch == '.' ? 1 : ch == 'o' ? 2 : 0;
            m->dots_left += m->dots[r][c] != 0;
        }
}

static void reset_actors(Maze *m) {
    m->px = START_X, m->py = START_Y, m->pdir = MZ_LEFT, m->want = MZ_NONE, m->mouth = 0;
    for (int g = 0; g < MZ_GHOSTS; g++)
        m->gh[g] = (MzGhost){.x = HOME_X + (g % 2) * MZ_TILE, .y = HOME_Y, .dir = g % 2 ? MZ_RIGHT : MZ_LEFT,
                             .wait = RELEASE[g], .fright = 0};
    m->fright_timer = 0, m->eaten_chain = 0;
}

void maze_init(Maze *m, uint64_t seed) {
    memset(m, 0, sizeof *m);
    rng_seed(&m->rng, seed);
    fill_dots(m);
    reset_actors(m);
    m->mode = MZ_TITLE, m->level = 1;
}

void maze_start(Maze *m) {
    fill_dots(m);
    reset_actors(m);
    m->mode = MZ_PLAY, m->paused = 0, m->timer = 0, m->lives = MZ_LIVES, m->level = 1, m->score = 0;
}

static void add_score(Maze *m, int64_t p) { m->score = m->score + p > 999999 ? 999999 : m->score + p; }

// ---------------------------------------------------------------- the eater

static void eater(Maze *m, uint8_t b) {
    if (b & BTN_UP) m->want = MZ_UP;
    else if (b & BTN_DOWN) m->want = MZ_DOWN;
    else if (b & BTN_LEFT) m->want = MZ_LEFT;
    else if (b & BTN_RIGHT) m->want = MZ_RIGHT;
    if (m->want != MZ_NONE && m->want == reverse(m->pdir)) m->pdir = m->want;
    if (m->px % MZ_TILE == 0 && m->py % MZ_TILE == 0) {
        const int c = m->px / MZ_TILE, r = m->py / MZ_TILE;
        if (m->dots[r][c]) {
            add_score(m, m->dots[r][c] == 2 ? 50 : 10);
            if (m->dots[r][c] == 2) {
                m->fright_timer = MZ_FRIGHT_FRAMES, m->eaten_chain = 0;
                for (int g = 0; g < MZ_GHOSTS; g++)
                    if (!m->gh[g].wait) m->gh[g].fright = 1, m->gh[g].dir = reverse(m->gh[g].dir);
            }
            m->dots[r][c] = 0, m->dots_left--;
        }
        if (maze_open(c, r, m->want)) m->pdir = m->want;
        if (!maze_open(c, r, m->pdir)) return;   // stopped at a wall
    }
    int dx, dy;
    maze_dir_step(m->pdir, &dx, &dy);
    m->px += dx, m->py += dy, m->mouth++;
}

// ---------------------------------------------------------------- ghosts

// The way ghost g takes at a tile centre: among the open ways but back, nearest to the eater
// with probability CHASE[g] (not when frightened), else one at random.
static int choose(Maze *m, int g) {
    const MzGhost *h = &m->gh[g];
    const int c = h->x / MZ_TILE, r = h->y / MZ_TILE, back = reverse(h->dir);
    int opts[4], n = 0;
    for (int d = 0; d < 4; d++)
        if (d != back && maze_open(c, r, d)) opts[n++] = d;
    if (n == 0) return back;
    if (n == 1) return opts[0];
    if (!h->fright && rng_uniform(&m->rng) < CHASE[g]) {
        const int tc = m->px / MZ_TILE, tr = m->py / MZ_TILE;
        int best = opts[0], bd = 1 << 30;
        for (int i = 0; i < n; i++) {
            int dx, dy;
            maze_dir_step(opts[i], &dx, &dy);
            const int d = (c + dx - tc) * (c + dx - tc) + (r + dy - tr) * (r + dy - tr);
            if (d < bd) bd = d, best = opts[i];
        }
        return best;
    }
    return opts[rng_below(&m->rng, (uint32_t)n)];
}

static void ghosts(Maze *m) {
    for (int g = 0; g < MZ_GHOSTS; g++) {
        MzGhost *h = &m->gh[g];
        if (h->wait > 0) { h->wait--; continue; }
        const int moves = h->fright ? m->clock % 2 == 0 : m->level >= 3 || m->clock % 8 != 7;
        if (!moves) continue;
        if (h->x % MZ_TILE == 0 && h->y % MZ_TILE == 0) h->dir = choose(m, g);
        int dx, dy;
        maze_dir_step(h->dir, &dx, &dy);
        h->x += dx, h->y += dy;
    }
}

static void collide(Maze *m) {
    for (int g = 0; g < MZ_GHOSTS; g++) {
        MzGhost *h = &m->gh[g];
        if (h->wait > 0) continue;
        const int dx = h->x - m->px, dy = h->y - m->py;
        if (dx <= -10 || dx >= 10 || dy <= -10 || dy >= 10) continue;
        if (h->fright) {
            add_score(m, 200 << (m->eaten_chain < 3 ? m->eaten_chain : 3));
            m->eaten_chain++;
            *h = (MzGhost){.x = HOME_X, .y = HOME_Y, .dir = MZ_LEFT, .wait = 60, .fright = 0};
        } else {
            m->mode = MZ_DYING, m->timer = 0;
            return;
        }
    }
}

// ---------------------------------------------------------------- one frame

static void play_frame(Maze *m, uint8_t b) {
    eater(m, b);
    if (m->fright_timer > 0 && --m->fright_timer == 0)
        for (int g = 0; g < MZ_GHOSTS; g++) m->gh[g].fright = 0;
    collide(m);
    if (m->mode != MZ_PLAY) return;
    ghosts(m);
    collide(m);
    if (m->mode == MZ_PLAY && m->dots_left == 0) m->mode = MZ_CLEAR, m->timer = 0;
}

void maze_step(Maze *m, uint8_t b) {
    const uint8_t pressed = b & ~m->prev_buttons;
    m->prev_buttons = b;
    m->frame++;
    if (m->mode == MZ_PLAY && (pressed & BTN_START)) m->paused = !m->paused;
    if (m->mode == MZ_PLAY && m->paused) return;
    m->clock++;
    switch (m->mode) {
    case MZ_TITLE:
        if (pressed & BTN_START) maze_start(m);
        break;
    case MZ_PLAY: play_frame(m, b); break;
    case MZ_DYING:
        if (++m->timer >= MZ_DYING_FRAMES) {
            if (--m->lives > 0) reset_actors(m), m->mode = MZ_PLAY;
            else m->mode = MZ_GAMEOVER, m->timer = 0;
        }
        break;
    case MZ_CLEAR:
        if (++m->timer >= MZ_CLEAR_FRAMES) fill_dots(m), reset_actors(m), m->level++, m->mode = MZ_PLAY;
        break;
    case MZ_GAMEOVER:
        m->timer++;
        if ((pressed & BTN_START) && m->timer >= 60) m->mode = MZ_TITLE, m->timer = 0;
        break;
    }
}

static int box(int x, int y, int *x0, int *y0, int *x1, int *y1) {
    *x0 = x, *y0 = y + MZ_TOP, *x1 = x + MZ_TILE - 1, *y1 = y + MZ_TOP + MZ_TILE - 1;
    return 1;
}

int maze_eater_box(const Maze *m, int *x0, int *y0, int *x1, int *y1) {
    if (m->mode != MZ_PLAY && m->mode != MZ_DYING && m->mode != MZ_CLEAR) return 0;
    return box(m->px, m->py, x0, y0, x1, y1);
}

int maze_ghost_box(const Maze *m, int g, int *x0, int *y0, int *x1, int *y1) {
    if (m->mode != MZ_PLAY || g < 0 || g >= MZ_GHOSTS) return 0;
    return box(m->gh[g].x, m->gh[g].y, x0, y0, x1, y1);
}

// ---------------------------------------------------------------- edge cases

static const char *const EDGE[] = {"title", "start", "moving", "frightened", "fright_flash", "ghost_eaten",
                                   "dying", "game_over", "level_clear", "pause", "last_dot", "largest_counters",
                                   "ghosts_together"};

int maze_edge_case_count(void) { return (int)(sizeof EDGE / sizeof EDGE[0]); }

int maze_edge_case(Maze *m, int which, char *name, size_t cap) {
    if (which < 0 || which >= maze_edge_case_count()) return -1;
    maze_init(m, 11);
    snprintf(name, cap, "%s", EDGE[which]);
    if (which == 0) return 0;
    maze_step(m, BTN_START), maze_step(m, 0);
    switch (which) {
    case 2: for (int f = 0; f < 200; f++) maze_step(m, f < 100 ? BTN_LEFT : BTN_UP); break;
    case 3: case 4: case 5:
        for (int f = 0; f < 150; f++) maze_step(m, BTN_LEFT);
        m->fright_timer = which == 4 ? 60 : 300;
        for (int g = 0; g < MZ_GHOSTS; g++) m->gh[g].fright = m->gh[g].wait == 0;
        if (which == 5) add_score(m, 200), m->eaten_chain = 1, m->gh[1] = (MzGhost){.x = HOME_X, .y = HOME_Y, .wait = 60};
        break;
    case 6: m->mode = MZ_DYING, m->timer = 45; break;
    case 7: m->lives = 1, m->mode = MZ_DYING, m->timer = MZ_DYING_FRAMES - 1, maze_step(m, 0); break;
    case 8:
        memset(m->dots, 0, sizeof m->dots), m->dots_left = 0, m->mode = MZ_CLEAR, m->timer = 8;
        break;
    case 9: maze_step(m, BTN_START); break;
    case 10:
        memset(m->dots, 0, sizeof m->dots);
        m->dots[9][5] = 1, m->dots_left = 1;
        break;
    case 11: m->score = 999999, m->lives = 9, m->level = 99; break;
    case 12:
        for (int g = 0; g < MZ_GHOSTS; g++) m->gh[g] = (MzGhost){.x = 3 * MZ_TILE + g * 4, .y = 3 * MZ_TILE, .dir = g};
        break;
    default: break;
    }
    return 0;
}
