/* x86-64 AVX2 + FMA + F16C backend (Haswell and later, Zen).  Compiled with a target attribute so
 * the rest of the extension stays baseline x86-64; entered only when cpu.h reports the features
 * and the OS-enabled YMM state. */
#ifndef FASTARM_AVX2_H
#define FASTARM_AVX2_H

#include <immintrin.h>

#include "scalar.h"

#define FA_AVX2 __attribute__((target("avx2,fma,f16c")))

static inline FA_AVX2 __m256 a2_ld_f32(const float *p) { return _mm256_loadu_ps(p); }
static inline FA_AVX2 __m256 a2_ld_f16(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

/* Sum of 8 float lanes, widened to double first. */
static inline FA_AVX2 double a2_hsum_ps(__m256 v) {
    __m256d s = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)),
                              _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}
static inline FA_AVX2 double a2_hsum_pd(__m256d s) {
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}
/* 1 when every lane is finite (x - x is 0 for finite x, NaN for inf and NaN). */
static inline FA_AVX2 int a2_finite(__m256 v) {
    __m256 z = _mm256_sub_ps(v, v);
    return _mm256_movemask_ps(_mm256_cmp_ps(z, z, _CMP_ORD_Q)) == 0xff;
}
static inline FA_AVX2 int64_t a2_hsum_epi32(__m256i v) {
    __m256i w = _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(v)),
                                 _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1)));
    __m128i t = _mm_add_epi64(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
    return _mm_cvtsi128_si64(t) + _mm_extract_epi64(t, 1);
}

/* float32 / float16: float32 lanes inside a block of A2_FBLOCK elements, flushed into a double.
 * A block whose partial sums are not finite (inf/NaN inputs, or float32 overflow) is recomputed
 * in float64, so results follow NumPy's float64 semantics. Tails go through a zero-padded copy. */
