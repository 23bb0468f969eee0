//! Session files read through the crate's internals: a large session's second pass reads the
//! inflated copy, and a JLS file read from any byte offset gives the samples of a whole read.

use super::data::*;
use crate::ingest::source::Source;
use crate::trace::Chunk;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}"))
}

/// A session larger than the read-ahead and copy thresholds, read twice: the second read comes
/// from the inflated copy and gives the same samples.
#[test]
fn a_large_session_is_read_again_from_its_inflated_copy() {
    let dir = TempDir::new();
    let p = dir.path("large.ppk2");
    let n = 3_000_000;
    large_ppk2(&p, n);
    // Through the library: the second read comes from the copy and gives the same samples.
    let s = Source::open(p.to_str().unwrap(), &Default::default()).unwrap();
    s.will_reread();
    let read = |s: &Source| {
        let mut r = s.reader().unwrap();
        let mut c = Chunk::default();
        let (mut count, mut sum) = (0u64, 0.0f64);
        while r.next_chunk(&mut c).unwrap() {
            count += c.value.len() as u64;
            sum += c
                .value
                .iter()
                .zip(&c.time_s)
                .map(|(v, t)| v * t)
                .sum::<f64>();
        }
        (count, sum)
    };
    let first = read(&s);
    let session = s.session.as_ref().unwrap();
    assert_eq!(session.inflated_copies(), 1);
    assert_eq!(read(&s), first);
    assert_eq!(first.0, n as u64);
}

/// A JLS file read from anywhere (a survey's windows): the first chunk header after a byte
/// offset is found by its CRC-32C, and the samples from there are those of a whole read.
#[test]
fn a_jls_file_is_read_from_anywhere_exactly() {
    let p = fixture("native/joulescope_generated-by-pyjls-0.17_current-voltage.jls");
    let size = std::fs::metadata(&p).unwrap().len();
    let s = Source::open(p.to_str().unwrap(), &Default::default()).unwrap();
    let (mut all_t, mut all_v) = (Vec::new(), Vec::new());
    let mut r = s.reader().unwrap();
    let mut c = Chunk::default();
    while r.next_chunk(&mut c).unwrap() {
        all_t.extend_from_slice(&c.time_s);
        all_v.extend_from_slice(&c.value);
    }
    let dt = all_t[1] - all_t[0];
    let mut last_first = None;
    for offset in [0, 1000, size / 3, size / 2, 2 * size / 3 + 5] {
        let mut w = s.window(offset, 1 << 20).unwrap();
        assert!(w.next_chunk(&mut c).unwrap(), "offset {offset}");
        let k = (c.time_s[0] / dt).round() as usize;
        assert!(
            last_first.is_none_or(|l| k >= l),
            "offset {offset}: sample {k}"
        );
        last_first = Some(k);
        for j in 0..c.time_s.len() {
            assert_eq!(
                c.time_s[j],
                all_t[k + j],
                "offset {offset}, sample {}",
                k + j
            );
            assert_eq!(
                c.value[j],
                all_v[k + j],
                "offset {offset}, sample {}",
                k + j
            );
        }
    }
    // Past the last chunk: no window, an error (the survey then reads the file whole).
    assert!(s.window(size + 8, 1 << 20).is_err());
}
