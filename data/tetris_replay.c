/*
 * tetris_replay.c - the episode start of `gen tetris`, shared with ./eval (see tetris_replay.h).
 */
#include "data/tetris_replay.h"
#include "base/rng.h"
#include "data/game.h"   // game_buttons_bits

uint8_t tetris_advance(Tetris *g, TetrisPlayer *p, int K) {
    uint8_t b = tetris_player_act(p, g);
    for (int k = 0; k < K; k++) tetris_step(g, b);
    return b;
}

TetrisEpisodeSeeds tetris_episode_seeds(Rng *master, int K) {
    TetrisEpisodeSeeds s;
    s.game_seed = rng_u64(master);
    s.player_seed = rng_u64(master);
    double u = rng_uniform(master);
    uint32_t warm = u < 0.15 ? rng_below(master, 40) : 100 + rng_below(master, 20000);   // frames
    s.warmup_steps = ((int64_t)warm + K - 1) / K;
    return s;
}

void tetris_replay_start(Tetris *g, TetrisPlayer *p, const TetrisEpisodeSeeds *s, int K) {
    tetris_init(g, s->game_seed);
    tetris_player_init(p, s->player_seed);
    for (int64_t i = 0; i < s->warmup_steps; i++) tetris_advance(g, p, K);
}

void tetris_replay_step(Tetris *g, const uint8_t *action, int K) {
    const uint8_t b = game_buttons_bits(action, 8);
    for (int k = 0; k < K; k++) tetris_step(g, b);
}
