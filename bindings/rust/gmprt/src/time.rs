//! Time: `now`, `sleep`, `after`, `Timer` (Go's `time.AfterFunc`) and
//! `Ticker`.

use std::ffi::c_void;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use gmprt_sys as sys;

use crate::chan::Chan;
use crate::error::{check, Error, Result};

/// duration_ns: a Duration as the C API's int64_t nanoseconds, saturating
/// at i64::MAX (about 292 years: "forever" for a timeout).
pub(crate) fn duration_ns(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// now: the runtime's monotonic clock (`CLOCK_MONOTONIC`) in nanoseconds,
/// the unit of the values [`after`] and [`Ticker`] deliver.
pub fn now() -> i64 {
    // SAFETY: no preconditions.
    unsafe { sys::gmp_now() }
}

/// sleep: Go's `time.Sleep`: parks the goroutine for at least `d` (a plain
/// thread sleeps).
pub fn sleep(d: Duration) {
    // SAFETY: no preconditions.
    unsafe { sys::gmp_sleep(duration_ns(d)) }
}

/// after: Go's `time.After`: a channel on which the [`now`] reading taken
/// when `d` has passed arrives, once. Typically a case of a select.
///
/// # Panics
///
/// Only when memory runs out for the timer or its channel.
///
/// ```
/// use std::time::Duration;
/// let never = gmprt::Chan::<()>::make(0).unwrap();
/// let timed_out = gmprt::select! {
///     recv(never) -> _ => false,
///     recv(gmprt::after(Duration::from_millis(5))) -> _ => true,
/// };
/// assert!(timed_out);
/// ```
pub fn after(d: Duration) -> Chan<i64> {
    let mut raw = std::ptr::null_mut();
    // SAFETY: raw is a valid out pointer.
    if let Err(e) = check(unsafe { sys::gmp_after(duration_ns(d), &mut raw) }) {
        panic!("gmprt::after: {}", e);
    }
    // SAFETY: a non-null channel of int64_t elements, one reference ours.
    unsafe { Chan::from_raw(raw) }.expect("gmp_after gave a channel")
}

/// TimerState: what a Timer's callback needs, shared by the handle and every
/// firing that is pending or running. `refs` counts them: 1 for the handle
/// plus 1 per pending or running firing; whoever takes it to zero frees the
/// state. This is what lets a firing that has already begun outlive
/// `Timer`'s drop. `repr(C)` puts `refs` first, so the type-erased handle
/// can reach it without knowing F.
#[repr(C)]
struct TimerState<F> {
    refs: AtomicUsize,
    f: F,
}

extern "C" fn timer_trampoline<F: Fn() + Send + Sync + 'static>(arg: *mut c_void) {
    let state = arg as *mut TimerState<F>;
    // SAFETY: this firing holds one of refs (taken by Timer::new or reset
    // before arming), so the state is alive until release below.
    let f = unsafe { &(*state).f };
    if panic::catch_unwind(AssertUnwindSafe(f)).is_err() {
        eprintln!(
            "gmprt: panic in a Timer's function (goroutine {}); aborting the process",
            crate::goid()
        );
        std::process::abort();
    }
    // SAFETY: this firing's reference.
    unsafe { release(state) };
}

/// release: drop one reference to a timer's state; the last frees it.
///
/// # Safety
/// The caller owns one reference.
unsafe fn release<F>(state: *mut TimerState<F>) {
    // AcqRel: the last owner sees every other owner's use of f.
    if (*state).refs.fetch_sub(1, Ordering::AcqRel) == 1 {
        drop(Box::from_raw(state));
    }
}

/// Timer: Go's `time.AfterFunc`: `f` runs on a goroutine of its own when
/// the time passes, unless stopped first; [`reset`](Timer::reset) arms it
/// again (also after it fired: `f` then runs again, possibly while an
/// earlier run is still going, hence `Fn + Sync`). Dropping the handle stops
/// the timer; a run already started finishes.
///
/// ```
/// use std::time::Duration;
/// let fired = gmprt::Chan::<u8>::make(1).unwrap();
/// let tx = fired.clone();
/// let t = gmprt::Timer::new(Duration::from_millis(1), move || {
///     let _ = tx.try_send(1);
/// })
/// .unwrap();
/// assert_eq!(fired.recv(), Ok(1));
/// assert!(!t.stop()); // it had fired
/// ```
pub struct Timer {
    raw: NonNull<sys::gmp_timer_t>,
    /// The TimerState<F>, type-erased; `release_state` knows its F.
    state: *mut c_void,
    release_state: unsafe fn(*mut c_void),
}

// SAFETY: the C timer calls are thread-safe, and the state is shared only
// through its reference count; F is Send + Sync.
unsafe impl Send for Timer {}
// SAFETY: see Send.
unsafe impl Sync for Timer {}

unsafe fn release_erased<F>(state: *mut c_void) {
    release(state as *mut TimerState<F>)
}

