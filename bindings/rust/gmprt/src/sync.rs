//! Go's `sync` types over gmprt's: `Mutex<T>`, `WaitGroup`, `Once`.
//!
//! The C objects must not move once in use (waiters are queued by their
//! address), so each wrapper keeps its C object in a `Box` of its own: the
//! Rust value moves freely, the C object never does. All of them block a
//! goroutine by parking it (its thread runs other goroutines) and a plain
//! thread by blocking it, and work between the two alike.

use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::{self, AssertUnwindSafe};

use gmprt_sys as sys;

use crate::error::{check, Result};

/// Mutex: Go's `sync.Mutex` guarding a `T`, like `std::sync::Mutex` but
/// parking the goroutine instead of blocking its thread. It spins briefly,
/// then parks (FIFO); a waiter that waited more than 1 ms switches it to
/// starvation mode (the lock is handed straight to the longest waiter).
/// There is no poisoning: a panic in a goroutine aborts the process.
///
/// ```
/// use std::sync::Arc;
/// let m = Arc::new(gmprt::Mutex::new(0));
/// let wg = Arc::new(gmprt::WaitGroup::new());
/// for _ in 0..8 {
///     let (m, wg) = (m.clone(), wg.clone());
///     wg.add(1).unwrap();
///     gmprt::go(move || {
///         *m.lock() += 1;
///         wg.done().unwrap();
///     });
/// }
/// wg.wait();
/// assert_eq!(*m.lock(), 8);
/// ```
pub struct Mutex<T: ?Sized> {
    raw: Box<UnsafeCell<sys::gmp_mutex_t>>,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out &mut T to one holder at a time, and the
// holder may be any thread (goroutines move between threads): T: Send is
// what that needs, as for std::sync::Mutex.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: see Send.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// new: an unlocked mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            raw: Box::new(UnsafeCell::new(sys::gmp_mutex_t::default())),
            data: UnsafeCell::new(value),
        }
    }

    /// into_inner: the value, consuming the mutex.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// lock: wait for the lock; it is released when the guard is dropped.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        // SAFETY: raw is a live, boxed (never moving) gmp_mutex_t.
        unsafe { sys::gmp_mutex_lock(self.raw.get()) };
        MutexGuard { mutex: self }
    }

    /// try_lock: the lock if it is free now, else [`crate::Error::Busy`].
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>> {
        // SAFETY: as in lock.
        check(unsafe { sys::gmp_mutex_trylock(self.raw.get()) })?;
        Ok(MutexGuard { mutex: self })
    }

    /// get_mut: the value, through a unique borrow (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex").finish_non_exhaustive()
    }
}

/// MutexGuard: the held lock of a [`Mutex`]; dereferences to the value and
/// unlocks when dropped. Unlike `std::sync::MutexGuard` it is `Send` (for
/// `T: Send`): a gmprt mutex may be unlocked by another thread than the one
/// that locked it, which is what happens when a goroutine holding it blocks
/// and resumes on another thread.
#[must_use = "the mutex unlocks when the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
}

// SAFETY: the guard gives &T and &mut T of the value: Sync needs T: Sync.
unsafe impl<'a, T: ?Sized + Sync> Sync for MutexGuard<'a, T> {}

impl<'a, T: ?Sized> Deref for MutexGuard<'a, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock: nobody else accesses data.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<'a, T: ?Sized> DerefMut for MutexGuard<'a, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in deref, and &mut self makes the borrow unique.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<'a, T: ?Sized> Drop for MutexGuard<'a, T> {
    fn drop(&mut self) {
        // SAFETY: the guard holds the lock, so the unlock cannot fail.
        unsafe { sys::gmp_mutex_unlock(self.mutex.raw.get()) };
    }
}

impl<'a, T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'a, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// WaitGroup: Go's `sync.WaitGroup`: `add` before starting work, `done`
/// when a piece finishes, `wait` until the count is back at zero. Share it
/// with an `Arc` (or a `&'static`).
pub struct WaitGroup {
    raw: Box<UnsafeCell<sys::gmp_waitgroup_t>>,
}

