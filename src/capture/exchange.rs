//! Exchanges: packets grouped into what a protocol does (a TCP handshake, a TLS handshake, an
//! MQTT CONNECT, one PUBLISH, one HTTP request and its response, the teardown), every packet in
//! exactly one exchange.
//!
//! Rules, per TCP connection, in packet order:
//! - a SYN starts `tcp-handshake`; the first FIN or RST (or an MQTT DISCONNECT, or a TLS alert
//!   from the client after its handshake) starts `teardown`;
//! - plain MQTT: CONNECT starts `connect`, each PUBLISH (either direction) a `publish`;
//!   SUBSCRIBE, UNSUBSCRIBE and PINGREQ start `other`; acknowledgements join the current exchange;
//! - plain HTTP: a client segment that begins with a request line starts a `request`;
//! - TLS (HTTPS, MQTTS): the ClientHello starts `tls-handshake`, which lasts until the client's
//!   first application-data record after its Finished (TLS 1.2 and 1.3 both; the server's
//!   session tickets stay in the handshake). Then, for MQTTS, the client's first record is the
//!   MQTT `connect`, each later one a `publish`, except a record of two plaintext bytes (PINGREQ
//!   or DISCONNECT: `other`, or `teardown` when the connection closes right after it); for
//!   HTTPS, a client record after the server has answered starts a `request`;
//! - any other packet (ACKs, responses, continuation segments) joins the connection's current
//!   exchange; a connection seen without its SYN starts with `other`;
//! - TCP on unmapped ports: client data after a server answer starts `other`;
//! - not TCP: one `other` exchange per flow and stretch of packets less than 50 ms apart.
//!
//! Streams are followed by sequence number, so records and MQTT packets that span segments, and
//! retransmissions, are read correctly; after a lost segment the next one is assumed to start a
//! record. Cost: O(packets), memory O(connections + exchanges).

use super::{Packet, PortMap, Protocol};
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;

/// What an exchange does.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    TcpHandshake,
    TlsHandshake,
    Connect,
    Publish,
    Request,
    Teardown,
    Other,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl Phase {
    /// Every phase, in the order reports list them.
    pub const ALL: [Phase; 7] = [
        Phase::TcpHandshake,
        Phase::TlsHandshake,
        Phase::Connect,
        Phase::Publish,
        Phase::Request,
        Phase::Teardown,
        Phase::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::TcpHandshake => "tcp-handshake",
            Phase::TlsHandshake => "tls-handshake",
            Phase::Connect => "connect",
            Phase::Publish => "publish",
            Phase::Request => "request",
            Phase::Teardown => "teardown",
            Phase::Other => "other",
        }
    }

    /// A message the device sends (a PUBLISH, an HTTP request).
    pub fn is_message(self) -> bool {
        matches!(self, Phase::Publish | Phase::Request)
    }

    /// Part of setting a connection up.
    pub fn is_setup(self) -> bool {
        matches!(
            self,
            Phase::TcpHandshake | Phase::TlsHandshake | Phase::Connect
        )
    }
}

/// A group of packets; times on the capture's clock (s since its first packet).
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub protocol: Protocol,
    pub phase: Phase,
    /// The TCP connection (0-based, in order of first packet), if TCP.
    pub connection: Option<usize>,
    pub start_s: f64,
    pub end_s: f64,
    pub packets: u64,
    /// Sum of the frames' wire lengths, both directions, bytes.
    pub bytes: u64,
    /// The 0-based number of its first packet in the capture.
    pub first_packet: u64,
}

/// Builds exchanges from packets fed in capture order.
pub struct Builder {
    ports: PortMap,
    conns: HashMap<ConnKey, Conn>,
    connections: usize,
    flows: HashMap<FlowKey, (usize, f64)>,
    pub exchanges: Vec<Exchange>,
}

type Endpoint = (Option<IpAddr>, u16);
type ConnKey = (Endpoint, Endpoint);
type FlowKey = (Option<IpAddr>, Option<IpAddr>, u16, u16);

/// A gap longer than this starts a new exchange in a non-TCP flow, s.
const FLOW_GAP_S: f64 = 0.05;

struct Conn {
    id: usize,
    protocol: Protocol,
    client: Endpoint,
    current: Option<usize>,
    /// Client → server (0) and server → client (1).
    streams: [Stream; 2],
    tls: Tls,
    /// The server has sent data since the client's last request began.
    server_answered: bool,
    /// Client application records after the handshake (MQTTS, HTTPS).
    app_records: u64,
    /// The current exchange is a two-byte MQTTS record that may be a DISCONNECT.
    maybe_disconnect: bool,
}

