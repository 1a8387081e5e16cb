//! Goroutines: `go`, `main`, the spawn `Builder`, and the calls about the
//! running goroutine and the scheduler.
//!
//! Every closure crosses the C ABI the same way: moved to the heap (or, for
//! `main`, into a slot on the caller's stack), its address passed as the
//! `void *arg` of a monomorphic `extern "C"` trampoline. The trampoline
//! runs it under `catch_unwind`, so no panic ever unwinds into the
//! runtime's C++ frames.
//!
//! Small closures (up to `BLOCK_SIZE` bytes) take their heap block from a
//! per-thread cache instead of the allocator: a goroutine's closure is
//! allocated on one thread and freed on another (where the goroutine
//! starts), in bursts, which defeats malloc's per-thread caches; skynet
//! spent a sixth of its instructions in malloc and free before this.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::Cell;
use std::ffi::{c_void, CString};
use std::marker::PhantomData;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::time::Duration;

use gmprt_sys as sys;

use crate::error::{check, Error, Result};

/// die: the end of a goroutine that panicked. The panic hook has already
/// printed the panic's message; this adds which goroutine, then aborts.
fn die(what: &str) -> ! {
    // SAFETY: gmp_goid has no preconditions.
    let id = unsafe { sys::gmp_goid() };
    eprintln!(
        "gmprt: panic in {} (goroutine {}); aborting the process",
        what, id
    );
    std::process::abort()
}

/// The block size and alignment of the closure cache.
const BLOCK_SIZE: usize = 64;
const BLOCK_ALIGN: usize = 16;
/// The most free blocks one thread keeps.
const CACHE_MAX: usize = 512;

/// BlockCache: a thread's free closure blocks, a singly linked list through
/// the blocks' first word. Touched only by its own thread, and only in code
/// that cannot block (so the goroutine doing it cannot change threads
/// meanwhile).
struct BlockCache {
    head: Cell<*mut u8>,
    len: Cell<usize>,
}

impl Drop for BlockCache {
    fn drop(&mut self) {
        let mut p = self.head.get();
        while !p.is_null() {
            // SAFETY: every listed block is a free block of block_layout()
            // whose first word links to the next.
            unsafe {
                let next = *(p as *mut *mut u8);
                dealloc(p, block_layout());
                p = next;
            }
        }
    }
}

thread_local! {
    static BLOCKS: BlockCache = const {
        BlockCache { head: Cell::new(ptr::null_mut()), len: Cell::new(0) }
    };
}

fn block_layout() -> Layout {
    // The constants make a valid layout.
    Layout::from_size_align(BLOCK_SIZE, BLOCK_ALIGN).unwrap()
}

/// fits: whether a closure of type F goes in a cached block.
const fn fits<F>() -> bool {
    mem::size_of::<F>() <= BLOCK_SIZE
        && mem::align_of::<F>() <= BLOCK_ALIGN
        && mem::size_of::<F>() > 0
}

/// boxed: move f to the heap; its address, for `unboxed::<F>`.
fn boxed<F>(f: F) -> *mut F {
    if !fits::<F>() {
        return Box::into_raw(Box::new(f));
    }
    let cached = BLOCKS
        .try_with(|c| {
            let p = c.head.get();
            if !p.is_null() {
                // SAFETY: p is a free block; its first word is the next one.
                c.head.set(unsafe { *(p as *mut *mut u8) });
                c.len.set(c.len.get() - 1);
            }
            p
        })
        .unwrap_or(ptr::null_mut());
    let p = if cached.is_null() {
        // SAFETY: the layout has a nonzero size.
        let p = unsafe { alloc(block_layout()) };
        if p.is_null() {
            handle_alloc_error(block_layout());
        }
        p
    } else {
        cached
    };
    // SAFETY: the block is large and aligned enough for F, and free.
    unsafe { ptr::write(p as *mut F, f) };
    p as *mut F
}

