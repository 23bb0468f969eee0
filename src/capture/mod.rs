//! Capture: packets from a pcap or pcapng file (pcap-parser reads the container, etherparse the
//! headers), streamed one at a time into the exchange builder ([`exchange`]).
//!
//! Memory: the reader's 1 MiB buffer plus one state per TCP connection, whatever the capture's
//! length. Times are seconds since the capture's first packet (the clock that `--pcap-offset`
//! shifts); lengths are the frames' original lengths, as on the wire.

pub mod exchange;

use crate::error::{Error, Result};
use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use pcap_parser::{Linktype, PcapBlockOwned, PcapError};
use std::net::IpAddr;

/// A protocol named by its server port.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Http,
    Https,
    Mqtt,
    Mqtts,
    /// TCP on a port no protocol is mapped to.
    Tcp,
    /// Anything not TCP (UDP, ICMP, ARP, …).
    Other,
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Mqtt => "mqtt",
            Protocol::Mqtts => "mqtts",
            Protocol::Tcp => "tcp",
            Protocol::Other => "other",
        }
    }

    /// Application data is in TLS records.
    pub fn tls(self) -> bool {
        matches!(self, Protocol::Https | Protocol::Mqtts)
    }

    fn parse(s: &str) -> Option<Protocol> {
        Some(match s.to_ascii_lowercase().as_str() {
            "http" => Protocol::Http,
            "https" => Protocol::Https,
            "mqtt" => Protocol::Mqtt,
            "mqtts" => Protocol::Mqtts,
            _ => return None,
        })
    }
}

/// Which server ports carry which protocol: 80, 443, 1883, 8883, plus `--port NAME=PORT`.
#[derive(Debug, Clone)]
pub struct PortMap {
    ports: Vec<(u16, Protocol)>,
}

impl Default for PortMap {
    fn default() -> Self {
        PortMap {
            ports: vec![
                (80, Protocol::Http),
                (443, Protocol::Https),
                (1883, Protocol::Mqtt),
                (8883, Protocol::Mqtts),
            ],
        }
    }
}

impl PortMap {
    /// The standard ports plus `specs` of the form `mqtt=1884` (a later one wins for a port).
    pub fn with(specs: &[String]) -> Result<PortMap> {
        let mut map = PortMap::default();
        for s in specs {
            let bad = || {
                Error::usage(format!(
                    "--port: expected PROTOCOL=PORT with PROTOCOL one of http, https, mqtt, \
                     mqtts (e.g. mqtt=1884), found \"{s}\""
                ))
            };
            let (name, port) = s.split_once('=').ok_or_else(bad)?;
            let proto = Protocol::parse(name.trim()).ok_or_else(bad)?;
            let port: u16 = port.trim().parse().map_err(|_| bad())?;
            map.ports.retain(|(p, _)| *p != port);
            map.ports.push((port, proto));
        }
        Ok(map)
    }

    pub fn get(&self, port: u16) -> Option<Protocol> {
        self.ports.iter().find(|(p, _)| *p == port).map(|(_, v)| *v)
    }
}

/// TCP header fields that the exchange builder needs.
#[derive(Debug, Clone, Copy)]
pub struct Tcp {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
}

/// One packet, borrowed from the reader's buffer.
#[derive(Debug)]
pub struct Packet<'a> {
    /// 0-based position in the capture.
    pub number: u64,
    /// Seconds since the capture's first packet.
    pub time_s: f64,
    /// Frame length on the wire (the capture's original length), bytes.
    pub wire_bytes: u32,
    /// The frame was cut short by the capture's snap length.
    pub truncated: bool,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub tcp: Option<Tcp>,
    /// UDP ports, for grouping non-TCP traffic by flow.
    pub udp_ports: Option<(u16, u16)>,
    /// TCP payload as captured (shorter than sent if truncated).
    pub payload: &'a [u8],
}

/// What the reader saw, besides the packets.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CaptureInfo {
    /// `pcap` or `pcapng`.
    pub container: String,
    /// Link types seen (pcap names: 1 Ethernet, 113 Linux SLL, …).
    pub link_types: Vec<u32>,
    pub packets: u64,
    /// Sum of the frames' wire lengths, bytes.
    pub bytes: u64,
    /// Frames that could not be decoded down to IP (counted, kept as `other`).
    pub undecoded: u64,
    /// Frames cut short by the snap length.
    pub truncated: u64,
    /// Seconds since the Unix epoch of the first packet (as the capture records it).
    pub first_epoch_s: f64,
    /// Last packet time minus first, s.
    pub duration_s: f64,
    /// Packets left out by a host filter (`--pcap-host`), not counted in `packets`/`bytes`.
    pub filtered_out: u64,
}

