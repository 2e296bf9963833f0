/* x86-64 AVX-512 for the Sapphire Rapids class (AVX512-VNNI and AVX512-FP16 present).
 *
 * int8/uint8 kernels use VNNI vpdpbusd (u8 x s8 -> int32, 64 products per instruction) with the
 * offset identities below; everything else is the avx512 backend.  AVX512-FP16 *arithmetic* is
 * deliberately not used: float16 products and sums round to 11 bits and overflow above 65504
 * (256 * 256 already does), which breaks the accuracy contract; converting to float32
 * (vcvtph2ps) costs the same.
 *
 *   int8  a.b  = sum((a ^ 0x80) * b) - 128 * sum(b)       ((a ^ 0x80) read as u8 is a + 128)
 *   uint8 a.b  = sum(a * (b ^ 0x80)) + 128 * sum(a)       ((b ^ 0x80) read as s8 is b - 128)
 *   d = |a - b| as u8:  d*d = d * (d ^ 0x80) + 128 * d
 * Per instruction a lane gains at most 4 * 255 * 128; FA_IBLOCK keeps int32 lanes far from overflow. */
#ifndef FASTARM_AVX512_SPR_H
#define FASTARM_AVX512_SPR_H

#include "avx512.h"

#define FA_SPR __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

static inline FA_SPR __m512i spr_dp(__m512i acc, __m512i u8, __m512i s8) {
    return _mm512_dpbusd_epi32(acc, u8, s8);
}

static FA_SPR double spr_dot_i8(const void *pa, const void *pb, size_t n) {
    const int8_t *a = (const int8_t *)pa, *b = (const int8_t *)pb;
    const __m512i flip = _mm512_set1_epi8((char)0x80), ones = _mm512_set1_epi8(1);
    int64_t total = 0;
    for (size_t i0 = 0; i0 < n; i0 += FA_IBLOCK) {
        const size_t m = FA_MIN((size_t)FA_IBLOCK, n - i0);
        const int8_t *x = a + i0, *y = b + i0;
        __m512i s0 = _mm512_setzero_si512(), s1 = s0, sb0 = s0, sb1 = s0, u, v;
        size_t i = 0;
        for (; i + 128 <= m; i += 128) {
            u = _mm512_loadu_si512(x + i);
            v = _mm512_loadu_si512(y + i);
            s0 = spr_dp(s0, _mm512_xor_si512(u, flip), v);
            sb0 = spr_dp(sb0, ones, v);
            u = _mm512_loadu_si512(x + i + 64);
            v = _mm512_loadu_si512(y + i + 64);
            s1 = spr_dp(s1, _mm512_xor_si512(u, flip), v);
            sb1 = spr_dp(sb1, ones, v);
        }
        for (; i < m; i += 64) {
            __mmask64 k = a5_mask64(m - i);
            u = _mm512_maskz_loadu_epi8(k, x + i);
            v = _mm512_maskz_loadu_epi8(k, y + i);
            s0 = spr_dp(s0, _mm512_xor_si512(u, flip), v);
            sb0 = spr_dp(sb0, ones, v);
        }
        total += a5_hsum_epi32(_mm512_add_epi32(s0, s1)) -
                 128 * a5_hsum_epi32(_mm512_add_epi32(sb0, sb1));
    }
    return (double)total;
}