/// unboxed: take back a closure moved to the heap by `boxed::<F>` and free
/// (or cache) its memory.
///
/// # Safety
/// p came from boxed::<F> and is taken back once.
unsafe fn unboxed<F>(p: *mut F) -> F {
    if !fits::<F>() {
        return *Box::from_raw(p);
    }
    let f = ptr::read(p);
    let block = p as *mut u8;
    let kept = BLOCKS
        .try_with(|c| {
            if c.len.get() >= CACHE_MAX {
                return false;
            }
            *(block as *mut *mut u8) = c.head.get();
            c.head.set(block);
            c.len.set(c.len.get() + 1);
            true
        })
        .unwrap_or(false);
    if !kept {
        dealloc(block, block_layout());
    }
    f
}

/// trampoline: the C entry of a goroutine started by `go`/`Builder::spawn`.
extern "C" fn trampoline<F: FnOnce() + Send + 'static>(arg: *mut c_void) {
    // SAFETY: arg is the closure moved by `boxed` for this one call; the
    // runtime calls the trampoline exactly once per successful start.
    let f = unsafe { unboxed(arg as *mut F) };
    if panic::catch_unwind(AssertUnwindSafe(f)).is_err() {
        die("a goroutine");
    }
}

/// start: start a goroutine running f, through gmp_go or, with options,
/// gmp_go_ex; f is dropped when the start fails.
fn start<F>(f: F, opts: Option<&sys::gmp_go_opts_t>) -> Result<()>
where
    F: FnOnce() + Send + 'static,
{
    let arg = boxed(f);
    // SAFETY: the trampoline matches F and takes ownership of arg; opts
    // (and the name it points to) live across the call, which copies them.
    let rc = unsafe {
        match opts {
            None => sys::gmp_go(Some(trampoline::<F>), arg as *mut c_void),
            Some(o) => sys::gmp_go_ex(Some(trampoline::<F>), arg as *mut c_void, o),
        }
    };
    if let Err(e) = check(rc) {
        // SAFETY: the goroutine was not started, so arg is still ours.
        drop(unsafe { unboxed(arg) });
        return Err(e);
    }
    Ok(())
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
    if let Err(e) = start(f, None) {
        panic!("gmprt::go: cannot start a goroutine: {}", e);
    }
}

/// Builder: a goroutine with options (Go has none; the C API's
/// `gmp_go_ex`): a name shown in dumps and deadlock reports, a stack
/// size, and asynchronous preemption.
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
    async_preempt: bool,
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

    /// async_preempt: let the runtime preempt the goroutine at any
    /// instruction of its own code when it runs past its time slice
    /// (`GMP_GO_ASYNC_PREEMPT`). Its code must then be safe to suspend
    /// anywhere: no lock that other goroutines wait for without parking
    /// (`std::sync::Mutex` included; use [`crate::Mutex`]); see `gmprt.h`.
    pub fn async_preempt(mut self, on: bool) -> Builder {
        self.async_preempt = on;
        self
    }

    /// spawn: start the goroutine. [`Error::InvalidArgument`] for a stack
    /// size out of range, [`Error::OutOfMemory`] when no stack can be had;
    /// `f` is dropped on failure.
    pub fn spawn<F>(self, f: F) -> Result<()>
    where
        F: FnOnce() + Send + 'static,
    {
        if self.name.is_none() && self.stack_size == 0 && !self.async_preempt {
            return start(f, None);
        }
        let opts = sys::gmp_go_opts_t {
            struct_size: mem::size_of::<sys::gmp_go_opts_t>(),
            stack_size: self.stack_size,
            name: self.name.as_ref().map_or(ptr::null(), |n| n.as_ptr()),
            flags: if self.async_preempt { u64::from(sys::GMP_GO_ASYNC_PREEMPT) } else { 0 },
        };
        start(f, Some(&opts))
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
    let mut slot = MainSlot {
        f: Some(f),
        out: None,
    };
    // SAFETY: the trampoline matches F and R; gmp_main returns only after
    // the main goroutine has returned (slot.out is set) or has deadlocked
    // (it has taken its closure and never touches the slot again: a
    // deadlocked main goroutine is forgotten by gmp_main, and whatever
    // wakes it later finds its closure on its own stack, not in the slot).
    let rc = unsafe {
        sys::gmp_main(
            Some(main_trampoline::<F, R>),
            &mut slot as *mut MainSlot<F, R> as *mut c_void,
        )
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
    OsThreadLock {
        _not_send: PhantomData,
    }
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
