//! Mutex, WaitGroup, Once, Timer, Ticker, goroutine options.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gmprt::{Builder, Chan, Error, Mutex, Once, Ticker, Timer, WaitGroup};

#[test]
fn mutex_counts_under_contention() {
    let m = Arc::new(Mutex::new(0u64));
    let wg = Arc::new(WaitGroup::new());
    for _ in 0..8 {
        let (m, wg) = (m.clone(), wg.clone());
        wg.add(1).unwrap();
        gmprt::go(move || {
            for _ in 0..1000 {
                let mut g = m.lock();
                *g += 1;
                if *g % 100 == 0 {
                    // Block while holding the lock: the goroutine may
                    // resume on another thread and unlock there.
                    gmprt::sleep(Duration::from_micros(10));
                }
            }
            wg.done().unwrap();
        });
    }
    wg.wait();
    assert_eq!(*m.lock(), 8000);
    let g = m.lock();
    assert_eq!(m.try_lock().err(), Some(Error::Busy));
    drop(g);
    assert!(m.try_lock().is_ok());
}

#[test]
fn waitgroup_refuses_negative() {
    let wg = WaitGroup::new();
    assert_eq!(wg.done(), Err(Error::InvalidArgument));
    wg.add(2).unwrap();
    assert_eq!(wg.add(-3), Err(Error::InvalidArgument));
    wg.add(-2).unwrap();
    wg.wait();
}

#[test]
fn once_runs_once_across_goroutines() {
    let once = Arc::new(Once::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let wg = Arc::new(WaitGroup::new());
    for _ in 0..16 {
        let (once, runs, wg) = (once.clone(), runs.clone(), wg.clone());
        wg.add(1).unwrap();
        gmprt::go(move || {
            once.call_once(|| {
                gmprt::sleep(Duration::from_millis(2));
                runs.fetch_add(1, Ordering::SeqCst);
            });
            assert_eq!(runs.load(Ordering::SeqCst), 1);
            wg.done().unwrap();
        });
    }
    wg.wait();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[test]
fn once_resumes_a_panic_in_its_caller() {
    let once = Once::new();
    let r = std::panic::catch_unwind(|| once.call_once(|| panic!("inside once")));
    assert!(r.is_err());
    let mut ran = false;
    once.call_once(|| ran = true);
    assert!(!ran);
}

#[test]
fn timer_stop_reset_and_drop() {
    let fired = Chan::<u8>::make(8).unwrap();
    let tx = fired.clone();
    let owned = Arc::new(());
    let held = owned.clone();
    let t = Timer::new(Duration::from_secs(60), move || {
        let _ = &held;
        tx.send(1).unwrap()
    })
    .unwrap();
    assert!(t.stop());
    assert!(!t.stop());
    assert!(!t.reset(Duration::from_millis(1)));
    assert_eq!(fired.recv(), Ok(1));
    assert!(!t.reset(Duration::from_millis(1)));
    assert_eq!(fired.recv(), Ok(1));
    assert!(!t.reset(Duration::from_secs(60)));
    assert!(t.reset(Duration::from_secs(60)));
    drop(t);
    assert_eq!(
        fired.recv_timeout(Duration::from_millis(20)),
        Err(Error::TimedOut)
    );
    // The closure (and what it owns) is dropped with its last owner: the
    // handle, or a firing that may still be returning from its send.
    let deadline = gmprt::now() + 10_000_000_000;
    while Arc::strong_count(&owned) != 1 && gmprt::now() < deadline {
        gmprt::sleep(Duration::from_millis(1));
    }
    assert_eq!(Arc::strong_count(&owned), 1);
}

#[test]
fn ticker_ticks_and_stops() {
    let t = Ticker::new(Duration::from_millis(2)).unwrap();
    let c = t.chan().clone();
    let mut last = 0;
    for _ in 0..3 {
        let v = c.recv().unwrap();
        assert!(v > last);
        last = v;
    }
    drop(t);
    // At most one stale tick, then none.
    let _ = c.try_recv();
    assert_eq!(
        c.recv_timeout(Duration::from_millis(20)),
        Err(Error::TimedOut)
    );
    assert_eq!(
        Ticker::new(Duration::ZERO).err(),
        Some(Error::InvalidArgument)
    );
}

#[test]
fn builder_options() {
    let c = Chan::<u64>::make(1).unwrap();
    let tx = c.clone();
    Builder::new()
        .name("named")
        .stack_size(64 * 1024)
        .spawn(move || tx.send(gmprt::goid()).unwrap())
        .unwrap();
    assert!(c.recv().unwrap() > 0);
    assert_eq!(
        Builder::new().stack_size(1).spawn(|| {}),
        Err(Error::InvalidArgument)
    );
    assert_eq!(gmprt::set_maxprocs(0), Err(Error::InvalidArgument));
    assert!(gmprt::maxprocs() >= 1);
    assert_eq!(gmprt::goid(), 0);
}

#[test]
fn main_returns_values_and_carries_panics() {
    assert_eq!(gmprt::main(|| gmprt::goid() > 0), Ok(true));
    let r = std::panic::catch_unwind(|| gmprt::main(|| panic!("main goroutine")));
    assert!(r.is_err());
    // From a goroutine, main is refused and its closure dropped.
    let inner = gmprt::main(|| gmprt::main(|| 1));
    assert_eq!(inner, Ok(Err(Error::PermissionDenied)));
}

#[test]
fn lock_os_thread_keeps_the_thread() {
    gmprt::main(|| {
        let _g = gmprt::lock_os_thread();
        let t = std::thread::current().id();
        for _ in 0..20 {
            gmprt::yield_now();
            gmprt::sleep(Duration::from_micros(50));
            assert_eq!(std::thread::current().id(), t);
        }
    })
    .unwrap();
}
