/*
 * game_hud.h - where a built-in game draws its counters (score, lines, level) and how: the
 * digit fields of its heads-up display, for ./eval's digit accuracy (evaluation/digits.h),
 * which reads the digits of a reconstruction or a predicted frame by template matching
 * against the game's own 8x8 font (data/font8.h) and compares them with what the game's
 * GameFrameInfo says. Kept beside the renderer so that a change of the layout shows here.
 *
 *   const HudField *f;
 *   int n = game_hud_fields(game, &f);     // 0: the game has no known digit fields
 *   char s[16];
 *   if (hud_field_text(&f[i], &info, s)) ...   // the digits the frame shows, e.g. "000340"
 */
#ifndef NEMU_GAME_HUD_H
#define NEMU_GAME_HUD_H

#include <stdint.h>
#include "data/game.h"

typedef enum { HUD_SCORE = 0, HUD_LINES = 1, HUD_LEVEL = 2 } HudCounter;

typedef struct {
    const char *name;     // "score", "lines", "level"
    HudCounter counter;   // which GameFrameInfo counter it shows
    int x, y;             // top-left pixel of the first digit's 8x8 cell (native frame)
    int digits;           // zero-padded width; digit i occupies the cell at x + 8 i
    int modulo;           // 1: the game shows the value mod 10^digits; 0: only values < 10^digits
    uint32_t ink;         // glyph colour 0xRRGGBB (on black)
} HudField;

// The digit fields of game g (its native H x W frame); 0 fields for a game without any.
int game_hud_fields(const GameDef *g, const HudField **fields);
// The digits field f shows for info (f->digits characters and a NUL into s[16]); 0 when it
// shows none (no game on screen, or a value it cannot show).
int hud_field_text(const HudField *f, const GameFrameInfo *info, char s[16]);

// The weight map of its digits (train.weight_map; ./gen tetris --hud-mask): px [g->H, g->W]
// grey, 255 on every 8x8 cell where game g draws a digit (its counters and any other number
// field, e.g. Tetris's TOP score), 0 elsewhere. Returns the fields painted (0: none known).
int game_hud_mask(const GameDef *g, uint8_t *px);

#endif
