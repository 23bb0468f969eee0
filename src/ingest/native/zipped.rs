//! ZIP members as streams: the `zip` crate reads the central directory (zip64 included); each
//! member is then read on its own file handle from its data offset, inflated on the fly, so a
//! member of many GB is never held in memory and several members can be read side by side.

use crate::error::{Error, Result};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

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

/// A stream of one member's uncompressed bytes, on its own file handle.
pub fn open(file: &str, data: &Path, m: &Member) -> Result<Box<dyn Read + Send>> {
    let mut f = std::fs::File::open(data).map_err(|e| {
        Error::input(
            file,
            format!("cannot open: {}", super::super::io_reason(&e)),
        )
    })?;
    f.seek(SeekFrom::Start(m.data_start))
        .map_err(|e| Error::input(file, format!("cannot seek to ZIP member {}: {e}", m.name)))?;
    let raw = BufReader::with_capacity(1 << 20, f.take(m.compressed_size));
    Ok(if m.deflated {
        Box::new(flate2::read::DeflateDecoder::new(raw).take(m.size))
    } else {
        Box::new(raw.take(m.size))
    })
}

/// Several members read one after another as one stream (sigrok's `analog-1-1-1`,
/// `analog-1-1-2`, ...).
pub struct Chain {
    file: String,
    data: PathBuf,
    members: Vec<Member>,
    next: usize,
    current: Option<Box<dyn Read + Send>>,
}

impl Chain {
    pub fn new(file: &str, data: &Path, members: Vec<Member>) -> Chain {
        Chain {
            file: file.to_string(),
            data: data.to_path_buf(),
            members,
            next: 0,
            current: None,
        }
    }

    /// Uncompressed bytes of all the members.
    pub fn size(&self) -> u64 {
        self.members.iter().map(|m| m.size).sum()
    }

    /// Fill `buf` as far as the stream goes; returns the bytes read (less only at the end).
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            if self.current.is_none() {
                let Some(m) = self.members.get(self.next) else {
                    break;
                };
                self.current = Some(open(&self.file, &self.data, m)?);
                self.next += 1;
            }
            let Some(r) = self.current.as_mut() else {
                break;
            };
            match r.read(&mut buf[n..]) {
                Ok(0) => self.current = None,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let name = &self.members[self.next - 1].name;
                    return Err(Error::input(
                        &self.file,
                        format!("ZIP member {name} cannot be inflated: {e}"),
                    ));
                }
            }
        }
        Ok(n)
    }
}
