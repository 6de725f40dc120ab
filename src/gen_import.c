/* gen_import.c - ./gen import (not written yet). */
#include "nn/util.h"
#include "src/gen.h"
int gen_import_main(int argc, char **argv) { (void)argc; (void)argv; die("gen import: not implemented yet"); }
