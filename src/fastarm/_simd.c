/* fastarm._simd: the CPython binding.  Buffer-protocol arguments, checks, one dispatch table per
 * backend (filled once at import from the CPU probe), and the GIL released around large kernels.
 * The binding never branches on the ISA: it calls through the active table. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>

#include "simd/common.h"
#include "simd/cpu.h"
#include "simd/scalar.h"

#if defined(FA_ARCH_X86)
#if !defined(FA_DISABLE_AVX2)
#define FA_HAVE_AVX2 1
#include "simd/avx2.h"
#endif
#if !defined(FA_DISABLE_AVX512)
#define FA_HAVE_AVX512 1
#include "simd/avx512.h"
#if !defined(FA_DISABLE_AVX512_SPR) && (!defined(__GNUC__) || defined(__clang__) || __GNUC__ >= 8)
#define FA_HAVE_AVX512_SPR 1
#include "simd/avx512_spr.h"
#endif
#endif
#define FA_MACHINE "x86_64"
#elif defined(FA_ARCH_ARM64)
#if !defined(FA_DISABLE_NEON)
#define FA_HAVE_NEON 1
#include "simd/neon.h"
#if !defined(FA_DISABLE_NEON_FHM_DOT)
#define FA_HAVE_NEON_FHM_DOT 1
#include "simd/neon_fhm_dot.h"
#endif
#endif
#define FA_MACHINE "aarch64"
#else
#define FA_MACHINE "other"
#endif

/* Calls on at least this many elements release the GIL. */
#define FA_GIL_THRESHOLD 4096

typedef struct {
    const char *name;
    void (*fill)(fa_table *);
    uint32_t needs; /* every bit must be present in the probed features */
} fa_backend;

static const fa_backend fa_backends[] = {
    {"scalar", fa_fill_scalar, 0},
#if defined(FA_HAVE_AVX2)
    {"avx2", fa_fill_avx2, FA_FEAT_AVX2 | FA_FEAT_FMA | FA_FEAT_F16C | FA_FEAT_OS_YMM},
#endif
#if defined(FA_HAVE_AVX512)
    {"avx512", fa_fill_avx512,
     FA_FEAT_AVX2 | FA_FEAT_FMA | FA_FEAT_F16C | FA_FEAT_OS_YMM | FA_FEAT_AVX512F |
         FA_FEAT_AVX512BW | FA_FEAT_AVX512VL | FA_FEAT_AVX512DQ | FA_FEAT_OS_ZMM},
#endif
#if defined(FA_HAVE_AVX512_SPR)
    {"avx512_spr", fa_fill_avx512_spr,
     FA_FEAT_AVX2 | FA_FEAT_FMA | FA_FEAT_F16C | FA_FEAT_OS_YMM | FA_FEAT_AVX512F |
         FA_FEAT_AVX512BW | FA_FEAT_AVX512VL | FA_FEAT_AVX512DQ | FA_FEAT_OS_ZMM |
         FA_FEAT_AVX512VNNI | FA_FEAT_AVX512FP16},
#endif
#if defined(FA_HAVE_NEON)
    {"neon", fa_fill_neon, FA_FEAT_ASIMD},
#endif
#if defined(FA_HAVE_NEON_FHM_DOT)
    {"neon_fhm_dot", fa_fill_neon_fhm_dot, FA_FEAT_ASIMD | FA_FEAT_ASIMDFHM | FA_FEAT_ASIMDDP},
#endif
};
#define FA_NBACKENDS ((int)(sizeof(fa_backends) / sizeof(fa_backends[0])))

static fa_table fa_tables[FA_NBACKENDS];
static int fa_usable[FA_NBACKENDS];
static uint32_t fa_features;
static const fa_table *fa_active; /* swapped as one pointer store: every table is complete */
static int fa_active_index;

static const char *const fa_dtype_names[FA_NDTYPES] = {"float64", "float32", "float16", "int8",
                                                       "uint8"};
static const Py_ssize_t fa_itemsize[FA_NDTYPES] = {8, 4, 2, 1, 1};

enum { FA_OP_DOT = 0, FA_OP_SQEUCLIDEAN = 1, FA_OP_COSINE = 2 };

/* ------------------------------------------------------------------------------------------ */
/* Arguments                                                                                   */

