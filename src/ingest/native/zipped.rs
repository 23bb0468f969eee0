//! ZIP members as streams: the `zip` crate reads the central directory (zip64 included); each
//! member is then read on its own file handle from its data offset, inflated on the fly, so a
//! member of many GB is never held in memory and several members can be read side by side.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

/// Where a member's bytes are in the archive.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub name: String,
    /// Offset of its (compressed) data in the archive.
    pub data_start: u64,
    pub compressed_size: u64,
    /// Uncompressed size, bytes.
    pub size: u64,
    /// Deflated (else stored).
    pub deflated: bool,
    /// CRC-32 of the uncompressed bytes, from the central directory.
    pub crc32: u32,
}

/// Does the file start like a ZIP archive?
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
}

/// Every member of the archive at `data` (errors name `file`, the input as the user gave it).
pub fn members(file: &str, data: &Path) -> Result<Vec<Member>> {
    let f = std::fs::File::open(data).map_err(|e| {
        Error::input(
            file,
            format!("cannot open: {}", super::super::io_reason(&e)),
        )
    })?;
    let mut z = zip::ZipArchive::new(BufReader::new(f))
        .map_err(|e| Error::input(file, format!("a damaged ZIP archive: {e}")))?;
    let mut out = Vec::with_capacity(z.len());
    for k in 0..z.len() {
        let m = z
            .by_index_raw(k)
            .map_err(|e| Error::input(file, format!("a damaged ZIP archive: {e}")))?;
        let deflated = match m.compression() {
            zip::CompressionMethod::Stored => false,
            zip::CompressionMethod::Deflated => true,
            other => {
                return Err(Error::input(
                    file,
                    format!(
                        "ZIP member {} is compressed with {other:?}: expected deflate or stored",
                        m.name()
                    ),
                ))
            }
        };
        out.push(Member {
            name: m.name().to_string(),
            data_start: m.data_start(),
            compressed_size: m.compressed_size(),
            size: m.size(),
            deflated,
            crc32: m.crc32(),
        });
    }
    Ok(out)
}

/// A member's whole text (for small metadata members), at most 1 MiB.
pub fn read_text(file: &str, data: &Path, m: &Member) -> Result<String> {
    if m.size > 1 << 20 {
        return Err(Error::input(
            file,
            format!(
                "ZIP member {} is {} bytes: too large for metadata",
                m.name, m.size
            ),
        ));
    }
    let mut s = String::new();
    open(file, data, m)?
        .read_to_string(&mut s)
        .map_err(|e| Error::input(file, format!("ZIP member {}: {e}", m.name)))?;
    Ok(s)
}

/// A stream of one member's uncompressed bytes, on its own file handle. A deflated member of
/// more than [`READ_AHEAD_MIN`] bytes is inflated on a thread of its own, a few blocks ahead of
/// the caller (inflating is most of the cost of reading a session: ~30 ns a sample on one core).
pub fn open(file: &str, data: &Path, m: &Member) -> Result<Box<dyn Read + Send>> {
    let mut f = File::open(data).map_err(|e| {
        Error::input(
            file,
            format!("cannot open: {}", super::super::io_reason(&e)),
        )
    })?;
    f.seek(SeekFrom::Start(m.data_start))
        .map_err(|e| Error::input(file, format!("cannot seek to ZIP member {}: {e}", m.name)))?;
    let raw = BufReader::with_capacity(1 << 20, f.take(m.compressed_size));
    Ok(if !m.deflated {
        Box::new(raw.take(m.size))
    } else if m.size > READ_AHEAD_MIN {
        Box::new(ReadAhead::spawn(Box::new(
            flate2::read::DeflateDecoder::new(raw).take(m.size),
        )))
    } else {
        Box::new(flate2::read::DeflateDecoder::new(raw).take(m.size))
    })
}

/// Members larger than this (bytes, uncompressed) are inflated on a thread of their own.
pub const READ_AHEAD_MIN: u64 = 4 << 20;
/// Bytes a read-ahead thread hands over at a time, and blocks in flight.
const AHEAD_BLOCK: usize = 1 << 20;
const AHEAD_BLOCKS: usize = 3;

