//! The two `&mut` borrows that calls between JavaScript and WebAssembly must hand
//! down to each other (the realm's thread).
//!
//! A processor calls a WebAssembly export: the native function holds Boa's
//! `&mut Context` and gives wasmtime the store while the wasm code runs. When that
//! code calls an import that is a JavaScript function, the import needs the same
//! context to run it, and that function may call an export again, which needs the
//! store wasmtime lent the import (its `Caller`). wasmtime's host closures are
//! `Send + Sync + 'static`, so neither borrow can be captured: the frame that has
//! one parks a pointer to it in a [`Slot`] for exactly its own extent
//! ([`Slot::enter`]), and the frame that needs it takes it out for exactly its own
//! ([`Slot::take`]).
//!
//! Every call in such a chain runs on one thread and returns before its caller
//! resumes, so the parked borrows nest like the calls do. The slot holds a pointer
//! only while the frame that parked it is suspended in the call it made, and hands
//! out at most one `&mut` at a time (taking clears it until the taker returns).

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr::null_mut;

use boa_engine::Context;
use wasmtime::Caller;

/// Where one kind of borrow is parked; `T` names the kind (see [`ContextSlot`]
/// and [`CallerSlot`]). Lives in a `thread_local!`.
pub struct Slot<T> {
    parked: Cell<*mut ()>,
    kind: PhantomData<T>,
}

/// Boa's context, parked by a native function that calls into WebAssembly.
pub type ContextSlot = Slot<Context>;
/// wasmtime's caller, parked by an import while it runs JavaScript.
pub type CallerSlot<D> = Slot<fn(&mut Caller<'_, D>)>;

/// Puts the previous pointer back when a scope ends, also when it unwinds.
struct Restore<'a> {
    slot: &'a Cell<*mut ()>,
    previous: *mut (),
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        self.slot.set(self.previous);
    }
}

impl<T> Slot<T> {
    /// An empty slot.
    pub const fn new() -> Self {
        Self { parked: Cell::new(null_mut()), kind: PhantomData }
    }

    /// Whether something is parked.
    pub fn is_parked(&self) -> bool {
        !self.parked.get().is_null()
    }

    fn scope<R>(&self, pointer: *mut (), f: impl FnOnce() -> R) -> R {
        let _restore = Restore { slot: &self.parked, previous: self.parked.replace(pointer) };
        f()
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl Slot<Context> {
    /// Parks `context` while `f` runs (`f` must not use it otherwise: it is the
    /// frame that lends it).
    pub fn enter<R>(&self, context: &mut Context, f: impl FnOnce() -> R) -> R {
        self.scope(std::ptr::from_mut(context).cast(), f)
    }

    /// Runs `f` with the parked context, if one is parked; the slot is empty while
    /// `f` runs, so no second borrow can be taken.
    pub fn take<R>(&self, f: impl FnOnce(Option<&mut Context>) -> R) -> R {
        let pointer = self.parked.replace(null_mut());
        let _restore = Restore { slot: &self.parked, previous: pointer };
        // SAFETY: a non-null pointer was parked by `enter` from a live `&mut Context`
        // whose frame is suspended in `f`'s caller chain on this thread (the
        // `Restore` of that `enter` clears it before the frame resumes). Taking it
        // out of the slot makes this the only borrow made from it until `f`
        // returns, and the borrow does not outlive `f`.
        let context = unsafe { pointer.cast::<Context>().as_mut() };
        f(context)
    }
}

impl<D: 'static> Slot<fn(&mut Caller<'_, D>)> {
    /// Parks `caller` while `f` runs (`f` must not use it otherwise).
    pub fn enter<R>(&self, caller: &mut Caller<'_, D>, f: impl FnOnce() -> R) -> R {
        self.scope(std::ptr::from_mut(caller).cast(), f)
    }

    /// Runs `f` with the parked caller, if one is parked; the slot is empty while
    /// `f` runs.
    pub fn take<R>(&self, f: impl for<'c> FnOnce(Option<&mut Caller<'c, D>>) -> R) -> R {
        let pointer = self.parked.replace(null_mut());
        let _restore = Restore { slot: &self.parked, previous: pointer };
        // SAFETY: as for the context: a non-null pointer came from a live
        // `&mut Caller<'_, D>` in `enter`, whose frame (a wasmtime host function)
        // is suspended until `f` returns. The caller's lifetime is only shortened
        // here (to `f`'s extent), and the slot is empty while the borrow exists.
        let caller = unsafe { pointer.cast::<Caller<'_, D>>().as_mut() };
        f(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boa_engine::{Source, js_string};

    thread_local! {
        static CONTEXT: ContextSlot = const { ContextSlot::new() };
    }

    #[test]
    fn a_parked_context_is_lent_once_and_the_slot_restored() {
        let mut context = Context::default();
        assert!(!CONTEXT.with(Slot::is_parked));
        let seen = CONTEXT.with(|slot| {
            slot.enter(&mut context, || {
                slot.take(|inner| {
                    let inner = inner.expect("parked");
                    assert!(!slot.is_parked(), "taking empties the slot");
                    slot.take(|again| assert!(again.is_none(), "no second borrow while one is out"));
                    inner.eval(Source::from_bytes("6 * 7")).expect("runs").as_number()
                })
            })
        });
        assert_eq!(seen, Some(42.0));
        assert!(!CONTEXT.with(Slot::is_parked), "the slot is empty after the scope");
    }

    #[test]
    fn nested_scopes_restore_the_outer_pointer() {
        let mut outer = Context::default();
        let mut inner = Context::default();
        inner.register_global_property(js_string!("which"), 2, boa_engine::property::Attribute::all()).unwrap();
        CONTEXT.with(|slot| {
            slot.enter(&mut outer, || {
                slot.take(|first| {
                    assert!(first.is_some());
                    slot.enter(&mut inner, || {
                        slot.take(|second| {
                            let second = second.expect("the inner one");
                            assert_eq!(second.eval(Source::from_bytes("which")).unwrap().as_number(), Some(2.0));
                        });
                    });
                    assert!(!slot.is_parked(), "inside the outer take the slot stays empty");
                });
                assert!(slot.is_parked(), "the outer context is parked again");
            });
        });
    }

    #[test]
    fn a_panic_inside_a_scope_still_restores_the_slot() {
        let mut context = Context::default();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            CONTEXT.with(|slot| slot.enter(&mut context, || slot.take(|_| panic!("inside"))))
        }));
        assert!(result.is_err());
        assert!(!CONTEXT.with(Slot::is_parked));
    }

    #[test]
    fn a_parked_caller_reaches_the_store_of_the_host_function() {
        thread_local! {
            static CALLER: CallerSlot<u32> = const { CallerSlot::new() };
        }
        let engine = wasmtime::Engine::default();
        let mut store = wasmtime::Store::new(&engine, 7u32);
        let host = wasmtime::Func::wrap(&mut store, |mut caller: Caller<'_, u32>| {
            CALLER.with(|slot| {
                slot.enter(&mut caller, || {
                    slot.take(|parked| {
                        let parked = parked.expect("parked by the host function");
                        *parked.data_mut() += 1;
                    });
                });
            });
        });
        host.call(&mut store, &[], &mut []).expect("the host function runs");
        assert_eq!(*store.data(), 8);
        assert!(!CALLER.with(Slot::is_parked));
    }
}
