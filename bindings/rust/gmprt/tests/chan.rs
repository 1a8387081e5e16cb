//! Channels: values moved through a Chan are dropped exactly once; misuse
//! the types cannot prevent comes back as an Error.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gmprt::{Chan, Error, WaitGroup};

/// Counted: a value that counts its drops in a shared counter.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn values_left_in_the_buffer_are_dropped_with_the_last_handle() {
    let drops = Arc::new(AtomicUsize::new(0));
    let c = Chan::make(8).unwrap();
    let c2 = c.clone();
    for _ in 0..5 {
        c.send(Counted(drops.clone())).unwrap();
    }
    drop(c.recv().unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(c);
    // c2 still holds the channel: nothing more is dropped.
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(c2.len(), 4);
    drop(c2);
    assert_eq!(drops.load(Ordering::SeqCst), 5);
}

#[test]
fn every_value_sent_between_goroutines_is_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let n = 2000;
    let c = Chan::make(3).unwrap();
    let wg = Arc::new(WaitGroup::new());
    for _ in 0..4 {
        let (c, wg, drops) = (c.clone(), wg.clone(), drops.clone());
        wg.add(1).unwrap();
        gmprt::go(move || {
            for _ in 0..n / 4 {
                c.send(Counted(drops.clone())).unwrap();
            }
            wg.done().unwrap();
        });
    }
    // Receive half, leave the rest to the senders' blocked sends, then
    // close: blocked senders get their values back and drop them.
    for _ in 0..n / 2 {
        drop(c.recv().unwrap());
    }
    let rest = Arc::new(AtomicUsize::new(0));
    let (c2, rest2) = (c.clone(), rest.clone());
    gmprt::go(move || {
        while c2.recv_timeout(Duration::from_millis(200)).is_ok() {
            rest2.fetch_add(1, Ordering::SeqCst);
        }
    });
    wg.wait();
    while !c.is_empty() || rest.load(Ordering::SeqCst) + n / 2 < n {
        gmprt::sleep(Duration::from_millis(1));
    }
    drop(c);
    assert_eq!(drops.load(Ordering::SeqCst), n);
}

#[test]
fn a_failed_send_gives_the_value_back() {
    let drops = Arc::new(AtomicUsize::new(0));
    let c = Chan::make(1).unwrap();
    c.send(Counted(drops.clone())).unwrap();
    let e = c.try_send(Counted(drops.clone())).unwrap_err();
    assert_eq!(e.error, Error::WouldBlock);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(e.into_inner());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let e = c
        .send_timeout(Counted(drops.clone()), Duration::from_millis(1))
        .unwrap_err();
    assert_eq!(e.error, Error::TimedOut);
    drop(e);
    c.close().unwrap();
    let e = c.send(Counted(drops.clone())).unwrap_err();
    assert_eq!(e.error, Error::Closed);
    drop(e);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    // The buffered value is still received after close, then Closed.
    assert!(c.recv().is_ok());
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    assert_eq!(c.recv().err(), Some(Error::Closed));
    assert_eq!(c.close(), Err(Error::Closed));
}

#[test]
fn receive_errors() {
    let c = Chan::<u64>::make(0).unwrap();
    assert_eq!(c.try_recv(), Err(Error::WouldBlock));
    assert_eq!(
        c.recv_timeout(Duration::from_millis(2)),
        Err(Error::TimedOut)
    );
    assert_eq!(c.recv_timeout(Duration::ZERO), Err(Error::WouldBlock));
    assert_eq!(c.cap(), 0);
    assert!(c.is_empty());
}

#[test]
fn oversized_elements_are_rejected() {
    // 64 KiB is the largest element; a bigger T is an error, not a crash.
    assert!(Chan::<[u8; 65536]>::make(0).is_ok());
    assert_eq!(
        Chan::<[u8; 65537]>::make(0).err(),
        Some(Error::InvalidArgument)
    );
    assert_eq!(
        Chan::<u64>::make(1 << 40).err(),
        Some(Error::InvalidArgument)
    );
}

#[test]
fn zero_sized_and_boxed_values() {
    let c = Chan::<()>::make(2).unwrap();
    c.send(()).unwrap();
    assert_eq!(c.recv(), Ok(()));
    let b = Chan::<Box<String>>::make(0).unwrap();
    let b2 = b.clone();
    gmprt::go(move || b2.send(Box::new("boxed".to_string())).unwrap());
    assert_eq!(*b.recv().unwrap(), "boxed");
}

#[test]
fn iterate_until_closed() {
    let c = Chan::make(0).unwrap();
    let tx = c.clone();
    gmprt::go(move || {
        for i in 0..10u32 {
            tx.send(i).unwrap();
        }
        tx.close().unwrap();
    });
    assert_eq!(c.iter().sum::<u32>(), 45);
}
