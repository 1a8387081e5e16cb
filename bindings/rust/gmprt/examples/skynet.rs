//! skynet: the skynet benchmark, the Rust twin of bench/skynet.c. A tree of
//! goroutines with N leaves (default 1,000,000; 1,111,111 goroutines), each
//! inner node having 10 children: a leaf sends its number to its parent
//! over the parent's unbuffered channel, an inner node sums its children's
//! values and sends the sum up. The root's sum, N*(N-1)/2, is checked.
//!
//!     cargo run --release --example skynet [leaves]
//!
//! Prints the same line as bench_skynet, with impl=rust:
//!     workload=skynet impl=rust metric=ms value=X unit=ms

use gmprt::Chan;

const FANOUT: i64 = 10;

/// skynet: the node covering `size` leaves from `num`, reporting to
/// `parent`. Children get size/10 leaves each (the last one the rest), as
/// in skynet.c.
fn skynet(parent: Chan<i64>, num: i64, size: i64) {
    if size == 1 {
        parent.send(num).unwrap();
        return;
    }
    let children = size.min(FANOUT);
    let step = size / children;
    let c = Chan::<i64>::make(0).unwrap();
    for i in 0..children {
        let kid_size = if i == children - 1 {
            size - step * (children - 1)
        } else {
            step
        };
        let c = c.clone();
        gmprt::go(move || skynet(c, num + i * step, kid_size));
    }
    let mut sum = 0;
    for _ in 0..children {
        sum += c.recv().unwrap();
    }
    parent.send(sum).unwrap();
}

fn main() {
    let leaves: i64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let (sum, ns) = gmprt::main(move || {
        let root = Chan::<i64>::make(0).unwrap();
        let t0 = gmprt::now();
        let r = root.clone();
        gmprt::go(move || skynet(r, 0, leaves));
        let sum = root.recv().unwrap();
        (sum, gmprt::now() - t0)
    })
    .unwrap();
    if sum != leaves * (leaves - 1) / 2 {
        eprintln!("skynet: wrong sum {} for {} leaves", sum, leaves);
        std::process::exit(1);
    }
    println!(
        "workload=skynet impl=rust metric=ms value={:.3} unit=ms",
        ns as f64 / 1e6
    );
}
