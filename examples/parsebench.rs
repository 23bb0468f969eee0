use std::time::Instant;
fn main() {
    let data = std::fs::read("/tmp/bench/trace.csv").unwrap();
    let data = &data[..100_000_000];
    // 1) scan lines only
    let t = Instant::now();
    let mut n = 0usize;
    for l in data.split(|&b| b == b'\n') {
        n += l.len() & 1;
    }
    println!("split lines: {:?} ({n})", t.elapsed());
    // 2) fast_prefix on both fields
    let t = Instant::now();
    let mut p = data.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut sum = 0.0;
    let mut rows = 0;
    while p + 32 < data.len() {
        let (a, k) = shuntscope::ingest::reader::fast_prefix(&data[p..], b'.').unwrap();
        let q = p + k + 1;
        let (b, k2) = shuntscope::ingest::reader::fast_prefix(&data[q..], b'.').unwrap();
        sum += a + b;
        p = q + k2 + 1;
        rows += 1;
    }
    let e = t.elapsed();
    println!(
        "fast_prefix x2: {:?} = {:.1} ns/row ({sum})",
        e,
        e.as_nanos() as f64 / rows as f64
    );
}