static FA_SPR double spr_dot_u8(const void *pa, const void *pb, size_t n) {
    const uint8_t *a = (const uint8_t *)pa, *b = (const uint8_t *)pb;
    const __m512i flip = _mm512_set1_epi8((char)0x80), ones = _mm512_set1_epi8(1);
    int64_t total = 0;
    for (size_t i0 = 0; i0 < n; i0 += FA_IBLOCK) {
        const size_t m = FA_MIN((size_t)FA_IBLOCK, n - i0);
        const uint8_t *x = a + i0, *y = b + i0;
        __m512i s0 = _mm512_setzero_si512(), s1 = s0, sa0 = s0, sa1 = s0, u, v;
        size_t i = 0;
        for (; i + 128 <= m; i += 128) {
            u = _mm512_loadu_si512(x + i);
            v = _mm512_loadu_si512(y + i);
            s0 = spr_dp(s0, u, _mm512_xor_si512(v, flip));
            sa0 = spr_dp(sa0, u, ones);
            u = _mm512_loadu_si512(x + i + 64);
            v = _mm512_loadu_si512(y + i + 64);
            s1 = spr_dp(s1, u, _mm512_xor_si512(v, flip));
            sa1 = spr_dp(sa1, u, ones);
        }
        for (; i < m; i += 64) {
            __mmask64 k = a5_mask64(m - i);
            u = _mm512_maskz_loadu_epi8(k, x + i);
            v = _mm512_maskz_loadu_epi8(k, y + i);
            s0 = spr_dp(s0, u, _mm512_xor_si512(v, flip));
            sa0 = spr_dp(sa0, u, ones);
        }
        total += a5_hsum_epi32(_mm512_add_epi32(s0, s1)) +
                 128 * a5_hsum_epi32(_mm512_add_epi32(sa0, sa1));
    }
    return (double)total;
}

#define SPR_SQEUCLIDEAN(SFX, T, MAX8, MIN8)                                                      \
    static FA_SPR double spr_sqeuclidean_##SFX(const void *pa, const void *pb, size_t n) {      \
        const T *a = (const T *)pa, *b = (const T *)pb;                                         \
        const __m512i flip = _mm512_set1_epi8((char)0x80), ones = _mm512_set1_epi8(1);          \
        int64_t total = 0;                                                                      \
        for (size_t i0 = 0; i0 < n; i0 += FA_IBLOCK) {                                          \
            const size_t m = FA_MIN((size_t)FA_IBLOCK, n - i0);                                 \
            const T *x = a + i0, *y = b + i0;                                                   \
            __m512i s0 = _mm512_setzero_si512(), s1 = s0, sd0 = s0, sd1 = s0, u, v, d;          \
            size_t i = 0;                                                                       \
            for (; i + 128 <= m; i += 128) {                                                    \
                u = _mm512_loadu_si512(x + i);                                                  \
                v = _mm512_loadu_si512(y + i);                                                  \
                d = _mm512_sub_epi8(MAX8(u, v), MIN8(u, v));                                    \
                s0 = spr_dp(s0, d, _mm512_xor_si512(d, flip));                                  \
                sd0 = spr_dp(sd0, d, ones);                                                     \
                u = _mm512_loadu_si512(x + i + 64);                                             \
                v = _mm512_loadu_si512(y + i + 64);                                             \
                d = _mm512_sub_epi8(MAX8(u, v), MIN8(u, v));                                    \
                s1 = spr_dp(s1, d, _mm512_xor_si512(d, flip));                                  \
                sd1 = spr_dp(sd1, d, ones);                                                     \
            }                                                                                   \
            for (; i < m; i += 64) {                                                            \
                __mmask64 k = a5_mask64(m - i);                                                 \
                u = _mm512_maskz_loadu_epi8(k, x + i);                                          \
                v = _mm512_maskz_loadu_epi8(k, y + i);                                          \
                d = _mm512_sub_epi8(MAX8(u, v), MIN8(u, v));                                    \
                s0 = spr_dp(s0, d, _mm512_xor_si512(d, flip));                                  \
                sd0 = spr_dp(sd0, d, ones);                                                     \
            }                                                                                   \
            total += a5_hsum_epi32(_mm512_add_epi32(s0, s1)) +                                  \
                     128 * a5_hsum_epi32(_mm512_add_epi32(sd0, sd1));                           \
        }                                                                                       \
        return (double)total;                                                                   \
    }
SPR_SQEUCLIDEAN(i8, int8_t, _mm512_max_epi8, _mm512_min_epi8)
SPR_SQEUCLIDEAN(u8, uint8_t, _mm512_max_epu8, _mm512_min_epu8)