/* 32 float32 lanes per block: each lane sums at most 64 terms before the float64 flush. */
#define A2_FBLOCK 2048
#define A2_FLOAT_KERNELS(SFX, T, LOAD)                                                           \
    static FA_AVX2 double a2_dot_##SFX(const void *pa, const void *pb, size_t n) {              \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        double total = 0.0;                                                                     \
        for (size_t i0 = 0; i0 < n; i0 += A2_FBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)A2_FBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;                         \
            size_t i = 0;                                                                       \
            for (; i + 32 <= m; i += 32) {                                                      \
                s0 = _mm256_fmadd_ps(LOAD(x + i), LOAD(y + i), s0);                             \
                s1 = _mm256_fmadd_ps(LOAD(x + i + 8), LOAD(y + i + 8), s1);                     \
                s2 = _mm256_fmadd_ps(LOAD(x + i + 16), LOAD(y + i + 16), s2);                   \
                s3 = _mm256_fmadd_ps(LOAD(x + i + 24), LOAD(y + i + 24), s3);                   \
            }                                                                                   \
            for (; i + 8 <= m; i += 8) s0 = _mm256_fmadd_ps(LOAD(x + i), LOAD(y + i), s0);      \
            if (i < m) {                                                                        \
                T bx[8] = {0}, by[8] = {0};                                                     \
                memcpy(bx, x + i, (m - i) * sizeof(T));                                         \
                memcpy(by, y + i, (m - i) * sizeof(T));                                         \
                s1 = _mm256_fmadd_ps(LOAD(bx), LOAD(by), s1);                                   \
            }                                                                                   \
            __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));             \
            total += a2_finite(s) ? a2_hsum_ps(s) : fa_ref_dot_##SFX(x, y, m);                  \
        }                                                                                       \
        return total;                                                                           \
    }                                                                                           \
    static FA_AVX2 double a2_sqeuclidean_##SFX(const void *pa, const void *pb, size_t n) {      \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        double total = 0.0;                                                                     \
        for (size_t i0 = 0; i0 < n; i0 += A2_FBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)A2_FBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, d0, d1, d2, d3;         \
            size_t i = 0;                                                                       \
            for (; i + 32 <= m; i += 32) {                                                      \
                d0 = _mm256_sub_ps(LOAD(x + i), LOAD(y + i));                                   \
                d1 = _mm256_sub_ps(LOAD(x + i + 8), LOAD(y + i + 8));                           \
                d2 = _mm256_sub_ps(LOAD(x + i + 16), LOAD(y + i + 16));                         \
                d3 = _mm256_sub_ps(LOAD(x + i + 24), LOAD(y + i + 24));                         \
                s0 = _mm256_fmadd_ps(d0, d0, s0);                                               \
                s1 = _mm256_fmadd_ps(d1, d1, s1);                                               \
                s2 = _mm256_fmadd_ps(d2, d2, s2);                                               \
                s3 = _mm256_fmadd_ps(d3, d3, s3);                                               \
            }                                                                                   \
            for (; i + 8 <= m; i += 8) {                                                        \
                d0 = _mm256_sub_ps(LOAD(x + i), LOAD(y + i));                                   \
                s0 = _mm256_fmadd_ps(d0, d0, s0);                                               \
            }                                                                                   \
            if (i < m) {                                                                        \
                T bx[8] = {0}, by[8] = {0};                                                     \
                memcpy(bx, x + i, (m - i) * sizeof(T));                                         \
                memcpy(by, y + i, (m - i) * sizeof(T));                                         \
                d1 = _mm256_sub_ps(LOAD(bx), LOAD(by));                                         \
                s1 = _mm256_fmadd_ps(d1, d1, s1);                                               \
            }                                                                                   \
            __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));             \
            total += a2_finite(s) ? a2_hsum_ps(s) : fa_ref_sqeuclidean_##SFX(x, y, m);          \
        }                                                                                       \
        return total;                                                                           \
    }                                                                                           \
    static FA_AVX2 void a2_cos_##SFX(const void *pa, const void *pb, size_t n, double out[3]) { \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        double tab = 0.0, taa = 0.0, tbb = 0.0;                                                 \
        for (size_t i0 = 0; i0 < n; i0 += A2_FBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)A2_FBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            __m256 ab0 = _mm256_setzero_ps(), aa0 = ab0, bb0 = ab0, ab1 = ab0, aa1 = ab0,       \
                   bb1 = ab0, u, v;                                                             \
            size_t i = 0;                                                                       \
            for (; i + 16 <= m; i += 16) {                                                      \
                u = LOAD(x + i);                                                                \
                v = LOAD(y + i);                                                                \
                ab0 = _mm256_fmadd_ps(u, v, ab0);                                               \
                aa0 = _mm256_fmadd_ps(u, u, aa0);                                               \
                bb0 = _mm256_fmadd_ps(v, v, bb0);                                               \
                u = LOAD(x + i + 8);                                                            \
                v = LOAD(y + i + 8);                                                            \
                ab1 = _mm256_fmadd_ps(u, v, ab1);                                               \
                aa1 = _mm256_fmadd_ps(u, u, aa1);                                               \
                bb1 = _mm256_fmadd_ps(v, v, bb1);                                               \
            }                                                                                   \
            for (; i + 8 <= m; i += 8) {                                                        \
                u = LOAD(x + i);                                                                \
                v = LOAD(y + i);                                                                \
                ab0 = _mm256_fmadd_ps(u, v, ab0);                                               \
                aa0 = _mm256_fmadd_ps(u, u, aa0);                                               \
                bb0 = _mm256_fmadd_ps(v, v, bb0);                                               \
            }                                                                                   \
            if (i < m) {                                                                        \
                T bx[8] = {0}, by[8] = {0};                                                     \
                memcpy(bx, x + i, (m - i) * sizeof(T));                                         \
                memcpy(by, y + i, (m - i) * sizeof(T));                                         \
                u = LOAD(bx);                                                                   \
                v = LOAD(by);                                                                   \
                ab1 = _mm256_fmadd_ps(u, v, ab1);                                               \
                aa1 = _mm256_fmadd_ps(u, u, aa1);                                               \
                bb1 = _mm256_fmadd_ps(v, v, bb1);                                               \
            }                                                                                   \
            ab0 = _mm256_add_ps(ab0, ab1);                                                      \
            aa0 = _mm256_add_ps(aa0, aa1);                                                      \
            bb0 = _mm256_add_ps(bb0, bb1);                                                      \
            if (a2_finite(_mm256_add_ps(_mm256_add_ps(ab0, aa0), bb0))) {                       \
                tab += a2_hsum_ps(ab0);                                                         \
                taa += a2_hsum_ps(aa0);                                                         \
                tbb += a2_hsum_ps(bb0);                                                         \
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

A2_FLOAT_KERNELS(f32, float, a2_ld_f32)
A2_FLOAT_KERNELS(f16, uint16_t, a2_ld_f16)

/* float64: four double accumulators. */
static FA_AVX2 double a2_dot_f64(const void *pa, const void *pb, size_t n) {
    const double *a = (const double *)pa, *b = (const double *)pb;
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i), _mm256_loadu_pd(b + i), s0);
        s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i + 4), _mm256_loadu_pd(b + i + 4), s1);
        s2 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i + 8), _mm256_loadu_pd(b + i + 8), s2);
        s3 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i + 12), _mm256_loadu_pd(b + i + 12), s3);
    }
    for (; i + 4 <= n; i += 4)
        s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i), _mm256_loadu_pd(b + i), s0);
    if (i < n) {
        double bx[4] = {0}, by[4] = {0};
        memcpy(bx, a + i, (n - i) * sizeof(double));
        memcpy(by, b + i, (n - i) * sizeof(double));
        s1 = _mm256_fmadd_pd(_mm256_loadu_pd(bx), _mm256_loadu_pd(by), s1);
    }
    return a2_hsum_pd(_mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
}
static FA_AVX2 double a2_sqeuclidean_f64(const void *pa, const void *pb, size_t n) {
    const double *a = (const double *)pa, *b = (const double *)pb;
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0, d0, d1, d2, d3;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        d0 = _mm256_sub_pd(_mm256_loadu_pd(a + i), _mm256_loadu_pd(b + i));
        d1 = _mm256_sub_pd(_mm256_loadu_pd(a + i + 4), _mm256_loadu_pd(b + i + 4));
        d2 = _mm256_sub_pd(_mm256_loadu_pd(a + i + 8), _mm256_loadu_pd(b + i + 8));
        d3 = _mm256_sub_pd(_mm256_loadu_pd(a + i + 12), _mm256_loadu_pd(b + i + 12));
        s0 = _mm256_fmadd_pd(d0, d0, s0);
        s1 = _mm256_fmadd_pd(d1, d1, s1);
        s2 = _mm256_fmadd_pd(d2, d2, s2);
        s3 = _mm256_fmadd_pd(d3, d3, s3);
    }
    for (; i + 4 <= n; i += 4) {
        d0 = _mm256_sub_pd(_mm256_loadu_pd(a + i), _mm256_loadu_pd(b + i));
        s0 = _mm256_fmadd_pd(d0, d0, s0);
    }
    if (i < n) {
        double bx[4] = {0}, by[4] = {0};
        memcpy(bx, a + i, (n - i) * sizeof(double));
        memcpy(by, b + i, (n - i) * sizeof(double));
        d1 = _mm256_sub_pd(_mm256_loadu_pd(bx), _mm256_loadu_pd(by));
        s1 = _mm256_fmadd_pd(d1, d1, s1);
    }
    return a2_hsum_pd(_mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
}
static FA_AVX2 void a2_cos_f64(const void *pa, const void *pb, size_t n, double out[3]) {
    const double *a = (const double *)pa, *b = (const double *)pb;
    __m256d ab0 = _mm256_setzero_pd(), aa0 = ab0, bb0 = ab0, ab1 = ab0, aa1 = ab0, bb1 = ab0, u, v;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        u = _mm256_loadu_pd(a + i);
        v = _mm256_loadu_pd(b + i);
        ab0 = _mm256_fmadd_pd(u, v, ab0);
        aa0 = _mm256_fmadd_pd(u, u, aa0);
        bb0 = _mm256_fmadd_pd(v, v, bb0);
        u = _mm256_loadu_pd(a + i + 4);
        v = _mm256_loadu_pd(b + i + 4);
        ab1 = _mm256_fmadd_pd(u, v, ab1);
        aa1 = _mm256_fmadd_pd(u, u, aa1);
        bb1 = _mm256_fmadd_pd(v, v, bb1);
    }
    if (i < n) {
        double bx[8] = {0}, by[8] = {0};
        memcpy(bx, a + i, (n - i) * sizeof(double));
        memcpy(by, b + i, (n - i) * sizeof(double));
        for (size_t j = 0; j < 8; j += 4) {
            u = _mm256_loadu_pd(bx + j);
            v = _mm256_loadu_pd(by + j);
            ab0 = _mm256_fmadd_pd(u, v, ab0);
            aa0 = _mm256_fmadd_pd(u, u, aa0);
            bb0 = _mm256_fmadd_pd(v, v, bb0);
        }
    }
    out[0] = a2_hsum_pd(_mm256_add_pd(ab0, ab1));
    out[1] = a2_hsum_pd(_mm256_add_pd(aa0, aa1));
    out[2] = a2_hsum_pd(_mm256_add_pd(bb0, bb1));
}

