/*
 * scroller.c - the rules of the built-in side-scroller (scroller.h): level generation,
 * the runner's physics and collisions, beetles, lives, and the fixed edge-case states.
 * The renderer is data/scroller_draw.c.
 */
#include "data/scroller.h"

#include <stdio.h>
#include <string.h>

enum { SEG_FLAT, SEG_PIT, SEG_STEP, SEG_BLOCK, SEG_PLATFORM, SEG_BEETLE };
enum { BTN_A = 1, BTN_B = 2, BTN_START = 8, BTN_LEFT = 64, BTN_RIGHT = 128 };

#define BEETLE_W 14
#define BEETLE_H 12
#define SQUASH_FRAMES 20
#define SCORE_MAX 999999

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

int scroller_tile(const Scroller *s, int64_t col, int row) {
    if (row < 0 || row >= SCR_ROWS || col < 0 || col < s->gen_col - SCR_RING || col >= s->gen_col) return SCR_EMPTY;
    return s->tiles[col % SCR_RING][row];
}

int scroller_solid(const Scroller *s, int64_t col, int row) {
    int t = scroller_tile(s, col, row);
    return t == SCR_GROUND || t == SCR_BRICK;
}

// ---------------------------------------------------------------- level generation

// The next segment of the level: its kind, length and ground row.
static void pick_segment(Scroller *s) {
    int *g = &s->gen_ground, *k = &s->gen_kind, *n = &s->gen_left;
    if (s->gen_col < 16) { *k = SEG_FLAT, *n = (int)(16 - s->gen_col); return; }   // a safe start
    if (*k == SEG_PIT) { *k = SEG_FLAT, *n = 3 + (int)rng_below(&s->rng, 3); return; }
    int r = (int)rng_below(&s->rng, 100);
    if (r < 28) *k = SEG_FLAT, *n = 3 + (int)rng_below(&s->rng, 6);
    else if (r < 44) *k = SEG_PIT, *n = rng_below(&s->rng, 5) ? 2 : 3;
    else if (r < 58) {
        *k = SEG_STEP, *n = 2 + (int)rng_below(&s->rng, 4);
        int d = rng_below(&s->rng, 2) ? 1 : -1;
        if (*g + d < 9 || *g + d > 12) d = -d;
        *g += d;
    } else if (r < 72) *k = SEG_BLOCK, *n = 4 + (int)rng_below(&s->rng, 2);
    else if (r < 84) *k = SEG_PLATFORM, *n = 5 + (int)rng_below(&s->rng, 3);
    else *k = SEG_BEETLE, *n = 6 + (int)rng_below(&s->rng, 4);
    s->gen_len = *n;
    s->gen_var = (int)rng_below(&s->rng, 4);   // coins on flat ground, block height
}

static void spawn_beetle(Scroller *s, int64_t col, int ground) {
    for (int i = 0; i < SCR_MAX_ENEMIES; i++)
        if (!s->en[i].state) {
            s->en[i] = (ScrEnemy){.x = (col * SCR_TILE + 1) * 16, .y = ground * SCR_TILE - BEETLE_H, .dir = -1, .state = 1};
            return;
        }
}

static void gen_column(Scroller *s) {
    if (s->gen_left <= 0) pick_segment(s);
    const int64_t c = s->gen_col;
    const int g = s->gen_ground, i = s->gen_len - s->gen_left, len = s->gen_len;
    uint8_t *t = s->tiles[c % SCR_RING];
    memset(t, SCR_EMPTY, SCR_ROWS);
    if (s->gen_kind != SEG_PIT)
        for (int r = g; r < SCR_ROWS; r++) t[r] = SCR_GROUND;
    switch (s->gen_kind) {
    case SEG_FLAT:
        if (s->gen_var == 0 && i >= 1 && i < len - 1) t[g - 3] = SCR_COIN;
        break;
    case SEG_BLOCK:
        if (i == 1 || (i == 2 && len == 5)) {
            t[g - 1] = SCR_BRICK;
            if (s->gen_var >= 2) t[g - 2] = SCR_BRICK;
        }
        break;
    case SEG_PLATFORM:
        if (i >= 1 && i < len - 1) t[g - 4] = SCR_BRICK, t[g - 5] = SCR_COIN;
        break;
    case SEG_BEETLE:
        if (i == len / 2) spawn_beetle(s, c, g);
        break;
    default: break;
    }
    s->gen_col++, s->gen_left--;
}

static void generate(Scroller *s) {
    while (s->gen_col < s->cam / SCR_TILE + SCR_AHEAD) gen_column(s);
}

