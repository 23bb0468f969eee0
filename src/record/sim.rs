//! A PPK2 on a pseudo-terminal, from the public protocol (Nordic's app, ppk2-api-python): it
//! answers the metadata request with a real device's calibration block, takes the mode,
//! regulator and DUT-power commands, and on `AVERAGE_START` streams a known current profile
//! encoded as the device encodes it (range chosen per sample, calibration inverted, 6-bit
//! counter, logic byte). Faults can be injected: a lost byte, samples never sent, writes split
//! into pieces of 1–7 bytes, spikes at range switches, and the device going away. For tests and
//! benchmarks without hardware.

use super::protocol::{self, cmd, Modifiers};
use serialport::{SerialPort, TTYPort};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A real PPK2's metadata block (as published with ppk2 tools); VDD 3000 mV.
pub const METADATA: &str = "Calibrated: 0\nR0: 1003.3506\nR1: 101.5865\nR2: 10.3027\nR3: 0.9636\n\
R4: 0.0564\nGS0: 0.0000\nGS1: 112.7890\nGS2: 18.0115\nGS3: 2.4217\nGS4: 0.0729\nGI0: 1.0000\n\
GI1: 0.9695\nGI2: 0.9609\nGI3: 0.9519\nGI4: 0.9582\nO0: 112.9420\nO1: 75.4627\nO2: 64.6020\n\
O3: 50.4983\nO4: 87.2177\nVDD: 3000\nHW: 9173\nmode: 2\nS0: 0.000000048\nS1: 0.000000596\n\
S2: 0.000005281\nS3: 0.000062577\nS4: 0.002940743\nI0: -0.000000104\nI1: -0.000001443\n\
I2: 0.000036439\nI3: -0.000374119\nI4: -0.009388455\nUG0: 1.00\nUG1: 1.00\nUG2: 1.00\n\
UG3: 1.00\nUG4: 1.00\nIA: 56\nEND\n";

/// The current (A) and logic byte of sample k (10 µs each).
pub type Profile = Arc<dyn Fn(u64) -> (f64, u8) + Send + Sync>;

/// What the simulated device does.
#[derive(Clone)]
pub struct SimConfig {
    pub profile: Profile,
    /// Stream at 100 kS/s of wall time; otherwise as fast as the reader takes it.
    pub realtime: bool,
    /// Samples whose second byte is never sent.
    pub drop_byte_at: Vec<u64>,
    /// (first sample, count): samples never sent (a counter gap).
    pub skip: Vec<(u64, u64)>,
    /// Write in pieces of 1–7 bytes (short reads on the host).
    pub split_writes: bool,
    /// The first sample on a new range reads this many times its true current (the transient
    /// the spike filter is for); 1.0: none.
    pub switch_spike: f64,
    /// Close the port after this many samples (the device is unplugged).
    pub vanish_after: Option<u64>,
}

impl SimConfig {
    pub fn new(profile: Profile) -> SimConfig {
        SimConfig {
            profile,
            realtime: false,
            drop_byte_at: Vec::new(),
            skip: Vec::new(),
            split_writes: false,
            switch_spike: 1.0,
            vanish_after: None,
        }
    }
}

/// What the simulated device was told and did.
#[derive(Debug, Clone, Default)]
pub struct SimLog {
    /// Commands received, each with its arguments.
    pub commands: Vec<Vec<u8>>,
    /// Samples encoded (sent or skipped).
    pub samples: u64,
}