#[derive(Default)]
struct Tls {
    /// ServerHello chose TLS 1.3.
    v13: bool,
    /// Bytes a record adds to its plaintext (tag, nonce, inner type), when the suite is known.
    overhead: Option<usize>,
    client_ccs: bool,
    /// The client's Finished was sent.
    client_finished: bool,
    /// The client has sent application data after its Finished.
    done: bool,
}

/// Reassembly state of one direction.
#[derive(Default)]
struct Stream {
    next_seq: Option<u32>,
    /// Bytes of the current record or MQTT packet still to come.
    skip: usize,
    /// A header split across segments.
    head: Vec<u8>,
    /// Framing was lost (garbage); resynchronise at the next segment.
    lost: bool,
}

/// A TLS record or MQTT packet that begins in a segment.
#[derive(Debug, Clone, Copy)]
struct Msg {
    /// TLS content type, or MQTT packet type.
    kind: u8,
    /// TLS handshake message type, when the record's first body byte is in the segment.
    sub: Option<u8>,
    /// Length of the record's body (TLS) or the packet's remaining length (MQTT).
    len: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Framing {
    Tls,
    Mqtt,
    None,
}

impl Stream {
    /// Feed one segment's payload (at sequence number `seq`); returns the messages that begin in
    /// it and the offset of each, and the bytes of the segment that are new.
    fn feed<'a>(
        &mut self,
        seq: u32,
        payload: &'a [u8],
        framing: Framing,
    ) -> (Vec<(Msg, &'a [u8])>, bool) {
        let mut data = payload;
        if let Some(next) = self.next_seq {
            let d = seq.wrapping_sub(next) as i32;
            if d < 0 {
                // Retransmitted bytes: keep only what is new.
                let old = (-(d as i64)) as usize;
                if old >= data.len() {
                    return (Vec::new(), false);
                }
                data = &data[old..];
            } else if d > 0 {
                // A lost segment: assume this one starts a record.
                self.skip = 0;
                self.head.clear();
                self.lost = false;
            }
        }
        self.next_seq = Some(seq.wrapping_add(payload.len() as u32));
        if framing == Framing::None || data.is_empty() {
            return (Vec::new(), !data.is_empty());
        }
        if self.lost {
            // Resynchronise: assume a new record begins with this segment.
            self.lost = false;
            self.skip = 0;
            self.head.clear();
        }
        let mut out = Vec::new();
        let mut i = 0;
        while i < data.len() {
            if self.skip > 0 {
                let n = self.skip.min(data.len() - i);
                self.skip -= n;
                i += n;
                continue;
            }
            let started_here = self.head.is_empty();
            let start = i;
            // Gather a header: 5 bytes for TLS, up to 5 for MQTT (type + 1–4 length bytes).
            let parsed = loop {
                match header(&self.head, framing) {
                    Header::Done(kind, len, hlen) => break Some((kind, len, hlen)),
                    Header::Bad => break None,
                    Header::More => {
                        if i >= data.len() {
                            // The header goes on in the next segment: its type is known already.
                            if started_here {
                                let kind = match framing {
                                    Framing::Mqtt => self.head[0] >> 4,
                                    _ => self.head[0],
                                };
                                let m = Msg {
                                    kind,
                                    sub: None,
                                    len: usize::MAX,
                                };
                                out.push((m, &data[start..]));
                            }
                            return (out, true);
                        }
                        self.head.push(data[i]);
                        i += 1;
                    }
                }
            };
            let Some((kind, len, _)) = parsed else {
                self.lost = true;
                self.head.clear();
                return (out, true);
            };
            self.head.clear();
            if started_here {
                let body = &data[i..];
                let sub = if framing == Framing::Tls && kind == 22 {
                    body.first().copied()
                } else {
                    None
                };
                out.push((Msg { kind, sub, len }, &data[start..]));
            }
            self.skip = len;
        }
        (out, true)
    }
}

enum Header {
    Done(u8, usize, usize),
    More,
    Bad,
}

fn header(h: &[u8], framing: Framing) -> Header {
    match framing {
        Framing::Tls => {
            if let Some(&t) = h.first() {
                if !(20..=24).contains(&t) {
                    return Header::Bad;
                }
            }
            if h.len() >= 2 && h[1] != 3 {
                return Header::Bad;
            }
            if h.len() < 5 {
                return Header::More;
            }
            let len = u16::from_be_bytes([h[3], h[4]]) as usize;
            if len > 18_432 {
                return Header::Bad;
            }
            Header::Done(h[0], len, 5)
        }
        Framing::Mqtt => {
            let Some(&b0) = h.first() else {
                return Header::More;
            };
            let kind = b0 >> 4;
            if kind == 0 {
                return Header::Bad;
            }
            let mut len = 0usize;
            for (k, &b) in h[1..].iter().enumerate() {
                len |= ((b & 0x7f) as usize) << (7 * k);
                if b & 0x80 == 0 {
                    return Header::Done(kind, len, k + 2);
                }
                if k == 3 {
                    return Header::Bad;
                }
            }
            Header::More
        }
        Framing::None => Header::Bad,
    }
}

/// From a ServerHello (the handshake message, from its type byte): TLS 1.3?, and the record
/// overhead of its cipher suite, if known.
fn server_hello(msg: &[u8]) -> Option<(bool, Option<usize>)> {
    if msg.first() != Some(&2) || msg.len() < 4 + 2 + 32 + 1 {
        return None;
    }
    let mut i = 4 + 2 + 32;
    let sid = *msg.get(i)? as usize;
    i += 1 + sid;
    let suite = u16::from_be_bytes([*msg.get(i)?, *msg.get(i + 1)?]);
    i += 3;
    let mut v13 = false;
    if let (Some(&a), Some(&b)) = (msg.get(i), msg.get(i + 1)) {
        let end = (i + 2 + u16::from_be_bytes([a, b]) as usize).min(msg.len());
        i += 2;
        while i + 4 <= end {
            let ty = u16::from_be_bytes([msg[i], msg[i + 1]]);
            let len = u16::from_be_bytes([msg[i + 2], msg[i + 3]]) as usize;
            if ty == 0x002b && len == 2 && i + 6 <= end && msg[i + 4..i + 6] == [3, 4] {
                v13 = true;
            }
            i += 4 + len;
        }
    }
    let overhead = if v13 {
        // AEAD tag + inner content type (no padding assumed).
        Some(17)
    } else {
        match suite {
            0xCCA8..=0xCCAE => Some(16),
            0x009C..=0x00AD | 0xC02B..=0xC032 | 0xC09C..=0xC0AF => Some(24),
            _ => None,
        }
    };
    Some((v13, overhead))
}

fn is_http_request(p: &[u8]) -> bool {
    const METHODS: [&[u8]; 9] = [
        b"GET ",
        b"POST ",
        b"PUT ",
        b"HEAD ",
        b"DELETE ",
        b"PATCH ",
        b"OPTIONS ",
        b"CONNECT ",
        b"TRACE ",
    ];
    METHODS.iter().any(|m| p.starts_with(m))
}

enum Action {
    Start(Phase),
    Join,
}

impl Builder {
    pub fn new(ports: PortMap) -> Builder {
        Builder {
            ports,
            conns: HashMap::new(),
            connections: 0,
            flows: HashMap::new(),
            exchanges: Vec::new(),
        }
    }

