/* aarch64 baseline Advanced SIMD backend (every ARMv8-A CPU).  float16 is widened with FCVTL,
 * int8/uint8 use widening multiplies (SMULL/UMULL) with pairwise accumulation into 32-bit lanes
 * and |a - b| via ABD for sqeuclidean. */
#ifndef FASTARM_NEON_H
#define FASTARM_NEON_H

#include <arm_neon.h>

#include "scalar.h"

static inline float32x4_t ne_ld_f32_lo(const float *p) { return vld1q_f32(p); }
static inline float32x4_t ne_ld_f32_hi(const float *p) { return vld1q_f32(p + 4); }
static inline float32x4_t ne_ld_f16_lo(const uint16_t *p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}
static inline float32x4_t ne_ld_f16_hi(const uint16_t *p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p + 4)));
}
static inline double ne_hsum_f32(float32x4_t v) {
    float64x2_t w = vaddq_f64(vcvt_f64_f32(vget_low_f32(v)), vcvt_high_f64_f32(v));
    return vaddvq_f64(w);
}
static inline int ne_finite(float32x4_t v) {
    float32x4_t z = vsubq_f32(v, v);
    return vminvq_u32(vceqq_f32(z, z)) != 0;
}

/* float32/float16: 8 elements per step (two float32x4 halves), float32 lanes inside a block,
 * flushed to double; non-finite blocks recomputed in float64 (see avx2.h).  Tails are copied
 * into a zero-padded buffer. */
