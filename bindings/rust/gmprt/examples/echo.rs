//! echo: a TCP echo server, one goroutine per connection.
//!
//!     cargo run --example echo [port]     serve 127.0.0.1:PORT (default 7878)
//!                                         until killed; try `nc 127.0.0.1 7878`
//!     cargo run --example echo -- --self-test
//!                                         serve a kernel-chosen port, run 10
//!                                         client goroutines that check their
//!                                         echoes, then exit (0: all passed)

use std::io::{Read, Write};
use std::sync::Arc;

use gmprt::{TcpListener, TcpStream, WaitGroup};

/// serve: echo one connection until the client closes it.
fn serve(s: TcpStream) {
    let mut buf = [0u8; 4096];
    loop {
        match (&s).read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if (&s).write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
}

/// self_test: 10 clients, 3 lines each, every echo checked.
fn self_test(l: TcpListener) {
    let addr = l.local_addr().unwrap();
    gmprt::go(move || {
        while let Ok((s, _)) = l.accept() {
            gmprt::go(move || serve(s));
        }
    });
    let wg = Arc::new(WaitGroup::new());
    for i in 0..10 {
        let wg = wg.clone();
        wg.add(1).unwrap();
        gmprt::go(move || {
            let mut s = TcpStream::connect(addr).expect("connect");
            for j in 0..3 {
                let line = format!("client {} line {}\n", i, j);
                s.write_all(line.as_bytes()).unwrap();
                let mut back = vec![0; line.len()];
                s.read_exact(&mut back).unwrap();
                assert_eq!(back, line.as_bytes(), "echo mismatch");
            }
            wg.done().unwrap();
        });
    }
    wg.wait();
    println!("echo: 10 clients x 3 lines echoed");
}

fn main() {
    let arg = std::env::args().nth(1);
    let test = arg.as_deref() == Some("--self-test");
    let port: u16 = if test {
        0
    } else {
        arg.and_then(|a| a.parse().ok()).unwrap_or(7878)
    };
    gmprt::main(move || {
        let l = TcpListener::bind(("127.0.0.1", port)).expect("bind");
        if test {
            return self_test(l);
        }
        println!("echo: listening on {}", l.local_addr().unwrap());
        while let Ok((s, peer)) = l.accept() {
            println!("echo: connection from {}", peer);
            gmprt::go(move || serve(s));
        }
    })
    .unwrap();
}
