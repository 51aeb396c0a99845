//! Messages between the node (main-thread) side and the worklet realm.
//!
//! [`wire`] is the message format both sides agree on; it is plain data and can be
//! used from any thread.

pub mod wire;
