/*
 * util.h - transitional: what nn/util.h held now lives in base/ (err.h, alloc.h, rng.h,
 * clock.h, threads.h). Kept only so that branches started before the move still build;
 * new code includes the base/ header it needs. Remove once wave 2 has landed.
 */
#ifndef NEMU_UTIL_H
#define NEMU_UTIL_H

#include "base/alloc.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/rng.h"
#include "base/threads.h"

#endif
