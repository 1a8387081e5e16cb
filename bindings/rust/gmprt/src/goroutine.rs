//! Goroutines: `go`, `main`, the spawn `Builder`, and the calls about the
//! running goroutine and the scheduler.
//!
//! Every closure crosses the C ABI the same way: boxed (or, for `main`, in a
//! slot on the caller's stack), its address passed as the `void *arg` of a
//! monomorphic `extern "C"` trampoline. The trampoline runs it under
//! `catch_unwind`, so no panic ever unwinds into the runtime's C++ frames.

use std::ffi::{c_void, CString};
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use gmprt_sys as sys;

use crate::error::{check, Error, Result};

/// die: the end of a goroutine that panicked. The panic hook has already
/// printed the panic's message; this adds which goroutine, then aborts.
fn die(what: &str) -> ! {
    // SAFETY: gmp_goid has no preconditions.
    let id = unsafe { sys::gmp_goid() };
    eprintln!("gmprt: panic in {} (goroutine {}); aborting the process", what, id);
    std::process::abort()
}

/// trampoline: the C entry of a goroutine started by `go`/`Builder::spawn`.
extern "C" fn trampoline<F: FnOnce() + Send + 'static>(arg: *mut c_void) {
    // SAFETY: arg is the Box<F> leaked by spawn_raw for this one call; the
    // runtime calls the trampoline exactly once per successful gmp_go.
    let f = unsafe { Box::from_raw(arg as *mut F) };
    if panic::catch_unwind(AssertUnwindSafe(f)).is_err() {
        die("a goroutine");
    }
}

/// go: start a goroutine running `f` (Go's `go f()`), from a goroutine or
/// any thread. The closure is moved to the goroutine, which may run on any
/// of the runtime's threads, hence `Send + 'static`.
///
/// A panic inside the goroutine prints its message and aborts the process
/// (it cannot unwind through the runtime, and nobody joins a goroutine to
/// receive it).
///
/// # Panics
///
/// When the runtime cannot start a goroutine (no memory for its stack), as
/// `std::thread::spawn` does; [`Builder::spawn`] returns the error instead.
///
/// ```
/// let c = gmprt::Chan::<u32>::make(0).unwrap();
/// let tx = c.clone();
/// gmprt::go(move || tx.send(42).unwrap());
/// assert_eq!(c.recv(), Ok(42));
/// ```
pub fn go<F>(f: F)
where
    F: FnOnce() + Send + 'static,
{
    if let Err(e) = Builder::new().spawn(f) {
        panic!("gmprt::go: cannot start a goroutine: {}", e);
    }
}

/// Builder: a goroutine with options (Go has none; the C API's
/// `gmp_go_ex`): a name shown in dumps and deadlock reports, and a stack
/// size.
///
/// ```
/// let done = gmprt::Chan::<()>::make(1).unwrap();
/// let d = done.clone();
/// gmprt::Builder::new()
///     .name("worker")
///     .stack_size(1 << 20)
///     .spawn(move || d.send(()).unwrap())
///     .unwrap();
/// done.recv().unwrap();
/// ```
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<CString>,
    stack_size: usize,
}

impl Builder {
    /// new: default options (no name, default stack of
    /// `gmprt_sys::GMP_STACK_DEFAULT` bytes).
    pub fn new() -> Builder {
        Builder::default()
    }

    /// name: the goroutine's name (the runtime keeps its first 31 bytes).
    /// A name containing a NUL byte is cut there.
    pub fn name(mut self, name: &str) -> Builder {
        let bytes = name.as_bytes();
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        self.name = Some(CString::new(&bytes[..end]).expect("no NUL before end"));
        self
    }