/* int8 / uint8: widen 16 bytes to int16, vpmaddwd into int32 lanes, flush to int64 per block.
 * sqeuclidean uses |a - b| computed in 8 bits (max - min), widened as unsigned. */
#define A2_INT_KERNELS(SFX, T, WIDEN, MAX8, MIN8)                                                \
    static inline FA_AVX2 __m256i a2_w_##SFX(const T *p) {                                      \
        return WIDEN(_mm_loadu_si128((const __m128i *)p));                                      \
    }                                                                                           \
    static inline FA_AVX2 __m256i a2_absdiff_##SFX(const T *x, const T *y) {                    \
        __m128i u = _mm_loadu_si128((const __m128i *)x), v = _mm_loadu_si128((const __m128i *)y); \
        return _mm256_cvtepu8_epi16(_mm_sub_epi8(MAX8(u, v), MIN8(u, v)));                      \
    }                                                                                           \
    static FA_AVX2 double a2_dot_##SFX(const void *pa, const void *pb, size_t n) {              \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        int64_t total = 0;                                                                      \
        for (size_t i0 = 0; i0 < n; i0 += FA_IBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)FA_IBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            __m256i s0 = _mm256_setzero_si256(), s1 = s0;                                       \
            size_t i = 0;                                                                       \
            for (; i + 32 <= m; i += 32) {                                                      \
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(a2_w_##SFX(x + i), a2_w_##SFX(y + i))); \
                s1 = _mm256_add_epi32(                                                          \
                    s1, _mm256_madd_epi16(a2_w_##SFX(x + i + 16), a2_w_##SFX(y + i + 16)));     \
            }                                                                                   \
            for (; i < m; i += 16) {                                                            \
                T bx[16] = {0}, by[16] = {0};                                                   \
                size_t k = FA_MIN((size_t)16, m - i);                                           \
                memcpy(bx, x + i, k);                                                           \
                memcpy(by, y + i, k);                                                           \
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(a2_w_##SFX(bx), a2_w_##SFX(by)));   \
            }                                                                                   \
            total += a2_hsum_epi32(_mm256_add_epi32(s0, s1));                                   \
        }                                                                                       \
        return (double)total;                                                                   \
    }                                                                                           \
    static FA_AVX2 double a2_sqeuclidean_##SFX(const void *pa, const void *pb, size_t n) {      \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        int64_t total = 0;                                                                      \
        for (size_t i0 = 0; i0 < n; i0 += FA_IBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)FA_IBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            __m256i s0 = _mm256_setzero_si256(), s1 = s0, d0, d1;                               \
            size_t i = 0;                                                                       \
            for (; i + 32 <= m; i += 32) {                                                      \
                d0 = a2_absdiff_##SFX(x + i, y + i);                                            \
                d1 = a2_absdiff_##SFX(x + i + 16, y + i + 16);                                  \
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(d0, d0));                           \
                s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(d1, d1));                           \
            }                                                                                   \
            for (; i < m; i += 16) {                                                            \
                T bx[16] = {0}, by[16] = {0};                                                   \
                size_t k = FA_MIN((size_t)16, m - i);                                           \
                memcpy(bx, x + i, k);                                                           \
                memcpy(by, y + i, k);                                                           \
                d0 = a2_absdiff_##SFX(bx, by);                                                  \
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(d0, d0));                           \
            }                                                                                   \
            total += a2_hsum_epi32(_mm256_add_epi32(s0, s1));                                   \
        }                                                                                       \
        return (double)total;                                                                   \
    }                                                                                           \
    static FA_AVX2 void a2_cos_##SFX(const void *pa, const void *pb, size_t n, double out[3]) { \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        int64_t tab = 0, taa = 0, tbb = 0;                                                      \
        for (size_t i0 = 0; i0 < n; i0 += FA_IBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)FA_IBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            __m256i ab = _mm256_setzero_si256(), aa = ab, bb = ab, u, v;                        \
            for (size_t i = 0; i < m; i += 16) {                                                \
                if (i + 16 <= m) {                                                              \
                    u = a2_w_##SFX(x + i);                                                      \
                    v = a2_w_##SFX(y + i);                                                      \
                } else {                                                                        \
                    T bx[16] = {0}, by[16] = {0};                                               \
                    memcpy(bx, x + i, m - i);                                                   \
                    memcpy(by, y + i, m - i);                                                   \
                    u = a2_w_##SFX(bx);                                                         \
                    v = a2_w_##SFX(by);                                                         \
                }                                                                               \
                ab = _mm256_add_epi32(ab, _mm256_madd_epi16(u, v));                             \
                aa = _mm256_add_epi32(aa, _mm256_madd_epi16(u, u));                             \
                bb = _mm256_add_epi32(bb, _mm256_madd_epi16(v, v));                             \
            }                                                                                   \
            tab += a2_hsum_epi32(ab);                                                           \
            taa += a2_hsum_epi32(aa);                                                           \
            tbb += a2_hsum_epi32(bb);                                                           \
        }                                                                                       \
        out[0] = (double)tab;                                                                   \
        out[1] = (double)taa;                                                                   \
        out[2] = (double)tbb;                                                                   \
    }

