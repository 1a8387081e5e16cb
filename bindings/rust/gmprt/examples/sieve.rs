//! sieve: the concurrent prime sieve from the Go tour's ancestors. A
//! generator sends 2, 3, 4, ...; each prime found gets a filter goroutine
//! that passes on only the numbers it does not divide.
//!
//!     cargo run --example sieve [count]

use gmprt::Chan;

/// filter: copy from `input` to `output` the values `prime` does not
/// divide.
fn filter(input: Chan<u64>, output: Chan<u64>, prime: u64) {
    for n in input.iter() {
        if n % prime != 0 && output.send(n).is_err() {
            return;
        }
    }
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let primes = gmprt::main(move || {
        let mut ch = Chan::<u64>::make(0).unwrap();
        let gen = ch.clone();
        gmprt::go(move || {
            for n in 2.. {
                if gen.send(n).is_err() {
                    return;
                }
            }
        });
        let mut primes = Vec::with_capacity(count);
        let mut stages = vec![ch.clone()];
        for _ in 0..count {
            let prime = ch.recv().unwrap();
            primes.push(prime);
            let next = Chan::make(0).unwrap();
            let (input, output) = (ch.clone(), next.clone());
            gmprt::go(move || filter(input, output, prime));
            ch = next;
            stages.push(ch.clone());
        }
        // Closing every stage ends the generator and the filters.
        for s in &stages {
            let _ = s.close();
        }
        primes
    })
    .unwrap();
    for w in primes.windows(2) {
        assert!(w[0] < w[1]);
    }
    assert!(primes
        .iter()
        .all(|&p| (2..p).take_while(|d| d * d <= p).all(|d| p % d != 0)));
    println!(
        "sieve: the first {} primes end with {:?}",
        count,
        &primes[primes.len().saturating_sub(5)..]
    );
}
