/* tetris_geometry.c - the well and piece of the built-in Tetris on preprocessed frames (see tetris_geometry.h). */
#include "data/tetris_geometry.h"

#include <string.h>

#define CELL 8   // source pixels per well cell

int tetris_piece_in_air(const Tetris *s) {
    if (s->mode != TETRIS_PLAY || s->paused || s->phase != PHASE_FALL || s->piece < 0) return 0;
    const int8_t(*c)[2] = tetris_cells(s->piece, s->rot);
    for (int i = 0; i < 4; i++) {
        int x = s->px + c[i][0], y = s->py + c[i][1];
        if (x < 0 || x >= TETRIS_COLS || y < 0 || y >= TETRIS_ROWS) return 0;
    }
    return 1;
}

// Source-pixel centre of preprocessed pixel x along an axis of `out` pixels from `in`.
static double src_centre(int x, int out, int in) { return (x + 0.5) * in / out; }

// 1 where the centre of pixel (x, y) lies in the source rectangle [x0, x1) x [y0, y1).
static int rect_mask(int H, int W, double x0, double y0, double x1, double y1, uint8_t *mask) {
    int n = 0;
    for (int y = 0; y < H; y++) {
        double sy = src_centre(y, H, TETRIS_H);
        for (int x = 0; x < W; x++) {
            double sx = src_centre(x, W, TETRIS_W);
            if (sx >= x0 && sx < x1 && sy >= y0 && sy < y1) mask[(size_t)y * W + x] = 1, n++;
        }
    }
    return n;
}

int tetris_piece_mask(const Tetris *s, int H, int W, uint8_t *mask) {
    memset(mask, 0, (size_t)H * W);
    if (s->piece < 0) return 0;
    const int8_t(*c)[2] = tetris_cells(s->piece, s->rot);
    int n = 0;
    for (int i = 0; i < 4; i++) {
        int x = s->px + c[i][0], y = s->py + c[i][1];
        if (y < 0) continue;
        double x0 = TETRIS_WELL_X + CELL * x, y0 = TETRIS_WELL_Y + CELL * y;
        n += rect_mask(H, W, x0, y0, x0 + CELL, y0 + CELL, mask);
    }
    return n;
}

int tetris_well_mask(int H, int W, uint8_t *mask) {
    memset(mask, 0, (size_t)H * W);
    return rect_mask(H, W, TETRIS_WELL_X, TETRIS_WELL_Y, TETRIS_WELL_X + CELL * TETRIS_COLS,
                     TETRIS_WELL_Y + CELL * TETRIS_ROWS, mask);
}

void tetris_cell_size(int H, int W, double *cw, double *ch) {
    *cw = (double)CELL * W / TETRIS_W;
    *ch = (double)CELL * H / TETRIS_H;
}