// The top solid row of column col, or -1.
static int top_solid(const Scroller *s, int64_t col) {
    for (int r = 0; r < SCR_ROWS; r++)
        if (scroller_solid(s, col, r)) return r;
    return -1;
}

// The runner on the ground of the first column at or after pixel x that has one.
static void place_runner(Scroller *s, int64_t x) {
    int64_t col = x / SCR_TILE;
    for (int k = 0; k < 12 && top_solid(s, col) < 0; k++) col++;
    int r = top_solid(s, col);
    if (r < 0) r = SCR_ROWS;
    s->px = (col * SCR_TILE + 2) * 16;
    s->py = (r * SCR_TILE - SCR_PH) * 16;
    s->vx = s->vy = 0, s->on_ground = r < SCR_ROWS, s->facing = 1, s->jump_held = 0;
}

static void reset_world(Scroller *s) {
    memset(s->tiles, 0, sizeof s->tiles);
    memset(s->en, 0, sizeof s->en);
    s->gen_col = 0, s->gen_ground = 12, s->gen_kind = SEG_FLAT, s->gen_left = 0, s->gen_len = 0, s->gen_var = 1;
    s->cam = 0;
    generate(s);
    place_runner(s, 32);
}

void scroller_init(Scroller *s, uint64_t seed) {
    memset(s, 0, sizeof *s);
    rng_seed(&s->rng, seed);
    reset_world(s);
    s->mode = SCR_TITLE;
}

void scroller_start(Scroller *s) {
    reset_world(s);
    s->mode = SCR_PLAY, s->paused = 0, s->timer = 0, s->lives = SCR_LIVES, s->invuln = 0;
    s->coins = 0, s->score = 0, s->best_col = (s->px >> 4) / SCR_TILE, s->anim = 0;
}

// ---------------------------------------------------------------- the runner

static void add_score(Scroller *s, int64_t p) { s->score = s->score + p > SCORE_MAX ? SCORE_MAX : s->score + p; }

// 1 when the box (pixels, world) overlaps a solid tile.
static int box_solid(const Scroller *s, int64_t x, int y, int w, int h) {
    for (int64_t c = floor_div(x, SCR_TILE); c <= floor_div(x + w - 1, SCR_TILE); c++)
        for (int64_t r = floor_div(y, SCR_TILE); r <= floor_div(y + h - 1, SCR_TILE); r++)
            if (scroller_solid(s, c, (int)r)) return 1;
    return 0;
}

static void horizontal(Scroller *s, uint8_t b) {
    const int dir = (b & BTN_RIGHT ? 1 : 0) - (b & BTN_LEFT ? 1 : 0), max = b & BTN_B ? 40 : 24;
    if (dir) {
        s->facing = dir;
        if (s->vx * dir < 0) s->vx += 3 * dir;
        else if (s->vx * dir < max) s->vx += dir;
    }
    if ((!dir && s->on_ground) || s->vx * (dir ? dir : 1) > max || -s->vx > max)   // slow down
        s->vx += s->vx > 0 ? -1 : s->vx < 0 ? 1 : 0;
    s->px += s->vx;
    int64_t x = s->px >> 4;
    const int y = s->py >> 4;
    if (s->vx > 0 && box_solid(s, x, y, SCR_PW, SCR_PH)) {
        x = floor_div(x + SCR_PW - 1, SCR_TILE) * SCR_TILE - SCR_PW;
        s->px = x * 16, s->vx = 0;
    } else if (s->vx < 0 && box_solid(s, x, y, SCR_PW, SCR_PH)) {
        x = (floor_div(x, SCR_TILE) + 1) * SCR_TILE;
        s->px = x * 16, s->vx = 0;
    }
    if (x < s->cam) s->px = s->cam * 16, s->vx = s->vx < 0 ? 0 : s->vx;
}

