/* x86-64 AVX-512 backend (F + BW + VL + DQ: Skylake-SP and later, Zen 4).  float16 goes through
 * vcvtph2ps, int8/uint8 through widening vpmaddwd; tails use masked loads. */
#ifndef FASTARM_AVX512_H
#define FASTARM_AVX512_H

#include <immintrin.h>

#include "scalar.h"

#define FA_A512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

static inline FA_A512 __mmask16 a5_mask16(size_t r) { return (__mmask16)((1u << r) - 1u); }
static inline FA_A512 __mmask8 a5_mask8(size_t r) { return (__mmask8)((1u << r) - 1u); }
static inline FA_A512 __mmask32 a5_mask32(size_t r) {
    return (__mmask32)(r >= 32 ? 0xffffffffu : ((1u << r) - 1u));
}
static inline FA_A512 __mmask64 a5_mask64(size_t r) {
    return (__mmask64)(r >= 64 ? ~0ull : ((1ull << r) - 1ull));
}

static inline FA_A512 __m512 a5_ld_f32(const float *p) { return _mm512_loadu_ps(p); }
static inline FA_A512 __m512 a5_ldm_f32(const float *p, __mmask16 k) {
    return _mm512_maskz_loadu_ps(k, p);
}
static inline FA_A512 __m512 a5_ld_f16(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}
static inline FA_A512 __m512 a5_ldm_f16(const uint16_t *p, __mmask16 k) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, p));
}

static inline FA_A512 double a5_hsum_ps(__m512 v) {
    __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    __m512d hi =
        _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    return _mm512_reduce_add_pd(_mm512_add_pd(lo, hi));
}
static inline FA_A512 int a5_finite(__m512 v) {
    __m512 z = _mm512_sub_ps(v, v);
    return _mm512_cmp_ps_mask(z, z, _CMP_ORD_Q) == 0xffff;
}
static inline FA_A512 int64_t a5_hsum_epi32(__m512i v) {
    __m512i w = _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(v)),
                                 _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1)));
    return _mm512_reduce_add_epi64(w);
}

/* float32 / float16: float32 lanes per block, flushed into double; non-finite blocks recomputed
 * in float64 (see avx2.h). */