A2_INT_KERNELS(i8, int8_t, _mm256_cvtepi8_epi16, _mm_max_epi8, _mm_min_epi8)
A2_INT_KERNELS(u8, uint8_t, _mm256_cvtepu8_epi16, _mm_max_epu8, _mm_min_epu8)

/* minmax: lane-wise min/max plus an unordered-compare NaN flag; tails in scalar code. */
static FA_AVX2 void a2_minmax_f32(const void *pa, size_t n, double *mn, double *mx) {
    const float *a = (const float *)pa;
    __m256 lo = _mm256_set1_ps(a[0]), hi = lo, nanv = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(a + i);
        lo = _mm256_min_ps(lo, v);
        hi = _mm256_max_ps(hi, v);
        nanv = _mm256_or_ps(nanv, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    float l[8], h[8];
    _mm256_storeu_ps(l, lo);
    _mm256_storeu_ps(h, hi);
    int nan = _mm256_movemask_ps(nanv) != 0;
    float rl = l[0], rh = h[0];
    for (int k = 1; k < 8; k++) {
        rl = l[k] < rl ? l[k] : rl;
        rh = h[k] > rh ? h[k] : rh;
    }
    for (; i < n; i++) {
        nan |= a[i] != a[i];
        rl = a[i] < rl ? a[i] : rl;
        rh = a[i] > rh ? a[i] : rh;
    }
    *mn = nan ? (double)NAN : (double)rl;
    *mx = nan ? (double)NAN : (double)rh;
}
static FA_AVX2 void a2_minmax_f64(const void *pa, size_t n, double *mn, double *mx) {
    const double *a = (const double *)pa;
    __m256d lo = _mm256_set1_pd(a[0]), hi = lo, nanv = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_loadu_pd(a + i);
        lo = _mm256_min_pd(lo, v);
        hi = _mm256_max_pd(hi, v);
        nanv = _mm256_or_pd(nanv, _mm256_cmp_pd(v, v, _CMP_UNORD_Q));
    }
    double l[4], h[4];
    _mm256_storeu_pd(l, lo);
    _mm256_storeu_pd(h, hi);
    int nan = _mm256_movemask_pd(nanv) != 0;
    double rl = l[0], rh = h[0];
    for (int k = 1; k < 4; k++) {
        rl = l[k] < rl ? l[k] : rl;
        rh = h[k] > rh ? h[k] : rh;
    }
    for (; i < n; i++) {
        nan |= a[i] != a[i];
        rl = a[i] < rl ? a[i] : rl;
        rh = a[i] > rh ? a[i] : rh;
    }
    *mn = nan ? (double)NAN : rl;
    *mx = nan ? (double)NAN : rh;
}
/* Horizontal min/max of 32 bytes by halving (keeps the loop accumulators in registers). */
#define A2_MINMAX_INT(SFX, T, MIN, MAX, MIN128, MAX128)                                          \
    static inline FA_AVX2 T a2_hred_##SFX(__m256i v, int want_max) {                            \
        __m128i x = want_max ? MAX128(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)) \
                             : MIN128(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)); \
        for (int sh = 0; sh < 4; sh++) {                                                        \
            __m128i y = sh == 0   ? _mm_srli_si128(x, 8)                                        \
                        : sh == 1 ? _mm_srli_si128(x, 4)                                        \
                        : sh == 2 ? _mm_srli_si128(x, 2)                                        \
                                  : _mm_srli_si128(x, 1);                                       \
            x = want_max ? MAX128(x, y) : MIN128(x, y);                                         \
        }                                                                                       \
        return (T)_mm_extract_epi8(x, 0);                                                       \
    }                                                                                           \
    static FA_AVX2 void a2_minmax_##SFX(const void *pa, size_t n, double *mn, double *mx) {     \
        const T *a = (const T *)pa;                                                             \
        __m256i lo = _mm256_set1_epi8((char)a[0]), hi = lo, lo1 = lo, hi1 = lo;                 \
        size_t i = 0;                                                                           \
        for (; i + 64 <= n; i += 64) {                                                          \
            __m256i v = _mm256_loadu_si256((const __m256i *)(a + i));                           \
            __m256i w = _mm256_loadu_si256((const __m256i *)(a + i + 32));                      \
            lo = MIN(lo, v);                                                                    \
            hi = MAX(hi, v);                                                                    \
            lo1 = MIN(lo1, w);                                                                  \
            hi1 = MAX(hi1, w);                                                                  \
        }                                                                                       \
        T rl = a2_hred_##SFX(MIN(lo, lo1), 0), rh = a2_hred_##SFX(MAX(hi, hi1), 1);             \
        for (; i < n; i++) {                                                                    \
            rl = a[i] < rl ? a[i] : rl;                                                         \
            rh = a[i] > rh ? a[i] : rh;                                                         \
        }                                                                                       \
        *mn = (double)rl;                                                                       \
        *mx = (double)rh;                                                                       \
    }
