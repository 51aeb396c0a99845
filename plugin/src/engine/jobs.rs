//! The realm's job queue and host hooks (the realm's thread): microtask
//! checkpoints with a runaway budget, and unhandled promise rejections tracked as
//! HTML's `HostPromiseRejectionTracker` does.
//!
//! * A checkpoint runs promise jobs in FIFO order until the queue is empty. A
//!   queue that never drains (`function f() { Promise.resolve().then(f) }`) is cut
//!   after [`MICROTASK_BUDGET`] jobs: the rest is dropped and the checkpoint
//!   returns [`Checkpoint::Runaway`], so a script can never hold its thread there.
//! * A promise rejected with no handler is remembered; one that gets a handler
//!   before the checkpoint ends is forgotten. What is left when the checkpoint ends
//!   is reported once ("Uncaught (in promise) …", as Chromium logs it); a handler
//!   added later reports nothing more.
//! * Module loading runs as async jobs whose futures finish on their first poll
//!   (the loader reads from memory or disk without awaiting). `setTimeout`-style
//!   clock jobs do not exist in a worklet scope; FinalizationRegistry cleanups get
//!   one poll per checkpoint, as Boa's own executor gives them.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, Waker};

use boa_engine::builtins::promise::{OperationType, Promise, PromiseState};
use boa_engine::context::HostHooks;
use boa_engine::job::{GenericJob, Job, JobExecutor, NativeAsyncJob, PromiseJob};
use boa_engine::object::builtins::JsPromise;
use boa_engine::{Context, JsError, JsObject, JsResult, JsValue};

/// Promise jobs one checkpoint may run before it is cut (runaway guard).
///
/// A processor that awaits inside `process()` or answers a burst of messages runs
/// a few hundred jobs per quantum; a hundred thousand is about 0.1 s of Boa time,
/// long past any deadline, and ends a never-ending chain well before it is felt
/// as a hang.
pub const MICROTASK_BUDGET: u64 = 100_000;

/// Unhandled rejections remembered between two checkpoints; more are counted
/// but not kept, so a rejection flood cannot grow memory.
const MAX_PENDING_REJECTIONS: usize = 1024;

/// How a checkpoint ended.
#[derive(Debug)]
pub(crate) enum Checkpoint {
    /// The queue drained.
    Drained,
    /// A job ended abruptly with an uncatchable error (a runtime limit); the rest
    /// of the queue was dropped.
    Failed(JsError),
    /// The budget ran out; the rest of the queue was dropped.
    Runaway,
}

/// The job queue of one realm. Installed as the context's [`JobExecutor`].
#[derive(Default)]
pub(crate) struct Jobs {
    promise: RefCell<VecDeque<PromiseJob>>,
    asynchronous: RefCell<VecDeque<NativeAsyncJob>>,
    generic: RefCell<VecDeque<GenericJob>>,
    finalization: RefCell<VecDeque<NativeAsyncJob>>,
    /// Promises rejected without a handler since the last checkpoint ended.
    rejected: RefCell<Vec<JsObject>>,
    /// Rejections beyond [`MAX_PENDING_REJECTIONS`] (reported as a count).
    overflow: Cell<u64>,
    /// Set when a checkpoint hit the budget (read by [`Jobs::checkpoint`]).
    runaway: Cell<bool>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs").field("promise", &self.promise.borrow().len()).finish_non_exhaustive()
    }
}

impl Jobs {
    /// Performs a microtask checkpoint on `context` (whose executor is a `Jobs`).
    pub(crate) fn checkpoint(context: &mut Context) -> Checkpoint {
        let Some(jobs) = context.downcast_job_executor::<Self>() else { return Checkpoint::Drained };
        if jobs.idle() {
            // Nothing to run: the checkpoint is only its last step.
            context.clear_kept_objects();
            return Checkpoint::Drained;
        }
        jobs.runaway.set(false);
        match context.run_jobs() {
            Err(error) => Checkpoint::Failed(error),
            Ok(()) if jobs.runaway.replace(false) => Checkpoint::Runaway,
            Ok(()) => Checkpoint::Drained,
        }
    }

    /// The reasons of the promises still unhandled at the end of a checkpoint,
    /// and how many more were not kept. Each is returned once.
    pub(crate) fn take_unhandled(context: &mut Context) -> (Vec<JsValue>, u64) {
        let Some(jobs) = context.downcast_job_executor::<Self>() else { return (Vec::new(), 0) };
        let promises = std::mem::take(&mut *jobs.rejected.borrow_mut());
        let reasons = promises
            .into_iter()
            .filter_map(|promise| match JsPromise::from_object(promise).ok()?.state() {
                PromiseState::Rejected(reason) => Some(reason),
                _ => None,
            })
            .collect();
        (reasons, jobs.overflow.replace(0))
    }

