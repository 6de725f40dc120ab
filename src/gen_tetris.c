/* gen_tetris.c - ./gen tetris (not written yet). */
#include "nn/util.h"
#include "src/gen.h"
int gen_tetris_main(int argc, char **argv) { (void)argc; (void)argv; die("gen tetris: not implemented yet"); }
