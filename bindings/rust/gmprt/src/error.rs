//! Errors: one variant per `GMP_E*` code of `gmprt.h`.

use std::ffi::CStr;
use std::fmt;
use std::io;

use gmprt_sys as sys;

/// An error returned by a gmprt call: one variant per `GMP_E*` code of
/// `gmprt.h` (their values never change), plus `Unknown` for a code this
/// crate does not know (a newer library). [`Error::code`] gives the C code
/// back, and `Display` is the library's own message (`gmp_strerror`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// `GMP_EINVAL`: an argument the call rejects.
    InvalidArgument,
    /// `GMP_ENOMEM`: out of memory (no stack, no buffer).
    OutOfMemory,
    /// `GMP_ECLOSED`: the channel (or descriptor) is closed.
    Closed,
    /// `GMP_EAGAIN`: the call would block (a `try_` call, timeout 0).
    WouldBlock,
    /// `GMP_ETIMEDOUT`: the timeout passed first.
    TimedOut,
    /// `GMP_EDEADLOCK`: every goroutine is asleep ([`crate::main`]).
    Deadlock,
    /// `GMP_EPERM`: not permitted (unlock of an unlocked mutex, `main` from a
    /// goroutine).
    PermissionDenied,
    /// `GMP_EBUSY`: busy (a locked mutex's `try_lock`, a shutdown with
    /// goroutines left).
    Busy,
    /// `GMP_ELIMIT`: a runtime limit (the thread limit) was reached.
    Limit,
    /// A negative code this crate does not know.
    Unknown(i32),
}

/// Result with [`Error`]: what every fallible call of this crate returns.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// from_code: the error of a negative `GMP_E*` code; `None` for 0 and
    /// positive values (they are not errors).
    #[inline]
    pub fn from_code(code: i32) -> Option<Error> {
        let e = match code {
            c if c >= 0 => return None,
            sys::GMP_EINVAL => Error::InvalidArgument,
            sys::GMP_ENOMEM => Error::OutOfMemory,
            sys::GMP_ECLOSED => Error::Closed,
            sys::GMP_EAGAIN => Error::WouldBlock,
            sys::GMP_ETIMEDOUT => Error::TimedOut,
            sys::GMP_EDEADLOCK => Error::Deadlock,
            sys::GMP_EPERM => Error::PermissionDenied,
            sys::GMP_EBUSY => Error::Busy,
            sys::GMP_ELIMIT => Error::Limit,
            c => Error::Unknown(c),
        };
        Some(e)
    }

    /// code: the `GMP_E*` value of this error.
    pub fn code(self) -> i32 {
        match self {
            Error::InvalidArgument => sys::GMP_EINVAL,
            Error::OutOfMemory => sys::GMP_ENOMEM,
            Error::Closed => sys::GMP_ECLOSED,
            Error::WouldBlock => sys::GMP_EAGAIN,
            Error::TimedOut => sys::GMP_ETIMEDOUT,
            Error::Deadlock => sys::GMP_EDEADLOCK,
            Error::PermissionDenied => sys::GMP_EPERM,
            Error::Busy => sys::GMP_EBUSY,
            Error::Limit => sys::GMP_ELIMIT,
            Error::Unknown(c) => c,
        }
    }
}

/// check: a C return value as a Result: negative codes are errors, anything
/// else is returned as it is.
#[inline]
pub(crate) fn check(rc: i32) -> Result<i32> {
    match Error::from_code(rc) {
        Some(e) => Err(e),
        None => Ok(rc),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: gmp_strerror never returns NULL and its strings are static
        // and NUL-terminated.
        let msg = unsafe { CStr::from_ptr(sys::gmp_strerror(self.code())) };
        f.write_str(&msg.to_string_lossy())
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match e {
            Error::InvalidArgument => io::ErrorKind::InvalidInput,
            Error::OutOfMemory => io::ErrorKind::OutOfMemory,
            Error::Closed => io::ErrorKind::BrokenPipe,
            Error::WouldBlock => io::ErrorKind::WouldBlock,
            Error::TimedOut => io::ErrorKind::TimedOut,
            Error::PermissionDenied => io::ErrorKind::PermissionDenied,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for code in -9..=-1 {
            let e = Error::from_code(code).unwrap();
            assert!(!matches!(e, Error::Unknown(_)), "code {} unmapped", code);
            assert_eq!(e.code(), code);
            // SAFETY: as in Display.
            let c = unsafe { CStr::from_ptr(sys::gmp_strerror(code)) };
            assert_eq!(e.to_string(), c.to_str().unwrap());
        }
        assert_eq!(Error::from_code(0), None);
        assert_eq!(Error::from_code(3), None);
        assert_eq!(Error::from_code(-42), Some(Error::Unknown(-42)));
        assert_eq!(Error::Unknown(-42).to_string(), "unknown error");
        assert_eq!(check(-5), Err(Error::TimedOut));
        assert_eq!(check(7), Ok(7));
    }
}
