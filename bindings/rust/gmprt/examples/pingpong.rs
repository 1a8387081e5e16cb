//! pingpong: two goroutines hit a counter back and forth over two
//! unbuffered channels; each exchange is a rendezvous.
//!
//!     cargo run --example pingpong [rounds]

use gmprt::Chan;

fn main() {
    let rounds: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let t = gmprt::main(move || {
        let (ping, pong) = (Chan::<u64>::make(0).unwrap(), Chan::<u64>::make(0).unwrap());
        let (ping2, pong2) = (ping.clone(), pong.clone());
        // The other player: receive n, answer n + 1, until ping is closed.
        gmprt::go(move || {
            for n in ping2.iter() {
                pong2.send(n + 1).unwrap();
            }
        });
        let t0 = gmprt::now();
        let mut ball = 0;
        for _ in 0..rounds {
            ping.send(ball).unwrap();
            ball = pong.recv().unwrap();
        }
        ping.close().unwrap();
        assert_eq!(ball, rounds);
        gmprt::now() - t0
    })
    .unwrap();
    println!(
        "pingpong: {} round trips, {:.0} ns each",
        rounds,
        t as f64 / rounds as f64
    );
}
