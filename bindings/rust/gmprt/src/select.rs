//! Select: Go's `select` over `gmp_select`, as a builder and as the
//! [`select!`](crate::select!) macro.
//!
//! Each case owns a slot on the heap that `gmp_select` reads (a send's
//! value) or writes (a receive's buffer). After the select, exactly one
//! case has proceeded: a received value is handed out once, through the
//! case's typed token; a sent value was moved into the channel; every other
//! send case's value is dropped with the select, as Go drops the evaluated
//! operands of the cases not chosen.

use std::ffi::c_void;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gmprt_sys as sys;

use crate::chan::{Chan, SendError};
use crate::error::{check, Error, Result};
use crate::time::duration_ns;

/// A case's storage: a receive buffer or a value to send.
trait Slot {
    /// elem: where gmp_select reads or writes the element.
    fn elem(&mut self) -> *mut c_void;
    /// proceeded: this case was chosen, with `result` (0 or GMP_ECLOSED).
    fn proceeded(&mut self, result: i32);
}

struct RecvSlot<T> {
    buf: MaybeUninit<T>,
    full: bool,
}

impl<T> Slot for RecvSlot<T> {
    fn elem(&mut self) -> *mut c_void {
        self.buf.as_mut_ptr() as *mut c_void
    }
    fn proceeded(&mut self, result: i32) {
        self.full = result == 0;
    }
}

impl<T> Drop for RecvSlot<T> {
    fn drop(&mut self) {
        if self.full {
            // SAFETY: full means a value was received and never taken.
            unsafe { self.buf.assume_init_drop() }
        }
    }
}

struct SendSlot<T> {
    value: Option<T>,
    /// Set when the value went into the channel.
    sent: bool,
}

impl<T> Slot for SendSlot<T> {
    fn elem(&mut self) -> *mut c_void {
        self.value
            .as_mut()
            .map_or(std::ptr::null_mut(), |v| v as *mut T as *mut c_void)
    }
    fn proceeded(&mut self, result: i32) {
        if result == 0 {
            self.sent = true;
            // The channel has the bytes: forget our copy.
            std::mem::forget(self.value.take());
        }
    }
}

/// The id of each Select, so that a token is only ever used with its own.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// RecvCase: the token of a receive case of one [`Select`]; pass it to
/// [`Selected::recv`].
#[derive(Debug)]
#[must_use]
pub struct RecvCase<T> {
    select: u64,
    index: usize,
    _t: PhantomData<fn() -> T>,
}

/// SendCase: the token of a send case of one [`Select`]; pass it to
/// [`Selected::send`].
#[derive(Debug)]
#[must_use]
pub struct SendCase<T> {
    select: u64,
    index: usize,
    _t: PhantomData<fn() -> T>,
}

/// Select: a Go `select` statement under construction. Add cases with
/// [`recv`](Select::recv) and [`send`](Select::send), then run it with
/// [`wait`](Select::wait) (no default clause), [`try_wait`](Select::try_wait)
/// (with `default:`) or [`wait_timeout`](Select::wait_timeout); ask the
/// result which case proceeded with the tokens. When several cases are
/// ready, each is chosen with equal probability.
///
/// ```
/// use gmprt::{Chan, Select};
/// let a = Chan::<i32>::make(1).unwrap();
/// let b = Chan::<&str>::make(1).unwrap();
/// b.send("hi").unwrap();
/// let mut s = Select::new();
/// let ra = s.recv(&a);
/// let rb = s.recv(&b);
/// let mut done = s.wait();
/// assert!(done.recv(ra).is_none());
/// assert_eq!(done.recv(rb), Some(Ok("hi")));
/// ```
pub struct Select<'a> {
    id: u64,
    cases: Vec<sys::gmp_select_case_t>,
    slots: Vec<Box<dyn Slot + 'a>>,
}

impl<'a> Default for Select<'a> {
    fn default() -> Self {
        Select::new()
    }
}