/// A stream read on another thread, blocks ahead: the thread fills recycled buffers and sends
/// them over; dropping the reader ends the thread at its next block. Memory: 4 blocks (4 MiB).
struct ReadAhead {
    full: Receiver<std::io::Result<Vec<u8>>>,
    empty: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

impl ReadAhead {
    fn spawn(mut input: Box<dyn Read + Send>) -> ReadAhead {
        let (full_tx, full) = sync_channel(AHEAD_BLOCKS);
        let (empty, empty_rx) = sync_channel::<Vec<u8>>(AHEAD_BLOCKS + 1);
        for _ in 0..AHEAD_BLOCKS {
            let _ = empty.send(vec![0u8; AHEAD_BLOCK]);
        }
        std::thread::spawn(move || {
            while let Ok(mut buf) = empty_rx.recv() {
                buf.resize(AHEAD_BLOCK, 0);
                let mut n = 0;
                let result = loop {
                    match input.read(&mut buf[n..]) {
                        Ok(0) => break Ok(()),
                        Ok(k) => {
                            n += k;
                            if n == buf.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                buf.truncate(n);
                let end = n == 0 || result.is_err();
                let sent = match result {
                    Err(e) if n == 0 => full_tx.send(Err(e)),
                    Err(e) => full_tx.send(Ok(buf)).and_then(|_| full_tx.send(Err(e))),
                    Ok(()) => full_tx.send(Ok(buf)),
                };
                if end || sent.is_err() {
                    break;
                }
            }
        });
        ReadAhead {
            full,
            empty,
            current: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.current.len() {
            let next = match self.full.recv() {
                Ok(block) => block?,
                // The thread has ended after the last block (or an error it sent).
                Err(_) => return Ok(0),
            };
            let used = std::mem::replace(&mut self.current, next);
            let _ = self.empty.send(used);
            self.pos = 0;
            if self.current.is_empty() {
                return Ok(0);
            }
        }
        let k = out.len().min(self.current.len() - self.pos);
        out[..k].copy_from_slice(&self.current[self.pos..self.pos + k]);
        self.pos += k;
        Ok(k)
    }
}

/// Inflated copies of a session's large deflated members, kept in unnamed temporary files
/// (gone with the process, whatever happens) so that a second pass reads them without
/// inflating again. Made on the first whole read of a member once [`Spool::keep`] has been
/// called; if the disk is full the copy is dropped and the member is inflated again. Disk: the
/// member's uncompressed size. Clones share the copies.
#[derive(Debug, Clone, Default)]
pub struct Spool(Arc<Mutex<SpoolState>>);

#[derive(Debug, Default)]
struct SpoolState {
    keep: bool,
    /// Finished copies by member name.
    done: HashMap<String, Arc<File>>,
}

/// Members smaller than this (bytes) are inflated again rather than copied.
pub const SPOOL_MIN: u64 = 8 << 20;

impl Spool {
    /// Keep inflated copies of the large members from the next whole read on.
    pub fn keep(&self) {
        if let Ok(mut s) = self.0.lock() {
            s.keep = true;
        }
    }

    /// Finished copies.
    #[cfg(test)]
    pub fn copies(&self) -> usize {
        self.0.lock().map(|s| s.done.len()).unwrap_or(0)
    }

    fn copy_of(&self, m: &Member) -> Option<Arc<File>> {
        self.0.lock().ok()?.done.get(&m.name).cloned()
    }

    /// A temporary file to copy `m` into, when copies are kept and `m` is worth one.
    fn start(&self, m: &Member) -> Option<File> {
        let keep = self.0.lock().ok()?.keep;
        (keep && m.deflated && m.size >= SPOOL_MIN)
            .then(tempfile::tempfile)
            .and_then(|f| f.ok())
    }

    fn finish(&self, m: &Member, f: File) {
        if let Ok(mut s) = self.0.lock() {
            s.done.insert(m.name.clone(), Arc::new(f));
        }
    }
}

/// A finished copy read from the start, with its own position (`pread`).
struct CopyReader {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for CopyReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let want = (out.len() as u64).min(self.end - self.pos) as usize;
        if want == 0 {
            return Ok(0);
        }
        let k = self.file.read_at(&mut out[..want], self.pos)?;
        self.pos += k as u64;
        Ok(k)
    }
}

/// A copy being made: the file and the bytes written so far.
struct Copying {
    file: File,
    written: u64,
}

/// Several members read one after another as one stream (sigrok's `analog-1-1-1`,
/// `analog-1-1-2`, ...).
pub struct Chain {
    file: String,
    data: PathBuf,
    members: Vec<Member>,
    next: usize,
    current: Option<Box<dyn Read + Send>>,
    spool: Spool,
    copying: Option<Copying>,
    /// The current member's bytes so far and their CRC-32 (none when read from a checked copy).
    read: u64,
    crc: Option<crc32fast::Hasher>,
}

impl Chain {
    /// The members in order; large deflated ones are copied to (or read from) `spool`.
    pub fn new(file: &str, data: &Path, members: Vec<Member>, spool: &Spool) -> Chain {
        Chain {
            file: file.to_string(),
            data: data.to_path_buf(),
            members,
            next: 0,
            current: None,
            spool: spool.clone(),
            copying: None,
            read: 0,
            crc: None,
        }
    }

    /// Open the next member: its finished copy if there is one, else the member itself (and
    /// start a copy when the spool asks for one).
    fn open_next(&mut self, m: &Member) -> Result<Box<dyn Read + Send>> {
        self.copying = None;
        self.read = 0;
        self.crc = None;
        if let Some(file) = self.spool.copy_of(m) {
            return Ok(Box::new(CopyReader {
                file,
                pos: 0,
                end: m.size,
            }));
        }
        self.copying = self.spool.start(m).map(|file| Copying { file, written: 0 });
        self.crc = Some(crc32fast::Hasher::new());
        open(&self.file, &self.data, m)
    }

    /// Bytes just read from the current member: counted, checked against its CRC-32 and copied
    /// if a copy is being made. At the member's end (`bytes` empty) a short or damaged member
    /// is an error (deflate has no check of its own: damage gives wrong numbers, not an
    /// error) and a whole copy is kept. A failed write drops the copy, not the read.
    fn seen(&mut self, bytes: &[u8]) -> Result<()> {
        let m = &self.members[self.next - 1];
        if !bytes.is_empty() {
            self.read += bytes.len() as u64;
            if let Some(h) = self.crc.as_mut() {
                h.update(bytes);
            }
            if let Some(c) = self.copying.as_mut() {
                match c.file.write_all(bytes) {
                    Ok(()) => c.written += bytes.len() as u64,
                    Err(_) => self.copying = None,
                }
            }
            return Ok(());
        }
        if self.read != m.size {
            return Err(Error::input(
                &self.file,
                format!(
                    "ZIP member {} ends after {} of its {} bytes: the file is damaged or cut short",
                    m.name, self.read, m.size
                ),
            ));
        }
        if let Some(crc) = self.crc.take().map(|h| h.finalize()) {
            if crc != m.crc32 {
                return Err(Error::input(
                    &self.file,
                    format!(
                        "ZIP member {} fails its CRC-32 check (stored {:08x}, read {crc:08x}): the file is damaged",
                        m.name, m.crc32
                    ),
                ));
            }
        }
        if let Some(c) = self.copying.take().filter(|c| c.written == m.size) {
            self.spool.finish(m, c.file);
        }
        Ok(())
    }

    /// Fill `buf` as far as the stream goes; returns the bytes read (less only at the end).
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            if self.current.is_none() {
                let Some(m) = self.members.get(self.next) else {
                    break;
                };
                let m = m.clone();
                self.current = Some(self.open_next(&m)?);
                self.next += 1;
            }
            let Some(r) = self.current.as_mut() else {
                break;
            };
            match r.read(&mut buf[n..]) {
                Ok(0) => {
                    self.current = None;
                    self.seen(&[])?;
                }
                Ok(k) => {
                    self.seen(&buf[n..n + k])?;
                    n += k;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let name = &self.members[self.next - 1].name;
                    return Err(Error::input(
                        &self.file,
                        format!("ZIP member {name} cannot be inflated ({e}): the file is damaged"),
                    ));
                }
            }
        }
        Ok(n)
    }
}