static FA_SPR void spr_cos_i8(const void *pa, const void *pb, size_t n, double out[3]) {
    const int8_t *a = (const int8_t *)pa, *b = (const int8_t *)pb;
    const __m512i flip = _mm512_set1_epi8((char)0x80), ones = _mm512_set1_epi8(1);
    int64_t tab = 0, taa = 0, tbb = 0;
    for (size_t i0 = 0; i0 < n; i0 += FA_IBLOCK) {
        const size_t m = FA_MIN((size_t)FA_IBLOCK, n - i0);
        const int8_t *x = a + i0, *y = b + i0;
        __m512i ab = _mm512_setzero_si512(), aa = ab, bb = ab, sa = ab, sb = ab;
        for (size_t i = 0; i < m; i += 64) {
            __mmask64 k = a5_mask64(m - i);
            __m512i u = _mm512_maskz_loadu_epi8(k, x + i), v = _mm512_maskz_loadu_epi8(k, y + i);
            __m512i ux = _mm512_xor_si512(u, flip), vx = _mm512_xor_si512(v, flip);
            ab = spr_dp(ab, ux, v);
            aa = spr_dp(aa, ux, u);
            bb = spr_dp(bb, vx, v);
            sa = spr_dp(sa, ones, u);
            sb = spr_dp(sb, ones, v);
        }
        const int64_t suma = a5_hsum_epi32(sa), sumb = a5_hsum_epi32(sb);
        tab += a5_hsum_epi32(ab) - 128 * sumb;
        taa += a5_hsum_epi32(aa) - 128 * suma;
        tbb += a5_hsum_epi32(bb) - 128 * sumb;
    }
    out[0] = (double)tab;
    out[1] = (double)taa;
    out[2] = (double)tbb;
}

static FA_SPR void spr_cos_u8(const void *pa, const void *pb, size_t n, double out[3]) {
    const uint8_t *a = (const uint8_t *)pa, *b = (const uint8_t *)pb;
    const __m512i flip = _mm512_set1_epi8((char)0x80), ones = _mm512_set1_epi8(1);
    int64_t tab = 0, taa = 0, tbb = 0;
    for (size_t i0 = 0; i0 < n; i0 += FA_IBLOCK) {
        const size_t m = FA_MIN((size_t)FA_IBLOCK, n - i0);
        const uint8_t *x = a + i0, *y = b + i0;
        __m512i ab = _mm512_setzero_si512(), aa = ab, bb = ab, sa = ab, sb = ab;
        for (size_t i = 0; i < m; i += 64) {
            __mmask64 k = a5_mask64(m - i);
            __m512i u = _mm512_maskz_loadu_epi8(k, x + i), v = _mm512_maskz_loadu_epi8(k, y + i);
            __m512i ux = _mm512_xor_si512(u, flip), vx = _mm512_xor_si512(v, flip);
            ab = spr_dp(ab, u, vx);
            aa = spr_dp(aa, u, ux);
            bb = spr_dp(bb, v, vx);
            sa = spr_dp(sa, u, ones);
            sb = spr_dp(sb, v, ones);
        }
        const int64_t suma = a5_hsum_epi32(sa), sumb = a5_hsum_epi32(sb);
        tab += a5_hsum_epi32(ab) + 128 * suma;
        taa += a5_hsum_epi32(aa) + 128 * suma;
        tbb += a5_hsum_epi32(bb) + 128 * sumb;
    }
    out[0] = (double)tab;
    out[1] = (double)taa;
    out[2] = (double)tbb;
}

static void fa_fill_avx512_spr(fa_table *t) {
    fa_fill_avx512(t);
    t->name = "avx512_spr";
    t->dot[FA_I8] = spr_dot_i8;
    t->dot[FA_U8] = spr_dot_u8;
    t->sqeuclidean[FA_I8] = spr_sqeuclidean_i8;
    t->sqeuclidean[FA_U8] = spr_sqeuclidean_u8;
    t->cos[FA_I8] = spr_cos_i8;
    t->cos[FA_U8] = spr_cos_u8;
}

#endif /* FASTARM_AVX512_SPR_H */
