/*
 * maze_draw.c - the maze game's renderer (maze.h): black corridors, filled walls outlined in
 * blue (the outline flashing white while a level is cleared), dots and blinking pellets, the eater with its
 * mouth cycle, the ghosts with their skirts (blue and flashing when frightened), the score
 * line, title, pause and GAME OVER, all in the colours of maze_palette.
 */
#include "data/maze.h"
#include "data/font8.h"

#include <stdio.h>
#include <string.h>

enum { C_BLACK, C_WALL, C_DOT, C_YELLOW, C_RED, C_PINK, C_CYAN, C_ORANGE, C_FRIGHT, C_WHITE, C_PUPIL, C_WALL_IN, N_COLORS };

const uint32_t maze_palette[N_COLORS] = {
    [C_BLACK] = 0x000000, [C_WALL] = 0x2038EC, [C_DOT] = 0xFCB8A0, [C_YELLOW] = 0xF8D800, [C_RED] = 0xF83800,
    [C_PINK] = 0xFCB8F8, [C_CYAN] = 0x3CBCFC, [C_ORANGE] = 0xFCA044, [C_FRIGHT] = 0x0000BC, [C_WHITE] = 0xFCFCFC,
    [C_PUPIL] = 0x0058F8, [C_WALL_IN] = 0x4C4CA8,
};
const int maze_n_colors = N_COLORS;

static const int GHOST_COLOUR[MZ_GHOSTS] = {C_RED, C_PINK, C_CYAN, C_ORANGE};

static void put(uint8_t *rgb, int x, int y, int c) {
    if (x < 0 || x >= MZ_W || y < 0 || y >= MZ_H) return;
    uint8_t *p = rgb + ((size_t)y * MZ_W + x) * 3;
    const uint32_t v = maze_palette[c];
    p[0] = (uint8_t)(v >> 16), p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)v;
}

static void rect(uint8_t *rgb, int x, int y, int w, int h, int c) {
    for (int j = y; j < y + h; j++)
        for (int i = x; i < x + w; i++) put(rgb, i, j, c);
}

static void text(uint8_t *rgb, int x, int y, const char *t, int c, int scale) {
    for (int i = 0; t[i]; i++) {
        const uint8_t *g = font8_glyph(t[i]);
        if (!g) continue;
        for (int r = 0; r < 7; r++)
            for (int k = 0; k < 7; k++)
                if (g[r] & (0x40 >> k)) rect(rgb, x + (i * 8 + k) * scale, y + r * scale, scale, scale, c);
    }
}

// A wall tile: filled (as Ms. Pac-Man's), a 3-pixel border on every side (and inner corner)
// facing a corridor. The corridors stay black.
static void wall(uint8_t *rgb, int c, int r, int colour) {
    for (int y = 0; y < MZ_TILE; y++)
        for (int x = 0; x < MZ_TILE; x++) {
            const int l = x < 3, rt = x >= MZ_TILE - 3, t = y < 3, b = y >= MZ_TILE - 3;
            const int edge = (l && c > 0 && !maze_wall(c - 1, r)) || (rt && c < MZ_COLS - 1 && !maze_wall(c + 1, r)) ||
                             (t && r > 0 && !maze_wall(c, r - 1)) || (b && r < MZ_ROWS - 1 && !maze_wall(c, r + 1)) ||
                             (l && t && !maze_wall(c - 1, r - 1) && c > 0 && r > 0) ||
                             (rt && t && !maze_wall(c + 1, r - 1) && c < MZ_COLS - 1 && r > 0) ||
                             (l && b && !maze_wall(c - 1, r + 1) && c > 0 && r < MZ_ROWS - 1) ||
                             (rt && b && !maze_wall(c + 1, r + 1) && c < MZ_COLS - 1 && r < MZ_ROWS - 1);
            put(rgb, c * MZ_TILE + x, MZ_TOP + r * MZ_TILE + y, edge ? colour : C_WALL_IN);
        }
}

static void disc(uint8_t *rgb, int cx2, int cy2, int r2, int c) {   // centre and radius in half pixels
    for (int y = (cy2 - r2) / 2 - 1; y <= (cy2 + r2) / 2 + 1; y++)
        for (int x = (cx2 - r2) / 2 - 1; x <= (cx2 + r2) / 2 + 1; x++) {
            const int dx = 2 * x + 1 - cx2, dy = 2 * y + 1 - cy2;
            if (dx * dx + dy * dy <= r2 * r2) put(rgb, x, y, c);
        }
}

// The eater at screen (sx, sy): a disc of radius 7 with a mouth toward dir; open (0..3) sets the
// mouth's width; shrink (0..90) makes it smaller while dying.
static void eater_sprite(uint8_t *rgb, int sx, int sy, int dir, int open, int shrink) {
    static const int SLOPE[4] = {0, 4, 10, 4};   // mouth half-width per 10 pixels forward
    const int r2 = 15 - shrink / 7, slope = shrink ? 10 + shrink / 4 : SLOPE[open & 3];
    for (int y = 0; y < MZ_TILE; y++)
        for (int x = 0; x < MZ_TILE; x++) {
            const int dx = 2 * x - 15, dy = 2 * y - 15;
            if (dx * dx + dy * dy > r2 * r2) continue;
            const int f = dir == MZ_LEFT ? -dx : dir == MZ_RIGHT ? dx : dir == MZ_UP ? -dy : dy;
            const int s = dir == MZ_LEFT || dir == MZ_RIGHT ? dy : dx;
            if (f > 0 && 10 * (s < 0 ? -s : s) < slope * f) continue;
            put(rgb, sx + x, sy + y, C_YELLOW);
        }
}

