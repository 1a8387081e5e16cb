//! gmprt: Go's goroutine runtime for Rust.
//!
//! A safe interface over `libgmprt` (through the raw [`gmprt_sys`] crate):
//! Go's G-M-P scheduler running goroutines on a few threads, with channels,
//! `select`, timers and Go's `sync` types, and TCP sockets on the runtime's
//! poller. The runtime is one per process, shared with any C, C++ or other
//! code in the process that uses `libgmprt`: a channel made here can be
//! passed to C ([`Chan::as_raw`]) and used from both sides.
//!
//! ```
//! use gmprt::Chan;
//! let total = gmprt::main(|| {
//!     let results = Chan::make(0).unwrap();
//!     for i in 0..100u64 {
//!         let results = results.clone();
//!         gmprt::go(move || results.send(i * i).unwrap());
//!     }
//!     (0..100).map(|_| results.recv().unwrap()).sum::<u64>()
//! })
//! .unwrap();
//! assert_eq!(total, 328350);
//! ```
//!
//! | Go | gmprt |
//! | --- | --- |
//! | `go f()` | [`go`], [`Builder`] |
//! | `func main` | [`main`] (returns [`Error::Deadlock`] where Go would die) |
//! | `make(chan T, n)`, `<-c`, `c <- v`, `close(c)` | [`Chan`] |
//! | `select` | [`select!`], [`Select`] |
//! | `time.Sleep`, `time.After`, `time.AfterFunc`, `time.NewTicker` | [`sleep`], [`after`], [`Timer`], [`Ticker`] |
//! | `sync.Mutex`, `sync.WaitGroup`, `sync.Once` | [`Mutex`], [`WaitGroup`], [`Once`] |
//! | `net.Listen`, `net.Dial` | [`TcpListener`], [`TcpStream`] |
//! | `runtime.LockOSThread`, `Gosched`, `GOMAXPROCS`, `NumGoroutine` | [`lock_os_thread`], [`yield_now`], [`set_maxprocs`], [`num_goroutine`] |
//!
//! Every call works from goroutines and from plain threads: a blocking call
//! parks a goroutine (its thread runs others) and blocks a plain thread.
//! Fallible calls return [`Result`], whose [`Error`] has one variant per
//! `GMP_E*` code of the C API.
//!
//! # Panics
//!
//! A panic must never unwind into the runtime's C frames. A goroutine
//! started by [`go`] or [`Builder::spawn`], and a [`Timer`]'s function, run
//! under `catch_unwind`: a panic there prints its message (the panic hook)
//! and the goroutine's id, then **aborts the process**, since nobody joins
//! a goroutine to receive it. The main goroutine of [`main`] and the
//! closure of [`Once::call_once`] run synchronously for their caller:
//! their panics are carried past the C frames and resumed in the caller.
//!
//! # Soundness notes
//!
//! **Send and Sync.** Goroutines move between the runtime's threads at
//! every blocking call, so everything a goroutine owns must be `Send`, and
//! [`go`] requires `FnOnce() + Send + 'static`.
//! - [`Chan<T>`] is `Send` and `Sync` when `T: Send`: the C channel locks
//!   internally, and all a handle does is move `T`s from one thread to
//!   another (as `std::sync::mpsc::SyncSender`).
//! - [`Mutex<T>`] is `Send` and `Sync` when `T: Send` (as `std`'s). Its
//!   [`MutexGuard`] is `Send` too, unlike `std`'s: a gmprt mutex may be
//!   unlocked on another thread than it was locked on, which is exactly
//!   what happens when a goroutine holding it blocks and resumes elsewhere.
//! - [`WaitGroup`], [`Once`], [`Timer`] and [`Ticker`] are `Send` and
//!   `Sync`: the C objects are made for concurrent use from any thread.
//!   [`Timer`]'s function must be `Fn + Send + Sync`, because a reset after
//!   it fired runs it again, possibly while the first run is still going.
//! - [`OsThreadLock`] (the guard of [`lock_os_thread`]) is neither: the
//!   unlock must happen on the goroutine that locked.
//! - [`TcpListener`] and [`TcpStream`] are plain descriptors, `Send` and
//!   `Sync` (the `&TcpStream` `Read`/`Write` impls allow a reader and a
//!   writer goroutine at once, as the C calls do).
//!
//! **Thread-locals change under a goroutine.** A goroutine that blocks (a
//! channel operation, a lock, `sleep`, a read on a socket, even
//! [`yield_now`]) may resume on another OS thread. So a `thread_local!`
//! value read before the call and after it may be two different values,
//! a reference into a thread-local must not be held across such a call,
//! and `errno` must be read right after the call that set it (the
//! [`TcpStream`] calls do). The same goes for anything that is tied to a
//! thread: `std::sync::MutexGuard` (pthread mutexes must be unlocked by the
//! thread that locked them), thread ids, C libraries with per-thread state.
//! What to use instead:
//! - state that belongs to the goroutine: keep it in the closure (or pass
//!   it down as an argument), where it moves with the goroutine;
//! - state shared by goroutines: a [`Mutex`], or a channel owning it;
//! - when it really must be the same thread (a thread-affine C library, an
//!   OpenGL context): hold [`lock_os_thread`]'s guard for as long as that
//!   is needed; the goroutine then stays on its thread and the thread runs
//!   nothing else.
//!
//! Blocking in `std` (a `std::sync::Mutex`, `std::thread::sleep`, blocking
//! file IO) blocks the whole thread and every goroutine queued on its P,
//! not just the goroutine: prefer the gmprt equivalents inside goroutines.
//!
//! **What the types rule out.** A channel handle cannot be used after its
//! release (handles are owned and reference counted), its element size is
//! always `size_of::<T>()` (no wrong size can be passed), a received value
//! is read only when a send put one there, and a value sent through a
//! channel is dropped exactly once: by its receiver, or by the last handle's
//! drop if it is still buffered then. What the types cannot rule out (a
//! channel closed twice, an unlock of a wait group below zero, a
//! deadlock) comes back as an [`Error`].

#![warn(missing_docs)]

mod chan;
mod error;
mod goroutine;
mod net;
mod select;
mod sync;
mod time;

pub use chan::{Chan, Iter, SendError};
pub use error::{Error, Result};
pub use goroutine::{
    go, goid, lock_os_thread, main, maxprocs, num_goroutine, preempt_point, set_maxprocs, shutdown,
    yield_now, Builder, OsThreadLock,
};
pub use net::{TcpListener, TcpStream};
pub use select::{RecvCase, Select, Selected, SendCase};
pub use sync::{Mutex, MutexGuard, Once, WaitGroup};
pub use time::{after, now, sleep, Ticker, Timer};

/// The raw C bindings this crate is built on.
pub use gmprt_sys as sys;
