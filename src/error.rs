//! Errors of the library. A statement migsafe cannot read is a finding in the report, never an Error.

use thiserror::Error;

/// What can go wrong outside the migration's own text: input that is not text, a database that
/// cannot be reached or read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not UTF-8 text.
    #[error("{name}: not UTF-8 text: invalid byte at offset {offset}")]
    NotUtf8 {
        /// The input's name.
        name: String,
        /// The byte offset of the first invalid byte.
        offset: usize,
    },
    /// The input looks binary (it holds NUL bytes).
    #[error("{name}: binary data, not SQL text (NUL byte at offset {offset})")]
    Binary {
        /// The input's name.
        name: String,
        /// The byte offset of the first NUL byte.
        offset: usize,
    },
    /// A configuration, sizes or Alembic versions file that cannot be read or holds what it
    /// may not: the message names the file and, where it can, the line and key.
    #[error("{file}: {message}")]
    Config {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The database (`--database`) could not be reached or read: connection refused or lost,
    /// timeout, missing privilege. The message never holds a password.
    #[error("database: {message}")]
    Database {
        /// What failed, without credentials.
        message: String,
    },
}
