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
