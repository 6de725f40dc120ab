/*
 * h5.h - transitional: the HDF5 helpers are base/h5.h now. Kept only so that branches
 * started before the move still build; remove once wave 2 has landed.
 */
#include "base/h5.h"
