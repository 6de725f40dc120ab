/*
 * h5.h - thin checked wrappers over the HDF5 C API, shared by checkpoints, datasets and
 * test fixtures. Every function reports failures as one line in Err (file, object, what
 * was expected and found) and returns -1 (or a negative hid_t / NULL); nothing exits.
 * HDF5's own error-stack printing is switched off by h5_quiet() (called by h5_open/create).
 * Names may contain '/' (intermediate groups are created on write) and '.'.
 */
#ifndef NEMU_H5_H
#define NEMU_H5_H

#include <hdf5.h>
#include <stdint.h>
#include "base/err.h"

#define H5_MAX_RANK 8

void h5_quiet(void);
// HDF5's own reason for the last failure (the system's message, e.g. "No space left on device",
// when a layer reports one): call right after the failing call; returns buf.
const char *h5_reason(char *buf, size_t cap);
hid_t h5_create(const char *path, Err *err);       // truncates; caller renames for atomicity
hid_t h5_open(const char *path, int writable, Err *err);
void h5_close(hid_t file);
int h5_exists(hid_t loc, const char *name);         // 1 if a link of that path exists

// Shape of a dataset; returns rank or -1. dims has room for H5_MAX_RANK.
int h5_shape(hid_t loc, const char *name, hsize_t *dims, Err *err);
// float32 datasets. read checks the rank and every dim against the expected shape.
int h5_write_floats(hid_t loc, const char *name, const float *x, int rank, const hsize_t *dims, Err *err);
int h5_read_floats(hid_t loc, const char *name, float *x, int rank, const hsize_t *dims, Err *err);
// Reads any float dataset into a new buffer (free()); shape out.
float *h5_read_floats_alloc(hid_t loc, const char *name, int *rank, hsize_t *dims, Err *err);
// uint64 datasets (RNG state and the like).
int h5_write_u64(hid_t loc, const char *name, const uint64_t *x, hsize_t n, Err *err);
int h5_read_u64(hid_t loc, const char *name, uint64_t *x, hsize_t n, Err *err);

// Scalar attributes on an object (path "/" or "." for the root of loc).
int h5_attr_write_i64(hid_t loc, const char *obj, const char *name, int64_t v, Err *err);
int h5_attr_write_f64(hid_t loc, const char *obj, const char *name, double v, Err *err);
int h5_attr_write_str(hid_t loc, const char *obj, const char *name, const char *s, Err *err);
int h5_attr_read_i64(hid_t loc, const char *obj, const char *name, int64_t *v, Err *err);
int h5_attr_read_f64(hid_t loc, const char *obj, const char *name, double *v, Err *err);
int h5_attr_read_str(hid_t loc, const char *obj, const char *name, char *buf, size_t cap, Err *err);
int h5_attr_exists(hid_t loc, const char *obj, const char *name);

#endif