impl<'a> Select<'a> {
    /// new: a select with no cases (waiting on it blocks forever, like
    /// Go's `select {}`).
    pub fn new() -> Select<'a> {
        Select {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            cases: Vec::new(),
            slots: Vec::new(),
        }
    }

    /// recv: add a receive case on `chan`.
    pub fn recv<T: 'a>(&mut self, chan: &'a Chan<T>) -> RecvCase<T> {
        let index = self.push(
            chan.as_raw(),
            sys::GMP_RECV,
            Box::new(RecvSlot::<T> {
                buf: MaybeUninit::uninit(),
                full: false,
            }),
        );
        RecvCase {
            select: self.id,
            index,
            _t: PhantomData,
        }
    }

    /// send: add a case sending `value` on `chan`. If another case is
    /// chosen, the value is dropped with the select.
    pub fn send<T: 'a>(&mut self, chan: &'a Chan<T>, value: T) -> SendCase<T> {
        let index = self.push(
            chan.as_raw(),
            sys::GMP_SEND,
            Box::new(SendSlot {
                value: Some(value),
                sent: false,
            }),
        );
        SendCase {
            select: self.id,
            index,
            _t: PhantomData,
        }
    }

    fn push(&mut self, chan: *mut sys::gmp_chan_t, dir: u32, slot: Box<dyn Slot + 'a>) -> usize {
        self.slots.push(slot);
        self.cases.push(sys::gmp_select_case_t {
            chan,
            dir: dir as i32,
            elem: std::ptr::null_mut(),
            result: 0,
        });
        self.cases.len() - 1
    }

    /// wait: block until one case proceeds.
    pub fn wait(self) -> Selected<'a> {
        match self.run(-1) {
            Ok(s) => s,
            // Only invalid arguments could fail, and the builder makes none.
            Err((e, _)) => panic!("gmp_select: {}", e),
        }
    }

    /// try_wait: Go's select with a `default:` clause: the select if a case
    /// was ready (it has proceeded), `None` if none was (nothing happened;
    /// the send values are dropped).
    pub fn try_wait(self) -> Option<Selected<'a>> {
        self.run(0).ok()
    }

    /// wait_timeout: wait at most `timeout`; `None` when it passed with no
    /// case ready (nothing happened; the send values are dropped).
    pub fn wait_timeout(self, timeout: Duration) -> Option<Selected<'a>> {
        self.run(duration_ns(timeout)).ok()
    }

    fn run(mut self, ns: i64) -> std::result::Result<Selected<'a>, (Error, Select<'a>)> {
        for (case, slot) in self.cases.iter_mut().zip(self.slots.iter_mut()) {
            case.elem = slot.elem();
        }
        // SAFETY: every case names a live channel (borrowed for 'a) and an
        // elem slot of its element type that lives in a Box until the
        // select is dropped.
        let rc = unsafe { sys::gmp_select(self.cases.as_mut_ptr(), self.cases.len(), ns) };
        match check(rc) {
            Ok(i) => {
                let i = i as usize;
                let result = self.cases[i].result;
                self.slots[i].proceeded(result);
                Ok(Selected {
                    select: self,
                    chosen: i,
                })
            }
            Err(e) => Err((e, self)),
        }
    }
}

/// Selected: a select that has run; exactly one of its cases proceeded.
pub struct Selected<'a> {
    select: Select<'a>,
    chosen: usize,
}

impl<'a> Selected<'a> {
    /// index: which case proceeded, counting cases in the order they were
    /// added from 0.
    pub fn index(&self) -> usize {
        self.chosen
    }

    fn is(&self, select: u64, index: usize) -> bool {
        assert_eq!(
            select, self.select.id,
            "a case token used with another select"
        );
        index == self.chosen
    }

