//! Errors that say where and what: `file:line:field: message`.
//!
//! Library code returns [`Error`]; the command line maps its [`ErrorKind`] to an exit code
//! ([`Error::exit_code`]): 2 for bad input, bad usage or an output that could not be written,
//! 3 for an internal fault (a bug). Exit code 1 is no error: `diff` found a regression. Python
//! raises `InputError` for the first three kinds and `RuntimeError` for an internal fault.

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
    /// A fault of shuntscope itself (a panic, a worker that vanished): a bug to report.
    Internal,
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

    /// A fault of shuntscope itself; the message asks for a report.
    pub fn internal(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Internal,
            file: None,
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

    /// The process exit code for this error: 3 for an internal fault, 2 for everything else
    /// (bad input, usage, an unwritable output).
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Internal => 3,
            ErrorKind::Input | ErrorKind::Usage | ErrorKind::Output => 2,
        }
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
        f.write_str(&msg)?;
        if self.kind == ErrorKind::Internal {
            f.write_str(
                " (an internal error of shuntscope: please report it, with the command and \
                 the input that led to it)",
            )?;
        }
        Ok(())
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