static int fa_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* Format string -> dtype index, or -1 with an exception set. */
static int fa_parse_format(const char *fmt, Py_ssize_t itemsize, const char *func,
                           const char *arg) {
    const char *f = fmt ? fmt : "B";
    if (*f == '<' || *f == '>' || *f == '!') {
        int little = (*f == '<');
        if (little != fa_is_little_endian()) {
            PyErr_Format(PyExc_ValueError,
                         "%s(): %s has non-native byte order (format '%s'); convert it first, "
                         "e.g. a.astype(a.dtype.newbyteorder('='))",
                         func, arg, fmt);
            return -1;
        }
        f++;
    } else if (*f == '=' || *f == '@') {
        f++;
    }
    int dt = -1;
    if (f[0] != '\0' && f[1] == '\0') {
        switch (f[0]) {
        case 'd': dt = FA_F64; break;
        case 'f': dt = FA_F32; break;
        case 'e': dt = FA_F16; break;
        case 'b': dt = FA_I8; break;
        case 'B': dt = FA_U8; break;
        default: break;
        }
    }
    if (dt < 0 || itemsize != fa_itemsize[dt]) {
        PyErr_Format(PyExc_TypeError,
                     "%s(): unsupported element type of %s (buffer format '%s'); supported: "
                     "float64, float32, float16, int8, uint8",
                     func, arg, fmt ? fmt : "B");
        return -1;
    }
    return dt;
}

static int fa_get_buffer(PyObject *obj, Py_buffer *view, const char *func, const char *arg) {
    if (PyObject_GetBuffer(obj, view, PyBUF_STRIDES | PyBUF_FORMAT) == 0) return 0;
    if (PyErr_ExceptionMatches(PyExc_TypeError) || PyErr_ExceptionMatches(PyExc_BufferError)) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError,
                     "%s(): %s must be an array supporting the buffer protocol (a NumPy array, "
                     "memoryview, array.array, ...), not %.200s",
                     func, arg, Py_TYPE(obj)->tp_name);
    }
    return -1;
}

typedef struct {
    Py_buffer view;
    const char *data; /* contiguous, element-aligned */
    Py_ssize_t n;
    int dtype;
    void *tmp;
} fa_vec;

static void fa_vec_release(fa_vec *v) {
    if (v->tmp) PyMem_RawFree(v->tmp);
    v->tmp = NULL;
    PyBuffer_Release(&v->view);
}

/* Copy `rows` x `cols` strided elements into a fresh contiguous buffer. */
static void *fa_gather(const char *base, Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t s0,
                       Py_ssize_t s1, Py_ssize_t itemsize) {
    if (rows < 0 || cols < 0) return NULL;
    size_t count = (size_t)rows * (size_t)cols;
    if (cols != 0 && count / (size_t)cols != (size_t)rows) return NULL;
    if (count > (size_t)PY_SSIZE_T_MAX / (size_t)itemsize) return NULL;
    char *out = (char *)PyMem_RawMalloc(count * (size_t)itemsize + 1);
    if (!out) return NULL;
    char *dst = out;
    for (Py_ssize_t i = 0; i < rows; i++) {
        const char *src = base + i * s0;
        switch (itemsize) {
        case 8:
            for (Py_ssize_t j = 0; j < cols; j++, dst += 8) memcpy(dst, src + j * s1, 8);
            break;
        case 4:
            for (Py_ssize_t j = 0; j < cols; j++, dst += 4) memcpy(dst, src + j * s1, 4);
            break;
        case 2:
            for (Py_ssize_t j = 0; j < cols; j++, dst += 2) memcpy(dst, src + j * s1, 2);
            break;
        default:
            for (Py_ssize_t j = 0; j < cols; j++, dst += 1) *dst = src[j * s1];
            break;
        }
    }
    return out;
}