/* 64 float32 lanes per block: each lane sums at most 64 terms before the float64 flush. */
#define A5_FBLOCK 4096
#define A5_FLOAT_KERNELS(SFX, T, LOAD, LOADM)                                                    \
    static FA_A512 double a5_dot_##SFX(const void *pa, const void *pb, size_t n) {              \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        double total = 0.0;                                                                     \
        for (size_t i0 = 0; i0 < n; i0 += A5_FBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)A5_FBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;                         \
            size_t i = 0;                                                                       \
            for (; i + 64 <= m; i += 64) {                                                      \
                s0 = _mm512_fmadd_ps(LOAD(x + i), LOAD(y + i), s0);                             \
                s1 = _mm512_fmadd_ps(LOAD(x + i + 16), LOAD(y + i + 16), s1);                   \
                s2 = _mm512_fmadd_ps(LOAD(x + i + 32), LOAD(y + i + 32), s2);                   \
                s3 = _mm512_fmadd_ps(LOAD(x + i + 48), LOAD(y + i + 48), s3);                   \
            }                                                                                   \
            for (; i + 16 <= m; i += 16) s0 = _mm512_fmadd_ps(LOAD(x + i), LOAD(y + i), s0);    \
            if (i < m) {                                                                        \
                __mmask16 k = a5_mask16(m - i);                                                 \
                s1 = _mm512_fmadd_ps(LOADM(x + i, k), LOADM(y + i, k), s1);                     \
            }                                                                                   \
            __m512 s = _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3));             \
            total += a5_finite(s) ? a5_hsum_ps(s) : fa_ref_dot_##SFX(x, y, m);                  \
        }                                                                                       \
        return total;                                                                           \
    }                                                                                           \
    static FA_A512 double a5_sqeuclidean_##SFX(const void *pa, const void *pb, size_t n) {      \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        double total = 0.0;                                                                     \
        for (size_t i0 = 0; i0 < n; i0 += A5_FBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)A5_FBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, d0, d1, d2, d3;         \
            size_t i = 0;                                                                       \
            for (; i + 64 <= m; i += 64) {                                                      \
                d0 = _mm512_sub_ps(LOAD(x + i), LOAD(y + i));                                   \
                d1 = _mm512_sub_ps(LOAD(x + i + 16), LOAD(y + i + 16));                         \
                d2 = _mm512_sub_ps(LOAD(x + i + 32), LOAD(y + i + 32));                         \
                d3 = _mm512_sub_ps(LOAD(x + i + 48), LOAD(y + i + 48));                         \
                s0 = _mm512_fmadd_ps(d0, d0, s0);                                               \
                s1 = _mm512_fmadd_ps(d1, d1, s1);                                               \
                s2 = _mm512_fmadd_ps(d2, d2, s2);                                               \
                s3 = _mm512_fmadd_ps(d3, d3, s3);                                               \
            }                                                                                   \
            for (; i + 16 <= m; i += 16) {                                                      \
                d0 = _mm512_sub_ps(LOAD(x + i), LOAD(y + i));                                   \
                s0 = _mm512_fmadd_ps(d0, d0, s0);                                               \
            }                                                                                   \
            if (i < m) {                                                                        \
                __mmask16 k = a5_mask16(m - i);                                                 \
                d1 = _mm512_sub_ps(LOADM(x + i, k), LOADM(y + i, k));                           \
                s1 = _mm512_fmadd_ps(d1, d1, s1);                                               \
            }                                                                                   \
            __m512 s = _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3));             \
            total += a5_finite(s) ? a5_hsum_ps(s) : fa_ref_sqeuclidean_##SFX(x, y, m);          \
        }                                                                                       \
        return total;                                                                           \
    }                                                                                           \
    static FA_A512 void a5_cos_##SFX(const void *pa, const void *pb, size_t n, double out[3]) { \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        double tab = 0.0, taa = 0.0, tbb = 0.0;                                                 \
        for (size_t i0 = 0; i0 < n; i0 += A5_FBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)A5_FBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            __m512 ab0 = _mm512_setzero_ps(), aa0 = ab0, bb0 = ab0, ab1 = ab0, aa1 = ab0,       \
                   bb1 = ab0, u, v;                                                             \
            size_t i = 0;                                                                       \
            for (; i + 32 <= m; i += 32) {                                                      \
                u = LOAD(x + i);                                                                \
                v = LOAD(y + i);                                                                \
                ab0 = _mm512_fmadd_ps(u, v, ab0);                                               \
                aa0 = _mm512_fmadd_ps(u, u, aa0);                                               \
                bb0 = _mm512_fmadd_ps(v, v, bb0);                                               \
                u = LOAD(x + i + 16);                                                           \
                v = LOAD(y + i + 16);                                                           \
                ab1 = _mm512_fmadd_ps(u, v, ab1);                                               \
                aa1 = _mm512_fmadd_ps(u, u, aa1);                                               \
                bb1 = _mm512_fmadd_ps(v, v, bb1);                                               \
            }                                                                                   \
            for (; i < m; i += 16) {                                                            \
                __mmask16 k = a5_mask16(FA_MIN((size_t)16, m - i));                             \
                u = LOADM(x + i, k);                                                            \
                v = LOADM(y + i, k);                                                            \
                ab0 = _mm512_fmadd_ps(u, v, ab0);                                               \
                aa0 = _mm512_fmadd_ps(u, u, aa0);                                               \
                bb0 = _mm512_fmadd_ps(v, v, bb0);                                               \
            }                                                                                   \
            ab0 = _mm512_add_ps(ab0, ab1);                                                      \
            aa0 = _mm512_add_ps(aa0, aa1);                                                      \
            bb0 = _mm512_add_ps(bb0, bb1);                                                      \
            if (a5_finite(_mm512_add_ps(_mm512_add_ps(ab0, aa0), bb0))) {                       \
                tab += a5_hsum_ps(ab0);                                                         \
                taa += a5_hsum_ps(aa0);                                                         \
                tbb += a5_hsum_ps(bb0);                                                         \
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

A5_FLOAT_KERNELS(f32, float, a5_ld_f32, a5_ldm_f32)
A5_FLOAT_KERNELS(f16, uint16_t, a5_ld_f16, a5_ldm_f16)

static FA_A512 double a5_dot_f64(const void *pa, const void *pb, size_t n) {
    const double *a = (const double *)pa, *b = (const double *)pb;
    __m512d s0 = _mm512_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_pd(_mm512_loadu_pd(a + i), _mm512_loadu_pd(b + i), s0);
        s1 = _mm512_fmadd_pd(_mm512_loadu_pd(a + i + 8), _mm512_loadu_pd(b + i + 8), s1);
        s2 = _mm512_fmadd_pd(_mm512_loadu_pd(a + i + 16), _mm512_loadu_pd(b + i + 16), s2);
        s3 = _mm512_fmadd_pd(_mm512_loadu_pd(a + i + 24), _mm512_loadu_pd(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm512_fmadd_pd(_mm512_loadu_pd(a + i), _mm512_loadu_pd(b + i), s0);
    if (i < n) {
        __mmask8 k = a5_mask8(n - i);
        s1 = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(k, a + i), _mm512_maskz_loadu_pd(k, b + i), s1);
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(s0, s1), _mm512_add_pd(s2, s3)));
}
static FA_A512 double a5_sqeuclidean_f64(const void *pa, const void *pb, size_t n) {
    const double *a = (const double *)pa, *b = (const double *)pb;
    __m512d s0 = _mm512_setzero_pd(), s1 = s0, s2 = s0, s3 = s0, d0, d1, d2, d3;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        d0 = _mm512_sub_pd(_mm512_loadu_pd(a + i), _mm512_loadu_pd(b + i));
        d1 = _mm512_sub_pd(_mm512_loadu_pd(a + i + 8), _mm512_loadu_pd(b + i + 8));
        d2 = _mm512_sub_pd(_mm512_loadu_pd(a + i + 16), _mm512_loadu_pd(b + i + 16));
        d3 = _mm512_sub_pd(_mm512_loadu_pd(a + i + 24), _mm512_loadu_pd(b + i + 24));
        s0 = _mm512_fmadd_pd(d0, d0, s0);
        s1 = _mm512_fmadd_pd(d1, d1, s1);
        s2 = _mm512_fmadd_pd(d2, d2, s2);
        s3 = _mm512_fmadd_pd(d3, d3, s3);
    }
    for (; i + 8 <= n; i += 8) {
        d0 = _mm512_sub_pd(_mm512_loadu_pd(a + i), _mm512_loadu_pd(b + i));
        s0 = _mm512_fmadd_pd(d0, d0, s0);
    }
    if (i < n) {
        __mmask8 k = a5_mask8(n - i);
        d1 = _mm512_sub_pd(_mm512_maskz_loadu_pd(k, a + i), _mm512_maskz_loadu_pd(k, b + i));
        s1 = _mm512_fmadd_pd(d1, d1, s1);
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(s0, s1), _mm512_add_pd(s2, s3)));
}
static FA_A512 void a5_cos_f64(const void *pa, const void *pb, size_t n, double out[3]) {
    const double *a = (const double *)pa, *b = (const double *)pb;
    __m512d ab0 = _mm512_setzero_pd(), aa0 = ab0, bb0 = ab0, ab1 = ab0, aa1 = ab0, bb1 = ab0, u, v;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        u = _mm512_loadu_pd(a + i);
        v = _mm512_loadu_pd(b + i);
        ab0 = _mm512_fmadd_pd(u, v, ab0);
        aa0 = _mm512_fmadd_pd(u, u, aa0);
        bb0 = _mm512_fmadd_pd(v, v, bb0);
        u = _mm512_loadu_pd(a + i + 8);
        v = _mm512_loadu_pd(b + i + 8);
        ab1 = _mm512_fmadd_pd(u, v, ab1);
        aa1 = _mm512_fmadd_pd(u, u, aa1);
        bb1 = _mm512_fmadd_pd(v, v, bb1);
    }
    for (; i < n; i += 8) {
        __mmask8 k = a5_mask8(FA_MIN((size_t)8, n - i));
        u = _mm512_maskz_loadu_pd(k, a + i);
        v = _mm512_maskz_loadu_pd(k, b + i);
        ab0 = _mm512_fmadd_pd(u, v, ab0);
        aa0 = _mm512_fmadd_pd(u, u, aa0);
        bb0 = _mm512_fmadd_pd(v, v, bb0);
    }
    out[0] = _mm512_reduce_add_pd(_mm512_add_pd(ab0, ab1));
    out[1] = _mm512_reduce_add_pd(_mm512_add_pd(aa0, aa1));
    out[2] = _mm512_reduce_add_pd(_mm512_add_pd(bb0, bb1));
}

