//! Errors that say where and what: `file:line:field: message`.
//!
//! Library code returns [`Error`]; only `main` maps it to an exit code
//! (2 for every kind here: bad input, bad usage, or an output that could not be written).

use std::fmt;

/// What went wrong, coarsely, so that callers can choose exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input file is missing, unreadable or not what it should be.
    Input,
    /// The command line asks for something impossible or incomplete.
    Usage,
    /// An output could not be written.
    Output,
}

/// A located, one-line error.
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    /// The file the error is about, as the user named it.
    pub file: Option<String>,
    /// 1-based line number in that file.
    pub line: Option<u64>,
    /// 1-based field (column) number on that line.
    pub field: Option<usize>,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn input(file: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Input,
            file: Some(file.into()),
            line: None,
            field: None,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Usage,
            file: None,
            line: None,
            field: None,
            message: message.into(),
        }
    }

    pub fn output(file: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Output,
            file: Some(file.into()),
            line: None,
            field: None,
            message: message.into(),
        }
    }

    pub fn at_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    pub fn at_field(mut self, field: usize) -> Self {
        self.field = Some(field);
        self
    }

    /// Attach a file name if the error has none yet.
    pub fn in_file(mut self, file: &str) -> Self {
        if self.file.is_none() {
            self.file = Some(file.to_string());
        }
        self
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        2
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}:")?;
            if let Some(line) = self.line {
                write!(f, "{line}:")?;
                if let Some(field) = self.field {
                    write!(f, "{field}:")?;
                }
            }
            f.write_str(" ")?;
        }
        // One line, always: a message built from file content must not break it.
        let msg = self.message.replace(['\n', '\r'], " ");
        f.write_str(&msg)
    }
}

impl std::error::Error for Error {}

/// Show at most `max` characters of untrusted text inside a message, escaped to one line.
pub fn snippet(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        match c {
            '\0' => out.push_str("\\0"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
