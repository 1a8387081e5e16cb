//! Select: the builder and the macro.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gmprt::{Chan, Error, Select};

struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn both_ready_cases_get_chosen() {
    let a = Chan::<u8>::make(1).unwrap();
    let b = Chan::<u8>::make(1).unwrap();
    let mut seen = [0; 2];
    for _ in 0..200 {
        let _ = a.try_send(1);
        let _ = b.try_send(2);
        let v = gmprt::select! {
            recv(a) -> v => v.unwrap(),
            recv(b) -> v => v.unwrap(),
        };
        seen[v as usize - 1] += 1;
    }
    assert!(seen[0] > 20 && seen[1] > 20, "{:?}", seen);
}

#[test]
fn unchosen_send_values_are_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let full = Chan::<Counted>::make(0).unwrap();
    let ready = Chan::<u8>::make(1).unwrap();
    ready.send(9).unwrap();
    let got = gmprt::select! {
        send(full, Counted(drops.clone())) -> _ => None,
        recv(ready) -> v => Some(v.unwrap()),
    };
    assert_eq!(got, Some(9));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    // default: nothing ready, the value is dropped too.
    let none = gmprt::select! {
        send(full, Counted(drops.clone())) -> _ => false,
        default => true,
    };
    assert!(none);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn a_chosen_send_moves_the_value() {
    let drops = Arc::new(AtomicUsize::new(0));
    let c = Chan::<Counted>::make(1).unwrap();
    let mut s = Select::new();
    let case = s.send(&c, Counted(drops.clone()));
    let mut done = s.wait();
    assert_eq!(done.index(), 0);
    assert!(done.send(case).unwrap().is_ok());
    drop(done);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(c.recv().unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn closed_channels_proceed() {
    let c = Chan::<String>::make(0).unwrap();
    c.close().unwrap();
    let r = gmprt::select! { recv(c) -> v => v };
    assert_eq!(r, Err(Error::Closed));
    let r = gmprt::select! { send(c, "x".to_string()) -> r => r.map_err(|e| (e.error, e.value)) };
    assert_eq!(r, Err((Error::Closed, "x".to_string())));
}

#[test]
fn timeout_and_after() {
    let c = Chan::<u8>::make(0).unwrap();
    let t0 = gmprt::now();
    let timed_out = gmprt::select! {
        recv(c) -> _ => false,
        timeout(Duration::from_millis(20)) => true,
    };
    assert!(timed_out);
    assert!(gmprt::now() - t0 >= 20_000_000);
    let fired = gmprt::select! {
        recv(c) -> _ => 0,
        recv(gmprt::after(Duration::from_millis(1))) -> t => t.unwrap(),
    };
    assert!(fired > t0);
}

#[test]
#[should_panic(expected = "another select")]
fn a_token_of_another_select_is_refused() {
    let c = Chan::<u8>::make(1).unwrap();
    c.send(1).unwrap();
    let mut s1 = Select::new();
    let _t1 = s1.recv(&c);
    let mut s2 = Select::new();
    let t2 = s2.recv(&c);
    let mut done = s1.wait();
    let _ = done.recv(t2);
}
