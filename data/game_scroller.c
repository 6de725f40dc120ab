/*
 * game_scroller.c - the built-in side-scroller (data/scroller.h) and its seeded bot behind the
 * game interface (data/game.h).
 *
 * The bot runs right, looks ahead for pits, walls (steps, bricks) and beetles, and jumps
 * with A held for a while; its skill is drawn per player: how far it looks, how often it
 * misses a jump, how long it holds A, how often it runs (B), hesitates or walks back, pauses,
 * and how noisy its buttons are, so some episodes end in game over. It looks at the game each
 * step (closed loop, whatever the frame skip).
 *
 * Episode e of `gen scroller --seed S` draws a game seed, a bot seed and a warm-up from a
 * master Rng seeded with S (3 draws); 15% of episodes start at the title, the rest after
 * 20..1019 bot steps. The three numbers are the attributes of /episode_<i>.
 */
#include "data/episodes.h"   // NES_BUTTONS
#include "data/game.h"
#include "data/scroller.h"

#include <string.h>

enum { B_A = 1, B_B = 2, B_START = 8, B_LEFT = 64, B_RIGHT = 128 };

typedef struct {
    Rng rng;
    float look;        // pixels looked ahead at walking speed
    float miss;        // probability of not jumping at a hazard
    int hold_lo, hold_hi;   // steps A is held in a jump (a pit: hold_hi)
    float sloppy;      // probability of a random hold in lo..hi over a pit
    float run;         // probability of running (B) in each stretch
    float hesitate;    // per-step probability of stopping or walking back a little
    float noise;       // per-step probability of flipping one of A, B, LEFT, RIGHT
    float pause_rate;
    int running, hold, wait, back, pause_left, menu_wait, decided_col;
    uint8_t prev;
} ScrollerBot;

typedef struct {
    Scroller g;
    ScrollerBot p;
} ScrollerState;

static void bot_init(ScrollerBot *p, uint64_t seed) {
    memset(p, 0, sizeof *p);
    rng_seed(&p->rng, seed);
    p->look = rng_uniformf(&p->rng, 2.f, 16.f);
    p->miss = rng_uniformf(&p->rng, 0.f, 0.15f);
    p->hold_lo = 1 + (int)rng_below(&p->rng, 4);
    p->hold_hi = 6 + (int)rng_below(&p->rng, 4);
    p->sloppy = rng_uniformf(&p->rng, 0.f, 0.3f);
    p->run = rng_uniformf(&p->rng, 0.f, 0.8f);
    p->hesitate = rng_uniformf(&p->rng, 0.f, 0.03f);
    p->noise = rng_uniformf(&p->rng, 0.f, 0.05f);
    p->pause_rate = rng_uniform(&p->rng) < 0.3 ? 0.002f : 0.f;
    p->menu_wait = (int)rng_below(&p->rng, 20);
    p->decided_col = -1;
}

// 2 when a pit lies within `ahead` pixels of the runner's front, 1 for another thing that needs
// a jump (a solid tile at body height, an awake beetle), else 0.
static int hazard_ahead(const Scroller *g, int ahead) {
    const int64_t x = g->px >> 4, front = x + SCR_PW;
    const int y = g->py >> 4, feet = (y + SCR_PH) / SCR_TILE;
    for (int64_t c = front / SCR_TILE; c <= (front + ahead) / SCR_TILE; c++) {
        if (!scroller_solid(g, c, feet)) {   // no footing at the feet's row: a pit or a step down
            int any = 0;
            for (int r = feet; r < SCR_ROWS; r++) any |= scroller_solid(g, c, r);
            if (!any) return 2;
        }
        for (int r = y / SCR_TILE; r < feet; r++)
            if (y >= 0 && scroller_solid(g, c, r)) return 1;
    }
    for (int i = 0; i < SCR_MAX_ENEMIES; i++) {
        const ScrEnemy *e = &g->en[i];
        const int64_t ex = e->x >> 4;
        if (e->state == 1 && ex + 14 > x && ex < front + ahead + 8 && e->y + 12 > y) return 1;
    }
    return 0;
}

