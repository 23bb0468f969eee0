//! Packet captures read into exchanges, checked against frame lists read by hand off tshark's
//! dissection (the committed tshark dumps, written by scripts/capture-samples.sh), and damaged
//! captures that must never panic.

use super::data::*;
use crate::capture::exchange::exchanges;
use crate::capture::PortMap;
use std::collections::HashMap;

const PAIRED: &str = "samples/paired";

#[test]
fn pcapng_reads_like_pcap() {
    // tests/fixtures/pcap/mqtt.pcapng is samples/paired/mqtt.pcap through `editcap -F pcapng`.
    let a = exchanges(&format!("{PAIRED}/mqtt.pcap"), &PortMap::default()).unwrap();
    let b = exchanges("tests/fixtures/pcap/mqtt.pcapng", &PortMap::default()).unwrap();
    assert_eq!(a.0.container, "pcap");
    assert_eq!(b.0.container, "pcapng");
    assert_eq!(a.1.len(), b.1.len());
    for (x, y) in a.1.iter().zip(&b.1) {
        assert_eq!((x.phase, x.packets, x.bytes), (y.phase, y.packets, y.bytes));
        assert!((x.start_s - y.start_s).abs() < 1e-9);
    }
    // Nanosecond time stamps: the PUBLISH at frame 8 is 0.100536142 s after frame 1 (tshark).
    assert!(
        (a.1[2].start_s - 0.100_536_142).abs() < 1e-12,
        "{}",
        a.1[2].start_s
    );
}

#[test]
fn other_port_linux_cooked_two_connections_and_qos1() {
    // mosquitto on port 1884, captured with `tcpdump -i any` (Linux cooked v2): a subscriber
    // (connection 0: CONNECT, SUBSCRIBE, three PUBLISHes from the broker, each PUBACKed) and a
    // publisher (connection 1: CONNECT, three QoS 1 PUBLISHes with PUBACK, DISCONNECT),
    // interleaved. Frames read off `tshark -d tcp.port==1884,mqtt` (mqtt-1884-sll2.tshark.txt).
    let path = "tests/fixtures/pcap/mqtt-1884-sll2.pcap";
    let plain = exchanges(path, &PortMap::default()).unwrap();
    assert!(plain.1.iter().all(|e| e.protocol.name() == "tcp"));
    let ports = PortMap::with(&["mqtt=1884".to_string()]).unwrap();
    let (info, ex) = exchanges(path, &ports).unwrap();
    assert_eq!(info.link_types, vec![276]);
    assert_eq!(info.packets, 39);
    let want: Vec<(&str, usize, Vec<u64>)> = vec![
        ("tcp-handshake", 0, vec![1, 2, 3]),
        ("connect", 0, vec![4, 5, 6, 7]),
        ("other", 0, vec![8, 9, 10]),
        ("tcp-handshake", 1, vec![11, 12, 13]),
        ("connect", 1, vec![14, 15, 16, 17]),
        ("publish", 1, vec![18, 21, 22]),
        ("publish", 0, vec![19, 20, 23, 24]),
        ("publish", 1, vec![25, 27, 28]),
        ("publish", 0, vec![26, 29, 30]),
        ("publish", 1, vec![31, 33, 34]),
        ("publish", 0, vec![32]),
        ("teardown", 1, vec![35, 36, 37, 38, 39]),
    ];
    let len: HashMap<u64, u64> =
        std::fs::read_to_string("tests/fixtures/pcap/mqtt-1884-sll2.tshark.txt")
            .unwrap()
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f[0].parse().unwrap(), f[1].parse().unwrap())
            })
            .collect();
    assert_eq!(ex.len(), want.len());
    for (e, (ph, conn, frames)) in ex.iter().zip(&want) {
        assert_eq!(e.protocol.name(), "mqtt");
        assert_eq!(e.phase.name(), *ph, "exchange at frame {}", frames[0]);
        assert_eq!(e.connection, Some(*conn));
        assert_eq!(e.first_packet + 1, frames[0]);
        assert_eq!(e.packets, frames.len() as u64, "frames {frames:?}");
        assert_eq!(e.bytes, frames.iter().map(|f| len[f]).sum::<u64>());
    }
}