/// A running simulator; [`Simulator::path`] is the port to record from.
pub struct Simulator {
    pub path: String,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<SimLog>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The range and ADC field the device would report for `amps`: the lowest range that holds
/// it below 90% of full scale.
pub fn encode(mods: &Modifiers, amps: f64, vdd_mv: f64) -> (u32, u32) {
    for r in 0..5 {
        if let Some(f) = mods.encode(r, amps, vdd_mv) {
            if f < 14_700 || r == 4 {
                return (r as u32, f);
            }
        }
    }
    (4, mods.encode(4, amps, vdd_mv).unwrap_or(16383))
}

fn args_len(op: u8) -> usize {
    match op {
        cmd::REGULATOR_SET => 2,
        cmd::DEVICE_RUNNING_SET | cmd::SET_POWER_MODE => 1,
        0x25 => 5,
        0x01..=0x05 | 0x08 | 0x09 | 0x0e | 0x0f => 1,
        _ => 0,
    }
}

struct Device {
    cfg: SimConfig,
    mods: Modifiers,
    vdd_mv: f64,
    next: u64,
    prev_range: Option<u32>,
    split: usize,
}

impl Device {
    /// The bytes of samples `self.next .. self.next + n`.
    fn encode_block(&mut self, n: u64, out: &mut Vec<u8>) {
        for k in self.next..self.next + n {
            let (amps, logic) = (self.cfg.profile)(k);
            let (mut r, mut f) = encode(&self.mods, amps, self.vdd_mv);
            if self.prev_range.is_some_and(|p| p != r) && self.cfg.switch_spike != 1.0 {
                (r, f) = encode_on(&self.mods, r, amps * self.cfg.switch_spike, self.vdd_mv);
            }
            self.prev_range = Some(r);
            if self.cfg.skip.iter().any(|&(a, c)| k >= a && k < a + c) {
                continue;
            }
            let w = protocol::word(f, r, (k & 63) as u8, logic).to_le_bytes();
            if self.cfg.drop_byte_at.contains(&k) {
                out.extend_from_slice(&[w[0], w[2], w[3]]);
            } else {
                out.extend_from_slice(&w);
            }
        }
        self.next += n;
    }
}

/// The field on range `r` (saturating), for a spike that stays on its range.
fn encode_on(mods: &Modifiers, r: u32, amps: f64, vdd_mv: f64) -> (u32, u32) {
    let f = mods.encode(r as usize, amps, vdd_mv);
    (r, f.unwrap_or(if amps > 0.0 { 16383 } else { 0 }))
}

/// Write all of `bytes`, waiting while the pty's buffer is full; false when the port is gone
/// or the simulator is stopped.
fn write_all(port: &mut TTYPort, mut bytes: &[u8], split: &mut usize, stop: &AtomicBool) -> bool {
    while !bytes.is_empty() {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let take = if *split > 0 {
            *split = *split % 7 + 1;
            (*split).min(bytes.len())
        } else {
            bytes.len()
        };
        match port.write(&bytes[..take]) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
        if *split > 0 {
            let _ = port.flush();
        }
    }
    true
}

impl Simulator {
    /// Start a simulated PPK2 on a new pseudo-terminal.
    pub fn start(cfg: SimConfig) -> std::io::Result<Simulator> {
        let (master, slave) = TTYPort::pair().map_err(std::io::Error::other)?;
        // Not inherited by child processes (a recorder run as one): else the pty would outlive
        // the device's end, and "unplugged" could not be simulated.
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on a descriptor this function owns, with integer arguments only.
        unsafe { libc::fcntl(master.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
        let path = slave
            .name()
            .ok_or_else(|| std::io::Error::other("the pseudo-terminal has no name"))?;
        drop(slave);
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(SimLog::default()));
        let mods = protocol::parse_metadata(METADATA).map_err(std::io::Error::other)?;
        let dev = Device {
            split: cfg.split_writes as usize,
            cfg,
            mods: mods.modifiers,
            vdd_mv: 3000.0,
            next: 0,
            prev_range: None,
        };
        let (s, l) = (stop.clone(), log.clone());
        let thread = std::thread::spawn(move || run(master, dev, &s, &l));
        Ok(Simulator {
            path,
            stop,
            log,
            thread: Some(thread),
        })
    }

    /// What the device was told so far.
    pub fn log(&self) -> SimLog {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Stop the device and return its log.
    pub fn stop(mut self) -> SimLog {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.log()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(mut port: TTYPort, mut dev: Device, stop: &AtomicBool, log: &Mutex<SimLog>) {
    let _ = port.set_timeout(Duration::from_millis(2));
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 256];
    let mut streaming: Option<(Instant, u64)> = None;
    let mut block = Vec::with_capacity(1 << 16);
    while !stop.load(Ordering::Relaxed) {
        match port.read(&mut buf) {
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            // No one has the other end open yet (EIO on Linux): wait.
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
        while let Some(&op) = pending.first() {
            let len = 1 + args_len(op);
            if pending.len() < len {
                break;
            }
            let c: Vec<u8> = pending.drain(..len).collect();
            match op {
                cmd::GET_META_DATA => {
                    let mut split = dev.split;
                    write_all(&mut port, METADATA.as_bytes(), &mut split, stop);
                }
                cmd::AVERAGE_START => streaming = Some((Instant::now(), dev.next)),
                cmd::AVERAGE_STOP => streaming = None,
                cmd::REGULATOR_SET => dev.vdd_mv = protocol::regulator_mv(c[1], c[2]) as f64,
                _ => {}
            }
            if let Ok(mut l) = log.lock() {
                l.commands.push(c);
            }
        }
        let Some((t0, first)) = streaming else {
            continue;
        };
        let due = if dev.cfg.realtime {
            let at = first + (t0.elapsed().as_secs_f64() * protocol::RATE_HZ as f64) as u64;
            at.saturating_sub(dev.next).min(20_000)
        } else {
            4096
        };
        let due = match dev.cfg.vanish_after {
            Some(v) if dev.next + due >= v => {
                let last = v.saturating_sub(dev.next);
                block.clear();
                dev.encode_block(last, &mut block);
                let mut split = dev.split;
                write_all(&mut port, &block, &mut split, stop);
                if let Ok(mut l) = log.lock() {
                    l.samples = dev.next;
                }
                // Let the host read what was sent, then go away.
                std::thread::sleep(Duration::from_millis(200));
                return;
            }
            _ => due,
        };
        if due == 0 {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        block.clear();
        dev.encode_block(due, &mut block);
        let mut split = dev.split;
        if !write_all(&mut port, &block, &mut split, stop) {
            return;
        }
        dev.split = split;
        if let Ok(mut l) = log.lock() {
            l.samples = dev.next;
        }
    }
}