impl Timer {
    /// new: run `f` on a new goroutine after `d`.
    pub fn new<F>(d: Duration, f: F) -> Result<Timer>
    where
        F: Fn() + Send + Sync + 'static,
    {
        // One reference for the handle, one for the first firing.
        let state = Box::into_raw(Box::new(TimerState {
            refs: AtomicUsize::new(2),
            f,
        }));
        let mut raw = std::ptr::null_mut();
        // SAFETY: the trampoline matches F, and the firing's reference is
        // taken above.
        let rc = unsafe {
            sys::gmp_timer_start(
                &mut raw,
                duration_ns(d),
                Some(timer_trampoline::<F>),
                state as *mut c_void,
            )
        };
        if let Err(e) = check(rc) {
            // SAFETY: nothing else saw the state.
            drop(unsafe { Box::from_raw(state) });
            return Err(e);
        }
        Ok(Timer {
            raw: NonNull::new(raw).ok_or(Error::InvalidArgument)?,
            state: state as *mut c_void,
            release_state: release_erased::<F>,
        })
    }

    fn refs(&self) -> &AtomicUsize {
        // SAFETY: state is a live TimerState<F> (the handle holds a
        // reference), and repr(C) puts refs at its start whatever F is.
        unsafe { &*(self.state as *const AtomicUsize) }
    }

    /// stop: Go's `Stop`: `true` if this call stopped the timer before it
    /// fired, `false` if it had fired or been stopped already.
    pub fn stop(&self) -> bool {
        // SAFETY: raw is live until drop.
        let stopped = unsafe { sys::gmp_timer_stop(self.raw.as_ptr()) } == 1;
        if stopped {
            // The cancelled firing's reference is ours to drop; the handle's
            // keeps the state alive, so this never frees it.
            self.refs().fetch_sub(1, Ordering::AcqRel);
        }
        stopped
    }

    /// reset: Go's `Reset`: arm the timer to fire `d` from now; `true` if
    /// it was still pending (that firing is replaced), `false` if it had
    /// fired or been stopped (`f` will run again).
    pub fn reset(&self, d: Duration) -> bool {
        // Take the new firing's reference first: it may run at once.
        self.refs().fetch_add(1, Ordering::Relaxed);
        // SAFETY: raw is live until drop.
        let rc = unsafe { sys::gmp_timer_reset(self.raw.as_ptr(), duration_ns(d)) };
        let was_pending = rc == 1;
        if was_pending || rc < 0 {
            // The pending firing's reference passes to the new one (or
            // nothing was armed): one too many was taken.
            self.refs().fetch_sub(1, Ordering::AcqRel);
        }
        was_pending
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.stop();
        // SAFETY: raw is live; after gmp_timer_free nothing new fires.
        unsafe { sys::gmp_timer_free(self.raw.as_ptr()) };
        // SAFETY: the handle's reference.
        unsafe { (self.release_state)(self.state) };
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("raw", &self.raw)
            .finish_non_exhaustive()
    }
}

/// Ticker: Go's `time.Ticker`: every period the [`now`] reading is sent on
/// [`chan`](Ticker::chan) (capacity 1): a slow reader finds at most one
/// stale tick, the others are dropped. Dropping the ticker stops it.
///
/// ```
/// use std::time::Duration;
/// let t = gmprt::Ticker::new(Duration::from_millis(1)).unwrap();
/// let a = t.chan().recv().unwrap();
/// let b = t.chan().recv().unwrap();
/// assert!(b > a);
/// ```
pub struct Ticker {
    raw: NonNull<sys::gmp_ticker_t>,
    chan: Chan<i64>,
}

// SAFETY: the C ticker calls are thread-safe; Chan<i64> is Send + Sync.
unsafe impl Send for Ticker {}
// SAFETY: see Send.
unsafe impl Sync for Ticker {}

impl Ticker {
    /// new: tick every `period`; [`Error::InvalidArgument`] for a zero
    /// period.
    pub fn new(period: Duration) -> Result<Ticker> {
        let mut raw = std::ptr::null_mut();
        let mut c = std::ptr::null_mut();
        // SAFETY: valid out pointers.
        check(unsafe { sys::gmp_ticker_start(&mut raw, duration_ns(period), &mut c) })?;
        // SAFETY: the channel's elements are int64_t; one reference is ours.
        let chan = unsafe { Chan::from_raw(c) }.ok_or(Error::InvalidArgument)?;
        Ok(Ticker {
            raw: NonNull::new(raw).ok_or(Error::InvalidArgument)?,
            chan,
        })
    }

    /// chan: the channel the ticks arrive on. A clone of it stays valid
    /// after the ticker is dropped (no more ticks come).
    pub fn chan(&self) -> &Chan<i64> {
        &self.chan
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        // SAFETY: raw is live; this frees the handle.
        unsafe { sys::gmp_ticker_stop(self.raw.as_ptr()) }
    }
}

impl fmt::Debug for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticker")
            .field("raw", &self.raw)
            .finish_non_exhaustive()
    }
}
