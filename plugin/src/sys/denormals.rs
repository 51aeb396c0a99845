//! Flush-to-zero for the calling thread (a render thread, at its start).
//!
//! Denormal floats are hundreds of times slower on most CPUs; a filter or reverb
//! tail decaying towards silence produces them for seconds. Browsers run their
//! audio threads (AudioWorklet scripts included) with denormals flushed, and so do
//! Worklet's render threads. The host's audio thread gets the same from
//! nice-plug's process wrapper (its `unsafe_flush_denormals` feature).
//!
//! Two instructions that write the thread's own floating-point control register.

/// x86's MXCSR: flush-to-zero (bit 15) and denormals-are-zero (bit 6).
#[cfg(target_arch = "x86_64")]
const MXCSR_FTZ_DAZ: u32 = (1 << 15) | (1 << 6);
/// AArch64's FPCR: flush-to-zero (bit 24).
#[cfg(target_arch = "aarch64")]
const FPCR_FZ: u64 = 1 << 24;

/// Makes the calling thread flush denormal results and inputs to zero.
pub(crate) fn flush_to_zero() {
    #[cfg(target_arch = "x86_64")]
    {
        let mut mxcsr: u32 = 0;
        // SAFETY: `stmxcsr` stores the current thread's MXCSR into the 4-byte
        // location it is given, here a live local; it touches nothing else.
        unsafe { std::arch::asm!("stmxcsr [{}]", in(reg) &mut mxcsr, options(nostack, preserves_flags)) };
        let wanted = mxcsr | MXCSR_FTZ_DAZ;
        // SAFETY: `ldmxcsr` loads the thread's MXCSR from a live local. Only the
        // FTZ and DAZ bits change: exception masks and rounding stay as they were,
        // so no floating-point exception is unmasked. The register is per thread.
        unsafe { std::arch::asm!("ldmxcsr [{}]", in(reg) &wanted, options(nostack, preserves_flags)) };
    }
    #[cfg(target_arch = "aarch64")]
    {
        let fpcr: u64;
        // SAFETY: reading FPCR has no side effects.
        unsafe { std::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags)) };
        // SAFETY: writing FPCR with only the FZ bit added keeps rounding and trap
        // settings as they were; the register is per thread.
        unsafe { std::arch::asm!("msr fpcr, {}", in(reg) fpcr | FPCR_FZ, options(nomem, nostack, preserves_flags)) };
    }
}

/// Whether the calling thread flushes denormals (for tests).
pub fn flushing() -> bool {
    // A denormal product: nonzero unless flush-to-zero is on.
    let tiny = std::hint::black_box(f32::MIN_POSITIVE);
    std::hint::black_box(tiny * std::hint::black_box(0.5)) == 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_flushes_only_once_asked_to() {
        std::thread::spawn(|| {
            assert!(!flushing(), "a new thread keeps denormals");
            let half: f64 = std::hint::black_box(1.0);
            flush_to_zero();
            assert!(flushing(), "flush-to-zero is on");
            assert_eq!(std::hint::black_box(half) * 0.5, 0.5, "normal numbers are untouched");
        })
        .join()
        .unwrap();
        assert!(!flushing(), "other threads are not affected");
    }
}
