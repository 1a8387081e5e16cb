//! Goroutine closures: every one runs once and is dropped once, small ones
//! (through the per-thread block cache) and large ones (boxed) alike.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gmprt::WaitGroup;

struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn closures_run_once_and_drop_once() {
    let runs = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let wg = Arc::new(WaitGroup::new());
    let n = 20_000;
    wg.add(n as i64).unwrap();
    for i in 0..n {
        let (runs, wg, token) = (runs.clone(), wg.clone(), Counted(drops.clone()));
        if i % 3 == 0 {
            // Larger than a cache block: boxed.
            let big = [i as u8; 200];
            gmprt::go(move || {
                let _keep = &token;
                assert!(big.iter().all(|&b| b == i as u8));
                runs.fetch_add(1, Ordering::SeqCst);
                wg.done().unwrap();
            });
        } else {
            gmprt::go(move || {
                let _keep = &token;
                runs.fetch_add(1, Ordering::SeqCst);
                wg.done().unwrap();
            });
        }
    }
    wg.wait();
    // The closures are dropped when their goroutines return, just after
    // done(): wait for the last few.
    while drops.load(Ordering::SeqCst) < n {
        gmprt::yield_now();
    }
    assert_eq!(runs.load(Ordering::SeqCst), n);
    assert_eq!(drops.load(Ordering::SeqCst), n);
}

#[test]
fn a_failed_start_drops_the_closure() {
    let drops = Arc::new(AtomicUsize::new(0));
    let token = Counted(drops.clone());
    let r = gmprt::Builder::new()
        .stack_size(1)
        .spawn(move || drop(token));
    assert_eq!(r, Err(gmprt::Error::InvalidArgument));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn an_async_preemptible_goroutine_spinning_without_calls_ends_when_told() {
    // The spinner makes no runtime call; the stopper runs on another P, or
    // on the same one once the monitor has preempted the spinner.
    use std::sync::atomic::AtomicBool;
    let stop = Arc::new(AtomicBool::new(false));
    let wg = Arc::new(WaitGroup::new());
    wg.add(2).unwrap();
    let (s1, w1) = (stop.clone(), wg.clone());
    gmprt::Builder::new()
        .name("spinner")
        .async_preempt(true)
        .spawn(move || {
            while !s1.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
            w1.done().unwrap();
        })
        .unwrap();
    let (s2, w2) = (stop.clone(), wg.clone());
    gmprt::go(move || {
        gmprt::sleep(std::time::Duration::from_millis(20));
        s2.store(true, Ordering::Relaxed);
        w2.done().unwrap();
    });
    wg.wait();
    assert!(stop.load(Ordering::Relaxed));
}
