/* h5.c - see h5.h. */
#include "base/h5.h"
#include "base/alloc.h"
#include "base/path.h"   // path_check_file

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

// HDF5 closes at exit what is still open; after a close that failed (a full disk: H5Fclose of a
// checkpoint) that handler crashes (H5F__close_cb), turning die()'s one line into a segfault.
// Every file here is closed by its owner, so the handler is not needed. Before any HDF5 call.
__attribute__((constructor)) static void h5_no_atexit(void) { H5dont_atexit(); }

// HDF5's own reason, walked from the innermost error outwards: the system's message when a
// layer reports one ("errno = 28, error message = 'No space left on device'"), else the
// innermost description.
typedef struct { char sys[160], inner[160]; int locked; } Reason;

static herr_t reason_cb(unsigned n, const H5E_error2_t *e, void *data) {
    Reason *r = data;
    const char *d = e->desc ? e->desc : "";
    const char *m = strstr(d, "error message = '");
    if (m && !r->sys[0]) {
        m += strlen("error message = '");
        snprintf(r->sys, sizeof r->sys, "%.*s", (int)strcspn(m, "'"), m);
    }
    if (n == 0 && *d) snprintf(r->inner, sizeof r->inner, "%s", d);
    if (strstr(d, "unable to lock file")) r->locked = 1;
    return 0;
}

const char *h5_reason(char *buf, size_t cap) {
    Reason r = {"", "", 0};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, reason_cb, &r);
    snprintf(buf, cap, "%s%s%s", r.locked ? "another process holds it open for writing (HDF5 file lock: " : "",
             r.sys[0] ? r.sys : r.inner[0] ? r.inner : "unknown HDF5 error", r.locked ? ")" : "");
    return buf;
}

hid_t h5_create(const char *path, Err *err) {
    h5_quiet();
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    char why[200];
    if (f < 0) err_set(err, "%s: cannot create HDF5 file: %s", path, h5_reason(why, sizeof why));
    return f;
}

hid_t h5_open(const char *path, int writable, Err *err) {
    h5_quiet();
    if (path_check_file(path, "HDF5 file", err) < 0) return -1;   // a FIFO would block HDF5's open
    hid_t f = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
    char why[200];
    if (f < 0) h5_reason(why, sizeof why);   // before H5Fis_hdf5 clears the error stack
    if (f < 0 && access(path, R_OK) != 0) err_set(err, "%s: cannot open: %s", path, strerror(errno));
    else if (f < 0 && H5Fis_hdf5(path) <= 0) err_set(err, "%s: not an HDF5 file (no HDF5 signature found)", path);
    else if (f < 0) err_set(err, "%s: cannot open as HDF5: %s", path, why);
    return f;
}

void h5_close(hid_t file) {
    if (file >= 0) H5Fclose(file);
}

int h5_exists(hid_t loc, const char *name) {
    // H5Lexists fails on a missing intermediate group, so walk the path one link at a time.
    char buf[1024];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, name, n + 1);
    for (char *p = buf + (buf[0] == '/'); ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0) return 0;
            if (c == 0) return 1;
            *p = c;
        }
    }
}

static hid_t lcpl_intermediate(void) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    return lcpl;
}

static int write_any(hid_t loc, const char *name, hid_t mem_type, hid_t file_type, const void *x,
                     int rank, const hsize_t *dims, Err *err) {
    if (h5_exists(loc, name)) H5Ldelete(loc, name, H5P_DEFAULT);
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t lcpl = lcpl_intermediate();
    hid_t ds = H5Dcreate2(loc, name, file_type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    int rc = -1;
    char why[200];
    if (ds < 0) err_set(err, "cannot create dataset '%s': %s", name, h5_reason(why, sizeof why));
    else if (H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) < 0)
        err_set(err, "cannot write dataset '%s': %s", name, h5_reason(why, sizeof why));
    else rc = 0;
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(lcpl);
    H5Sclose(space);
    return rc;
}

int h5_write_floats(hid_t loc, const char *name, const float *x, int rank, const hsize_t *dims, Err *err) {
    return write_any(loc, name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, x, rank, dims, err);
}