A2_MINMAX_INT(i8, int8_t, _mm256_min_epi8, _mm256_max_epi8, _mm_min_epi8, _mm_max_epi8)
A2_MINMAX_INT(u8, uint8_t, _mm256_min_epu8, _mm256_max_epu8, _mm_min_epu8, _mm_max_epu8)

/* mean_var block: sum, then sum of squared deviations from the block mean, in double lanes. */
static inline FA_AVX2 __m256d a2_ld4_f64(const double *p) { return _mm256_loadu_pd(p); }
static inline FA_AVX2 __m256d a2_ld4_f32(const float *p) {
    return _mm256_cvtps_pd(_mm_loadu_ps(p));
}
#define A2_MVBLOCK(SFX, T)                                                                       \
    static inline FA_AVX2 void a2_mvblock_##SFX(const T *x, size_t m, double *s_out,            \
                                                double *q_out) {                                \
        __m256d s0 = _mm256_setzero_pd(), s1 = s0;                                              \
        size_t i = 0, m8 = m & ~(size_t)7;                                                      \
        for (; i < m8; i += 8) {                                                                \
            s0 = _mm256_add_pd(s0, a2_ld4_##SFX(x + i));                                        \
            s1 = _mm256_add_pd(s1, a2_ld4_##SFX(x + i + 4));                                    \
        }                                                                                       \
        double s = a2_hsum_pd(_mm256_add_pd(s0, s1));                                           \
        for (; i < m; i++) s += (double)x[i];                                                   \
        const double mu = s / (double)m;                                                        \
        const __m256d vmu = _mm256_set1_pd(mu);                                                 \
        __m256d q0 = _mm256_setzero_pd(), q1 = q0, d0, d1;                                      \
        for (i = 0; i < m8; i += 8) {                                                           \
            d0 = _mm256_sub_pd(a2_ld4_##SFX(x + i), vmu);                                       \
            d1 = _mm256_sub_pd(a2_ld4_##SFX(x + i + 4), vmu);                                   \
            q0 = _mm256_fmadd_pd(d0, d0, q0);                                                   \
            q1 = _mm256_fmadd_pd(d1, d1, q1);                                                   \
        }                                                                                       \
        double q = a2_hsum_pd(_mm256_add_pd(q0, q1));                                           \
        for (; i < m; i++) {                                                                    \
            double d = (double)x[i] - mu;                                                       \
            q += d * d;                                                                         \
        }                                                                                       \
        *s_out = s;                                                                             \
        *q_out = q;                                                                             \
    }
A2_MVBLOCK(f64, double)
A2_MVBLOCK(f32, float)
FA_MEANVAR_DRIVER(a2_meanvar_f64, double, a2_mvblock_f64, FA_AVX2)
FA_MEANVAR_DRIVER(a2_meanvar_f32, float, a2_mvblock_f32, FA_AVX2)

static void fa_fill_avx2(fa_table *t) {
    fa_fill_scalar(t);
    t->name = "avx2";
    t->dot[FA_F64] = a2_dot_f64;
    t->dot[FA_F32] = a2_dot_f32;
    t->dot[FA_F16] = a2_dot_f16;
    t->dot[FA_I8] = a2_dot_i8;
    t->dot[FA_U8] = a2_dot_u8;
    t->sqeuclidean[FA_F64] = a2_sqeuclidean_f64;
    t->sqeuclidean[FA_F32] = a2_sqeuclidean_f32;
    t->sqeuclidean[FA_F16] = a2_sqeuclidean_f16;
    t->sqeuclidean[FA_I8] = a2_sqeuclidean_i8;
    t->sqeuclidean[FA_U8] = a2_sqeuclidean_u8;
    t->cos[FA_F64] = a2_cos_f64;
    t->cos[FA_F32] = a2_cos_f32;
    t->cos[FA_F16] = a2_cos_f16;
    t->cos[FA_I8] = a2_cos_i8;
    t->cos[FA_U8] = a2_cos_u8;
    t->minmax[FA_F64] = a2_minmax_f64;
    t->minmax[FA_F32] = a2_minmax_f32;
    t->minmax[FA_I8] = a2_minmax_i8;
    t->minmax[FA_U8] = a2_minmax_u8;
    t->meanvar[FA_F64] = a2_meanvar_f64;
    t->meanvar[FA_F32] = a2_meanvar_f32;
}

#endif /* FASTARM_AVX2_H */