// SAFETY: the C waitgroup is made for concurrent use from any thread, and
// the wrapper holds nothing else.
unsafe impl Send for WaitGroup {}
// SAFETY: see Send.
unsafe impl Sync for WaitGroup {}
// Its only state is the C counter, which a panic cannot leave half-changed.
impl std::panic::UnwindSafe for WaitGroup {}
impl std::panic::RefUnwindSafe for WaitGroup {}

impl WaitGroup {
    /// new: a wait group with count zero.
    pub fn new() -> WaitGroup {
        WaitGroup {
            raw: Box::new(UnsafeCell::new(sys::gmp_waitgroup_t::default())),
        }
    }

    /// add: add `delta` (which may be negative) to the count; when it
    /// reaches zero every waiter wakes. [`crate::Error::InvalidArgument`]
    /// (and nothing changes) when the count would go negative or past
    /// `i32::MAX`.
    pub fn add(&self, delta: i64) -> Result<()> {
        // SAFETY: raw is a live, boxed gmp_waitgroup_t.
        check(unsafe { sys::gmp_waitgroup_add(self.raw.get(), delta) }).map(|_| ())
    }

    /// done: `add(-1)`.
    pub fn done(&self) -> Result<()> {
        // SAFETY: as in add.
        check(unsafe { sys::gmp_waitgroup_done(self.raw.get()) }).map(|_| ())
    }

    /// wait: until the count is zero.
    pub fn wait(&self) {
        // SAFETY: as in add.
        unsafe { sys::gmp_waitgroup_wait(self.raw.get()) }
    }
}

impl Default for WaitGroup {
    fn default() -> Self {
        WaitGroup::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup").finish_non_exhaustive()
    }
}

/// Once: Go's `sync.Once`: the first `call_once` runs its closure; every
/// other caller waits until it has finished, then returns without running
/// its own.
///
/// ```
/// let once = gmprt::Once::new();
/// let mut n = 0;
/// once.call_once(|| n += 1);
/// once.call_once(|| n += 1);
/// assert_eq!(n, 1);
/// ```
pub struct Once {
    raw: Box<UnsafeCell<sys::gmp_once_t>>,
}

// SAFETY: the C once is made for concurrent use from any thread.
unsafe impl Send for Once {}
// SAFETY: see Send.
unsafe impl Sync for Once {}
// A panic in the closure leaves the Once done and consistent (as std's).
impl std::panic::UnwindSafe for Once {}
impl std::panic::RefUnwindSafe for Once {}

struct OnceCall<F> {
    f: Option<F>,
    panic: Option<Box<dyn std::any::Any + Send>>,
}

extern "C" fn once_trampoline<F: FnOnce()>(arg: *mut c_void) {
    // SAFETY: arg is the OnceCall<F> of the call_once that is inside
    // gmp_once_do on this goroutine or thread; it outlives this call.
    let call = unsafe { &mut *(arg as *mut OnceCall<F>) };
    if let Some(f) = call.f.take() {
        // The panic is carried past the C frame and resumed by call_once.
        call.panic = panic::catch_unwind(AssertUnwindSafe(f)).err();
    }
}

impl Once {
    /// new: a Once that has not run.
    pub fn new() -> Once {
        Once {
            raw: Box::new(UnsafeCell::new(sys::gmp_once_t::default())),
        }
    }

    /// call_once: run `f` if no call has yet; wait for the one that does.
    /// A panic in `f` is resumed in its caller (the Once counts as done,
    /// as in Go).
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        let mut call = OnceCall {
            f: Some(f),
            panic: None,
        };
        // SAFETY: the trampoline matches F; `call` lives across the call,
        // which runs the trampoline (if at all) before it returns.
        unsafe {
            sys::gmp_once_do(
                self.raw.get(),
                Some(once_trampoline::<F>),
                &mut call as *mut OnceCall<F> as *mut c_void,
            )
        };
        if let Some(p) = call.panic {
            panic::resume_unwind(p);
        }
    }
}

impl Default for Once {
    fn default() -> Self {
        Once::new()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once").finish_non_exhaustive()
    }
}