static void vertical(Scroller *s, uint8_t b, uint8_t pressed) {
    if (!(b & BTN_A)) s->jump_held = 0;
    if ((pressed & BTN_A) && s->on_ground) {
        s->vy = -(60 + (s->vx < 0 ? -s->vx : s->vx) / 4), s->jump_held = 1, s->on_ground = 0;
    }
    if (s->on_ground) s->vy = 0;   // standing or walking: no gravity while supported
    else s->vy += s->jump_held && s->vy < 0 ? 2 : 7;
    if (s->vy > 64) s->vy = 64;
    s->py += s->vy;
    const int64_t x = s->px >> 4;
    int y = s->py >> 4;
    if (s->vy > 0 && box_solid(s, x, y, SCR_PW, SCR_PH)) {
        y = (int)floor_div(y + SCR_PH - 1, SCR_TILE) * SCR_TILE - SCR_PH;
        s->py = y * 16, s->vy = 0;
    } else if (s->vy < 0 && box_solid(s, x, y, SCR_PW, SCR_PH)) {
        y = ((int)floor_div(y, SCR_TILE) + 1) * SCR_TILE;
        s->py = y * 16, s->vy = 0, s->jump_held = 0;
    }
    s->on_ground = s->vy >= 0 && (y + SCR_PH) % SCR_TILE == 0 && box_solid(s, x, y + SCR_PH, SCR_PW, 1);
}

static void collect(Scroller *s) {
    const int64_t x = s->px >> 4;
    const int y = s->py >> 4;
    for (int64_t c = floor_div(x, SCR_TILE); c <= floor_div(x + SCR_PW - 1, SCR_TILE); c++)
        for (int r = (int)floor_div(y, SCR_TILE); r <= (int)floor_div(y + SCR_PH - 1, SCR_TILE); r++)
            if (scroller_tile(s, c, r) == SCR_COIN) {
                s->tiles[c % SCR_RING][r] = SCR_EMPTY;
                s->coins = s->coins < 99 ? s->coins + 1 : 99;
                add_score(s, 100);
            }
    const int64_t col = x / SCR_TILE;
    if (col > s->best_col) add_score(s, 10 * (col - s->best_col)), s->best_col = col;
}

static void die_now(Scroller *s) {
    s->mode = SCR_DYING, s->timer = 0, s->vx = 0, s->vy = -64, s->jump_held = 0;
}

// ---------------------------------------------------------------- beetles

static void beetles(Scroller *s, int prev_bottom) {
    const int64_t x = s->px >> 4;
    const int y = s->py >> 4;
    for (int i = 0; i < SCR_MAX_ENEMIES; i++) {
        ScrEnemy *e = &s->en[i];
        if (!e->state) continue;
        int64_t ex = e->x >> 4;
        if (ex + BEETLE_W < s->cam - 16) { e->state = 0; continue; }
        if (e->state == 2) {
            if (--e->squash_timer <= 0) e->state = 0;
            continue;
        }
        if (ex > s->cam + SCR_W + 16) continue;   // asleep until it comes near the screen
        const int64_t front = e->dir > 0 ? ex + BEETLE_W : ex - 1;
        const int64_t fc = floor_div(front, SCR_TILE);
        const int row = (e->y + BEETLE_H - 1) / SCR_TILE;
        if (scroller_solid(s, fc, row) || !scroller_solid(s, fc, row + 1)) e->dir = -e->dir;
        else e->x += 8 * e->dir;
        ex = e->x >> 4;
        if (s->mode != SCR_PLAY) continue;
        if (x + SCR_PW <= ex || ex + BEETLE_W <= x || y + SCR_PH <= e->y || e->y + BEETLE_H <= y) continue;
        if (s->vy > 0 && prev_bottom <= e->y + 4) {   // stomped
            e->state = 2, e->squash_timer = SQUASH_FRAMES;
            s->vy = -40, s->jump_held = 0;
            add_score(s, 200);
        } else if (!s->invuln) die_now(s);
    }
}

// ---------------------------------------------------------------- one frame

static void respawn(Scroller *s) {
    place_runner(s, s->cam + 32);
    for (int i = 0; i < SCR_MAX_ENEMIES; i++)
        if (s->en[i].state && (s->en[i].x >> 4) < s->cam + 176) s->en[i].state = 0;
    s->mode = SCR_PLAY, s->invuln = SCR_INVULN_FRAMES;
}

static void play_frame(Scroller *s, uint8_t b, uint8_t pressed) {
    const int prev_bottom = (s->py >> 4) + SCR_PH;
    horizontal(s, b);
    vertical(s, b, pressed);
    s->anim += s->on_ground ? (s->vx < 0 ? -s->vx : s->vx) : 0;
    collect(s);
    const int64_t x = s->px >> 4;
    if (x - s->cam > SCR_CAM_LEAD) s->cam = x - SCR_CAM_LEAD;
    generate(s);
    if (s->invuln) s->invuln--;
    beetles(s, prev_bottom);
    if (s->mode == SCR_PLAY && (s->py >> 4) > SCR_H) die_now(s);
}