/// A frame as read: link type, time stamp (whole seconds, fraction), wire length, data.
type Frame<'a> = (Linktype, (i64, f64), u32, &'a [u8]);

/// Read every packet of `path` in file order, calling `f` on each.
///
/// Cost: one pass, a 1 MiB buffer (grown to fit a larger block, up to 64 MiB).
pub fn read(path: &str, mut f: impl FnMut(&Packet)) -> Result<CaptureInfo> {
    let err = |m: String| Error::input(path, m);
    let file = std::fs::File::open(path)
        .map_err(|e| err(format!("cannot open: {}", crate::ingest::io_reason(&e))))?;
    let mut reader =
        match pcap_parser::create_reader(1 << 20, file) {
            Ok(r) => r,
            Err(PcapError::Eof) => return Err(err("the capture is empty".into())),
            Err(_) => return Err(err(
                "not a pcap or pcapng capture (expected the magic number a1b2c3d4, a1b23c4d or \
                 a pcapng section header 0a0d0d0a at byte 0)"
                    .into(),
            )),
        };
    let mut info = CaptureInfo::default();
    // pcap: one link type and resolution; pcapng: per interface.
    let mut legacy: Option<(Linktype, f64)> = None;
    let mut interfaces: Vec<(Linktype, u64, i64)> = Vec::new();
    let mut first: Option<(i64, f64)> = None;
    let mut last = 0.0f64;
    let mut buffer = 1usize << 20;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                // Time stamps as (whole seconds, fraction): an f64 of epoch seconds keeps only 0.24 µs.
                let mut frame: Option<Frame> = None;
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        info.container = "pcap".into();
                        let nanos = h.magic_number == 0xa1b2_3c4d || h.magic_number == 0x4d3c_b2a1;
                        legacy = Some((h.network, if nanos { 1e-9 } else { 1e-6 }));
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let (lt, unit) = legacy.unwrap_or((Linktype::ETHERNET, 1e-6));
                        let t = (b.ts_sec as i64, b.ts_usec as f64 * unit);
                        frame = Some((lt, t, b.origlen, b.data));
                    }
                    PcapBlockOwned::NG(b) => {
                        use pcap_parser::Block;
                        match b {
                            Block::SectionHeader(_) => {
                                info.container = "pcapng".into();
                                interfaces.clear();
                            }
                            Block::InterfaceDescription(idb) => {
                                let res = idb.ts_resolution().unwrap_or(1_000_000);
                                interfaces.push((idb.linktype, res, idb.if_tsoffset));
                            }
                            Block::EnhancedPacket(epb) => {
                                let Some(&(lt, res, off)) = interfaces.get(epb.if_id as usize)
                                else {
                                    return Err(err(format!(
                                        "packet {} names interface {}, but the capture describes \
                                         {} interface(s)",
                                        info.packets + 1,
                                        epb.if_id,
                                        interfaces.len()
                                    )));
                                };
                                let ts = ((epb.ts_high as u64) << 32) | epb.ts_low as u64;
                                let t = (off + (ts / res) as i64, (ts % res) as f64 / res as f64);
                                let len = (epb.caplen as usize).min(epb.data.len());
                                frame = Some((lt, t, epb.origlen, &epb.data[..len]));
                            }
                            Block::SimplePacket(spb) => {
                                // No time stamp: the previous packet's time.
                                let lt = interfaces.first().map(|i| i.0).unwrap_or(Linktype(1));
                                let t = first.map(|(s, f)| (s, f + last)).unwrap_or((0, 0.0));
                                let len = (spb.origlen as usize).min(spb.data.len());
                                frame = Some((lt, t, spb.origlen, &spb.data[..len]));
                            }
                            _ => {}
                        }
                    }
                }
                if let Some((lt, t, orig, data)) = frame {
                    let t0 = *first.get_or_insert(t);
                    let rel = (t.0 - t0.0) as f64 + (t.1 - t0.1);
                    last = last.max(rel);
                    let p = decode(info.packets, rel, orig.max(data.len() as u32), lt, data);
                    if p.src.is_none() {
                        info.undecoded += 1;
                    }
                    if p.truncated {
                        info.truncated += 1;
                    }
                    info.bytes += p.wire_bytes as u64;
                    if !info.link_types.contains(&(lt.0 as u32)) {
                        info.link_types.push(lt.0 as u32);
                    }
                    f(&p);
                    info.packets += 1;
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if reader.reader_exhausted() {
                    return Err(err(format!(
                        "the capture ends inside a block, after {} packets (a capture cut short?)",
                        info.packets
                    )));
                }
                reader.refill().map_err(|e| {
                    err(format!("read error after {} packets: {e:?}", info.packets))
                })?;
            }
            Err(PcapError::BufferTooSmall) => {
                buffer *= 2;
                if buffer > 64 << 20 || !reader.grow(buffer) {
                    return Err(err(format!(
                        "block after packet {} is larger than 64 MiB (a corrupt length?)",
                        info.packets
                    )));
                }
            }
            Err(PcapError::UnexpectedEof) => {
                return Err(err(format!(
                    "the capture ends inside a block, after {} packets (a capture cut short?)",
                    info.packets
                )));
            }
            Err(e) => {
                let what = format!("{e:?}");
                return Err(err(format!(
                    "corrupt block after packet {} ({what}): expected a pcap record or pcapng block",
                    info.packets
                )));
            }
        }
    }
    if info.packets == 0 {
        return Err(err("the capture holds no packets".into()));
    }
    // `packets` counts the frames read; a host filter (exchange::exchanges_of_hosts) then
    // takes out the ones it drops.
    info.first_epoch_s = first.map(|(s, f)| s as f64 + f).unwrap_or(0.0);
    info.duration_s = last;
    Ok(info)
}

