//! Writing outputs atomically: into a temporary file beside the target, then a rename, so an
//! interrupted run never leaves half a file. The one place where shuntscope writes files.

use crate::error::{Error, Result};
use std::io::{BufWriter, Write};
use std::path::Path;

/// A file being written; it appears under its name only on [`AtomicFile::commit`].
pub struct AtomicFile {
    target: String,
    writer: BufWriter<tempfile::NamedTempFile>,
}

impl AtomicFile {
    pub fn create(target: &str) -> Result<AtomicFile> {
        let path = Path::new(target);
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::output(target, format!("cannot create its folder: {e}")))?;
        let tmp = tempfile::Builder::new()
            .prefix(".shuntscope-")
            .tempfile_in(dir)
            .map_err(|e| Error::output(target, format!("cannot create a temporary file: {e}")))?;
        Ok(AtomicFile {
            target: target.to_string(),
            writer: BufWriter::with_capacity(1 << 20, tmp),
        })
    }

    pub fn writer(&mut self) -> &mut BufWriter<tempfile::NamedTempFile> {
        &mut self.writer
    }

    /// Flush and move into place.
    pub fn commit(self) -> Result<()> {
        let target = self.target;
        let tmp = self
            .writer
            .into_inner()
            .map_err(|e| Error::output(&target, format!("cannot write: {}", e.error())))?;
        #[cfg(unix)]
        {
            // Temporary files are private (0600); a finished output is an ordinary file.
            use std::os::unix::fs::PermissionsExt;
            let _ = tmp
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644));
        }
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::output(&target, format!("cannot write: {e}")))?;
        tmp.persist(&target)
            .map_err(|e| Error::output(&target, format!("cannot move into place: {}", e.error)))?;
        Ok(())
    }

    /// The target and the writer, for a writer that must own it (a ZIP archive); put back
    /// together with [`AtomicFile::from_parts`] to commit.
    pub fn into_parts(self) -> (String, BufWriter<tempfile::NamedTempFile>) {
        (self.target, self.writer)
    }

    pub fn from_parts(target: String, writer: BufWriter<tempfile::NamedTempFile>) -> AtomicFile {
        AtomicFile { target, writer }
    }

    /// Map a write error to this file.
    pub fn err(&self, e: std::io::Error) -> Error {
        Error::output(&self.target, format!("cannot write: {e}"))
    }
}

/// Refuse to replace an existing output unless `force`.
pub fn refuse_existing(target: &str, force: bool) -> Result<()> {
    if !force && Path::new(target).exists() {
        return Err(Error::output(
            target,
            "exists already: add --force to replace it",
        ));
    }
    Ok(())
}

/// Write `bytes` to `target` atomically.
pub fn write_atomic(target: &str, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(target)?;
    f.writer()
        .write_all(bytes)
        .map_err(|e| Error::output(target, format!("cannot write: {e}")))?;
    f.commit()
}

/// A folder written whole or not at all: files go into a temporary folder beside the target,
/// which is renamed into place by [`AtomicDir::commit`].
pub struct AtomicDir {
    target: std::path::PathBuf,
    tmp: tempfile::TempDir,
}

impl AtomicDir {
    /// Refuses an existing target unless `force`.
    pub fn create(target: &str, force: bool) -> Result<AtomicDir> {
        let t = Path::new(target);
        if t.exists() && !force {
            return Err(Error::output(
                target,
                "exists already: choose another --out or add --force to replace it",
            ));
        }
        if t.exists() && !t.is_dir() {
            return Err(Error::output(target, "exists and is not a folder"));
        }
        let parent = match t.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::output(target, format!("cannot create its parent folder: {e}")))?;
        let tmp = tempfile::Builder::new()
            .prefix(".shuntscope-")
            .tempdir_in(parent)
            .map_err(|e| Error::output(target, format!("cannot create a temporary folder: {e}")))?;
        Ok(AtomicDir {
            target: t.to_path_buf(),
            tmp,
        })
    }

    /// Where files are being written.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let p = self.tmp.path().join(name);
        std::fs::write(&p, bytes).map_err(|e| {
            Error::output(
                self.target.join(name).display().to_string(),
                format!("cannot write: {e}"),
            )
        })
    }

    /// Move the folder into place (replacing an old one, when allowed at creation).
    pub fn commit(self) -> Result<()> {
        let target = self.target.display().to_string();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ =
                std::fs::set_permissions(self.tmp.path(), std::fs::Permissions::from_mode(0o755));
        }
        let old = if self.target.exists() {
            let parent = self.tmp.path().parent().unwrap_or(Path::new("."));
            let old = tempfile::Builder::new()
                .prefix(".shuntscope-old-")
                .tempdir_in(parent)
                .map_err(|e| Error::output(&target, format!("cannot make room: {e}")))?;
            let dest = old.path().join("old");
            std::fs::rename(&self.target, &dest).map_err(|e| {
                Error::output(&target, format!("cannot move the old folder aside: {e}"))
            })?;
            Some(old)
        } else {
            None
        };
        std::fs::rename(self.tmp.path(), &self.target)
            .map_err(|e| Error::output(&target, format!("cannot move into place: {e}")))?;
        drop(old); // removes the old report
        Ok(())
    }
}
