//! The library's error type. Every user-facing failure names what is wrong and where.

use std::path::PathBuf;

/// A problem in an input file, located at `file:line:col` (1-based; column in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct SourceError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl SourceError {
    /// Locates byte `offset` of `source` (clamped to its length) as line and column.
    pub fn at(file: &str, source: &str, offset: usize, message: impl Into<String>) -> Self {
        let mut offset = offset.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        SourceError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    InvalidArgument(String),
    #[error("no GPU adapter: {0}")]
    NoAdapter(String),
    #[error("GPU error: {0}")]
    Gpu(String),
    #[error("cannot encode {path}: {message}")]
    Encode { path: PathBuf, message: String },
    /// A benchmark figure got slower than the baseline allows.
    #[error("performance regression: {0}")]
    Regression(String),
    /// `--strict` and there were warnings (printed already).
    #[error("{0}")]
    Warnings(String),
    /// Stopped by Ctrl-C or SIGTERM; the message says what was kept.
    #[error("interrupted: {0}")]
    Interrupted(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_line_and_column() {
        let src = "a = 1\nbé = 2\n";
        let e = SourceError::at("f.toml", src, src.find('2').unwrap(), "bad");
        assert_eq!((e.line, e.column), (2, 6));
        assert_eq!(e.to_string(), "f.toml:2:6: bad");
        let start = SourceError::at("f.toml", src, 0, "x");
        assert_eq!((start.line, start.column), (1, 1));
    }
}