/// Decode one frame down to TCP (or UDP) where it can; anything else keeps only time and length.
fn decode<'a>(number: u64, time_s: f64, orig: u32, lt: Linktype, data: &'a [u8]) -> Packet<'a> {
    let truncated = (data.len() as u32) < orig;
    let mut p = Packet {
        number,
        time_s,
        wire_bytes: orig,
        truncated,
        src: None,
        dst: None,
        tcp: None,
        udp_ports: None,
        payload: &[],
    };
    let sliced = match lt.0 {
        1 => LaxSlicedPacket::from_ethernet(data).ok(),
        // Raw IP (101, and 12/14 on some BSDs), IPv4 (228), IPv6 (229).
        101 | 12 | 14 | 228 | 229 => LaxSlicedPacket::from_ip(data).ok(),
        // BSD loopback: a 4-byte address family, then IP.
        0 | 108 if data.len() > 4 => LaxSlicedPacket::from_ip(&data[4..]).ok(),
        // Linux cooked capture v1: 16-byte header, protocol in its last two bytes.
        113 if data.len() > 16 => Some(LaxSlicedPacket::from_ether_type(
            EtherType(u16::from_be_bytes([data[14], data[15]])),
            &data[16..],
        )),
        // Linux cooked capture v2: 20-byte header, protocol first.
        276 if data.len() > 20 => Some(LaxSlicedPacket::from_ether_type(
            EtherType(u16::from_be_bytes([data[0], data[1]])),
            &data[20..],
        )),
        _ => None,
    };
    let Some(s) = sliced else { return p };
    match &s.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            p.src = Some(IpAddr::V4(ip.header().source_addr()));
            p.dst = Some(IpAddr::V4(ip.header().destination_addr()));
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            p.src = Some(IpAddr::V6(ip.header().source_addr()));
            p.dst = Some(IpAddr::V6(ip.header().destination_addr()));
        }
        _ => return p,
    }
    match &s.transport {
        Some(TransportSlice::Tcp(t)) => {
            p.tcp = Some(Tcp {
                src_port: t.source_port(),
                dst_port: t.destination_port(),
                seq: t.sequence_number(),
                syn: t.syn(),
                ack: t.ack(),
                fin: t.fin(),
                rst: t.rst(),
            });
            p.payload = t.payload();
        }
        Some(TransportSlice::Udp(u)) => {
            p.udp_ports = Some((u.source_port(), u.destination_port()));
        }
        _ => {}
    }
    p
}
