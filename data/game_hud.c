/* game_hud.c - the built-in games' digit fields (game_hud.h). Tetris: data/tetris.c render_play. */
#include "data/game_hud.h"

#include <stdio.h>
#include <string.h>

// render_play: "LINES-%03d" at (100, 20), score "%06d" at (192, 62), level "%02d" at (200, 172),
// white (0xFCFCFC) on the black inside of their boxes. (The TOP score is not a GameFrameInfo counter.)
static const HudField TETRIS_HUD[] = {
    {"score", HUD_SCORE, 192, 62, 6, 0, 0xFCFCFCu},
    {"lines", HUD_LINES, 100 + 6 * 8, 20, 3, 1, 0xFCFCFCu},
    {"level", HUD_LEVEL, 200, 172, 2, 1, 0xFCFCFCu},
};

int game_hud_fields(const GameDef *g, const HudField **fields) {
    *fields = NULL;
    if (g && !strcmp(g->name, "tetris") && g->W == 256 && g->H == 240) {
        *fields = TETRIS_HUD;
        return (int)(sizeof TETRIS_HUD / sizeof TETRIS_HUD[0]);
    }
    return 0;
}

// Number fields that are no counter of GameFrameInfo (x, y, digits): Tetris's TOP score (render_play).
static const int TETRIS_OTHER_NUMBERS[][3] = {{192, 34, 6}};

int game_hud_mask(const GameDef *g, uint8_t *px) {
    const HudField *f;
    int n = game_hud_fields(g, &f), painted = 0;
    if (n == 0) return 0;
    memset(px, 0, (size_t)g->H * g->W);
    int boxes[8][3], nb = 0;
    for (int i = 0; i < n && nb < 8; i++) boxes[nb][0] = f[i].x, boxes[nb][1] = f[i].y, boxes[nb++][2] = f[i].digits;
    for (size_t i = 0; f == TETRIS_HUD && i < sizeof TETRIS_OTHER_NUMBERS / sizeof TETRIS_OTHER_NUMBERS[0] && nb < 8; i++)
        memcpy(boxes[nb++], TETRIS_OTHER_NUMBERS[i], sizeof boxes[0]);
    for (int b = 0; b < nb; b++, painted++)
        for (int y = boxes[b][1]; y < boxes[b][1] + 8 && y < g->H; y++)
            for (int x = boxes[b][0]; x < boxes[b][0] + 8 * boxes[b][2] && x < g->W; x++) px[(size_t)y * g->W + x] = 255;
    return painted;
}

int hud_field_text(const HudField *f, const GameFrameInfo *info, char s[16]) {
    int64_t v = f->counter == HUD_SCORE ? info->score : f->counter == HUD_LINES ? info->lines : info->level;
    if (v < 0 || f->digits < 1 || f->digits > 15) return 0;
    int64_t p = 1;
    for (int i = 0; i < f->digits; i++) p *= 10;
    if (v >= p) {
        if (!f->modulo) return 0;
        v %= p;
    }
    char t[32];
    snprintf(t, sizeof t, "%0*lld", f->digits, (long long)v);
    memcpy(s, t, (size_t)f->digits + 1);
    return 1;
}