#define NE_FLOAT_KERNELS(PFX, SFX, T, LO, HI)                                                    \
    static double PFX##_dot_##SFX(const void *pa, const void *pb, size_t n) {                   \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        double total = 0.0;                                                                     \
        for (size_t i0 = 0; i0 < n; i0 += FA_FBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)FA_FBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;                         \
            size_t i = 0;                                                                       \
            for (; i + 16 <= m; i += 16) {                                                      \
                s0 = vfmaq_f32(s0, LO(x + i), LO(y + i));                                       \
                s1 = vfmaq_f32(s1, HI(x + i), HI(y + i));                                       \
                s2 = vfmaq_f32(s2, LO(x + i + 8), LO(y + i + 8));                               \
                s3 = vfmaq_f32(s3, HI(x + i + 8), HI(y + i + 8));                               \
            }                                                                                   \
            for (; i < m; i += 8) {                                                             \
                T bx[8] = {0}, by[8] = {0};                                                     \
                const T *px = x + i, *py = y + i;                                               \
                if (i + 8 > m) {                                                                \
                    memcpy(bx, px, (m - i) * sizeof(T));                                        \
                    memcpy(by, py, (m - i) * sizeof(T));                                        \
                    px = bx;                                                                    \
                    py = by;                                                                    \
                }                                                                               \
                s0 = vfmaq_f32(s0, LO(px), LO(py));                                             \
                s1 = vfmaq_f32(s1, HI(px), HI(py));                                             \
            }                                                                                   \
            float32x4_t s = vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3));                    \
            total += ne_finite(s) ? ne_hsum_f32(s) : fa_ref_dot_##SFX(x, y, m);                 \
        }                                                                                       \
        return total;                                                                           \
    }                                                                                           \
    static double PFX##_sqeuclidean_##SFX(const void *pa, const void *pb, size_t n) {           \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        double total = 0.0;                                                                     \
        for (size_t i0 = 0; i0 < n; i0 += FA_FBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)FA_FBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0, d0, d1, d2, d3;         \
            size_t i = 0;                                                                       \
            for (; i + 16 <= m; i += 16) {                                                      \
                d0 = vsubq_f32(LO(x + i), LO(y + i));                                           \
                d1 = vsubq_f32(HI(x + i), HI(y + i));                                           \
                d2 = vsubq_f32(LO(x + i + 8), LO(y + i + 8));                                   \
                d3 = vsubq_f32(HI(x + i + 8), HI(y + i + 8));                                   \
                s0 = vfmaq_f32(s0, d0, d0);                                                     \
                s1 = vfmaq_f32(s1, d1, d1);                                                     \
                s2 = vfmaq_f32(s2, d2, d2);                                                     \
                s3 = vfmaq_f32(s3, d3, d3);                                                     \
            }                                                                                   \
            for (; i < m; i += 8) {                                                             \
                T bx[8] = {0}, by[8] = {0};                                                     \
                const T *px = x + i, *py = y + i;                                               \
                if (i + 8 > m) {                                                                \
                    memcpy(bx, px, (m - i) * sizeof(T));                                        \
                    memcpy(by, py, (m - i) * sizeof(T));                                        \
                    px = bx;                                                                    \
                    py = by;                                                                    \
                }                                                                               \
                d0 = vsubq_f32(LO(px), LO(py));                                                 \
                d1 = vsubq_f32(HI(px), HI(py));                                                 \
                s0 = vfmaq_f32(s0, d0, d0);                                                     \
                s1 = vfmaq_f32(s1, d1, d1);                                                     \
            }                                                                                   \
            float32x4_t s = vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3));                    \
            total += ne_finite(s) ? ne_hsum_f32(s) : fa_ref_sqeuclidean_##SFX(x, y, m);         \
        }                                                                                       \
        return total;                                                                           \
    }                                                                                           \
    static void PFX##_cos_##SFX(const void *pa, const void *pb, size_t n, double out[3]) {      \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        double tab = 0.0, taa = 0.0, tbb = 0.0;                                                 \
        for (size_t i0 = 0; i0 < n; i0 += FA_FBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)FA_FBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            float32x4_t ab0 = vdupq_n_f32(0), aa0 = ab0, bb0 = ab0, ab1 = ab0, aa1 = ab0,       \
                        bb1 = ab0, u, v;                                                        \
            for (size_t i = 0; i < m; i += 8) {                                                 \
                T bx[8] = {0}, by[8] = {0};                                                     \
                const T *px = x + i, *py = y + i;                                               \
                if (i + 8 > m) {                                                                \
                    memcpy(bx, px, (m - i) * sizeof(T));                                        \
                    memcpy(by, py, (m - i) * sizeof(T));                                        \
                    px = bx;                                                                    \
                    py = by;                                                                    \
                }                                                                               \
                u = LO(px);                                                                     \
                v = LO(py);                                                                     \
                ab0 = vfmaq_f32(ab0, u, v);                                                     \
                aa0 = vfmaq_f32(aa0, u, u);                                                     \
                bb0 = vfmaq_f32(bb0, v, v);                                                     \
                u = HI(px);                                                                     \
                v = HI(py);                                                                     \
                ab1 = vfmaq_f32(ab1, u, v);                                                     \
                aa1 = vfmaq_f32(aa1, u, u);                                                     \
                bb1 = vfmaq_f32(bb1, v, v);                                                     \
            }                                                                                   \
            ab0 = vaddq_f32(ab0, ab1);                                                          \
            aa0 = vaddq_f32(aa0, aa1);                                                          \
            bb0 = vaddq_f32(bb0, bb1);                                                          \
            if (ne_finite(vaddq_f32(vaddq_f32(ab0, aa0), bb0))) {                               \
                tab += ne_hsum_f32(ab0);                                                        \
                taa += ne_hsum_f32(aa0);                                                        \
                tbb += ne_hsum_f32(bb0);                                                        \
            } else {                                                                            \
                double r[3];                                                                    \
                fa_ref_cos_##SFX(x, y, m, r);                                                   \
                tab += r[0];                                                                    \
                taa += r[1];                                                                    \
                tbb += r[2];                                                                    \
            }                                                                                   \
        }                                                                                       \
        out[0] = tab;                                                                           \
        out[1] = taa;                                                                           \
        out[2] = tbb;                                                                           \
    }

NE_FLOAT_KERNELS(ne, f32, float, ne_ld_f32_lo, ne_ld_f32_hi)
NE_FLOAT_KERNELS(ne, f16, uint16_t, ne_ld_f16_lo, ne_ld_f16_hi)

