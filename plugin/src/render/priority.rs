//! Real-time scheduling for the calling thread, where the OS allows it.

/// Priority of render threads: real-time, but below a host's audio thread
/// (JACK and most Linux hosts run theirs at 70 or more).
pub const RENDER_PRIORITY: u8 = 60;
/// Priority `worklet bench --realtime` gives its simulated host thread.
pub const HOST_PRIORITY: u8 = 75;

/// Asks for real-time (FIFO) scheduling at `priority` (1–99); if that is not
/// allowed, for the highest normal priority; if neither is, carries on quietly.
/// Returns whether real-time scheduling was granted.
pub fn request_realtime(priority: u8) -> bool {
    #[cfg(unix)]
    {
        use thread_priority::unix::{
            RealtimeThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy, thread_native_id,
        };
        use thread_priority::{ThreadPriority, ThreadPriorityValue};
        if let Ok(value) = ThreadPriorityValue::try_from(priority.clamp(1, 99)) {
            let policy = ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo);
            if set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Crossplatform(value), policy).is_ok()
            {
                return true;
            }
        }
    }
    let _ = thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Max);
    false
}
