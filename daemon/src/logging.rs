//! The daemon's log: `tracing` to stderr, filtered by `TRACKLINE_LOG`, through a writer that escapes
//! control characters, so a name someone else wrote (a project, run id, file name, `Host` header)
//! cannot add a line to the log or send the terminal an escape sequence.
//!
//! tracing-subscriber's fmt layer formats each event into one buffer and hands it to a fresh
//! writer with one `write_all` (`fmt_layer.rs`, `on_event`); [`EscapedRecord::write`] takes the
//! whole buffer in one call, so a record's final `\n` is the only one left as it is.

use std::io::{self, Write};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The variable that sets the log filter (`EnvFilter` syntax, e.g. `debug,tower_http=info`).
pub const ENV_LOG: &str = "TRACKLINE_LOG";

/// The filter without `TRACKLINE_LOG`.
const DEFAULT_FILTER: &str = "info,tower_http=warn";

/// Installs the global subscriber: escaped records on stderr. Colours are off: a colour code is
/// an escape sequence, and every escape sequence is written escaped.
pub fn init() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env(ENV_LOG).unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER)),
        )
        .with_ansi(false)
        .with_writer(Escaping(io::stderr))
        .init();
}

/// A [`MakeWriter`] whose writers escape control characters (see [`EscapedRecord`]).
#[derive(Debug, Clone, Copy)]
pub struct Escaping<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Escaping<M> {
    type Writer = EscapedRecord<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EscapedRecord(self.0.make_writer())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        EscapedRecord(self.0.make_writer_for(meta))
    }
}

/// Writes each buffer it is given as one record: every control character (C0, DEL, C1) is written
/// as `\n`, `\r`, `\t`, `\x1b`, `\u{9b}`, … except the buffer's final `\n`; the result goes to
/// the inner writer in one `write_all`, so records of two threads never interleave.
#[derive(Debug)]
pub struct EscapedRecord<W>(W);

impl<W: Write> Write for EscapedRecord<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(&escape_record(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// `record` with its control characters escaped; a final `\n` stays.
pub fn escape_record(record: &[u8]) -> Vec<u8> {
    let (body, end): (&[u8], &[u8]) = match record.strip_suffix(b"\n") {
        Some(body) => (body, b"\n"),
        None => (record, b""),
    };
    let text = String::from_utf8_lossy(body);
    let mut out = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(end);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn control_characters_are_escaped_and_the_final_newline_kept() {
        let escaped = |s: &str| String::from_utf8(escape_record(s.as_bytes())).unwrap();
        assert_eq!(escaped("plain record\n"), "plain record\n");
        assert_eq!(
            escaped("project=a\nFAKE ERROR line\n"),
            "project=a\\nFAKE ERROR line\n"
        );
        assert_eq!(
            escaped("x\x1b[2Jy\r\t\x00\x7f\n"),
            "x\\x1b[2Jy\\r\\t\\x00\\x7f\n"
        );
        assert_eq!(escaped("c1 \u{9b}31m\n"), "c1 \\u{9b}31m\n");
        assert_eq!(escaped("no newline"), "no newline");
        assert_eq!(escaped("two\n\n"), "two\\n\n");
        assert_eq!(escaped("unicode é ✓\n"), "unicode é ✓\n");
    }

    /// A shared buffer the subscriber writes to.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Through the real fmt layer: a message and a field carrying a newline and an escape stay on
    /// one line each.
    #[test]
    fn a_hostile_name_stays_on_its_record_line() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(Escaping(move || sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let name = "evil\nERROR forged record\x1b]0;title\x07";
            tracing::warn!(project = name, "no project {name}");
            tracing::info!("second");
        });
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 2, "{log}");
        assert!(lines[0].contains("no project evil\\nERROR forged record\\x1b]0;title\\x07"));
        assert!(!log.contains('\x1b') && !log.contains('\x07'), "{log:?}");
        assert!(lines[1].ends_with("second"), "{log}");
    }
}
