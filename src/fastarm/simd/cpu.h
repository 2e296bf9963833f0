/* CPU feature probes.  Every backend is entered only when the probe says the CPU has its
 * instructions AND the operating system saves the register state they use. */
#ifndef FASTARM_CPU_H
#define FASTARM_CPU_H

#include <stddef.h>
#include <stdint.h>

enum {
    FA_FEAT_AVX2 = 1u << 0,
    FA_FEAT_FMA = 1u << 1,
    FA_FEAT_F16C = 1u << 2,
    FA_FEAT_AVX512F = 1u << 3,
    FA_FEAT_AVX512BW = 1u << 4,
    FA_FEAT_AVX512VL = 1u << 5,
    FA_FEAT_AVX512DQ = 1u << 6,
    FA_FEAT_AVX512VNNI = 1u << 7,
    FA_FEAT_AVX512FP16 = 1u << 8,
    FA_FEAT_OS_YMM = 1u << 9,   /* XCR0: SSE + AVX state enabled by the OS */
    FA_FEAT_OS_ZMM = 1u << 10,  /* XCR0: opmask + ZMM state enabled by the OS */
    FA_FEAT_ASIMD = 1u << 16,
    FA_FEAT_ASIMDHP = 1u << 17,  /* FEAT_FP16 (half-precision arithmetic) */
    FA_FEAT_ASIMDFHM = 1u << 18, /* FEAT_FHM: FMLAL/FMLSL widening f16 multiply-add */
    FA_FEAT_ASIMDDP = 1u << 19,  /* FEAT_DotProd: SDOT/UDOT */
};

static const struct {
    uint32_t bit;
    const char *name;
} fa_feature_names[] = {
    {FA_FEAT_AVX2, "avx2"},           {FA_FEAT_FMA, "fma"},
    {FA_FEAT_F16C, "f16c"},           {FA_FEAT_AVX512F, "avx512f"},
    {FA_FEAT_AVX512BW, "avx512bw"},   {FA_FEAT_AVX512VL, "avx512vl"},
    {FA_FEAT_AVX512DQ, "avx512dq"},   {FA_FEAT_AVX512VNNI, "avx512vnni"},
    {FA_FEAT_AVX512FP16, "avx512fp16"}, {FA_FEAT_OS_YMM, "os_ymm_state"},
    {FA_FEAT_OS_ZMM, "os_zmm_state"}, {FA_FEAT_ASIMD, "asimd"},
    {FA_FEAT_ASIMDHP, "asimdhp"},     {FA_FEAT_ASIMDFHM, "asimdfhm"},
    {FA_FEAT_ASIMDDP, "asimddp"},
};

#if defined(__x86_64__) || defined(_M_X64)
#define FA_ARCH_X86 1
#include <cpuid.h>

static uint64_t fa_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static uint32_t fa_probe_features(void) {
    unsigned int a, b, c, d;
    uint32_t f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if ((c >> 12) & 1) f |= FA_FEAT_FMA;
    if ((c >> 29) & 1) f |= FA_FEAT_F16C;
    if (osxsave && avx) {
        uint64_t xcr0 = fa_xgetbv0();
        if ((xcr0 & 0x6) == 0x6) f |= FA_FEAT_OS_YMM;
        if ((xcr0 & 0xE6) == 0xE6) f |= FA_FEAT_OS_ZMM;
    }
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if ((b >> 5) & 1) f |= FA_FEAT_AVX2;
        if ((b >> 16) & 1) f |= FA_FEAT_AVX512F;
        if ((b >> 17) & 1) f |= FA_FEAT_AVX512DQ;
        if ((b >> 30) & 1) f |= FA_FEAT_AVX512BW;
        if ((b >> 31) & 1) f |= FA_FEAT_AVX512VL;
        if ((c >> 11) & 1) f |= FA_FEAT_AVX512VNNI;
        if ((d >> 23) & 1) f |= FA_FEAT_AVX512FP16;
    }
    return f;
}

#elif defined(__aarch64__)
#define FA_ARCH_ARM64 1
#if defined(__APPLE__)
#include <sys/sysctl.h>
static int fa_sysctl_flag(const char *name) {
    int value = 0;
    size_t size = sizeof(value);
    if (sysctlbyname(name, &value, &size, NULL, 0) != 0) return 0;
    return value != 0;
}
static uint32_t fa_probe_features(void) {
    uint32_t f = FA_FEAT_ASIMD; /* Advanced SIMD is mandatory on arm64 macOS */
    if (fa_sysctl_flag("hw.optional.arm.FEAT_FP16")) f |= FA_FEAT_ASIMDHP;
    if (fa_sysctl_flag("hw.optional.arm.FEAT_FHM")) f |= FA_FEAT_ASIMDFHM;
    if (fa_sysctl_flag("hw.optional.arm.FEAT_DotProd")) f |= FA_FEAT_ASIMDDP;
    return f;
}
#elif defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDHP
#define HWCAP_ASIMDHP (1UL << 10)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef HWCAP_ASIMDFHM
#define HWCAP_ASIMDFHM (1UL << 23)
#endif
static uint32_t fa_probe_features(void) {
    unsigned long hw = getauxval(AT_HWCAP);
    uint32_t f = 0;
    if (hw & HWCAP_ASIMD) f |= FA_FEAT_ASIMD;
    if (hw & HWCAP_ASIMDHP) f |= FA_FEAT_ASIMDHP;
    if (hw & HWCAP_ASIMDFHM) f |= FA_FEAT_ASIMDFHM;
    if (hw & HWCAP_ASIMDDP) f |= FA_FEAT_ASIMDDP;
    return f;
}
#else
/* Other aarch64 systems: Advanced SIMD is part of the base architecture; extensions unknown. */
static uint32_t fa_probe_features(void) { return FA_FEAT_ASIMD; }
#endif

#else
static uint32_t fa_probe_features(void) { return 0; }
#endif

#endif /* FASTARM_CPU_H */