/* int8 / uint8: widen 32 bytes to int16 and vpmaddwd into int32 lanes; |a - b| in 8 bits for
 * sqeuclidean; flush to int64 every FA_IBLOCK elements. */
#define A5_INT_KERNELS(SFX, T, WIDEN, MAX8, MIN8)                                                \
    static inline FA_A512 __m512i a5_w_##SFX(const T *p) {                                      \
        return WIDEN(_mm256_loadu_si256((const __m256i *)p));                                   \
    }                                                                                           \
    static inline FA_A512 __m512i a5_wm_##SFX(const T *p, __mmask32 k) {                        \
        return WIDEN(_mm256_maskz_loadu_epi8(k, p));                                            \
    }                                                                                           \
    static FA_A512 double a5_dot_##SFX(const void *pa, const void *pb, size_t n) {              \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        int64_t total = 0;                                                                      \
        for (size_t i0 = 0; i0 < n; i0 += FA_IBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)FA_IBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            __m512i s0 = _mm512_setzero_si512(), s1 = s0;                                       \
            size_t i = 0;                                                                       \
            for (; i + 64 <= m; i += 64) {                                                      \
                s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(a5_w_##SFX(x + i), a5_w_##SFX(y + i))); \
                s1 = _mm512_add_epi32(                                                          \
                    s1, _mm512_madd_epi16(a5_w_##SFX(x + i + 32), a5_w_##SFX(y + i + 32)));     \
            }                                                                                   \
            for (; i < m; i += 32) {                                                            \
                __mmask32 k = a5_mask32(m - i);                                                 \
                s0 = _mm512_add_epi32(                                                          \
                    s0, _mm512_madd_epi16(a5_wm_##SFX(x + i, k), a5_wm_##SFX(y + i, k)));       \
            }                                                                                   \
            total += a5_hsum_epi32(_mm512_add_epi32(s0, s1));                                   \
        }                                                                                       \
        return (double)total;                                                                   \
    }                                                                                           \
    static FA_A512 double a5_sqeuclidean_##SFX(const void *pa, const void *pb, size_t n) {      \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        int64_t total = 0;                                                                      \
        for (size_t i0 = 0; i0 < n; i0 += FA_IBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)FA_IBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            __m512i s0 = _mm512_setzero_si512(), s1 = s0;                                       \
            for (size_t i = 0; i < m; i += 64) {                                                \
                __mmask64 k = a5_mask64(m - i);                                                 \
                __m512i u = _mm512_maskz_loadu_epi8(k, x + i), v = _mm512_maskz_loadu_epi8(k, y + i); \
                __m512i d = _mm512_sub_epi8(MAX8(u, v), MIN8(u, v));                            \
                __m512i lo = _mm512_cvtepu8_epi16(_mm512_castsi512_si256(d));                   \
                __m512i hi = _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(d, 1));             \
                s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(lo, lo));                           \
                s1 = _mm512_add_epi32(s1, _mm512_madd_epi16(hi, hi));                           \
            }                                                                                   \
            total += a5_hsum_epi32(_mm512_add_epi32(s0, s1));                                   \
        }                                                                                       \
        return (double)total;                                                                   \
    }                                                                                           \
    static FA_A512 void a5_cos_##SFX(const void *pa, const void *pb, size_t n, double out[3]) { \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        int64_t tab = 0, taa = 0, tbb = 0;                                                      \
        for (size_t i0 = 0; i0 < n; i0 += FA_IBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)FA_IBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            __m512i ab = _mm512_setzero_si512(), aa = ab, bb = ab, u, v;                        \
            for (size_t i = 0; i < m; i += 32) {                                                \
                if (i + 32 <= m) {                                                              \
                    u = a5_w_##SFX(x + i);                                                      \
                    v = a5_w_##SFX(y + i);                                                      \
                } else {                                                                        \
                    __mmask32 k = a5_mask32(m - i);                                             \
                    u = a5_wm_##SFX(x + i, k);                                                  \
                    v = a5_wm_##SFX(y + i, k);                                                  \
                }                                                                               \
                ab = _mm512_add_epi32(ab, _mm512_madd_epi16(u, v));                             \
                aa = _mm512_add_epi32(aa, _mm512_madd_epi16(u, u));                             \
                bb = _mm512_add_epi32(bb, _mm512_madd_epi16(v, v));                             \
            }                                                                                   \
            tab += a5_hsum_epi32(ab);                                                           \
            taa += a5_hsum_epi32(aa);                                                           \
            tbb += a5_hsum_epi32(bb);                                                           \
        }                                                                                       \
        out[0] = (double)tab;                                                                   \
        out[1] = (double)taa;                                                                   \
        out[2] = (double)tbb;                                                                   \
    }

