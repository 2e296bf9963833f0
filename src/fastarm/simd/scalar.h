/* The scalar backend: float64 reference loops (also the fallback that SIMD kernels use for a
 * float32/float16 block holding inf or NaN), minmax and mean_var drivers. */
#ifndef FASTARM_SCALAR_H
#define FASTARM_SCALAR_H

#include "common.h"

/* ---- float64 reference loops (also the fallback for non-finite float32/float16 blocks) ---- */
#define FA_REF_FLOAT(SFX, T, CONV)                                                              \
    static FA_NOVEC double fa_ref_dot_##SFX(const void *pa, const void *pb, size_t n) {         \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        double s = 0.0;                                                                         \
        for (size_t i = 0; i < n; i++) s += (double)CONV(a[i]) * (double)CONV(b[i]);            \
        return s;                                                                               \
    }                                                                                           \
    static FA_NOVEC double fa_ref_sqeuclidean_##SFX(const void *pa, const void *pb, size_t n) { \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        double s = 0.0;                                                                         \
        for (size_t i = 0; i < n; i++) {                                                        \
            double d = (double)CONV(a[i]) - (double)CONV(b[i]);                                 \
            s += d * d;                                                                         \
        }                                                                                       \
        return s;                                                                               \
    }                                                                                           \
    static FA_NOVEC void fa_ref_cos_##SFX(const void *pa, const void *pb, size_t n,             \
                                          double out[3]) {                                      \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        double ab = 0.0, aa = 0.0, bb = 0.0;                                                    \
        for (size_t i = 0; i < n; i++) {                                                        \
            double x = (double)CONV(a[i]), y = (double)CONV(b[i]);                              \
            ab += x * y;                                                                        \
            aa += x * x;                                                                        \
            bb += y * y;                                                                        \
        }                                                                                       \
        out[0] = ab;                                                                            \
        out[1] = aa;                                                                            \
        out[2] = bb;                                                                            \
    }

#define FA_ID(x) (x)
FA_REF_FLOAT(f64, double, FA_ID)
FA_REF_FLOAT(f32, float, FA_ID)
FA_REF_FLOAT(f16, uint16_t, fa_f16_to_f32)

#define FA_REF_INT(SFX, T)                                                                      \
    static FA_NOVEC double fa_ref_dot_##SFX(const void *pa, const void *pb, size_t n) {         \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        int64_t s = 0;                                                                          \
        for (size_t i = 0; i < n; i++) s += (int32_t)a[i] * (int32_t)b[i];                      \
        return (double)s;                                                                       \
    }                                                                                           \
    static FA_NOVEC double fa_ref_sqeuclidean_##SFX(const void *pa, const void *pb, size_t n) { \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        int64_t s = 0;                                                                          \
        for (size_t i = 0; i < n; i++) {                                                        \
            int32_t d = (int32_t)a[i] - (int32_t)b[i];                                          \
            s += d * d;                                                                         \
        }                                                                                       \
        return (double)s;                                                                       \
    }                                                                                           \
    static FA_NOVEC void fa_ref_cos_##SFX(const void *pa, const void *pb, size_t n,             \
                                          double out[3]) {                                      \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        int64_t ab = 0, aa = 0, bb = 0;                                                         \
        for (size_t i = 0; i < n; i++) {                                                        \
            int32_t x = a[i], y = b[i];                                                         \
            ab += x * y;                                                                        \
            aa += x * x;                                                                        \
            bb += y * y;                                                                        \
        }                                                                                       \
        out[0] = (double)ab;                                                                    \
        out[1] = (double)aa;                                                                    \
        out[2] = (double)bb;                                                                    \
    }

FA_REF_INT(i8, int8_t)
FA_REF_INT(u8, uint8_t)

/* minmax: any NaN makes both results NaN (np.min / np.max propagate NaN). */
#define FA_REF_MINMAX(SFX, T)                                                                   \
    static FA_NOVEC void fa_ref_minmax_##SFX(const void *pa, size_t n, double *mn, double *mx) { \
        const T *a = (const T *)pa;                                                             \
        T lo = a[0], hi = a[0];                                                                 \
        int nan = 0;                                                                            \
        for (size_t i = 0; i < n; i++) {                                                        \
            T x = a[i];                                                                         \
            nan |= (x != x);                                                                    \
            if (x < lo) lo = x;                                                                 \
            if (x > hi) hi = x;                                                                 \
        }                                                                                       \
        *mn = nan ? (double)NAN : (double)lo;                                                   \
        *mx = nan ? (double)NAN : (double)hi;                                                   \
    }
