//! Finding and talking to a PPK2 on a serial port (the `serialport` crate; on Linux without
//! libudev: ports are found in /sys/class/tty).

use super::protocol::{self, cmd, Metadata};
use crate::error::{Error, Result};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// Nordic Semiconductor's USB vendor id and the PPK2's product id.
const NORDIC_VID: u16 = 0x1915;
const PPK2_PID: u16 = 0xc00a;

/// A connected PPK2.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ppk2Port {
    pub port: String,
    pub serial_number: Option<String>,
    /// USB device release (bcdDevice) as the firmware's version, where the system tells it.
    pub firmware: Option<String>,
}

/// The PPK2s connected now, by port name.
pub fn list() -> Result<Vec<Ppk2Port>> {
    // serialport panics when Linux has no /sys/class/tty (some containers): no ports there.
    if cfg!(target_os = "linux") && !std::path::Path::new("/sys/class/tty").is_dir() {
        return Ok(Vec::new());
    }
    let ports = serialport::available_ports()
        .map_err(|e| Error::usage(format!("cannot list serial ports: {e}")))?;
    let mut found: Vec<Ppk2Port> = Vec::new();
    for p in ports {
        let serialport::SerialPortType::UsbPort(u) = &p.port_type else {
            continue;
        };
        let is_ppk2 = u.vid == NORDIC_VID
            && (u.pid == PPK2_PID || u.product.as_deref().is_some_and(|s| s.contains("PPK2")));
        if !is_ppk2 {
            continue;
        }
        // One PPK2 may show more than one interface: keep its first port.
        if let Some(sn) = &u.serial_number {
            if found.iter().any(|f| f.serial_number.as_ref() == Some(sn)) {
                continue;
            }
        }
        found.push(Ppk2Port {
            firmware: firmware_of(&p.port_name),
            port: p.port_name,
            serial_number: u.serial_number.clone(),
        });
    }
    found.sort_by(|a, b| a.port.cmp(&b.port));
    Ok(found)
}

/// bcdDevice of the USB device behind a tty (Linux sysfs), as "major.minor".
fn firmware_of(port: &str) -> Option<String> {
    let name = std::path::Path::new(port).file_name()?.to_str()?;
    let dev = std::fs::canonicalize(format!("/sys/class/tty/{name}/device")).ok()?;
    let text = std::fs::read_to_string(dev.parent()?.join("bcdDevice")).ok()?;
    let v = u16::from_str_radix(text.trim(), 16).ok()?;
    Some(format!("{}.{:02x}", v >> 8, v & 0xff))
}

/// The port to record from: the one named, or the only PPK2 connected.
pub fn choose(port: Option<&str>) -> Result<String> {
    if let Some(p) = port {
        return Ok(p.to_string());
    }
    pick(&list()?)
}

/// The only PPK2 of `found`, or an error that says why not (none; several, listed).
fn pick(found: &[Ppk2Port]) -> Result<String> {
    match found {
        [one] => Ok(one.port.clone()),
        [] => Err(Error::usage(
            "no PPK2 is connected (none of the serial ports is Nordic's 1915:c00a): plug one \
             in, or name its port (--ppk2 /dev/ttyACM0)",
        )),
        many => Err(Error::usage(format!(
            "{} PPK2s are connected ({}): name the one to record from (--ppk2 PORT)",
            many.len(),
            many.iter()
                .map(|p| format!(
                    "{} serial {}",
                    p.port,
                    p.serial_number.as_deref().unwrap_or("unknown")
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// An open PPK2.
pub struct Device {
    pub port_name: String,
    port: Box<dyn serialport::SerialPort>,
}

impl Device {
    pub fn open(port_name: &str) -> Result<Device> {
        let port = serialport::new(port_name, 115_200)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| Error::input(port_name, format!("cannot open the serial port: {e}")))?;
        Ok(Device {
            port_name: port_name.to_string(),
            port,
        })
    }

    pub fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.port
            .write_all(bytes)
            .and_then(|_| self.port.flush())
            .map_err(|e| {
                Error::input(
                    &self.port_name,
                    format!("cannot send command 0x{:02x} to the PPK2: {e}", bytes[0]),
                )
            })
    }

    /// Read what arrives within `timeout`; Ok(0) when nothing did. Errors other than a
    /// timeout or an interrupted call mean the device went away.
    pub fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.port.read(buf) {
            // Readable but nothing to read: the end of the port (unplugged, reset).
            Ok(0) => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the port ended",
            )),
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                        | std::io::ErrorKind::WouldBlock
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    /// Stop any stream, drop what is buffered, ask for the metadata and parse it.
    pub fn metadata(&mut self) -> Result<Metadata> {
        self.send(&[cmd::AVERAGE_STOP])?;
        let mut buf = [0u8; 4096];
        let quiet = Instant::now();
        while quiet.elapsed() < Duration::from_millis(300) {
            match self.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => return Err(Error::input(&self.port_name, format!("read failed: {e}"))),
            }
        }
        let _ = self.port.clear(serialport::ClearBuffer::Input);
        self.send(&[cmd::GET_META_DATA])?;
        let mut text = Vec::new();
        let t0 = Instant::now();
        while !text.windows(3).any(|w| w == b"END") {
            if t0.elapsed() > Duration::from_secs(3) || text.len() > 64 << 10 {
                return Err(Error::input(
                    &self.port_name,
                    "no PPK2 metadata (a block ending in END) within 3 s of asking: is this a \
                     PPK2, and is no other program using it?",
                ));
            }
            let n = self
                .read(&mut buf)
                .map_err(|e| Error::input(&self.port_name, format!("read failed: {e}")))?;
            text.extend_from_slice(&buf[..n]);
        }
        protocol::parse_metadata(&String::from_utf8_lossy(&text))
            .map_err(|e| Error::input(&self.port_name, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_only_one_or_a_list() {
        let p = |port: &str, sn: &str| Ppk2Port {
            port: port.into(),
            serial_number: Some(sn.into()),
            firmware: None,
        };
        assert_eq!(pick(&[p("/dev/ttyACM0", "C1")]).unwrap(), "/dev/ttyACM0");
        let none = pick(&[]).unwrap_err().to_string();
        assert!(none.contains("no PPK2 is connected"), "{none}");
        let two = pick(&[p("/dev/ttyACM0", "C1"), p("/dev/ttyACM2", "D7")])
            .unwrap_err()
            .to_string();
        assert!(
            two.contains("2 PPK2s") && two.contains("/dev/ttyACM2 serial D7"),
            "{two}"
        );
        assert_eq!(choose(Some("/dev/x")).unwrap(), "/dev/x");
    }
}