static int fa_get_vec(PyObject *obj, fa_vec *v, const char *func, const char *arg) {
    v->tmp = NULL;
    if (fa_get_buffer(obj, &v->view, func, arg) < 0) return -1;
    if (v->view.ndim != 1) {
        PyErr_Format(PyExc_ValueError, "%s(): %s must be 1-D, got %d dimensions", func, arg,
                     v->view.ndim);
        goto fail;
    }
    v->dtype = fa_parse_format(v->view.format, v->view.itemsize, func, arg);
    if (v->dtype < 0) goto fail;
    v->n = v->view.shape[0];
    const Py_ssize_t isz = v->view.itemsize;
    const Py_ssize_t stride = v->view.strides ? v->view.strides[0] : isz;
    v->data = (const char *)v->view.buf;
    if (v->n > 1 && stride != isz) goto gather;
    if (((uintptr_t)v->data % (uintptr_t)isz) != 0) goto gather;
    return 0;
gather:
    v->tmp = fa_gather(v->data, 1, v->n, 0, stride, isz);
    if (!v->tmp) {
        PyErr_NoMemory();
        goto fail;
    }
    v->data = (const char *)v->tmp;
    return 0;
fail:
    PyBuffer_Release(&v->view);
    return -1;
}

static int fa_get_pair(PyObject *const *args, Py_ssize_t nargs, fa_vec *a, fa_vec *b,
                       const char *func) {
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "%s() takes exactly 2 positional arguments (%zd given)",
                     func, nargs);
        return -1;
    }
    if (fa_get_vec(args[0], a, func, "a") < 0) return -1;
    if (fa_get_vec(args[1], b, func, "b") < 0) {
        fa_vec_release(a);
        return -1;
    }
    if (a->dtype != b->dtype) {
        PyErr_Format(PyExc_TypeError, "%s(): a and b must have the same dtype, got %s and %s",
                     func, fa_dtype_names[a->dtype], fa_dtype_names[b->dtype]);
        goto fail;
    }
    if (a->n != b->n) {
        PyErr_Format(PyExc_ValueError, "%s(): a and b must have the same length, got %zd and %zd",
                     func, a->n, b->n);
        goto fail;
    }
    return 0;
fail:
    fa_vec_release(a);
    fa_vec_release(b);
    return -1;
}

/* SciPy's cosine distance: 1 - ab / sqrt(aa * bb), clipped to [0, 2]; a zero vector gives nan. */
static double fa_cosine_distance(const double c[3]) {
    double d = 1.0 - c[0] / sqrt(c[1] * c[2]);
    if (d < 0.0) d = 0.0;
    if (d > 2.0) d = 2.0;
    return d;
}

/* ------------------------------------------------------------------------------------------ */
/* dot, sqeuclidean, cosine                                                                    */

/* dot and sqeuclidean: one binding, the op picks the kernel table. */
static PyObject *fa_call_dist(PyObject *const *args, Py_ssize_t nargs, int op, const char *name) {
    fa_vec a, b;
    if (fa_get_pair(args, nargs, &a, &b, name) < 0) return NULL;
    const fa_dist_fn fn =
        op == FA_OP_SQEUCLIDEAN ? fa_active->sqeuclidean[a.dtype] : fa_active->dot[a.dtype];
    const size_t n = (size_t)a.n;
    double r;
    if (n >= FA_GIL_THRESHOLD) {
        Py_BEGIN_ALLOW_THREADS r = fn(a.data, b.data, n);
        Py_END_ALLOW_THREADS
    } else {
        r = fn(a.data, b.data, n);
    }
    fa_vec_release(&a);
    fa_vec_release(&b);
    return PyFloat_FromDouble(r);
}

static PyObject *fa_py_dot(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    return fa_call_dist(args, nargs, FA_OP_DOT, "dot");
}

static PyObject *fa_py_sqeuclidean(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    return fa_call_dist(args, nargs, FA_OP_SQEUCLIDEAN, "sqeuclidean");
}

static PyObject *fa_py_cosine(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    fa_vec a, b;
    if (fa_get_pair(args, nargs, &a, &b, "cosine") < 0) return NULL;
    const fa_cos_fn fn = fa_active->cos[a.dtype];
    const size_t n = (size_t)a.n;
    double c[3];
    if (n >= FA_GIL_THRESHOLD) {
        Py_BEGIN_ALLOW_THREADS fn(a.data, b.data, n, c);
        Py_END_ALLOW_THREADS
    } else {
        fn(a.data, b.data, n, c);
    }
    fa_vec_release(&a);
    fa_vec_release(&b);
    return PyFloat_FromDouble(fa_cosine_distance(c));
}

/* ------------------------------------------------------------------------------------------ */
/* minmax, mean_var                                                                            */

