//! gmprt::main reports a deadlock as Error::Deadlock (its own test binary:
//! no other test's threads may count as possible wakers).

#[test]
fn deadlock_is_an_error() {
    let r = gmprt::main(|| {
        let c = gmprt::Chan::<u8>::make(0).unwrap();
        let _ = c.recv();
    });
    assert_eq!(r, Err(gmprt::Error::Deadlock));
}