#[test]
fn mqtt_split_across_segments_and_retransmitted() {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const SYNACK: u8 = 0x12;
    const PSH: u8 = 0x18;
    const FIN: u8 = 0x11;
    // CONNECT (remaining length 12), PUBLISH of 40 bytes (2 header + 38), PINGREQ, DISCONNECT.
    let connect = [vec![0x10, 12], vec![0; 12]].concat();
    let publish = [vec![0x30, 38], vec![0, 4], b"a/b1".to_vec(), vec![7; 32]].concat();
    let ping = vec![0xc0, 0];
    let disconnect = vec![0xe0, 0];
    let c0 = 1001u32; // client's first data byte
    let p1 = c0 + connect.len() as u32;
    let p2 = p1 + 40;
    let p3 = p2 + 40;
    let p4 = p3 + 40;
    let pk: Vec<(f64, bool, u32, u8, Vec<u8>)> = vec![
        (0.000, true, 1000, SYN, vec![]),               // 1  tcp-handshake
        (0.001, false, 5000, SYNACK, vec![]),           // 2
        (0.002, true, c0, ACK, vec![]),                 // 3
        (0.003, true, c0, PSH, connect.clone()),        // 4  connect
        (0.004, false, 5001, PSH, vec![0x20, 2, 0, 0]), // 5  CONNACK
        (1.000, true, p1, PSH, publish[..10].to_vec()), // 6  publish, first part
        (1.001, true, p1 + 10, PSH, publish[10..].to_vec()), // 7 rest (contains no new start)
        (1.200, true, p1 + 10, PSH, publish[10..].to_vec()), // 8 retransmission
        (
            2.000,
            true,
            p2,
            PSH,
            [publish.clone(), ping.clone()].concat(),
        ), // 9 publish (+PINGREQ)
        (2.001, false, 5005, ACK, vec![]),              // 10
        (3.000, true, p3 + 2, PSH, vec![]),             // 11 (ACK-only, out of order seq)
        (3.500, true, p2 + 42, PSH, publish[..1].to_vec()), // 12 one byte: a PUBLISH begins
        (3.501, true, p2 + 43, PSH, publish[1..].to_vec()), // 13 its rest
        (4.000, true, p4 + 2, PSH, ping.clone()),       // 14 PINGREQ alone
        (5.000, true, p4 + 4, PSH, disconnect.clone()), // 15 teardown
        (5.001, true, p4 + 6, FIN, vec![]),             // 16
        (5.002, false, 5005, FIN, vec![]),              // 17
    ];
    let dir = TempDir::new();
    let path = dir.write("hand.pcap", &raw_pcap(&pk));
    let ports = PortMap::with(&["mqtt=1884".to_string()]).unwrap();
    let (info, ex) = exchanges(path.to_str().unwrap(), &ports).unwrap();
    assert_eq!(info.packets, 17);
    let got: Vec<(&str, u64, u64)> = ex
        .iter()
        .map(|e| (e.phase.name(), e.first_packet + 1, e.packets))
        .collect();
    assert_eq!(
        got,
        vec![
            ("tcp-handshake", 1, 3),
            ("connect", 4, 2),
            ("publish", 6, 3),
            ("publish", 9, 3),
            ("publish", 12, 2),
            ("other", 14, 1),
            ("teardown", 15, 3),
        ]
    );
    // Bytes: 40 bytes of headers per frame plus its payload.
    let bytes: u64 = pk.iter().map(|p| 40 + p.4.len() as u64).sum();
    assert_eq!(info.bytes, bytes);
    assert_eq!(ex.iter().map(|e| e.bytes).sum::<u64>(), bytes);
    assert_eq!(ex[2].bytes, 3 * 40 + 10 + 30 + 30);
}
proptest::proptest! {
    // Damaged captures (bytes overwritten, the file cut anywhere) give exchanges or an error,
    // never a panic. proptest's default: 256 cases, or PROPTEST_CASES (proptest reads it).
    #![proptest_config(proptest::prelude::ProptestConfig::default())]
    #[test]
    fn damaged_captures_never_panic(
        which in 0usize..4,
        edits in proptest::collection::vec((0usize..10_000, proptest::prelude::any::<u8>()), 1..40),
        cut in 24usize..10_000,
    ) {
        let name = ["mqtt", "mqtts", "http", "https"][which];
        let mut bytes = std::fs::read(format!("{PAIRED}/{name}.pcap")).unwrap();
        for (at, v) in edits {
            let n = bytes.len();
            bytes[at % n] = v;
        }
        bytes.truncate(cut.min(bytes.len()));
        let dir = TempDir::new();
        let path = dir.write("x.pcap", &bytes);
        let ports = PortMap::default();
        if let Ok((info, ex)) = exchanges(path.to_str().unwrap(), &ports) {
            // Whatever was read, every packet is in exactly one exchange.
            proptest::prop_assert_eq!(ex.iter().map(|e| e.packets).sum::<u64>(), info.packets);
            proptest::prop_assert_eq!(ex.iter().map(|e| e.bytes).sum::<u64>(), info.bytes);
        }
    }
}