int h5_write_u64(hid_t loc, const char *name, const uint64_t *x, hsize_t n, Err *err) {
    return write_any(loc, name, H5T_NATIVE_UINT64, H5T_STD_U64LE, x, 1, &n, err);
}

static void shape_str(char *buf, size_t cap, int rank, const hsize_t *dims) {
    size_t k = 0;
    k += snprintf(buf + k, cap - k, "[");
    for (int i = 0; i < rank && k < cap; i++)
        k += snprintf(buf + k, cap - k, "%s%llu", i ? "," : "", (unsigned long long)dims[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

int h5_shape(hid_t loc, const char *name, hsize_t *dims, Err *err) {
    if (!h5_exists(loc, name)) return err_set(err, "dataset '%s' is missing", name);
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return err_set(err, "'%s' is not a dataset", name);
    hid_t space = H5Dget_space(ds);
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank > H5_MAX_RANK) rank = -1;
    else if (rank >= 0) H5Sget_simple_extent_dims(space, dims, NULL);
    H5Sclose(space);
    H5Dclose(ds);
    if (rank < 0) return err_set(err, "dataset '%s' has an unsupported rank", name);
    return rank;
}

static int read_checked(hid_t loc, const char *name, hid_t mem_type, H5T_class_t cls, void *x,
                        int rank, const hsize_t *dims, Err *err) {
    hsize_t got[H5_MAX_RANK];
    int r = h5_shape(loc, name, got, err);
    if (r < 0) return -1;
    int same = r == rank;
    for (int i = 0; same && i < rank; i++) same = got[i] == dims[i];
    if (!same) {
        char a[128], b[128];
        shape_str(a, sizeof a, rank, dims);
        shape_str(b, sizeof b, r, got);
        return err_set(err, "dataset '%s': expected shape %s, found %s", name, a, b);
    }
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t t = H5Dget_type(ds);
    H5T_class_t c = H5Tget_class(t);
    H5Tclose(t);
    int rc = 0;
    if (c != cls) rc = err_set(err, "dataset '%s': expected %s values", name, cls == H5T_FLOAT ? "float" : "integer");
    else if (H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) < 0)
        rc = err_set(err, "dataset '%s': read failed: %s", name, h5_reason((char[200]){0}, 200));
    H5Dclose(ds);
    return rc;
}

int h5_read_floats(hid_t loc, const char *name, float *x, int rank, const hsize_t *dims, Err *err) {
    return read_checked(loc, name, H5T_NATIVE_FLOAT, H5T_FLOAT, x, rank, dims, err);
}

int h5_read_u64(hid_t loc, const char *name, uint64_t *x, hsize_t n, Err *err) {
    return read_checked(loc, name, H5T_NATIVE_UINT64, H5T_INTEGER, x, 1, &n, err);
}

float *h5_read_floats_alloc(hid_t loc, const char *name, int *rank, hsize_t *dims, Err *err) {
    int r = h5_shape(loc, name, dims, err);
    if (r < 0) return NULL;
    size_t n = 1;
    for (int i = 0; i < r; i++) n *= dims[i];
    float *x = xmalloc(n * sizeof(float));
    if (read_checked(loc, name, H5T_NATIVE_FLOAT, H5T_FLOAT, x, r, dims, err) < 0) { free(x); return NULL; }
    *rank = r;
    return x;
}

// ---- attributes

static hid_t open_obj(hid_t loc, const char *obj) {
    return H5Oopen(loc, obj && *obj ? obj : ".", H5P_DEFAULT);
}

static int attr_write(hid_t loc, const char *obj, const char *name, hid_t ftype, hid_t mtype,
                      const void *v, Err *err) {
    hid_t o = open_obj(loc, obj);
    if (o < 0) return err_set(err, "object '%s' is missing", obj);
    if (H5Aexists(o, name) > 0) H5Adelete(o, name);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(o, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    int rc = (a >= 0 && H5Awrite(a, mtype, v) >= 0) ? 0
           : err_set(err, "cannot write attribute '%s' on '%s': %s", name, obj, h5_reason((char[200]){0}, 200));
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Oclose(o);
    return rc;
}

int h5_attr_write_i64(hid_t loc, const char *obj, const char *name, int64_t v, Err *err) {
    return attr_write(loc, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v, err);
}

int h5_attr_write_f64(hid_t loc, const char *obj, const char *name, double v, Err *err) {
    return attr_write(loc, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, err);
}

int h5_attr_write_str(hid_t loc, const char *obj, const char *name, const char *s, Err *err) {
    // Variable-length UTF-8 string: what h5py writes for a Python str, and reads back as str.
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int rc = attr_write(loc, obj, name, t, t, &s, err);
    H5Tclose(t);
    return rc;
}

int h5_attr_exists(hid_t loc, const char *obj, const char *name) {
    hid_t o = open_obj(loc, obj);
    if (o < 0) return 0;
    int e = H5Aexists(o, name) > 0;
    H5Oclose(o);
    return e;
}

static hid_t attr_open(hid_t loc, const char *obj, const char *name, hid_t *o, Err *err) {
    *o = open_obj(loc, obj);
    if (*o < 0) { err_set(err, "object '%s' is missing", obj); return -1; }
    if (H5Aexists(*o, name) <= 0) {
        H5Oclose(*o);
        err_set(err, "attribute '%s' is missing on '%s'", name, obj && *obj ? obj : "/");
        return -1;
    }
    return H5Aopen(*o, name, H5P_DEFAULT);
}

static int attr_read_num(hid_t loc, const char *obj, const char *name, hid_t mtype, void *v, Err *err) {
    hid_t o;
    hid_t a = attr_open(loc, obj, name, &o, err);
    if (a < 0) return -1;
    hid_t t = H5Aget_type(a);
    H5T_class_t c = H5Tget_class(t);
    hid_t space = H5Aget_space(a);
    hssize_t npts = H5Sget_simple_extent_npoints(space);
    int rc = 0;
    if ((c != H5T_INTEGER && c != H5T_FLOAT) || npts != 1)
        rc = err_set(err, "attribute '%s': expected one number", name);
    else if (H5Aread(a, mtype, v) < 0)
        rc = err_set(err, "attribute '%s': read failed", name);
    H5Sclose(space);
    H5Tclose(t);
    H5Aclose(a);
    H5Oclose(o);
    return rc;
}

int h5_attr_read_i64(hid_t loc, const char *obj, const char *name, int64_t *v, Err *err) {
    return attr_read_num(loc, obj, name, H5T_NATIVE_INT64, v, err);
}

int h5_attr_read_f64(hid_t loc, const char *obj, const char *name, double *v, Err *err) {
    return attr_read_num(loc, obj, name, H5T_NATIVE_DOUBLE, v, err);
}

int h5_attr_read_str(hid_t loc, const char *obj, const char *name, char *buf, size_t cap, Err *err) {
    hid_t o;
    hid_t a = attr_open(loc, obj, name, &o, err);
    if (a < 0) return -1;
    hid_t t = H5Aget_type(a);
    int rc = 0;
    if (H5Tget_class(t) != H5T_STRING) {
        rc = err_set(err, "attribute '%s': expected a string", name);
    } else if (H5Tis_variable_str(t) > 0) {
        char *s = NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(t));
        if (H5Aread(a, mt, &s) < 0 || !s) rc = err_set(err, "attribute '%s': read failed", name);
        else { snprintf(buf, cap, "%s", s); H5free_memory(s); }
        H5Tclose(mt);
    } else {
        size_t n = H5Tget_size(t);
        char *tmp = xcalloc(n + 1, 1);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, n);
        if (H5Aread(a, mt, tmp) < 0) rc = err_set(err, "attribute '%s': read failed", name);
        else snprintf(buf, cap, "%s", tmp);
        H5Tclose(mt);
        free(tmp);
    }
    H5Tclose(t);
    H5Aclose(a);
    H5Oclose(o);
    return rc;
}
