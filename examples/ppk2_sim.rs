//! A simulated PPK2 on a pseudo-terminal, streaming at 100 kS/s of wall time until killed:
//! prints the port to record from. For `benches/record.sh` and for trying `shuntscope record`
//! without hardware:
//!
//! ```text
//! cargo run --release --example ppk2_sim &        # prints e.g. /dev/pts/7
//! shuntscope record --ppk2 /dev/pts/7 --source-mv 3000 --duration 10s -o sim.ppk2 --analyze
//! ```
//!
//! The profile: a 5 µA sleep floor, every 100 ms a 10 ms burst of 8 mA with D0 high, and every
//! second a 2 ms peak of 150 mA (ranges 0, 2 and 3 of the five).

use shuntscope::ppk2::{SimConfig, Simulator};
use std::io::Write;
use std::sync::Arc;

fn main() {
    let profile = Arc::new(|k: u64| {
        if (50_000..50_200).contains(&(k % 100_000)) {
            (0.150, 3u8)
        } else if (2000..3000).contains(&(k % 10_000)) {
            (8e-3, 1u8)
        } else {
            (5e-6, 0u8)
        }
    });
    let mut cfg = SimConfig::new(profile);
    cfg.realtime = std::env::args().all(|a| a != "--fast");
    let sim = Simulator::start(cfg).expect("a pseudo-terminal");
    println!("{}", sim.path);
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
