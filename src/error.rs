//! Errors of the library. A statement migsafe cannot read is a finding in the report, never an Error.

use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not UTF-8 text.
    #[error("{name}: not UTF-8 text: invalid byte at offset {offset}")]
    NotUtf8 { name: String, offset: usize },
    /// The input looks binary (it holds NUL bytes).
    #[error("{name}: binary data, not SQL text (NUL byte at offset {offset})")]
    Binary { name: String, offset: usize },
    /// The database (`--database`) could not be reached or read: connection refused or lost,
    /// timeout, missing privilege. The message never holds a password.
    #[error("database: {message}")]
    Database { message: String },
}