static uint8_t play_act(ScrollerBot *p, const Scroller *g) {
    if (p->pause_left > 0) return --p->pause_left == 0 ? B_START : 0;
    if (g->paused) return (p->prev & B_START) ? 0 : B_START;
    if (p->pause_rate > 0 && rng_uniform(&p->rng) < p->pause_rate) {
        p->pause_left = 5 + (int)rng_below(&p->rng, 40);
        return B_START;
    }
    if (rng_uniform(&p->rng) < 0.02) p->running = rng_uniform(&p->rng) < p->run;
    uint8_t b = p->running ? B_B : 0;
    if (p->wait > 0) p->wait--;
    else if (p->back > 0) p->back--, b |= B_LEFT;
    else if (rng_uniform(&p->rng) < p->hesitate) {
        if (rng_below(&p->rng, 2)) p->wait = 2 + (int)rng_below(&p->rng, 8);
        else p->back = 2 + (int)rng_below(&p->rng, 6);
    } else b |= B_RIGHT;
    if (p->hold > 0) {   // in a jump: keep A held
        p->hold--;
        b |= B_A;
    } else if (g->on_ground && !(p->prev & B_A)) {
        const int speed = g->vx < 0 ? -g->vx : g->vx;
        const int64_t col = (g->px >> 4) / SCR_TILE;
        const int hz = hazard_ahead(g, (int)(p->look * (1.f + speed / 24.f)));
        if (hz) {
            if (p->decided_col != col) {   // one decision per column: jump, or miss it
                p->decided_col = (int)col;
                if (rng_uniform(&p->rng) >= p->miss) {
                    p->hold = hz == 2 && rng_uniform(&p->rng) >= p->sloppy
                                  ? p->hold_hi
                                  : p->hold_lo + (int)rng_below(&p->rng, (uint32_t)(p->hold_hi - p->hold_lo + 1));
                    b |= B_A;
                }
            }
        }
    }
    if (rng_uniform(&p->rng) < p->noise) {
        static const uint8_t FLIP[4] = {B_A, B_B, B_LEFT, B_RIGHT};
        b ^= FLIP[rng_below(&p->rng, 4)];
    }
    return b;
}

static uint8_t bot_act(ScrollerBot *p, const Scroller *g) {
    uint8_t b = 0;
    if (g->mode == SCR_TITLE || (g->mode == SCR_GAMEOVER && g->timer >= 60)) {
        if (p->menu_wait > 0) p->menu_wait--;
        else if (!(p->prev & B_START)) b = B_START, p->menu_wait = (int)rng_below(&p->rng, 20);
    } else if (g->mode == SCR_PLAY) b = play_act(p, g);
    else p->decided_col = -1, p->hold = 0;   // a lost life: decide afresh after the respawn
    p->prev = b;
    return b;
}

static void advance(ScrollerState *s, int K, uint8_t *buttons) {
    const uint8_t b = bot_act(&s->p, &s->g);
    for (int k = 0; k < K; k++) scroller_step(&s->g, b);
    if (buttons) game_buttons_from_bits(b, NES_BUTTONS, buttons);
}

static void replay_start(ScrollerState *s, const int64_t *attrs, int K) {
    scroller_init(&s->g, (uint64_t)attrs[0]);
    bot_init(&s->p, (uint64_t)attrs[1]);
    for (int64_t t = 0; t < attrs[2]; t++) advance(s, K, NULL);
}

static void s_start(void *st, Rng *master, int K, int64_t *attrs) {
    attrs[0] = (int64_t)rng_u64(master), attrs[1] = (int64_t)rng_u64(master);
    const uint64_t w = rng_u64(master);
    attrs[2] = game_warmup_steps(w);
    replay_start(st, attrs, K);
}

static void s_replay(void *st, const int64_t *attrs, int K) { replay_start(st, attrs, K); }

static float s_bot_step(void *st, int K, uint8_t *buttons) {
    ScrollerState *s = st;
    const int64_t score = s->g.score;
    const int playing = s->g.mode == SCR_PLAY;
    advance(s, K, buttons);
    return playing && s->g.mode != SCR_TITLE ? (float)(s->g.score - score) : 0.f;
}

static void s_step(void *st, const uint8_t *buttons, int K) {
    const uint8_t b = game_buttons_bits(buttons, NES_BUTTONS);
    for (int k = 0; k < K; k++) scroller_step(&((ScrollerState *)st)->g, b);
}

static void s_render(const void *st, uint8_t *rgb) { scroller_render(&((const ScrollerState *)st)->g, rgb, 0); }
static void s_render_hidden(const void *st, uint8_t *rgb) { scroller_render(&((const ScrollerState *)st)->g, rgb, 1); }

static void s_frame_info(const void *st, GameFrameInfo *fi) {
    const Scroller *g = &((const ScrollerState *)st)->g;
    *fi = (GameFrameInfo){.playing = g->mode == SCR_PLAY && !g->paused, .game_over = g->mode == SCR_GAMEOVER,
                          .score = g->mode == SCR_TITLE ? -1 : g->score, .lines = -1, .level = -1};
    if (g->mode == SCR_PLAY && !g->paused)
        fi->has_piece = scroller_runner_box(g, &fi->piece_x0, &fi->piece_y0, &fi->piece_x1, &fi->piece_y1);
}