FA_REF_MINMAX(f64, double)
FA_REF_MINMAX(f32, float)
FA_REF_MINMAX(i8, int8_t)
FA_REF_MINMAX(u8, uint8_t)

/* mean_var driver: blocks of FA_MVBLOCK elements; each block gives its sum and the sum of squared
 * deviations from its own mean (two passes over a block that sits in L1), merged with Chan et
 * al.'s pairwise update.  The mean reported is total_sum / n (as NumPy), which keeps inf inputs
 * giving inf rather than inf - inf. */
#define FA_MEANVAR_DRIVER(NAME, T, BLOCKFN, ATTR)                                               \
    static ATTR void NAME(const void *pa, size_t n, double *sum_out, double *m2_out) {          \
        const T *a = (const T *)pa;                                                             \
        double total = 0.0, mean = 0.0, m2 = 0.0, count = 0.0;                                  \
        for (size_t i = 0; i < n; i += FA_MVBLOCK) {                                            \
            size_t m = FA_MIN((size_t)FA_MVBLOCK, n - i);                                       \
            double s, q;                                                                        \
            BLOCKFN(a + i, m, &s, &q);                                                          \
            double nb = (double)m, nt = count + nb, mb = s / nb;                                \
            double delta = mb - mean;                                                           \
            mean += delta * (nb / nt);                                                          \
            m2 += q + delta * delta * (count * nb / nt);                                        \
            count = nt;                                                                         \
            total += s;                                                                         \
        }                                                                                       \
        *sum_out = total;                                                                       \
        *m2_out = m2;                                                                           \
    }

#define FA_REF_MVBLOCK(SFX, T)                                                                  \
    static inline FA_NOVEC void fa_ref_mvblock_##SFX(const T *x, size_t m, double *s_out,       \
                                                     double *q_out) {                           \
        double s = 0.0, q = 0.0;                                                                \
        for (size_t i = 0; i < m; i++) s += (double)x[i];                                       \
        double mu = s / (double)m;                                                              \
        for (size_t i = 0; i < m; i++) {                                                        \
            double d = (double)x[i] - mu;                                                       \
            q += d * d;                                                                         \
        }                                                                                       \
        *s_out = s;                                                                             \
        *q_out = q;                                                                             \
    }
FA_REF_MVBLOCK(f64, double)
FA_REF_MVBLOCK(f32, float)
FA_MEANVAR_DRIVER(fa_ref_meanvar_f64, double, fa_ref_mvblock_f64, FA_NOVEC)
FA_MEANVAR_DRIVER(fa_ref_meanvar_f32, float, fa_ref_mvblock_f32, FA_NOVEC)

/* The scalar backend is the reference: float64 arithmetic, int64 sums, no vectorization. */
static void fa_fill_scalar(fa_table *t) {
    t->name = "scalar";
    t->dot[FA_F64] = fa_ref_dot_f64;
    t->dot[FA_F32] = fa_ref_dot_f32;
    t->dot[FA_F16] = fa_ref_dot_f16;
    t->dot[FA_I8] = fa_ref_dot_i8;
    t->dot[FA_U8] = fa_ref_dot_u8;
    t->sqeuclidean[FA_F64] = fa_ref_sqeuclidean_f64;
    t->sqeuclidean[FA_F32] = fa_ref_sqeuclidean_f32;
    t->sqeuclidean[FA_F16] = fa_ref_sqeuclidean_f16;
    t->sqeuclidean[FA_I8] = fa_ref_sqeuclidean_i8;
    t->sqeuclidean[FA_U8] = fa_ref_sqeuclidean_u8;
    t->cos[FA_F64] = fa_ref_cos_f64;
    t->cos[FA_F32] = fa_ref_cos_f32;
    t->cos[FA_F16] = fa_ref_cos_f16;
    t->cos[FA_I8] = fa_ref_cos_i8;
    t->cos[FA_U8] = fa_ref_cos_u8;
    t->minmax[FA_F64] = fa_ref_minmax_f64;
    t->minmax[FA_F32] = fa_ref_minmax_f32;
    t->minmax[FA_F16] = NULL;
    t->minmax[FA_I8] = fa_ref_minmax_i8;
    t->minmax[FA_U8] = fa_ref_minmax_u8;
    t->meanvar[FA_F64] = fa_ref_meanvar_f64;
    t->meanvar[FA_F32] = fa_ref_meanvar_f32;
}

#endif /* FASTARM_SCALAR_H */