    /// stack_size: the usable stack in bytes, within
    /// [`GMP_STACK_MIN`, `GMP_STACK_MAX`] of `gmprt_sys` (others make
    /// `spawn` fail with [`Error::InvalidArgument`]); 0 is the default.
    pub fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = bytes;
        self
    }

    /// spawn: start the goroutine. [`Error::InvalidArgument`] for a stack
    /// size out of range, [`Error::OutOfMemory`] when no stack can be had;
    /// `f` is dropped on failure.
    pub fn spawn<F>(self, f: F) -> Result<()>
    where
        F: FnOnce() + Send + 'static,
    {
        let opts = sys::gmp_go_opts_t {
            struct_size: std::mem::size_of::<sys::gmp_go_opts_t>(),
            stack_size: self.stack_size,
            name: self.name.as_ref().map_or(std::ptr::null(), |n| n.as_ptr()),
        };
        let arg = Box::into_raw(Box::new(f)) as *mut c_void;
        // SAFETY: the trampoline matches F and takes ownership of arg; opts
        // (and the name it points to) live across the call, which copies
        // the name.
        let rc = unsafe { sys::gmp_go_ex(Some(trampoline::<F>), arg, &opts) };
        if let Err(e) = check(rc) {
            // SAFETY: the goroutine was not started, so arg is still ours.
            drop(unsafe { Box::from_raw(arg as *mut F) });
            return Err(e);
        }
        Ok(())
    }
}

/// MainSlot: `main`'s closure and result, on the caller's stack.
struct MainSlot<F, R> {
    f: Option<F>,
    out: Option<std::thread::Result<R>>,
}

extern "C" fn main_trampoline<F: FnOnce() -> R + Send + 'static, R: Send>(arg: *mut c_void) {
    // SAFETY: arg points at the MainSlot of the `main` call that is waiting
    // in gmp_main; it stays valid until this goroutine returns (or forever
    // blocks, after its closure has been taken out: see `main`).
    let slot = unsafe { &mut *(arg as *mut MainSlot<F, R>) };
    let f = slot.f.take().expect("main's closure runs once");
    let out = panic::catch_unwind(AssertUnwindSafe(f));
    slot.out = Some(out);
}

/// main: run `f` as the main goroutine (goroutine 1 when it is the first
/// runtime call of the process) and block the calling thread until it
/// returns; its value is returned. The calling thread only waits: `f` runs
/// on one of the runtime's threads.
///
/// While it waits, the runtime watches for deadlock: when every goroutine is
/// blocked and nothing can wake one, it prints
/// `gmp: all goroutines are asleep - deadlock!` and the goroutines' list to
/// stderr and `main` returns [`Error::Deadlock`]; the blocked goroutines
/// (the main one included, with whatever its closure owns) stay blocked.
/// [`Error::PermissionDenied`] when called from a goroutine.
///
/// A panic of the main goroutine is carried to the calling thread and
/// resumed there (as joining a thread would), never through the runtime.
///
/// ```
/// let sum = gmprt::main(|| {
///     let c = gmprt::Chan::make(10).unwrap();
///     for i in 1..=10u64 {
///         let c = c.clone();
///         gmprt::go(move || c.send(i).unwrap());
///     }
///     (0..10).map(|_| c.recv().unwrap()).sum::<u64>()
/// });
/// assert_eq!(sum, Ok(55));
/// ```
pub fn main<F, R>(f: F) -> Result<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let mut slot = MainSlot { f: Some(f), out: None };
    // SAFETY: the trampoline matches F and R; gmp_main returns only after
    // the main goroutine has returned (slot.out is set) or has deadlocked
    // (it has taken its closure and never touches the slot again: a
    // deadlocked main goroutine is forgotten by gmp_main, and whatever
    // wakes it later finds its closure on its own stack, not in the slot).
    let rc = unsafe {
        sys::gmp_main(Some(main_trampoline::<F, R>), &mut slot as *mut MainSlot<F, R> as *mut c_void)
    };
    check(rc)?;
    match slot.out.take() {
        Some(Ok(r)) => Ok(r),
        Some(Err(payload)) => panic::resume_unwind(payload),
        None => Err(Error::Deadlock),
    }
}