static double ne_dot_f64(const void *pa, const void *pb, size_t n) {
    const double *a = (const double *)pa, *b = (const double *)pb;
    float64x2_t s0 = vdupq_n_f64(0), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = vfmaq_f64(s0, vld1q_f64(a + i), vld1q_f64(b + i));
        s1 = vfmaq_f64(s1, vld1q_f64(a + i + 2), vld1q_f64(b + i + 2));
        s2 = vfmaq_f64(s2, vld1q_f64(a + i + 4), vld1q_f64(b + i + 4));
        s3 = vfmaq_f64(s3, vld1q_f64(a + i + 6), vld1q_f64(b + i + 6));
    }
    double s = vaddvq_f64(vaddq_f64(vaddq_f64(s0, s1), vaddq_f64(s2, s3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}
static double ne_sqeuclidean_f64(const void *pa, const void *pb, size_t n) {
    const double *a = (const double *)pa, *b = (const double *)pb;
    float64x2_t s0 = vdupq_n_f64(0), s1 = s0, s2 = s0, s3 = s0, d0, d1, d2, d3;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        d0 = vsubq_f64(vld1q_f64(a + i), vld1q_f64(b + i));
        d1 = vsubq_f64(vld1q_f64(a + i + 2), vld1q_f64(b + i + 2));
        d2 = vsubq_f64(vld1q_f64(a + i + 4), vld1q_f64(b + i + 4));
        d3 = vsubq_f64(vld1q_f64(a + i + 6), vld1q_f64(b + i + 6));
        s0 = vfmaq_f64(s0, d0, d0);
        s1 = vfmaq_f64(s1, d1, d1);
        s2 = vfmaq_f64(s2, d2, d2);
        s3 = vfmaq_f64(s3, d3, d3);
    }
    double s = vaddvq_f64(vaddq_f64(vaddq_f64(s0, s1), vaddq_f64(s2, s3)));
    for (; i < n; i++) {
        double d = a[i] - b[i];
        s += d * d;
    }
    return s;
}
static void ne_cos_f64(const void *pa, const void *pb, size_t n, double out[3]) {
    const double *a = (const double *)pa, *b = (const double *)pb;
    float64x2_t ab = vdupq_n_f64(0), aa = ab, bb = ab, ab1 = ab, aa1 = ab, bb1 = ab, u, v;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        u = vld1q_f64(a + i);
        v = vld1q_f64(b + i);
        ab = vfmaq_f64(ab, u, v);
        aa = vfmaq_f64(aa, u, u);
        bb = vfmaq_f64(bb, v, v);
        u = vld1q_f64(a + i + 2);
        v = vld1q_f64(b + i + 2);
        ab1 = vfmaq_f64(ab1, u, v);
        aa1 = vfmaq_f64(aa1, u, u);
        bb1 = vfmaq_f64(bb1, v, v);
    }
    double sab = vaddvq_f64(vaddq_f64(ab, ab1)), saa = vaddvq_f64(vaddq_f64(aa, aa1)),
           sbb = vaddvq_f64(vaddq_f64(bb, bb1));
    for (; i < n; i++) {
        sab += a[i] * b[i];
        saa += a[i] * a[i];
        sbb += b[i] * b[i];
    }
    out[0] = sab;
    out[1] = saa;
    out[2] = sbb;
}

/* int8/uint8 (16 bytes per step; tails through a zero-padded copy).  Products fit 16 bits:
 * i8*i8 in [-16256, 16384], u8*u8 and |a-b|^2 <= 65025 unsigned; SADALP/UADALP pairs them into
 * 32-bit lanes, flushed into 64 bits every FA_IBLOCK elements. */
static inline int32x4_t ne_i8_dot16(int32x4_t acc, int8x16_t u, int8x16_t v) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(u), vget_low_s8(v)));
    return vpadalq_s16(acc, vmull_high_s8(u, v));
}
static inline uint32x4_t ne_u8_dot16(uint32x4_t acc, uint8x16_t u, uint8x16_t v) {
    acc = vpadalq_u16(acc, vmull_u8(vget_low_u8(u), vget_low_u8(v)));
    return vpadalq_u16(acc, vmull_high_u8(u, v));
}
static inline uint8x16_t ne_absdiff_i8(const int8_t *x, const int8_t *y) {
    return vreinterpretq_u8_s8(vabdq_s8(vld1q_s8(x), vld1q_s8(y)));
}
static inline uint8x16_t ne_absdiff_u8(const uint8_t *x, const uint8_t *y) {
    return vabdq_u8(vld1q_u8(x), vld1q_u8(y));
}