A5_INT_KERNELS(i8, int8_t, _mm512_cvtepi8_epi16, _mm512_max_epi8, _mm512_min_epi8)
A5_INT_KERNELS(u8, uint8_t, _mm512_cvtepu8_epi16, _mm512_max_epu8, _mm512_min_epu8)

/* minmax: masked tail loads pass the first element through, so they never change the result. */
static FA_A512 void a5_minmax_f32(const void *pa, size_t n, double *mn, double *mx) {
    const float *a = (const float *)pa;
    const __m512 first = _mm512_set1_ps(a[0]);
    __m512 lo = first, hi = first, lo1 = first, hi1 = first;
    __mmask16 nan = 0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 v = _mm512_loadu_ps(a + i), w = _mm512_loadu_ps(a + i + 16);
        lo = _mm512_min_ps(lo, v);
        hi = _mm512_max_ps(hi, v);
        lo1 = _mm512_min_ps(lo1, w);
        hi1 = _mm512_max_ps(hi1, w);
        nan |= _mm512_cmp_ps_mask(v, w, _CMP_UNORD_Q);
    }
    for (; i < n; i += 16) {
        __m512 v = _mm512_mask_loadu_ps(first, a5_mask16(FA_MIN((size_t)16, n - i)), a + i);
        lo = _mm512_min_ps(lo, v);
        hi = _mm512_max_ps(hi, v);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    }
    nan |= _mm512_cmp_ps_mask(first, first, _CMP_UNORD_Q);
    *mn = nan ? (double)NAN : (double)_mm512_reduce_min_ps(_mm512_min_ps(lo, lo1));
    *mx = nan ? (double)NAN : (double)_mm512_reduce_max_ps(_mm512_max_ps(hi, hi1));
}
static FA_A512 void a5_minmax_f64(const void *pa, size_t n, double *mn, double *mx) {
    const double *a = (const double *)pa;
    const __m512d first = _mm512_set1_pd(a[0]);
    __m512d lo = first, hi = first, lo1 = first, hi1 = first;
    __mmask8 nan = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512d v = _mm512_loadu_pd(a + i), w = _mm512_loadu_pd(a + i + 8);
        lo = _mm512_min_pd(lo, v);
        hi = _mm512_max_pd(hi, v);
        lo1 = _mm512_min_pd(lo1, w);
        hi1 = _mm512_max_pd(hi1, w);
        nan |= _mm512_cmp_pd_mask(v, w, _CMP_UNORD_Q);
    }
    for (; i < n; i += 8) {
        __m512d v = _mm512_mask_loadu_pd(first, a5_mask8(FA_MIN((size_t)8, n - i)), a + i);
        lo = _mm512_min_pd(lo, v);
        hi = _mm512_max_pd(hi, v);
        nan |= _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q);
    }
    nan |= _mm512_cmp_pd_mask(first, first, _CMP_UNORD_Q);
    *mn = nan ? (double)NAN : _mm512_reduce_min_pd(_mm512_min_pd(lo, lo1));
    *mx = nan ? (double)NAN : _mm512_reduce_max_pd(_mm512_max_pd(hi, hi1));
}
#define A5_MINMAX_INT(SFX, T, MIN, MAX)                                                          \
    static FA_A512 void a5_minmax_##SFX(const void *pa, size_t n, double *mn, double *mx) {     \
        const T *a = (const T *)pa;                                                             \
        const __m512i first = _mm512_set1_epi8((char)a[0]);                                     \
        __m512i lo = first, hi = first, lo1 = first, hi1 = first;                               \
        size_t i = 0;                                                                           \
        for (; i + 128 <= n; i += 128) {                                                        \
            __m512i v = _mm512_loadu_si512(a + i), w = _mm512_loadu_si512(a + i + 64);          \
            lo = MIN(lo, v);                                                                    \
            hi = MAX(hi, v);                                                                    \
            lo1 = MIN(lo1, w);                                                                  \
            hi1 = MAX(hi1, w);                                                                  \
        }                                                                                       \
        for (; i < n; i += 64) {                                                                \
            __m512i v = _mm512_mask_loadu_epi8(first, a5_mask64(n - i), a + i);                 \
            lo = MIN(lo, v);                                                                    \
            hi = MAX(hi, v);                                                                    \
        }                                                                                       \
        lo = MIN(lo, lo1);                                                                      \
        hi = MAX(hi, hi1);                                                                      \
        T l[64], h[64];                                                                         \
        _mm512_storeu_si512(l, lo);                                                             \
        _mm512_storeu_si512(h, hi);                                                             \
        T rl = l[0], rh = h[0];                                                                 \
        for (int k = 1; k < 64; k++) {                                                         \
            rl = l[k] < rl ? l[k] : rl;                                                         \
            rh = h[k] > rh ? h[k] : rh;                                                         \
        }                                                                                       \
        *mn = (double)rl;                                                                       \
        *mx = (double)rh;                                                                       \
    }
