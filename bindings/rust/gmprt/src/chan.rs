//! Channels: `Chan<T>` over `gmp_chan_t`.
//!
//! The C channel copies `size_of::<T>()` bytes. Moving a `T` through it is a
//! move in Rust terms: a send copies the value's bytes in and forgets the
//! value (unless the send failed: then the caller gets it back), a receive
//! copies bytes out into a `MaybeUninit<T>` and owns the value from then on.
//! So every value sent is dropped exactly once: by its receiver, or, for
//! values still buffered when the last `Chan` handle goes, by that handle's
//! drop, which drains the buffer before releasing its reference.

use std::ffi::c_void;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{self, ManuallyDrop, MaybeUninit};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gmprt_sys as sys;

use crate::error::{check, Error, Result};
use crate::time::duration_ns;

/// SendError: a send that did not happen, with the value it did not send.
pub struct SendError<T> {
    /// The value, given back to the caller.
    pub value: T,
    /// Why: [`Error::Closed`], [`Error::WouldBlock`] (`try_send`, timeout
    /// 0) or [`Error::TimedOut`].
    pub error: Error,
}

impl<T> SendError<T> {
    /// into_inner: the value that was not sent.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "send failed: {}", self.error)
    }
}

impl<T> std::error::Error for SendError<T> {}

impl<T> From<SendError<T>> for Error {
    fn from(e: SendError<T>) -> Error {
        e.error
    }
}

/// Chan: Go's `chan T`, a typed handle on a gmprt channel.
///
/// `clone` takes another reference (`gmp_chan_retain`), `drop` gives it
/// back (`gmp_chan_release`); the channel lives while any handle (or a call
/// in progress on it) does. When the last handle is dropped, values still
/// in the buffer are dropped with it.
///
/// Every operation works from goroutines and plain threads alike: a
/// goroutine parks, a plain thread blocks.
///
/// ```
/// let c = gmprt::Chan::<String>::make(2).unwrap();
/// c.send("hello".to_string()).unwrap();
/// assert_eq!(c.len(), 1);
/// assert_eq!(c.recv().unwrap(), "hello");
/// c.close().unwrap();
/// assert_eq!(c.recv(), Err(gmprt::Error::Closed));
/// ```
pub struct Chan<T> {
    raw: NonNull<sys::gmp_chan_t>,
    /// Rust handles on this channel (clones of this one): the one whose drop
    /// takes it to zero drains the buffer. None when `T` needs no drop:
    /// nothing to drain, so clone and drop cost one C reference only.
    handles: Option<Arc<AtomicUsize>>,
    _values: PhantomData<T>,
}

// SAFETY: the C channel is thread-safe (its operations lock), and a handle
// only moves `T` values between threads: sending a Chan<T> (or sharing it)
// lets another thread send or receive Ts, which needs T: Send and nothing
// more. Sync follows for the same reason: `&Chan<T>` gives exactly the
// operations `Chan<T>` gives.
unsafe impl<T: Send> Send for Chan<T> {}
// SAFETY: see Send.
unsafe impl<T: Send> Sync for Chan<T> {}

impl<T> Chan<T> {
    /// make: `make(chan T, capacity)`; capacity 0 is unbuffered (a send and
    /// a receive meet). [`Error::InvalidArgument`] when `T` is larger than
    /// `gmprt_sys::GMP_CHAN_ELEM_MAX` (64 KiB: send a `Box` instead) or the
    /// buffer is too large; [`Error::OutOfMemory`].
    pub fn make(capacity: usize) -> Result<Chan<T>> {
        let mut raw = std::ptr::null_mut();
        // SAFETY: raw is a valid out pointer.
        check(unsafe { sys::gmp_chan_make(&mut raw, mem::size_of::<T>(), capacity) })?;
        // SAFETY: on success the library stored a non-null channel of
        // size_of::<T>() bytes, with one reference that is now ours.
        Ok(unsafe { Chan::adopt(raw) })
    }

    /// adopt: wrap a channel reference known to hold `T`-sized elements.
    ///
    /// # Safety
    /// `raw` is non-null, its element size is `size_of::<T>()` and its
    /// values are `T`s; the caller gives one reference up.
    unsafe fn adopt(raw: *mut sys::gmp_chan_t) -> Chan<T> {
        Chan {
            raw: NonNull::new_unchecked(raw),
            handles: if mem::needs_drop::<T>() {
                Some(Arc::new(AtomicUsize::new(1)))
            } else {
                None
            },
            _values: PhantomData,
        }
    }

    /// from_raw: take over one reference to a channel made elsewhere (by C
    /// code, another language's binding, `gmp_after`), as a new family of
    /// handles. `None` for NULL.
    ///
    /// # Safety
    /// The channel's element size is `size_of::<T>()`, every value anyone
    /// sends on it is a valid `T` (so `T` should be plain data, such as
    /// integers, when C code sends too), and the caller owns the reference
    /// it gives up. Values left in the buffer are dropped when the last
    /// handle of this family goes (another family, or C, may still hold
    /// references).
    pub unsafe fn from_raw(raw: *mut sys::gmp_chan_t) -> Option<Chan<T>> {
        if raw.is_null() {
            None
        } else {
            Some(Chan::adopt(raw))
        }
    }

    /// as_raw: the C handle, for passing to C code. It stays valid while
    /// this handle lives; C code that keeps it must `gmp_chan_retain` it.
    pub fn as_raw(&self) -> *mut sys::gmp_chan_t {
        self.raw.as_ptr()
    }