static void ghost_sprite(uint8_t *rgb, int sx, int sy, int body, int dir, int frightened, int64_t clock) {
    const int phase = (int)(clock / 8) & 1;
    for (int y = 0; y < MZ_TILE; y++)
        for (int x = 1; x < MZ_TILE - 1; x++) {
            const int dx = 2 * x - 15, dy = 2 * y - 14;
            if (y < 7 && dx * dx + dy * dy > 14 * 14) continue;
            if (y >= 14 && ((x + 2 * phase) / 2) % 2) continue;   // the skirt's hem
            put(rgb, sx + x, sy + y, body);
        }
    if (frightened) {
        rect(rgb, sx + 4, sy + 6, 2, 2, C_DOT), rect(rgb, sx + 10, sy + 6, 2, 2, C_DOT);
        for (int x = 3; x < 13; x++) put(rgb, sx + x, sy + 11 + (x % 2), C_DOT);
        return;
    }
    int dx, dy;
    maze_dir_step(dir, &dx, &dy);
    for (int e = 0; e < 2; e++) {
        const int ex = sx + (e ? 9 : 3), ey = sy + 4;
        rect(rgb, ex, ey, 4, 5, C_WHITE);
        rect(rgb, ex + 1 + dx, ey + 2 + dy, 2, 2, C_PUPIL);
    }
}

static void hud(uint8_t *rgb, const Maze *m) {
    char buf[32];
    text(rgb, 8, 4, "SCORE", C_WHITE, 1);
    snprintf(buf, sizeof buf, "%06lld", (long long)m->score);
    text(rgb, 8, 16, buf, C_WHITE, 1);
    snprintf(buf, sizeof buf, "LEVEL %d", m->level);
    text(rgb, 96, 10, buf, C_WHITE, 1);
    for (int i = 0; i < m->lives - 1 && i < 5; i++)   // the lives in reserve
        eater_sprite(rgb, 176 + i * 16, 8, MZ_LEFT, 2, 0);
}

static void title(uint8_t *rgb, const Maze *m) {
    text(rgb, 128 - 4 * 8 * 3, 56, "DOT MAZE", C_YELLOW, 3);
    const int x0 = 128 - 5 * 20 / 2;
    eater_sprite(rgb, x0, 120, MZ_RIGHT, (int)(m->clock / 4), 0);
    for (int g = 0; g < MZ_GHOSTS; g++) ghost_sprite(rgb, x0 + 20 * (g + 1), 120, GHOST_COLOUR[g], MZ_LEFT, 0, m->clock);
    if ((m->clock / 32) % 2 == 0) text(rgb, 128 - 5 * 8 * 2, 172, "PUSH START", C_WHITE, 2);
}

void maze_render(const Maze *m, uint8_t *rgb, int hide_eater) {
    memset(rgb, 0, (size_t)MZ_W * MZ_H * 3);   // C_BLACK
    if (m->mode == MZ_TITLE) { title(rgb, m); return; }
    const int wc = m->mode == MZ_CLEAR && (m->timer / 15) % 2 ? C_WHITE : C_WALL;
    for (int r = 0; r < MZ_ROWS; r++)
        for (int c = 0; c < MZ_COLS; c++) {
            const int x = c * MZ_TILE, y = MZ_TOP + r * MZ_TILE;
            if (maze_wall(c, r)) wall(rgb, c, r, wc);
            else if (m->dots[r][c] == 1) rect(rgb, x + 6, y + 6, 4, 4, C_DOT);
            else if (m->dots[r][c] == 2 && (m->clock / 16) % 2 == 0) disc(rgb, 2 * x + 16, 2 * y + 16, 10, C_DOT);
        }
    if (m->mode == MZ_PLAY)
        for (int g = 0; g < MZ_GHOSTS; g++) {
            const MzGhost *h = &m->gh[g];
            const int bob = h->wait > 0 ? ((int)(m->clock / 8 + g) % 2 ? -2 : 2) : 0;
            int body = GHOST_COLOUR[g];
            if (h->fright) body = m->fright_timer < 120 && (m->fright_timer / 8) % 2 ? C_WHITE : C_FRIGHT;
            ghost_sprite(rgb, h->x, MZ_TOP + h->y + bob, body, h->dir, h->fright, m->clock);
        }
    int x0, y0, x1, y1;
    if (!hide_eater && maze_eater_box(m, &x0, &y0, &x1, &y1))
        eater_sprite(rgb, x0, y0, m->pdir, m->mode == MZ_DYING ? 0 : m->mouth / 3, m->mode == MZ_DYING ? m->timer : 0);
    hud(rgb, m);
    if (m->mode == MZ_GAMEOVER) text(rgb, 128 - 9 * 8, MZ_TOP + 6 * MZ_TILE, "GAME OVER", C_RED, 2);
    if (m->mode == MZ_PLAY && m->paused) text(rgb, 128 - 5 * 8, MZ_TOP + 6 * MZ_TILE, "PAUSE", C_WHITE, 2);
}
