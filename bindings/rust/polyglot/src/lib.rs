//! The Rust side of the polyglot test (`tests/polyglot/main.c`): goroutines
//! started from Rust through the safe `gmprt` crate, on channels that C
//! made, in a program that also runs C and C++ goroutines.
//!
//! Every function here is called from C on the C main goroutine.

use std::ffi::c_void;
use std::os::raw::c_int;

use gmprt::sys::gmp_chan_t;
use gmprt::Chan;

/// borrow: a Rust handle on a channel of 8-byte values that C owns.
///
/// # Safety
/// `raw` is a live channel of `i64`/`u64` elements.
unsafe fn borrow<T>(raw: *mut gmp_chan_t) -> Chan<T> {
    gmprt::sys::gmp_chan_retain(raw);
    Chan::from_raw(raw).expect("non-null channel")
}

/// polyglot_rust_start: start `n` Rust goroutines; each receives one value
/// from `input`, sends it plus 1 on `output`, and sends its goroutine id on
/// `ids`. Returns 0, or the GMP_E* code of a failed start.
///
/// # Safety
/// `input` and `output` are live channels of int64_t, `ids` of uint64_t.
#[no_mangle]
pub unsafe extern "C" fn polyglot_rust_start(
    input: *mut gmp_chan_t,
    output: *mut gmp_chan_t,
    ids: *mut gmp_chan_t,
    n: c_int,
) -> c_int {
    for _ in 0..n {
        let (input, output, ids) = (
            borrow::<i64>(input),
            borrow::<i64>(output),
            borrow::<u64>(ids),
        );
        let started = gmprt::Builder::new().name("rust").spawn(move || {
            let v = input.recv().expect("rust: recv");
            output.send(v + 1).expect("rust: send");
            ids.send(gmprt::goid()).expect("rust: id");
        });
        if let Err(e) = started {
            return e.code();
        }
    }
    0
}

/// polyglot_rust_maxprocs: GOMAXPROCS as the Rust crate sees it.
#[no_mangle]
pub extern "C" fn polyglot_rust_maxprocs() -> c_int {
    gmprt::maxprocs() as c_int
}

/// polyglot_rust_set_maxprocs: set GOMAXPROCS from Rust; the previous
/// value, or a GMP_E* code.
#[no_mangle]
pub extern "C" fn polyglot_rust_set_maxprocs(n: c_int) -> c_int {
    match gmprt::set_maxprocs(n.max(0) as usize) {
        Ok(prev) => prev as c_int,
        Err(e) => e.code(),
    }
}

/// polyglot_rust_gmp_go: the address of gmp_go as the Rust side links it
/// (the same function as C's when there is one runtime in the program).
#[no_mangle]
pub extern "C" fn polyglot_rust_gmp_go() -> GoFn {
    gmprt::sys::gmp_go
}

/// GoFn: the type of `gmp_go`.
pub type GoFn = unsafe extern "C" fn(gmprt::sys::gmp_fn, *mut c_void) -> c_int;
