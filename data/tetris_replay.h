/*
 * tetris_replay.h - how `gen tetris` starts each episode, shared with ./eval so that the
 * evaluation can re-simulate a recorded episode with the game's own engine.
 *
 * Episode e of `gen tetris --seed S` draws from a master Rng seeded with S: a game seed, a
 * player seed and a warm-up length; the game then runs warmup_steps steps of frame_skip
 * frames with the bot's buttons before frame 0 is recorded. The recorder stores the three
 * numbers as attributes of /episode_<i> (TETRIS_ATTR_*). Given them, the root attribute
 * frame_skip and the recorded actions, tetris_replay_start() + tetris_step() reproduce every
 * frame of the episode; ./eval checks that they do (frame by frame, after the run's
 * preprocessing) before it uses the game's knowledge (evaluation/game_trace.h).
 */
#ifndef NEMU_TETRIS_REPLAY_H
#define NEMU_TETRIS_REPLAY_H

#include <stdint.h>
#include "data/tetris.h"
#include "data/tetris_player.h"
#include "base/rng.h"

#define TETRIS_ATTR_GAME_SEED "tetris_game_seed"       // int64 attribute: the uint64 seed, bit for bit
#define TETRIS_ATTR_PLAYER_SEED "tetris_player_seed"   // int64 attribute: the uint64 seed, bit for bit
#define TETRIS_ATTR_WARMUP "tetris_warmup_steps"       // int64 attribute: steps before frame 0

typedef struct {
    uint64_t game_seed, player_seed;
    int64_t warmup_steps;   // steps of frame_skip frames played by the bot before frame 0
} TetrisEpisodeSeeds;

// The bot decides, the game runs K frames with those buttons; returns the buttons.
uint8_t tetris_advance(Tetris *g, TetrisPlayer *p, int K);
// Draws episode seeds from master (as `gen tetris` does, 4 draws per episode).
TetrisEpisodeSeeds tetris_episode_seeds(Rng *master, int K);
// Initialises g and p from seeds and plays the warm-up: g is then the state of frame 0.
void tetris_replay_start(Tetris *g, TetrisPlayer *p, const TetrisEpisodeSeeds *s, int K);
// One recorded step: buttons as 8 0/1 bytes (NES order) held for K frames.
void tetris_replay_step(Tetris *g, const uint8_t *action, int K);
// The game inside a state of game_tetris (data/game.h: the bot beside it), or NULL for NULL.
const Tetris *game_tetris_state(const void *state);

#endif