    /// recv: `Some` if this receive case proceeded: the value, or
    /// [`Error::Closed`] for a closed and drained channel; `None` if
    /// another case did.
    pub fn recv<T>(&mut self, case: RecvCase<T>) -> Option<Result<T>> {
        if !self.is(case.select, case.index) {
            return None;
        }
        let slot: &mut (dyn Slot + 'a) = &mut *self.select.slots[case.index];
        // SAFETY: the token's select id and index name this slot, which
        // Select::recv created as a RecvSlot<T> for the token's T; a token
        // is consumed here, so the value is taken at most once.
        let slot = unsafe { &mut *(slot as *mut dyn Slot as *mut RecvSlot<T>) };
        if self.select.cases[case.index].result != 0 {
            return Some(Err(Error::Closed));
        }
        slot.full = false;
        // SAFETY: the case proceeded with result 0: the buffer holds a T.
        Some(Ok(unsafe { slot.buf.assume_init_read() }))
    }

    /// send: `Some` if this send case proceeded: `Ok`, or the value back
    /// with [`Error::Closed`] when the channel was closed; `None` if
    /// another case did.
    pub fn send<T>(&mut self, case: SendCase<T>) -> Option<std::result::Result<(), SendError<T>>> {
        if !self.is(case.select, case.index) {
            return None;
        }
        let slot: &mut (dyn Slot + 'a) = &mut *self.select.slots[case.index];
        // SAFETY: as in recv, for a SendSlot<T> made by Select::send.
        let slot = unsafe { &mut *(slot as *mut dyn Slot as *mut SendSlot<T>) };
        if slot.sent {
            return Some(Ok(()));
        }
        let value = slot.value.take().expect("a send token is used once");
        Some(Err(SendError {
            value,
            error: Error::Closed,
        }))
    }
}

/// select!: Go's `select` statement as a macro over [`Select`].
///
/// Arms, separated by commas:
/// - `recv(chan) -> pattern => expression`: `pattern` binds a
///   `Result<T, gmprt::Error>` (`Err(Closed)` for a closed channel);
/// - `send(chan, value) -> pattern => expression`: `pattern` binds a
///   `Result<(), gmprt::SendError<T>>`;
/// - at most one last arm `default => expression` (do not block) or
///   `timeout(duration) => expression` (block at most that long).
///
/// The chosen arm's expression is the value of the macro. Every channel
/// expression is evaluated, and every send value moved, before the select
/// runs; the values of the send cases not chosen are dropped.
///
/// ```
/// use std::time::Duration;
/// let data = gmprt::Chan::<u32>::make(1).unwrap();
/// let quit = gmprt::Chan::<()>::make(1).unwrap();
/// data.send(7).unwrap();
/// let got = gmprt::select! {
///     recv(data) -> v => v.unwrap(),
///     recv(quit) -> _ => 0,
///     timeout(Duration::from_secs(5)) => panic!("nothing ready"),
/// };
/// assert_eq!(got, 7);
/// let idle = gmprt::select! {
///     send(data, 8) -> r => { r.unwrap(); false },
///     default => true,
/// };
/// assert!(!idle);
/// ```
#[macro_export]
macro_rules! select {
    ($($arms:tt)*) => {
        $crate::__gmprt_select_chans!([]; $($arms)*)
    };
}

/// [`select!`], first step: bind every channel expression (a temporary
/// such as `gmprt::after(d)` then lives until the select is over); not
/// public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __gmprt_select_chans {
    ([$($done:tt)*]; recv($ch:expr) -> $p:pat => $body:expr $(, $($rest:tt)*)?) => {{
        let chan = &$ch;
        $crate::__gmprt_select_chans!([$($done)* (recv chan () $p => $body)]; $($($rest)*)?)
    }};
    ([$($done:tt)*]; send($ch:expr, $v:expr) -> $p:pat => $body:expr $(, $($rest:tt)*)?) => {{
        let chan = &$ch;
        $crate::__gmprt_select_chans!([$($done)* (send chan ($v) $p => $body)]; $($($rest)*)?)
    }};
    ([$($done:tt)*]; default => $body:expr $(,)?) => {{
        let mut sel = $crate::Select::new();
        $crate::__gmprt_select_cases!(sel; (default => $body); []; $($done)*)
    }};
    ([$($done:tt)*]; timeout($d:expr) => $body:expr $(,)?) => {{
        let mut sel = $crate::Select::new();
        $crate::__gmprt_select_cases!(sel; (timeout($d) => $body); []; $($done)*)
    }};
    ([$($done:tt)*];) => {{
        let mut sel = $crate::Select::new();
        $crate::__gmprt_select_cases!(sel; (); []; $($done)*)
    }};
}

/// [`select!`], second step: add the cases in order, then run the select;
/// not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __gmprt_select_cases {
    ($sel:ident; $last:tt; [$($done:tt)*]; (recv $chan:ident () $p:pat => $body:expr) $($rest:tt)*) => {{
        let case = $sel.recv($chan);
        $crate::__gmprt_select_cases!($sel; $last; [$($done)* (recv case $p => $body)]; $($rest)*)
    }};
    ($sel:ident; $last:tt; [$($done:tt)*]; (send $chan:ident ($v:expr) $p:pat => $body:expr) $($rest:tt)*) => {{
        let case = $sel.send($chan, $v);
        $crate::__gmprt_select_cases!($sel; $last; [$($done)* (send case $p => $body)]; $($rest)*)
    }};
    ($sel:ident; (default => $body:expr); [$($done:tt)*];) => {
        match $sel.try_wait() {
            ::core::option::Option::Some(mut done) => $crate::__gmprt_select_dispatch!(done; $($done)*),
            ::core::option::Option::None => $body,
        }
    };
    ($sel:ident; (timeout($d:expr) => $body:expr); [$($done:tt)*];) => {
        match $sel.wait_timeout($d) {
            ::core::option::Option::Some(mut done) => $crate::__gmprt_select_dispatch!(done; $($done)*),
            ::core::option::Option::None => $body,
        }
    };
    ($sel:ident; (); [$($done:tt)*];) => {{
        let mut done = $sel.wait();
        $crate::__gmprt_select_dispatch!(done; $($done)*)
    }};
}

/// The chosen arm of [`select!`]; not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __gmprt_select_dispatch {
    ($done:ident;) => {
        ::core::unreachable!("gmp_select chose a case the select does not have")
    };
    ($done:ident; (recv $case:ident $p:pat => $body:expr) $($rest:tt)*) => {
        match $done.recv($case) {
            ::core::option::Option::Some($p) => $body,
            ::core::option::Option::None => $crate::__gmprt_select_dispatch!($done; $($rest)*),
        }
    };
    ($done:ident; (send $case:ident $p:pat => $body:expr) $($rest:tt)*) => {
        match $done.send($case) {
            ::core::option::Option::Some($p) => $body,
            ::core::option::Option::None => $crate::__gmprt_select_dispatch!($done; $($rest)*),
        }
    };
}