#define NE_INT_LOOP(T, BODY)                                                                     \
    for (size_t i = 0; i < m; i += 16) {                                                        \
        T bx[16] = {0}, by[16] = {0};                                                           \
        const T *px = x + i, *py = y + i;                                                       \
        if (i + 16 > m) {                                                                       \
            memcpy(bx, px, m - i);                                                              \
            memcpy(by, py, m - i);                                                              \
            px = bx;                                                                            \
            py = by;                                                                            \
        }                                                                                       \
        BODY                                                                                    \
    }

#define NE_BLOCKS(T, INIT, LOOP, FLUSH)                                                          \
    for (size_t i0 = 0; i0 < n; i0 += FA_IBLOCK) {                                              \
        const size_t m = FA_MIN((size_t)FA_IBLOCK, n - i0);                                     \
        const T *x = (const T *)pa + i0, *y = (const T *)pb + i0;                               \
        INIT LOOP FLUSH                                                                         \
    }

static double ne_dot_i8(const void *pa, const void *pb, size_t n) {
    int64_t total = 0;
    NE_BLOCKS(int8_t, int32x4_t s = vdupq_n_s32(0);,
              NE_INT_LOOP(int8_t, s = ne_i8_dot16(s, vld1q_s8(px), vld1q_s8(py));),
              total += vaddlvq_s32(s);)
    return (double)total;
}
static double ne_dot_u8(const void *pa, const void *pb, size_t n) {
    int64_t total = 0;
    NE_BLOCKS(uint8_t, uint32x4_t s = vdupq_n_u32(0);,
              NE_INT_LOOP(uint8_t, s = ne_u8_dot16(s, vld1q_u8(px), vld1q_u8(py));),
              total += (int64_t)vaddlvq_u32(s);)
    return (double)total;
}
#define NE_SQEUCLIDEAN_INT(PFX, SFX, T, DOT16)                                                    \
    static double PFX##_sqeuclidean_##SFX(const void *pa, const void *pb, size_t n) {           \
        int64_t total = 0;                                                                      \
        NE_BLOCKS(T, uint32x4_t s = vdupq_n_u32(0);, NE_INT_LOOP(T, {                           \
                      uint8x16_t d = ne_absdiff_##SFX(px, py);                                  \
                      s = DOT16(s, d, d);                                                       \
                  }),                                                                           \
                  total += (int64_t)vaddlvq_u32(s);)                                            \
        return (double)total;                                                                   \
    }
NE_SQEUCLIDEAN_INT(ne, i8, int8_t, ne_u8_dot16)
NE_SQEUCLIDEAN_INT(ne, u8, uint8_t, ne_u8_dot16)

static void ne_cos_i8(const void *pa, const void *pb, size_t n, double out[3]) {
    int64_t tab = 0, taa = 0, tbb = 0;
    NE_BLOCKS(int8_t, int32x4_t ab = vdupq_n_s32(0); int32x4_t aa = ab; int32x4_t bb = ab;,
              NE_INT_LOOP(int8_t, {
                  int8x16_t u = vld1q_s8(px);
                  int8x16_t v = vld1q_s8(py);
                  ab = ne_i8_dot16(ab, u, v);
                  aa = ne_i8_dot16(aa, u, u);
                  bb = ne_i8_dot16(bb, v, v);
              }),
              tab += vaddlvq_s32(ab);
              taa += vaddlvq_s32(aa); tbb += vaddlvq_s32(bb);)
    out[0] = (double)tab;
    out[1] = (double)taa;
    out[2] = (double)tbb;
}
static void ne_cos_u8(const void *pa, const void *pb, size_t n, double out[3]) {
    int64_t tab = 0, taa = 0, tbb = 0;
    NE_BLOCKS(uint8_t, uint32x4_t ab = vdupq_n_u32(0); uint32x4_t aa = ab; uint32x4_t bb = ab;,
              NE_INT_LOOP(uint8_t, {
                  uint8x16_t u = vld1q_u8(px);
                  uint8x16_t v = vld1q_u8(py);
                  ab = ne_u8_dot16(ab, u, v);
                  aa = ne_u8_dot16(aa, u, u);
                  bb = ne_u8_dot16(bb, v, v);
              }),
              tab += (int64_t)vaddlvq_u32(ab);
              taa += (int64_t)vaddlvq_u32(aa); tbb += (int64_t)vaddlvq_u32(bb);)
    out[0] = (double)tab;
    out[1] = (double)taa;
    out[2] = (double)tbb;
}