static void s_title(void *st, uint64_t seed) {
    ScrollerState *s = st;
    Rng r;
    rng_seed(&r, seed);
    scroller_init(&s->g, rng_u64(&r));
    bot_init(&s->p, rng_u64(&r));
}

static int s_edge_case(void *st, int which, char *name, size_t cap) {
    ScrollerState *s = st;
    bot_init(&s->p, 1);
    return scroller_edge_case(&s->g, which, name, cap);
}

const Scroller *game_scroller_state(const void *state) { return state ? &((const ScrollerState *)state)->g : NULL; }

// ---------------------------------------------------------------- ./eval's object measures

static int s_object_mask(const void *st, int H, int W, uint8_t *mask) {
    const Scroller *g = &((const ScrollerState *)st)->g;
    int x0, y0, x1, y1;
    if (g->mode != SCR_PLAY || g->paused || !scroller_runner_box(g, &x0, &y0, &x1, &y1)) return 0;
    return game_box_mask(&game_scroller, x0, y0, x1, y1, H, W, mask);
}

// Nothing but the runner moves in its rows: no beetle on screen, no spinning coin in its rows.
static int quiet_rows(const Scroller *g) {
    for (int i = 0; i < SCR_MAX_ENEMIES; i++)
        if (g->en[i].state && (g->en[i].x >> 4) > g->cam - 16 && (g->en[i].x >> 4) < g->cam + SCR_W) return 0;
    const int y = g->py >> 4;
    for (int64_t c = g->cam / SCR_TILE; c <= (g->cam + SCR_W) / SCR_TILE; c++)
        for (int r = (y - 2) / SCR_TILE; r <= (y + 21) / SCR_TILE; r++)
            if (scroller_tile(g, c, r) == SCR_COIN) return 0;
    return 1;
}

// The runner on the ground, in play, not blinking, its rows quiet; LEFT and RIGHT held for k
// steps each walk it at least a tile that way on the same ground, without the camera moving.
static int s_dir_start(const GameDef *gd, const void *state, int K, int k, void *scratch) {
    const Scroller *g = &((const ScrollerState *)state)->g, *o = &((const ScrollerState *)scratch)->g;
    if (g->mode != SCR_PLAY || g->paused || !g->on_ground || g->invuln || !quiet_rows(g)) return 0;
    for (int dir = 0; dir < 2; dir++) {
        memcpy(scratch, state, gd->state_size);
        for (int i = 0; i < k; i++) gd->step(scratch, gd->eval->dir_buttons[dir], K);
        const int64_t moved = ((o->px >> 4) - (g->px >> 4)) * (dir ? 1 : -1);
        if (o->mode != SCR_PLAY || o->cam != g->cam || o->py != g->py || o->invuln || moved < SCR_TILE || !quiet_rows(o))
            return 0;
    }
    return 1;
}

static void s_dir_region(const void *st, int H, int W, uint8_t *mask, double *cw, double *ch) {
    const Scroller *g = &((const ScrollerState *)st)->g;
    const int y = (g->py >> 4) - 2;
    game_box_mask(&game_scroller, 0, y, SCR_W - 1, y + 23, H, W, mask);
    *cw = (double)SCR_TILE * W / SCR_W, *ch = (double)SCR_TILE * H / SCR_H;
}

static const GameEval SCROLLER_EVAL = {
    .object = "runner", .object_mask = s_object_mask,
    .n_dirs = 2, .dir_frames = 24,
    .dir_buttons = {{0, 0, 0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 0, 0, 1}},
    .dir_start = s_dir_start, .dir_region = s_dir_region, .bright_on_black = 0,
};

static const char *const ATTRS[] = {"scroller_game_seed", "scroller_bot_seed", "scroller_warmup_steps"};
static const int64_t ATTR_MAX[3] = {0, 0, GAME_WARMUP_MAX};

const GameDef game_scroller = {
    .name = "scroller", .H = SCR_H, .W = SCR_W, .C = 3,
    .n_buttons = NES_BUTTONS, .button_names = NES_ACTION_NAMES,
    .palette = scroller_palette, .n_colors = 17,
    .episodes = 120, .steps = 400, .frame_skip = 4,
    .n_attrs = 3, .attr_names = ATTRS, .attr_max = ATTR_MAX,
    .state_size = sizeof(ScrollerState),
    .start = s_start, .replay = s_replay, .bot_step = s_bot_step, .step = s_step, .render = s_render,
    .render_hidden = s_render_hidden, .frame_info = s_frame_info,
    .title = s_title, .n_edge_cases = 13, .edge_case = s_edge_case,
    .eval = &SCROLLER_EVAL,
};