static PyObject *fa_py_minmax(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 1) {
        PyErr_Format(PyExc_TypeError, "minmax() takes exactly 1 positional argument (%zd given)",
                     nargs);
        return NULL;
    }
    fa_vec a;
    if (fa_get_vec(args[0], &a, "minmax", "a") < 0) return NULL;
    const fa_minmax_fn fn = fa_active->minmax[a.dtype];
    if (!fn) {
        PyErr_Format(PyExc_TypeError,
                     "minmax(): unsupported dtype %s; supported: float64, float32, int8, uint8",
                     fa_dtype_names[a.dtype]);
        fa_vec_release(&a);
        return NULL;
    }
    if (a.n == 0) {
        PyErr_SetString(PyExc_ValueError,
                        "minmax(): empty array has no minimum or maximum (as np.min/np.max)");
        fa_vec_release(&a);
        return NULL;
    }
    const size_t n = (size_t)a.n;
    double mn, mx;
    if (n >= FA_GIL_THRESHOLD) {
        Py_BEGIN_ALLOW_THREADS fn(a.data, n, &mn, &mx);
        Py_END_ALLOW_THREADS
    } else {
        fn(a.data, n, &mn, &mx);
    }
    const int integer = a.dtype == FA_I8 || a.dtype == FA_U8;
    fa_vec_release(&a);
    if (integer) return Py_BuildValue("(ll)", (long)mn, (long)mx);
    return Py_BuildValue("(dd)", mn, mx);
}

static PyObject *fa_py_mean_var(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kwlist[] = {"a", "ddof", NULL};
    PyObject *obj;
    Py_ssize_t ddof = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|n:mean_var", kwlist, &obj, &ddof))
        return NULL;
    fa_vec a;
    if (fa_get_vec(obj, &a, "mean_var", "a") < 0) return NULL;
    const fa_meanvar_fn fn = fa_active->meanvar[a.dtype];
    if (a.dtype != FA_F64 && a.dtype != FA_F32) {
        PyErr_Format(PyExc_TypeError,
                     "mean_var(): unsupported dtype %s; supported: float64, float32",
                     fa_dtype_names[a.dtype]);
        fa_vec_release(&a);
        return NULL;
    }
    const size_t n = (size_t)a.n;
    double sum = 0.0, m2 = 0.0;
    if (n == 0) {
        fa_vec_release(&a);
        if (PyErr_WarnEx(PyExc_RuntimeWarning, "mean_var(): empty array, returning (nan, nan)",
                         1) < 0)
            return NULL;
        return Py_BuildValue("(dd)", (double)NAN, (double)NAN);
    }
    if (n >= FA_GIL_THRESHOLD) {
        Py_BEGIN_ALLOW_THREADS fn(a.data, n, &sum, &m2);
        Py_END_ALLOW_THREADS
    } else {
        fn(a.data, n, &sum, &m2);
    }
    fa_vec_release(&a);
    double dof = (double)a.n - (double)ddof;
    if (dof <= 0.0) {
        dof = 0.0;
        if (PyErr_WarnEx(PyExc_RuntimeWarning, "mean_var(): degrees of freedom <= 0 (ddof >= n)",
                         1) < 0)
            return NULL;
    }
    return Py_BuildValue("(dd)", sum / (double)n, m2 / dof);
}

/* ------------------------------------------------------------------------------------------ */
/* cdist                                                                                       */

typedef struct {
    Py_buffer view;
    const char *data;
    Py_ssize_t rows, cols, row_stride; /* row_stride in bytes; rows themselves contiguous */
    int dtype;
    void *tmp;
} fa_mat;

static void fa_mat_release(fa_mat *m) {
    if (m->tmp) PyMem_RawFree(m->tmp);
    m->tmp = NULL;
    PyBuffer_Release(&m->view);
}