A5_MINMAX_INT(i8, int8_t, _mm512_min_epi8, _mm512_max_epi8)
A5_MINMAX_INT(u8, uint8_t, _mm512_min_epu8, _mm512_max_epu8)

static inline FA_A512 __m512d a5_ld8_f64(const double *p, __mmask8 k) {
    return _mm512_maskz_loadu_pd(k, p);
}
static inline FA_A512 __m512d a5_ld8_f32(const float *p, __mmask8 k) {
    return _mm512_cvtps_pd(_mm256_maskz_loadu_ps(k, p));
}
#define A5_MVBLOCK(SFX, T)                                                                       \
    static inline FA_A512 void a5_mvblock_##SFX(const T *x, size_t m, double *s_out,            \
                                                double *q_out) {                                \
        __m512d s0 = _mm512_setzero_pd(), s1 = s0;                                              \
        size_t i = 0;                                                                           \
        for (; i + 16 <= m; i += 16) {                                                          \
            s0 = _mm512_add_pd(s0, a5_ld8_##SFX(x + i, 0xff));                                  \
            s1 = _mm512_add_pd(s1, a5_ld8_##SFX(x + i + 8, 0xff));                              \
        }                                                                                       \
        for (; i < m; i += 8) s0 = _mm512_add_pd(s0, a5_ld8_##SFX(x + i, a5_mask8(FA_MIN((size_t)8, m - i)))); \
        const double s = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));                           \
        const __m512d vmu = _mm512_set1_pd(s / (double)m);                                      \
        __m512d q0 = _mm512_setzero_pd(), q1 = q0, d0, d1;                                      \
        for (i = 0; i + 16 <= m; i += 16) {                                                     \
            d0 = _mm512_sub_pd(a5_ld8_##SFX(x + i, 0xff), vmu);                                 \
            d1 = _mm512_sub_pd(a5_ld8_##SFX(x + i + 8, 0xff), vmu);                             \
            q0 = _mm512_fmadd_pd(d0, d0, q0);                                                   \
            q1 = _mm512_fmadd_pd(d1, d1, q1);                                                   \
        }                                                                                       \
        for (; i < m; i += 8) {                                                                 \
            __mmask8 k = a5_mask8(FA_MIN((size_t)8, m - i));                                    \
            d0 = _mm512_maskz_sub_pd(k, a5_ld8_##SFX(x + i, k), vmu);                           \
            q0 = _mm512_fmadd_pd(d0, d0, q0);                                                   \
        }                                                                                       \
        *s_out = s;                                                                             \
        *q_out = _mm512_reduce_add_pd(_mm512_add_pd(q0, q1));                                   \
    }
A5_MVBLOCK(f64, double)
A5_MVBLOCK(f32, float)
FA_MEANVAR_DRIVER(a5_meanvar_f64, double, a5_mvblock_f64, FA_A512)
FA_MEANVAR_DRIVER(a5_meanvar_f32, float, a5_mvblock_f32, FA_A512)

static void fa_fill_avx512(fa_table *t) {
    fa_fill_scalar(t);
    t->name = "avx512";
    t->dot[FA_F64] = a5_dot_f64;
    t->dot[FA_F32] = a5_dot_f32;
    t->dot[FA_F16] = a5_dot_f16;
    t->dot[FA_I8] = a5_dot_i8;
    t->dot[FA_U8] = a5_dot_u8;
    t->sqeuclidean[FA_F64] = a5_sqeuclidean_f64;
    t->sqeuclidean[FA_F32] = a5_sqeuclidean_f32;
    t->sqeuclidean[FA_F16] = a5_sqeuclidean_f16;
    t->sqeuclidean[FA_I8] = a5_sqeuclidean_i8;
    t->sqeuclidean[FA_U8] = a5_sqeuclidean_u8;
    t->cos[FA_F64] = a5_cos_f64;
    t->cos[FA_F32] = a5_cos_f32;
    t->cos[FA_F16] = a5_cos_f16;
    t->cos[FA_I8] = a5_cos_i8;
    t->cos[FA_U8] = a5_cos_u8;
    t->minmax[FA_F64] = a5_minmax_f64;
    t->minmax[FA_F32] = a5_minmax_f32;
    t->minmax[FA_I8] = a5_minmax_i8;
    t->minmax[FA_U8] = a5_minmax_u8;
    t->meanvar[FA_F64] = a5_meanvar_f64;
    t->meanvar[FA_F32] = a5_meanvar_f32;
}

#endif /* FASTARM_AVX512_H */