    /// Stops tracking `promise` (one whose rejection the engine itself consumes,
    /// such as a module's evaluation promise).
    pub(crate) fn forget(context: &Context, promise: &JsObject) {
        if let Some(jobs) = context.downcast_job_executor::<Self>() {
            jobs.rejected.borrow_mut().retain(|p| !JsObject::equals(p, promise));
        }
    }

    /// Whether no job of any kind is queued and no rejection awaits its report.
    fn idle(&self) -> bool {
        self.promise.borrow().is_empty()
            && self.asynchronous.borrow().is_empty()
            && self.generic.borrow().is_empty()
            && self.finalization.borrow().is_empty()
            && self.rejected.borrow().is_empty()
            && self.overflow.get() == 0
    }

    fn track(&self, promise: &JsObject, operation: OperationType) {
        let mut rejected = self.rejected.borrow_mut();
        match operation {
            OperationType::Reject if rejected.len() < MAX_PENDING_REJECTIONS => rejected.push(promise.clone()),
            OperationType::Reject => self.overflow.set(self.overflow.get() + 1),
            OperationType::Handle => rejected.retain(|p| !JsObject::equals(p, promise)),
        }
    }

    fn clear(&self) {
        self.promise.borrow_mut().clear();
        self.asynchronous.borrow_mut().clear();
        self.generic.borrow_mut().clear();
    }

    /// Polls a job's future once; the module loader's futures are always ready.
    fn poll_once(job: NativeAsyncJob, context: &RefCell<&mut Context>) -> Option<JsResult<JsValue>> {
        let mut future = job.call(context);
        match Pin::new(&mut future).poll(&mut TaskContext::from_waker(Waker::noop())) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        }
    }
}

impl JobExecutor for Jobs {
    fn enqueue_job(self: Rc<Self>, job: Job, _context: &mut Context) {
        match job {
            Job::PromiseJob(job) => self.promise.borrow_mut().push_back(job),
            Job::AsyncJob(job) => self.asynchronous.borrow_mut().push_back(job),
            Job::GenericJob(job) => self.generic.borrow_mut().push_back(job),
            Job::FinalizationRegistryCleanupJob(job) => self.finalization.borrow_mut().push_back(job),
            // Timers are not part of an AudioWorkletGlobalScope.
            _ => {}
        }
    }

    fn run_jobs(self: Rc<Self>, context: &mut Context) -> JsResult<()> {
        let context = RefCell::new(context);
        let mut ran = 0u64;
        loop {
            let asynchronous = std::mem::take(&mut *self.asynchronous.borrow_mut());
            for job in asynchronous {
                if let Some(Err(error)) = Self::poll_once(job, &context) {
                    self.clear();
                    return Err(error);
                }
            }
            let next = self.promise.borrow_mut().pop_front();
            let result = match next {
                Some(job) => job.call(&mut context.borrow_mut()),
                None => match self.generic.borrow_mut().pop_front() {
                    Some(job) => job.call(&mut context.borrow_mut()),
                    None if self.asynchronous.borrow().is_empty() => break,
                    None => continue,
                },
            };
            if let Err(error) = result {
                self.clear();
                return Err(error);
            }
            ran += 1;
            if ran >= MICROTASK_BUDGET && !self.promise.borrow().is_empty() {
                self.clear();
                self.runaway.set(true);
                break;
            }
        }
        let finalization = std::mem::take(&mut *self.finalization.borrow_mut());
        for job in finalization {
            // A cleanup that is not due yet is dropped, as Boa's executor drops it.
            let _ = Self::poll_once(job, &context);
        }
        context.borrow_mut().clear_kept_objects();
        Ok(())
    }
}

/// The realm's host hooks: rejection tracking for [`Jobs`].
pub(crate) struct Hooks {
    jobs: Rc<Jobs>,
}

impl Hooks {
    pub(crate) fn new(jobs: Rc<Jobs>) -> Self {
        Self { jobs }
    }
}

impl HostHooks for Hooks {
    fn promise_rejection_tracker(&self, promise: &JsObject<Promise>, operation: OperationType, _: &mut Context) {
        self.jobs.track(&promise.clone().upcast(), operation);
    }
}