static int fa_get_mat(PyObject *obj, fa_mat *m, const char *arg) {
    m->tmp = NULL;
    if (fa_get_buffer(obj, &m->view, "cdist", arg) < 0) return -1;
    if (m->view.ndim != 2) {
        PyErr_Format(PyExc_ValueError, "cdist(): %s must be 2-D, got %d dimensions", arg,
                     m->view.ndim);
        goto fail;
    }
    m->dtype = fa_parse_format(m->view.format, m->view.itemsize, "cdist", arg);
    if (m->dtype < 0) goto fail;
    const Py_ssize_t isz = m->view.itemsize;
    m->rows = m->view.shape[0];
    m->cols = m->view.shape[1];
    Py_ssize_t s0 = m->view.strides ? m->view.strides[0] : m->cols * isz;
    Py_ssize_t s1 = m->view.strides ? m->view.strides[1] : isz;
    m->data = (const char *)m->view.buf;
    m->row_stride = s0;
    if ((m->cols <= 1 || s1 == isz) && (uintptr_t)m->data % (uintptr_t)isz == 0 && s0 % isz == 0)
        return 0;
    m->tmp = fa_gather(m->data, m->rows, m->cols, s0, s1, isz);
    if (!m->tmp) {
        PyErr_NoMemory();
        goto fail;
    }
    m->data = (const char *)m->tmp;
    m->row_stride = m->cols * isz;
    return 0;
fail:
    PyBuffer_Release(&m->view);
    return -1;
}

static PyObject *fa_numpy_empty(Py_ssize_t m, Py_ssize_t n) {
    PyObject *np = PyImport_ImportModule("numpy");
    if (!np) {
        if (PyErr_ExceptionMatches(PyExc_ImportError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ImportError,
                            "cdist() needs NumPy to allocate its result: install numpy, or pass "
                            "a float64/float32 buffer as out=");
        }
        return NULL;
    }
    PyObject *res = PyObject_CallMethod(np, "empty", "((nn)s)", m, n, "float64");
    Py_DECREF(np);
    return res;
}

static PyObject *fa_py_cdist(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kwlist[] = {"XA", "XB", "metric", "out", NULL};
    PyObject *xa, *xb, *out = Py_None;
    const char *metric = "sqeuclidean";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|s$O:cdist", kwlist, &xa, &xb, &metric,
                                     &out))
        return NULL;
    int op;
    if (strcmp(metric, "dot") == 0)
        op = FA_OP_DOT;
    else if (strcmp(metric, "sqeuclidean") == 0)
        op = FA_OP_SQEUCLIDEAN;
    else if (strcmp(metric, "cosine") == 0)
        op = FA_OP_COSINE;
    else {
        PyErr_Format(PyExc_ValueError,
                     "cdist(): unknown metric '%s'; expected 'dot', 'sqeuclidean' or 'cosine'",
                     metric);
        return NULL;
    }
    fa_mat A, B;
    if (fa_get_mat(xa, &A, "XA") < 0) return NULL;
    if (fa_get_mat(xb, &B, "XB") < 0) {
        fa_mat_release(&A);
        return NULL;
    }
    PyObject *res = NULL;
    Py_buffer ov;
    int have_ov = 0;
    if (A.dtype != B.dtype) {
        PyErr_Format(PyExc_TypeError, "cdist(): XA and XB must have the same dtype, got %s and %s",
                     fa_dtype_names[A.dtype], fa_dtype_names[B.dtype]);
        goto done;
    }
    if (A.cols != B.cols) {
        PyErr_Format(PyExc_ValueError,
                     "cdist(): XA and XB must have the same number of columns, got %zd and %zd",
                     A.cols, B.cols);
        goto done;
    }
    if (out == Py_None) {
        res = fa_numpy_empty(A.rows, B.rows);
        if (!res) goto done;
    } else {
        res = out;
        Py_INCREF(res);
    }
    if (PyObject_GetBuffer(res, &ov, PyBUF_STRIDES | PyBUF_FORMAT) < 0) {
        if (PyErr_ExceptionMatches(PyExc_TypeError) || PyErr_ExceptionMatches(PyExc_BufferError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         "cdist(): out must be a writable float64/float32 buffer, not %.200s",
                         Py_TYPE(res)->tp_name);
        }
        Py_CLEAR(res);
        goto done;
    }
    have_ov = 1;
    {
        const char *f = ov.format ? ov.format : "B";
        if (*f == '<' || *f == '=' || *f == '@') f++;
        int out_f64 = strcmp(f, "d") == 0 && ov.itemsize == 8;
        int out_f32 = strcmp(f, "f") == 0 && ov.itemsize == 4;
        if ((ov.format && ov.format[0] == '<' && !fa_is_little_endian()) ||
            (!out_f64 && !out_f32)) {
            PyErr_Format(PyExc_TypeError,
                         "cdist(): out must hold native float64 or float32, got format '%s'",
                         ov.format ? ov.format : "B");
            Py_CLEAR(res);
            goto done;
        }
        if (ov.readonly) {
            PyErr_SetString(PyExc_ValueError, "cdist(): out is read-only");
            Py_CLEAR(res);
            goto done;
        }
        if (ov.ndim != 2 || ov.shape[0] != A.rows || ov.shape[1] != B.rows) {
            if (ov.ndim == 2)
                PyErr_Format(PyExc_ValueError,
                             "cdist(): out has shape (%zd, %zd), expected (%zd, %zd)",
                             ov.shape[0], ov.shape[1], A.rows, B.rows);
            else
                PyErr_Format(PyExc_ValueError,
                             "cdist(): out must be 2-D with shape (%zd, %zd), got %d dimensions",
                             A.rows, B.rows, ov.ndim);
            Py_CLEAR(res);
            goto done;
        }
        if (!PyBuffer_IsContiguous(&ov, 'C') || (uintptr_t)ov.buf % (uintptr_t)ov.itemsize) {
            PyErr_SetString(PyExc_ValueError, "cdist(): out must be C-contiguous and aligned");
            Py_CLEAR(res);
            goto done;
        }
        const fa_table *t = fa_active;
        const fa_dist_fn dfn = op == FA_OP_SQEUCLIDEAN ? t->sqeuclidean[A.dtype] : t->dot[A.dtype];
        const Py_ssize_t m = A.rows, n = B.rows;
        const size_t d = (size_t)A.cols;
        char *dst = (char *)ov.buf;
        /* cosine: squared norms of every row once, then one dot product per pair. */
        double *norms = NULL;
        if (op == FA_OP_COSINE && m + n > 0) {
            norms = (double *)PyMem_RawMalloc((size_t)(m + n) * sizeof(double));
            if (!norms) {
                PyErr_NoMemory();
                Py_CLEAR(res);
                goto done;
            }
        }
        const double work = (double)m * (double)n * (double)(d + 1);
        PyThreadState *ts = NULL;
        if (work >= FA_GIL_THRESHOLD) ts = PyEval_SaveThread();
        if (norms) {
            for (Py_ssize_t i = 0; i < m; i++) {
                const char *x = A.data + i * A.row_stride;
                norms[i] = dfn(x, x, d);
            }
            for (Py_ssize_t j = 0; j < n; j++) {
                const char *y = B.data + j * B.row_stride;
                norms[m + j] = dfn(y, y, d);
            }
        }
        for (Py_ssize_t i = 0; i < m; i++) {
            const char *x = A.data + i * A.row_stride;
            for (Py_ssize_t j = 0; j < n; j++) {
                const char *y = B.data + j * B.row_stride;
                double r = dfn(x, y, d);
                if (norms) {
                    const double c[3] = {r, norms[i], norms[m + j]};
                    r = fa_cosine_distance(c);
                }
                if (out_f64)
                    ((double *)dst)[i * n + j] = r;
                else
                    ((float *)dst)[i * n + j] = (float)r;
            }
        }
        if (ts) PyEval_RestoreThread(ts);
        PyMem_RawFree(norms);
    }
