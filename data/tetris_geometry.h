/*
 * tetris_geometry.h - where the built-in Tetris draws its well and falling piece on a
 * preprocessed H x W frame (from its 256x240 source), for ./eval's game-aware measures.
 *
 * A preprocessed pixel (x, y) belongs to a source region when its centre
 * ((x + 0.5) * 256 / W, (y + 0.5) * 240 / H) lies inside it.
 */
#ifndef NEMU_TETRIS_GEOMETRY_H
#define NEMU_TETRIS_GEOMETRY_H

#include <stdint.h>
#include "data/tetris.h"

// 1 when a piece is falling and visible: playing, not paused, phase FALL, every cell in the well.
int tetris_piece_in_air(const Tetris *s);
// mask [H*W] = 1 on the pixels inside the falling piece's four cells; returns their count.
int tetris_piece_mask(const Tetris *s, int H, int W, uint8_t *mask);
// mask [H*W] = 1 inside the 10x20 well; returns the count.
int tetris_well_mask(int H, int W, uint8_t *mask);
// Width and height of one well cell in preprocessed pixels.
void tetris_cell_size(int H, int W, double *cw, double *ch);

#endif