    /// send: blocking send (Go's `c <- v`). On [`Error::Closed`] (closed
    /// before or while waiting; Go would panic) the value comes back in the
    /// error.
    pub fn send(&self, value: T) -> std::result::Result<(), SendError<T>> {
        self.send_with(value, |c, p| {
            // SAFETY: p points at a live T of the channel's element size.
            unsafe { sys::gmp_chan_send(c, p) }
        })
    }

    /// try_send: send without blocking: [`Error::WouldBlock`] when no
    /// receiver waits and the buffer is full.
    pub fn try_send(&self, value: T) -> std::result::Result<(), SendError<T>> {
        self.send_with(value, |c, p| {
            // SAFETY: as in send.
            unsafe { sys::gmp_chan_try_send(c, p) }
        })
    }

    /// send_timeout: send, waiting at most `timeout`: [`Error::TimedOut`]
    /// when it passes (a zero timeout is `try_send`).
    pub fn send_timeout(
        &self,
        value: T,
        timeout: Duration,
    ) -> std::result::Result<(), SendError<T>> {
        let ns = duration_ns(timeout);
        self.send_with(value, |c, p| {
            // SAFETY: as in send.
            unsafe { sys::gmp_chan_send_timeout(c, p, ns) }
        })
    }

    fn send_with(
        &self,
        value: T,
        call: impl FnOnce(*mut sys::gmp_chan_t, *const c_void) -> i32,
    ) -> std::result::Result<(), SendError<T>> {
        let value = ManuallyDrop::new(value);
        let rc = call(self.raw.as_ptr(), &*value as *const T as *const c_void);
        match check(rc) {
            // The bytes now belong to the channel (and then to a receiver):
            // the value is not dropped here.
            Ok(_) => Ok(()),
            Err(error) => Err(SendError {
                value: ManuallyDrop::into_inner(value),
                error,
            }),
        }
    }

    /// recv: blocking receive (Go's `<-c`): [`Error::Closed`] once the
    /// channel is closed and drained.
    pub fn recv(&self) -> Result<T> {
        self.recv_with(|c, p| {
            // SAFETY: p points at room for one T.
            unsafe { sys::gmp_chan_recv(c, p) }
        })
    }

    /// try_recv: receive without blocking: [`Error::WouldBlock`] when
    /// nothing is there.
    pub fn try_recv(&self) -> Result<T> {
        self.recv_with(|c, p| {
            // SAFETY: as in recv.
            unsafe { sys::gmp_chan_try_recv(c, p) }
        })
    }

    /// recv_timeout: receive, waiting at most `timeout`:
    /// [`Error::TimedOut`] when it passes.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T> {
        let ns = duration_ns(timeout);
        self.recv_with(|c, p| {
            // SAFETY: as in recv.
            unsafe { sys::gmp_chan_recv_timeout(c, p, ns) }
        })
    }

    fn recv_with(&self, call: impl FnOnce(*mut sys::gmp_chan_t, *mut c_void) -> i32) -> Result<T> {
        let mut slot = MaybeUninit::<T>::uninit();
        check(call(self.raw.as_ptr(), slot.as_mut_ptr() as *mut c_void))?;
        // SAFETY: success means a sender's T was copied into slot, and that
        // sender forgot its copy: the value is ours alone.
        Ok(unsafe { slot.assume_init() })
    }

    /// close: Go's `close(c)`: receivers drain the buffer, then get
    /// [`Error::Closed`]; waiting senders fail with [`Error::Closed`] (their
    /// values come back to them). [`Error::Closed`] if already closed.
    pub fn close(&self) -> Result<()> {
        // SAFETY: raw is a live channel.
        check(unsafe { sys::gmp_chan_close(self.raw.as_ptr()) }).map(|_| ())
    }

    /// len: values buffered now.
    pub fn len(&self) -> usize {
        // SAFETY: raw is a live channel.
        unsafe { sys::gmp_chan_len(self.raw.as_ptr()) }
    }

    /// is_empty: nothing buffered now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// cap: the capacity given to `make`.
    pub fn cap(&self) -> usize {
        // SAFETY: raw is a live channel.
        unsafe { sys::gmp_chan_cap(self.raw.as_ptr()) }
    }

    /// iter: receive until the channel is closed and drained (Go's
    /// `for v := range c`).
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { chan: self }
    }
}

impl<T> Clone for Chan<T> {
    fn clone(&self) -> Chan<T> {
        if let Some(h) = &self.handles {
            // Relaxed: a new handle is made from a live one, which keeps the
            // count above zero; the decrement in drop orders the rest.
            h.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: raw is a live channel.
        unsafe { sys::gmp_chan_retain(self.raw.as_ptr()) };
        Chan {
            raw: self.raw,
            handles: self.handles.clone(),
            _values: PhantomData,
        }
    }
}

impl<T> Drop for Chan<T> {
    fn drop(&mut self) {
        // AcqRel: the last handle sees every other handle's operations
        // (Release from each drop, Acquire by the last) before draining.
        let last = self
            .handles
            .as_ref()
            .map_or(false, |h| h.fetch_sub(1, Ordering::AcqRel) == 1);
        if last {
            // The last Rust handle: values still buffered have no other way
            // to be dropped. Nothing else receives concurrently (no handle
            // is left to do it).
            while let Ok(v) = self.try_recv() {
                drop(v);
            }
        }
        // SAFETY: this handle owns one reference.
        unsafe { sys::gmp_chan_release(self.raw.as_ptr()) };
    }
}

impl<T> fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chan")
            .field("raw", &self.raw)
            .field("len", &self.len())
            .field("cap", &self.cap())
            .finish()
    }
}

/// Iter: the values of a channel until it is closed; see [`Chan::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    chan: &'a Chan<T>,
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.chan.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Chan<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}