/* minmax: FMIN/FMAX (NaN-propagating) lanes plus an explicit NaN flag; scalar tails. */
static void ne_minmax_f32(const void *pa, size_t n, double *mn, double *mx) {
    const float *a = (const float *)pa;
    float32x4_t lo = vdupq_n_f32(a[0]), hi = lo;
    uint32x4_t ok = vdupq_n_u32(0xffffffffu);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(a + i);
        lo = vminq_f32(lo, v);
        hi = vmaxq_f32(hi, v);
        ok = vandq_u32(ok, vceqq_f32(v, v));
    }
    int nan = vminvq_u32(ok) == 0;
    float rl = vminvq_f32(lo), rh = vmaxvq_f32(hi);
    for (; i < n; i++) {
        nan |= a[i] != a[i];
        rl = a[i] < rl ? a[i] : rl;
        rh = a[i] > rh ? a[i] : rh;
    }
    *mn = nan ? (double)NAN : (double)rl;
    *mx = nan ? (double)NAN : (double)rh;
}
static void ne_minmax_f64(const void *pa, size_t n, double *mn, double *mx) {
    const double *a = (const double *)pa;
    float64x2_t lo = vdupq_n_f64(a[0]), hi = lo;
    uint64x2_t ok = vdupq_n_u64(~0ull);
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        float64x2_t v = vld1q_f64(a + i);
        lo = vminq_f64(lo, v);
        hi = vmaxq_f64(hi, v);
        ok = vandq_u64(ok, vceqq_f64(v, v));
    }
    int nan = (vgetq_lane_u64(ok, 0) & vgetq_lane_u64(ok, 1)) == 0;
    double rl = vminvq_f64(lo), rh = vmaxvq_f64(hi);
    for (; i < n; i++) {
        nan |= a[i] != a[i];
        rl = a[i] < rl ? a[i] : rl;
        rh = a[i] > rh ? a[i] : rh;
    }
    *mn = nan ? (double)NAN : rl;
    *mx = nan ? (double)NAN : rh;
}
#define NE_MINMAX_INT(SFX, T, VT, LD, DUP, MIN, MAX, MINV, MAXV)                                 \
    static void ne_minmax_##SFX(const void *pa, size_t n, double *mn, double *mx) {             \
        const T *a = (const T *)pa;                                                             \
        VT lo = DUP(a[0]), hi = lo;                                                             \
        size_t i = 0;                                                                           \
        for (; i + 16 <= n; i += 16) {                                                          \
            VT v = LD(a + i);                                                                   \
            lo = MIN(lo, v);                                                                    \
            hi = MAX(hi, v);                                                                    \
        }                                                                                       \
        T rl = MINV(lo), rh = MAXV(hi);                                                         \
        for (; i < n; i++) {                                                                    \
            rl = a[i] < rl ? a[i] : rl;                                                         \
            rh = a[i] > rh ? a[i] : rh;                                                         \
        }                                                                                       \
        *mn = (double)rl;                                                                       \
        *mx = (double)rh;                                                                       \
    }
NE_MINMAX_INT(i8, int8_t, int8x16_t, vld1q_s8, vdupq_n_s8, vminq_s8, vmaxq_s8, vminvq_s8,
              vmaxvq_s8)
