//! TCP on the poller: an echo server and clients, all goroutines.

use std::io::{Read, Write};
use std::sync::Arc;

use gmprt::{TcpListener, TcpStream, WaitGroup};

#[test]
fn echo_between_goroutines() {
    gmprt::main(|| {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        gmprt::go(move || loop {
            let (s, _) = match l.accept() {
                Ok(x) => x,
                Err(_) => return,
            };
            gmprt::go(move || {
                let mut buf = [0u8; 1024];
                loop {
                    match (&s).read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => (&s).write_all(&buf[..n]).unwrap(),
                    }
                }
            });
        });
        let wg = Arc::new(WaitGroup::new());
        for i in 0..20 {
            let wg = wg.clone();
            wg.add(1).unwrap();
            gmprt::go(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_nodelay(true).unwrap();
                for j in 0..10 {
                    let msg = format!("client {} line {}\n", i, j);
                    s.write_all(msg.as_bytes()).unwrap();
                    let mut back = vec![0u8; msg.len()];
                    s.read_exact(&mut back).unwrap();
                    assert_eq!(back, msg.as_bytes());
                }
                wg.done().unwrap();
            });
        }
        wg.wait();
    })
    .unwrap();
}

#[test]
fn connect_refused_is_an_io_error() {
    // Bind, learn the port, close: nothing listens there any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = TcpStream::connect(("127.0.0.1", port)).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
}