void scroller_step(Scroller *s, uint8_t b) {
    const uint8_t pressed = b & ~s->prev_buttons;
    s->prev_buttons = b;
    s->frame++;
    switch (s->mode) {
    case SCR_TITLE:
        s->clock++;
        if (pressed & BTN_START) scroller_start(s);
        break;
    case SCR_PLAY:
        if (pressed & BTN_START) s->paused = !s->paused;
        if (s->paused) break;
        s->clock++;
        play_frame(s, b, pressed);
        break;
    case SCR_DYING:
        s->clock++;
        s->py += s->vy, s->vy += 4;
        beetles(s, 0);
        if (++s->timer >= SCR_DYING_FRAMES) {
            if (--s->lives > 0) respawn(s);
            else s->mode = SCR_GAMEOVER, s->timer = 0;
        }
        break;
    case SCR_GAMEOVER:
        s->clock++;
        s->timer++;
        if ((pressed & BTN_START) && s->timer >= 60) s->mode = SCR_TITLE, s->timer = 0;
        break;
    }
}

int scroller_runner_box(const Scroller *s, int *x0, int *y0, int *x1, int *y1) {
    if ((s->mode != SCR_PLAY && s->mode != SCR_DYING) || (s->invuln && (s->invuln / 4) % 2)) return 0;
    // the sprite: 16x24 pixels at 2 pixels left and above the collision box
    int a = (int)((s->px >> 4) - s->cam) - 2, b = (s->py >> 4) - 2, c = a + 15, d = b + 23;
    if (a < 0) a = 0;
    if (b < 0) b = 0;
    if (c > SCR_W - 1) c = SCR_W - 1;
    if (d > SCR_H - 1) d = SCR_H - 1;
    if (a > c || b > d) return 0;
    *x0 = a, *y0 = b, *x1 = c, *y1 = d;
    return 1;
}

// ---------------------------------------------------------------- edge cases

static const char *const EDGE[] = {"title", "standing", "full_run", "jump_apex", "over_pit", "beetle_close",
                                   "stomp", "dying", "blinking", "pause", "game_over", "largest_counters",
                                   "far_along"};

int scroller_edge_case_count(void) { return (int)(sizeof EDGE / sizeof EDGE[0]); }

// A game of seed 7 run right (B held) for `frames` frames, lives kept.
static void run_for(Scroller *s, int frames) {
    for (int f = 0; f < frames; f++) {
        s->lives = SCR_LIVES;
        scroller_step(s, BTN_RIGHT | BTN_B | (f % 40 < 20 ? BTN_A : 0));
        if (s->mode == SCR_DYING) s->timer = SCR_DYING_FRAMES - 1;
    }
    while (s->mode != SCR_PLAY) scroller_step(s, 0);
}

int scroller_edge_case(Scroller *s, int which, char *name, size_t cap) {
    if (which < 0 || which >= scroller_edge_case_count()) return -1;
    scroller_init(s, 7);
    snprintf(name, cap, "%s", EDGE[which]);
    if (which == 0) return 0;
    scroller_step(s, BTN_START), scroller_step(s, 0);
    const int64_t col = (s->px >> 4) / SCR_TILE;
    switch (which) {
    case 2: for (int f = 0; f < 60; f++) scroller_step(s, BTN_RIGHT | BTN_B); break;
    case 3: for (int f = 0; f < 33; f++) scroller_step(s, BTN_A); break;
    case 4:   // a pit carved under the runner, who is in the air over it
        for (int c = 0; c < 3; c++) memset(s->tiles[(col + c) % SCR_RING], SCR_EMPTY, SCR_ROWS);
        s->py -= 24 * 16, s->on_ground = 0;
        break;
    case 5: case 6:
        s->en[0] = (ScrEnemy){.x = ((s->px >> 4) + (which == 5 ? 28 : 0)) * 16, .y = s->py / 16 + SCR_PH - BEETLE_H,
                              .dir = -1, .state = which == 5 ? 1 : 2, .squash_timer = SQUASH_FRAMES};
        break;
    case 7: die_now(s); for (int f = 0; f < 12; f++) scroller_step(s, 0); break;
    case 8: s->invuln = SCR_INVULN_FRAMES - 4; break;   // (invuln / 4) odd: the runner is off
    case 9: scroller_step(s, BTN_START); break;
    case 10: s->lives = 1, die_now(s); for (int f = 0; f < SCR_DYING_FRAMES + 5; f++) scroller_step(s, 0); break;
    case 11: s->score = SCORE_MAX, s->coins = 99, s->lives = 9; break;
    case 12: run_for(s, 6000); break;
    default: break;
    }
    return 0;
}