    fn start(
        &mut self,
        protocol: Protocol,
        phase: Phase,
        conn: Option<usize>,
        p: &Packet,
    ) -> usize {
        self.exchanges.push(Exchange {
            protocol,
            phase,
            connection: conn,
            start_s: p.time_s,
            end_s: p.time_s,
            packets: 0,
            bytes: 0,
            first_packet: p.number,
        });
        self.exchanges.len() - 1
    }

    fn add(&mut self, ex: usize, p: &Packet) {
        let e = &mut self.exchanges[ex];
        e.packets += 1;
        e.bytes += p.wire_bytes as u64;
        e.end_s = e.end_s.max(p.time_s);
        e.start_s = e.start_s.min(p.time_s);
    }

    /// Take one packet (in capture order).
    pub fn push(&mut self, p: &Packet) {
        let Some(tcp) = p.tcp else {
            self.push_flow(p);
            return;
        };
        let a: Endpoint = (p.src, tcp.src_port);
        let b: Endpoint = (p.dst, tcp.dst_port);
        let key = if a <= b { (a, b) } else { (b, a) };
        if tcp.syn && !tcp.ack {
            // A new connection (or a reused port pair): start afresh.
            let stale = self.conns.get(&key).is_some_and(|c| {
                c.current
                    .is_some_and(|e| self.exchanges[e].phase != Phase::TcpHandshake)
            });
            if stale {
                self.conns.remove(&key);
            }
        }
        if !self.conns.contains_key(&key) {
            // Which side is the server: the SYN's receiver, else a mapped port, else the lower.
            let client = if tcp.syn && !tcp.ack {
                a
            } else if tcp.syn && tcp.ack {
                b
            } else if self.ports.get(tcp.dst_port).is_some() {
                a
            } else if self.ports.get(tcp.src_port).is_some() {
                b
            } else if tcp.src_port > tcp.dst_port {
                a
            } else {
                b
            };
            let server_port = if client == a {
                tcp.dst_port
            } else {
                tcp.src_port
            };
            let protocol = self.ports.get(server_port).unwrap_or(Protocol::Tcp);
            self.conns.insert(
                key,
                Conn {
                    id: self.connections,
                    protocol,
                    client,
                    current: None,
                    streams: Default::default(),
                    tls: Tls::default(),
                    server_answered: false,
                    app_records: 0,
                    maybe_disconnect: false,
                },
            );
            self.connections += 1;
        }
        let c = self.conns.get_mut(&key).expect("inserted above");
        let dir = if a == c.client { 0 } else { 1 };
        let framing = match c.protocol {
            Protocol::Https | Protocol::Mqtts => Framing::Tls,
            Protocol::Mqtt => Framing::Mqtt,
            _ => Framing::None,
        };
        let (msgs, new_data) = if tcp.syn {
            c.streams[dir].next_seq = Some(tcp.seq.wrapping_add(1));
            (Vec::new(), false)
        } else {
            c.streams[dir].feed(tcp.seq, p.payload, framing)
        };
        let current_phase = c.current.map(|e| self.exchanges[e].phase);
        let action = if tcp.syn && !tcp.ack {
            Action::Start(Phase::TcpHandshake)
        } else if tcp.fin || tcp.rst {
            if current_phase == Some(Phase::Teardown) {
                Action::Join
            } else {
                Action::Start(Phase::Teardown)
            }
        } else if !new_data {
            Action::Join
        } else {
            classify(c, dir, &msgs, p.payload, current_phase)
        };
        // A two-byte MQTTS record (PINGREQ, DISCONNECT, or in TLS 1.3 an encrypted alert)
        // followed by the close (a TLS alert, FIN or RST) was the DISCONNECT: the teardown
        // starts with it, and a second small record (the close_notify) joins it.
        let small = c.protocol == Protocol::Mqtts
            && c.tls.done
            && dir == 0
            && msgs
                .iter()
                .any(|(m, _)| m.kind == 23 && c.tls.overhead.is_some_and(|o| m.len == o + 2));
        let action = match (action, c.maybe_disconnect, c.current) {
            (Action::Start(Phase::Teardown), true, Some(e)) => {
                self.exchanges[e].phase = Phase::Teardown;
                Action::Join
            }
            (Action::Start(Phase::Other), true, Some(_)) if small => Action::Join,
            (a, _, _) => a,
        };
        match action {
            Action::Start(ph) => c.maybe_disconnect = ph == Phase::Other && small,
            Action::Join if new_data && dir == 0 && !small => c.maybe_disconnect = false,
            Action::Join => {}
        }
        let (protocol, id, current) = (c.protocol, c.id, c.current);
        let ex = match (action, current) {
            (Action::Join, Some(e)) => e,
            (Action::Join, None) => self.start(protocol, Phase::Other, Some(id), p),
            (Action::Start(ph), _) => self.start(protocol, ph, Some(id), p),
        };
        self.conns.get_mut(&key).expect("exists").current = Some(ex);
        self.add(ex, p);
    }