NE_MINMAX_INT(u8, uint8_t, uint8x16_t, vld1q_u8, vdupq_n_u8, vminq_u8, vmaxq_u8, vminvq_u8,
              vmaxvq_u8)

static inline float64x2_t ne_ld2_f64(const double *p) { return vld1q_f64(p); }
static inline float64x2_t ne_ld2_f32(const float *p) { return vcvt_f64_f32(vld1_f32(p)); }
#define NE_MVBLOCK(SFX, T)                                                                       \
    static inline void ne_mvblock_##SFX(const T *x, size_t m, double *s_out, double *q_out) {   \
        float64x2_t s0 = vdupq_n_f64(0), s1 = s0;                                               \
        size_t i = 0, m4 = m & ~(size_t)3;                                                      \
        for (; i < m4; i += 4) {                                                                \
            s0 = vaddq_f64(s0, ne_ld2_##SFX(x + i));                                            \
            s1 = vaddq_f64(s1, ne_ld2_##SFX(x + i + 2));                                        \
        }                                                                                       \
        double s = vaddvq_f64(vaddq_f64(s0, s1));                                               \
        for (; i < m; i++) s += (double)x[i];                                                   \
        const double mu = s / (double)m;                                                        \
        const float64x2_t vmu = vdupq_n_f64(mu);                                                \
        float64x2_t q0 = vdupq_n_f64(0), q1 = q0, d0, d1;                                       \
        for (i = 0; i < m4; i += 4) {                                                           \
            d0 = vsubq_f64(ne_ld2_##SFX(x + i), vmu);                                           \
            d1 = vsubq_f64(ne_ld2_##SFX(x + i + 2), vmu);                                       \
            q0 = vfmaq_f64(q0, d0, d0);                                                         \
            q1 = vfmaq_f64(q1, d1, d1);                                                         \
        }                                                                                       \
        double q = vaddvq_f64(vaddq_f64(q0, q1));                                               \
        for (; i < m; i++) {                                                                    \
            double d = (double)x[i] - mu;                                                       \
            q += d * d;                                                                         \
        }                                                                                       \
        *s_out = s;                                                                             \
        *q_out = q;                                                                             \
    }
NE_MVBLOCK(f64, double)
NE_MVBLOCK(f32, float)
FA_MEANVAR_DRIVER(ne_meanvar_f64, double, ne_mvblock_f64, )
FA_MEANVAR_DRIVER(ne_meanvar_f32, float, ne_mvblock_f32, )

static void fa_fill_neon(fa_table *t) {
    fa_fill_scalar(t);
    t->name = "neon";
    t->dot[FA_F64] = ne_dot_f64;
    t->dot[FA_F32] = ne_dot_f32;
    t->dot[FA_F16] = ne_dot_f16;
    t->dot[FA_I8] = ne_dot_i8;
    t->dot[FA_U8] = ne_dot_u8;
    t->sqeuclidean[FA_F64] = ne_sqeuclidean_f64;
    t->sqeuclidean[FA_F32] = ne_sqeuclidean_f32;
    t->sqeuclidean[FA_F16] = ne_sqeuclidean_f16;
    t->sqeuclidean[FA_I8] = ne_sqeuclidean_i8;
    t->sqeuclidean[FA_U8] = ne_sqeuclidean_u8;
    t->cos[FA_F64] = ne_cos_f64;
    t->cos[FA_F32] = ne_cos_f32;
    t->cos[FA_F16] = ne_cos_f16;
    t->cos[FA_I8] = ne_cos_i8;
    t->cos[FA_U8] = ne_cos_u8;
    t->minmax[FA_F64] = ne_minmax_f64;
    t->minmax[FA_F32] = ne_minmax_f32;
    t->minmax[FA_I8] = ne_minmax_i8;
    t->minmax[FA_U8] = ne_minmax_u8;
    t->meanvar[FA_F64] = ne_meanvar_f64;
    t->meanvar[FA_F32] = ne_meanvar_f32;
}

#endif /* FASTARM_NEON_H */