done:
    if (have_ov) PyBuffer_Release(&ov);
    fa_mat_release(&A);
    fa_mat_release(&B);
    return res;
}

/* ------------------------------------------------------------------------------------------ */
/* Backends                                                                                    */

static PyObject *fa_usable_list(void) {
    PyObject *lst = PyList_New(0);
    if (!lst) return NULL;
    for (int k = 0; k < FA_NBACKENDS; k++) {
        if (!fa_usable[k]) continue;
        PyObject *s = PyUnicode_FromString(fa_backends[k].name);
        if (!s || PyList_Append(lst, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(lst);
            return NULL;
        }
        Py_DECREF(s);
    }
    return lst;
}

static PyObject *fa_py_simd_info(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    PyObject *features = PyList_New(0), *compiled = PyList_New(0), *usable = fa_usable_list();
    PyObject *d = NULL;
    if (!features || !compiled || !usable) goto fail;
    for (size_t k = 0; k < sizeof(fa_feature_names) / sizeof(fa_feature_names[0]); k++) {
        if (!(fa_features & fa_feature_names[k].bit)) continue;
        PyObject *s = PyUnicode_FromString(fa_feature_names[k].name);
        if (!s || PyList_Append(features, s) < 0) {
            Py_XDECREF(s);
            goto fail;
        }
        Py_DECREF(s);
    }
    for (int k = 0; k < FA_NBACKENDS; k++) {
        PyObject *s = PyUnicode_FromString(fa_backends[k].name);
        if (!s || PyList_Append(compiled, s) < 0) {
            Py_XDECREF(s);
            goto fail;
        }
        Py_DECREF(s);
    }
    d = Py_BuildValue("{s:s,s:O,s:O,s:O,s:s,s:n}", "machine", FA_MACHINE, "features", features,
                      "compiled", compiled, "usable", usable, "active", fa_active->name,
                      "gil_release_threshold", (Py_ssize_t)FA_GIL_THRESHOLD);
fail:
    Py_XDECREF(features);
    Py_XDECREF(compiled);
    Py_XDECREF(usable);
    return d;
}

static PyObject *fa_py_set_backend(PyObject *self, PyObject *arg) {
    (void)self;
    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "backend name must be a str, not %.200s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    Py_ssize_t len;
    const char *name = PyUnicode_AsUTF8AndSize(arg, &len);
    if (!name) return NULL;
    if ((size_t)len != strlen(name)) name = ""; /* embedded NUL: matches no backend */
    for (int k = 0; k < FA_NBACKENDS; k++) {
        if (strcmp(fa_backends[k].name, name) == 0 && fa_usable[k]) {
            PyObject *prev = PyUnicode_FromString(fa_active->name);
            fa_active_index = k;
            fa_active = &fa_tables[k];
            return prev;
        }
    }
    PyObject *usable = fa_usable_list();
    if (!usable) return NULL;
    int known = 0;
    for (int k = 0; k < FA_NBACKENDS; k++) known |= strcmp(fa_backends[k].name, name) == 0;
    PyErr_Format(PyExc_ValueError, "%s backend %R; usable backends here: %R",
                 known ? "this CPU cannot run the" : "unknown", arg, usable);
    Py_DECREF(usable);
    return NULL;
}

static PyMethodDef fa_methods[] = {
    {"dot", (PyCFunction)(void (*)(void))fa_py_dot, METH_FASTCALL,
     "dot(a, b, /) -> float: sum(a * b) of two 1-D arrays of the same dtype and length."},
    {"sqeuclidean", (PyCFunction)(void (*)(void))fa_py_sqeuclidean, METH_FASTCALL,
     "sqeuclidean(a, b, /) -> float: sum((a - b) ** 2)."},
    {"cosine", (PyCFunction)(void (*)(void))fa_py_cosine, METH_FASTCALL,
     "cosine(a, b, /) -> float: cosine distance 1 - a.b / (|a| |b|) as SciPy (clipped to "
     "[0, 2]; nan for a zero vector)."},
    {"minmax", (PyCFunction)(void (*)(void))fa_py_minmax, METH_FASTCALL,
     "minmax(a, /) -> (min, max) in one pass; NaN propagates; empty raises ValueError."},
    {"mean_var", (PyCFunction)(void (*)(void))fa_py_mean_var, METH_VARARGS | METH_KEYWORDS,
     "mean_var(a, ddof=0) -> (mean, variance) in one pass with float64 accumulation."},
    {"cdist", (PyCFunction)(void (*)(void))fa_py_cdist, METH_VARARGS | METH_KEYWORDS,
     "cdist(XA, XB, metric='sqeuclidean', *, out=None) -> (m, n) float64 array of pairwise "
     "distances (metric: 'dot', 'sqeuclidean', 'cosine')."},
    {"simd_info", fa_py_simd_info, METH_NOARGS,
     "simd_info() -> dict with machine, features, compiled, usable, active."},
    {"_set_backend", fa_py_set_backend, METH_O,
     "_set_backend(name) -> previous name. Raises ValueError for unknown/unusable backends."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fa_module = {
    PyModuleDef_HEAD_INIT, "fastarm._simd", "SIMD kernels with run-time dispatch.", -1,
    fa_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__simd(void) {
    fa_features = fa_probe_features();
    for (int k = 0; k < FA_NBACKENDS; k++) {
        fa_backends[k].fill(&fa_tables[k]);
        fa_usable[k] = (fa_features & fa_backends[k].needs) == fa_backends[k].needs;
        if (fa_usable[k]) fa_active_index = k; /* backends are listed from worst to best */
    }
    fa_active = &fa_tables[fa_active_index];
    return PyModule_Create(&fa_module);
}