    fn push_flow(&mut self, p: &Packet) {
        let (sp, dp) = p.udp_ports.unwrap_or((0, 0));
        let a = (p.src, sp);
        let b = (p.dst, dp);
        let ((ia, pa), (ib, pb)) = if a <= b { (a, b) } else { (b, a) };
        let key = (ia, ib, pa, pb);
        let ex = match self.flows.get(&key) {
            Some(&(e, last)) if p.time_s - last <= FLOW_GAP_S => e,
            _ => self.start(Protocol::Other, Phase::Other, None, p),
        };
        self.flows.insert(key, (ex, p.time_s));
        self.add(ex, p);
    }

    /// The exchanges, in order of their first packet.
    pub fn finish(self) -> Vec<Exchange> {
        self.exchanges
    }
}

/// What a data segment does on a connection that is not closing.
fn classify(
    c: &mut Conn,
    dir: usize,
    msgs: &[(Msg, &[u8])],
    payload: &[u8],
    current: Option<Phase>,
) -> Action {
    let client = dir == 0;
    match c.protocol {
        Protocol::Mqtt => match msgs.first().map(|(m, _)| m.kind) {
            Some(1) => Action::Start(Phase::Connect),
            Some(3) => Action::Start(Phase::Publish),
            Some(14) => Action::Start(Phase::Teardown),
            Some(8 | 10 | 12) => Action::Start(Phase::Other),
            _ => Action::Join,
        },
        Protocol::Http => {
            if client && is_http_request(payload) {
                Action::Start(Phase::Request)
            } else {
                Action::Join
            }
        }
        Protocol::Https | Protocol::Mqtts => tls_action(c, client, msgs, current),
        Protocol::Tcp | Protocol::Other => {
            if client {
                let start =
                    c.server_answered || matches!(current, None | Some(Phase::TcpHandshake));
                c.server_answered = false;
                if start {
                    Action::Start(Phase::Other)
                } else {
                    Action::Join
                }
            } else {
                c.server_answered = true;
                Action::Join
            }
        }
    }
}

fn tls_action(c: &mut Conn, client: bool, msgs: &[(Msg, &[u8])], current: Option<Phase>) -> Action {
    let mut action = Action::Join;
    for (m, bytes) in msgs {
        if !client {
            if m.kind == 22 && m.sub == Some(2) {
                if let Some((v13, overhead)) = server_hello(&bytes[5.min(bytes.len())..]) {
                    c.tls.v13 = v13;
                    c.tls.overhead = overhead;
                }
            }
            if c.tls.done && m.kind == 23 {
                c.server_answered = true;
            }
            continue;
        }
        if !c.tls.done {
            match m.kind {
                22 if m.sub == Some(1)
                    && current != Some(Phase::TlsHandshake)
                    && matches!(action, Action::Join) =>
                {
                    action = Action::Start(Phase::TlsHandshake);
                }
                22 if m.sub == Some(1) => {}
                20 => c.tls.client_ccs = true,
                // TLS 1.2: the Finished is the encrypted handshake record after the CCS.
                22 if c.tls.client_ccs && !c.tls.v13 => c.tls.client_finished = true,
                23 if !c.tls.client_finished => {
                    // TLS 1.3: the first application-data record is the client's Finished.
                    c.tls.client_finished = true;
                }
                23 => {
                    c.tls.done = true;
                    if let Action::Join = action {
                        action = app_record(c, m);
                    }
                }
                21 => {
                    if let Action::Join = action {
                        action = Action::Start(Phase::Teardown);
                    }
                }
                _ => {}
            }
        } else if matches!(action, Action::Join) {
            action = match m.kind {
                23 => app_record(c, m),
                21 => Action::Start(Phase::Teardown),
                _ => Action::Join,
            };
        }
    }
    // A segment with no new record (a continuation) joins.
    action
}

/// A client application-data record after the handshake.
fn app_record(c: &mut Conn, m: &Msg) -> Action {
    c.app_records += 1;
    match c.protocol {
        Protocol::Mqtts => {
            if c.app_records == 1 {
                Action::Start(Phase::Connect)
            } else if c.tls.overhead.is_some_and(|o| m.len == o + 2) {
                Action::Start(Phase::Other)
            } else {
                Action::Start(Phase::Publish)
            }
        }
        _ => {
            let start = c.app_records == 1 || c.server_answered;
            c.server_answered = false;
            if start {
                Action::Start(Phase::Request)
            } else {
                Action::Join
            }
        }
    }
}

/// Read a capture into exchanges (the tests' view of this stage). Cost: one pass over the file.
#[cfg(test)]
pub fn exchanges(
    path: &str,
    ports: &PortMap,
) -> crate::error::Result<(super::CaptureInfo, Vec<Exchange>)> {
    exchanges_of_hosts(path, ports, &[])
}

/// [`exchanges`] of the packets to or from one of `hosts` only (all when empty); the others
/// are counted in `filtered_out` and left out of `packets` and `bytes`.
pub fn exchanges_of_hosts(
    path: &str,
    ports: &PortMap,
    hosts: &[IpAddr],
) -> crate::error::Result<(super::CaptureInfo, Vec<Exchange>)> {
    let mut b = Builder::new(ports.clone());
    let (mut dropped, mut dropped_bytes) = (0u64, 0u64);
    let mut info = super::read(path, |p| {
        let keep = hosts.is_empty()
            || p.src.is_some_and(|a| hosts.contains(&a))
            || p.dst.is_some_and(|a| hosts.contains(&a));
        if keep {
            b.push(p);
        } else {
            dropped += 1;
            dropped_bytes += p.wire_bytes as u64;
        }
    })?;
    info.filtered_out = dropped;
    info.packets -= dropped;
    info.bytes -= dropped_bytes;
    Ok((info, b.finish()))
}