/// yield_now: Go's `runtime.Gosched`: the goroutine goes to the back of the
/// global run queue and its thread runs others. On a plain thread,
/// `sched_yield`.
pub fn yield_now() {
    // SAFETY: no preconditions.
    unsafe { sys::gmp_yield() }
}

/// goid: the running goroutine's id (never reused), 0 on a plain thread.
pub fn goid() -> u64 {
    // SAFETY: no preconditions.
    unsafe { sys::gmp_goid() }
}

/// num_goroutine: live user goroutines (Go's `runtime.NumGoroutine`).
pub fn num_goroutine() -> usize {
    // SAFETY: no preconditions.
    let n = unsafe { sys::gmp_num_goroutine() };
    n.max(0) as usize
}

/// maxprocs: the current GOMAXPROCS (number of Ps).
pub fn maxprocs() -> usize {
    // SAFETY: n <= 0 only queries.
    unsafe { sys::gmp_maxprocs(0) as usize }
}

/// set_maxprocs: set GOMAXPROCS (at run time too) and return the previous
/// value; [`Error::InvalidArgument`] for 0 or more than
/// `gmprt_sys::GMP_MAXPROCS_MAX`.
pub fn set_maxprocs(n: usize) -> Result<usize> {
    if n == 0 || n > sys::GMP_MAXPROCS_MAX as usize {
        return Err(Error::InvalidArgument);
    }
    // SAFETY: n is in range.
    check(unsafe { sys::gmp_maxprocs(n as i32) }).map(|p| p as usize)
}

/// shutdown: wait up to `timeout` (None: forever) for every goroutine to
/// finish, then stop the runtime's threads (`gmp_shutdown`); the next call
/// that needs the runtime starts it again. [`Error::Busy`] when goroutines
/// remain (the runtime then keeps running) or when called from a goroutine.
/// No other gmprt call may run concurrently with it.
pub fn shutdown(timeout: Option<Duration>) -> Result<()> {
    let ns = timeout.map_or(-1, crate::time::duration_ns);
    // SAFETY: the concurrency rule is the caller's, as documented.
    check(unsafe { sys::gmp_shutdown(ns) }).map(|_| ())
}

/// OsThreadLock: the guard of [`lock_os_thread`]; dropping it unlocks.
/// Neither `Send` nor `Sync`: it belongs to the goroutine that locked.
#[must_use = "the goroutine is unlocked when the guard is dropped"]
#[derive(Debug)]
pub struct OsThreadLock {
    _not_send: PhantomData<*const ()>,
}

/// lock_os_thread: Go's `runtime.LockOSThread`: until the guard is dropped
/// the goroutine runs on its current thread only, and the thread runs
/// nothing else; use it for libraries that keep per-thread state (OpenGL
/// contexts, some GUI toolkits, thread-local state in C libraries). Guards
/// nest. On a plain thread it does nothing (the thread is its own).
///
/// ```
/// gmprt::main(|| {
///     let _locked = gmprt::lock_os_thread();
///     let before = std::thread::current().id();
///     gmprt::sleep(std::time::Duration::from_millis(1));
///     assert_eq!(std::thread::current().id(), before);
/// }).unwrap();
/// ```
pub fn lock_os_thread() -> OsThreadLock {
    // SAFETY: no preconditions; returns 0 always.
    unsafe { sys::gmp_lock_os_thread() };
    OsThreadLock { _not_send: PhantomData }
}

impl Drop for OsThreadLock {
    fn drop(&mut self) {
        // SAFETY: balanced with the lock in lock_os_thread, on the same
        // goroutine (the guard cannot leave it: it is not Send).
        unsafe { sys::gmp_unlock_os_thread() };
    }
}

/// preempt_point: a cheap check (a load and a branch) that yields when the
/// runtime asked this goroutine to give way (it ran more than ~10 ms). Call
/// it in long loops that make no other gmprt call.
pub fn preempt_point() {
    // SAFETY: no preconditions.
    unsafe { sys::gmp_preempt_point() }
}
