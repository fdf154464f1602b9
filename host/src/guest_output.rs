//! What a plugin writes while it validates one token: lines through the contract's `log`
//! import and the bytes of its stderr (where a Rust panic message goes), kept in order, bounded,
//! escaped, and with the presented token's text taken out, so that they can go into a trace.
//!
//! wasmtime's own `MemoryOutputPipe` traps the guest once it is full, which would turn a
//! chatty plugin into a faulty one; [`Stderr`] instead keeps what fits and counts the rest.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Lines kept per call, stderr's included: enough for a plugin to say what it decided and why.
pub const GUEST_LINES_MAX: usize = 32;
/// Bytes of one kept line, after escaping: about six lines of a terminal.
pub const GUEST_LINE_BYTES_MAX: usize = 512;
/// Bytes of one line the host reads before cutting it: enough to find a whole token in it (a
/// CallManager access token is under 2 KiB) so that no part of it survives the cut.
pub const GUEST_LINE_SCAN_BYTES_MAX: usize = 4096;
/// Bytes of a fault's reason that quote the plugin's stderr.
pub const FAULT_QUOTE_BYTES_MAX: usize = 512;
/// Shortest run of base64url characters compared with the token: shorter runs are words.
const TOKEN_RUN_MIN: usize = 16;

/// What the token's text becomes in a kept line.
pub const TOKEN_MARK: &str = "<token>";

/// How much a line matters, as the plugin said it; `Stderr` for what it wrote to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
    Stderr,
}

impl Level {
    /// The level's name in traces and reports.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Stderr => "stderr",
        }
    }

    /// Every level's name, for the trace catalogue.
    pub const NAMES: &'static [&'static str] = &["debug", "info", "warn", "error", "stderr"];
}

/// One kept line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestLine {
    pub level: Level,
    /// Escaped, cut to [`GUEST_LINE_BYTES_MAX`], the token replaced by [`TOKEN_MARK`].
    pub text: String,
}

/// What one call wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuestOutput {
    pub lines: Vec<GuestLine>,
    /// Lines past [`GUEST_LINES_MAX`], not kept.
    pub dropped: u32,
}

impl GuestOutput {
    /// The stderr lines, joined and cut for a fault's reason: Rust's panic message without
    /// std's advice about backtraces (a plugin has no environment to set).
    pub fn stderr_quote(&self) -> Option<String> {
        let said: Vec<&str> = self
            .lines
            .iter()
            .filter(|line| line.level == Level::Stderr)
            .map(|line| line.text.as_str())
            .filter(|text| !text.is_empty() && !text.starts_with("note: run with `RUST_BACKTRACE=1`"))
            .collect();
        (!said.is_empty()).then(|| cut(&said.join(" / "), FAULT_QUOTE_BYTES_MAX))
    }
}

/// The output of the call in progress, shared by the `log` import and [`Stderr`]. Lines are
/// kept raw (bounded) while the call runs and made readable only when it ends, so a call that
/// writes nothing costs a lock and nothing more: the token is never copied for it.
#[derive(Clone, Default)]
pub(crate) struct Capture(Arc<Mutex<Recording>>);

#[derive(Default)]
struct Recording {
    /// Lines as written, each at most [`GUEST_LINE_SCAN_BYTES_MAX`] bytes.
    lines: Vec<RawLine>,
    /// Lines past [`GUEST_LINES_MAX`].
    dropped: u32,
    /// Stderr bytes since its last newline (at most [`GUEST_LINE_SCAN_BYTES_MAX`]).
    partial: Vec<u8>,
    /// Whether the partial line was longer than what `partial` kept.
    partial_cut: bool,
}

struct RawLine {
    level: Level,
    bytes: Vec<u8>,
    /// Whether the guest wrote more than `bytes` holds.
    cut: bool,
}

impl Capture {
    fn lock(&self) -> MutexGuard<'_, Recording> {
        // A poisoned lock means a host thread panicked mid-call; what it wrote is still text.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts a call: earlier output is discarded.
    pub(crate) fn begin(&self) {
        *self.lock() = Recording::default();
    }

    /// Ends the call that validated `token`: its output, with a last stderr line that had no
    /// newline, escaped, cut and with the token taken out.
    pub(crate) fn finish(&self, token: &str) -> GuestOutput {
        let mut recording = self.lock();
        recording.end_stderr_line();
        let Recording { lines, dropped, .. } = std::mem::take(&mut *recording);
        let lines = lines
            .into_iter()
            .map(|line| {
                let mut kept = escape(&without_token(&String::from_utf8_lossy(&line.bytes), token));
                if line.cut {
                    kept.push('…');
                }
                GuestLine { level: line.level, text: cut(&kept, GUEST_LINE_BYTES_MAX) }
            })
            .collect();
        GuestOutput { lines, dropped }
    }

    /// One line through the `log` import.
    pub(crate) fn log(&self, level: Level, message: &str) {
        self.lock().keep(level, message.as_bytes(), false);
    }

    fn stderr(&self, mut bytes: &[u8]) {
        let mut recording = self.lock();
        while let Some(newline) = bytes.iter().position(|byte| *byte == b'\n') {
            recording.take_partial(&bytes[..newline]);
            recording.end_stderr_line();
            bytes = &bytes[newline + 1..];
        }
        recording.take_partial(bytes);
    }
}

impl Recording {
    fn take_partial(&mut self, bytes: &[u8]) {
        let room = GUEST_LINE_SCAN_BYTES_MAX - self.partial.len();
        self.partial.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.partial_cut |= bytes.len() > room;
    }

    fn end_stderr_line(&mut self) {
        if self.partial.is_empty() && !self.partial_cut {
            return;
        }
        let line = std::mem::take(&mut self.partial);
        let was_cut = std::mem::take(&mut self.partial_cut);
        self.keep(Level::Stderr, &line, was_cut);
    }

    fn keep(&mut self, level: Level, raw: &[u8], was_cut: bool) {
        if self.lines.len() >= GUEST_LINES_MAX {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        let bytes = raw[..raw.len().min(GUEST_LINE_SCAN_BYTES_MAX)].to_vec();
        let cut = was_cut || raw.len() > bytes.len();
        self.lines.push(RawLine { level, bytes, cut });
    }
}

/// `text` with every run of 16 or more base64url characters that occurs in `token` replaced
/// by [`TOKEN_MARK`]: the whole token (its dot-separated parts as one mark), any of its
/// parts, and any piece of one.
fn without_token(text: &str, token: &str) -> String {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_b64) {
        out.push_str(&rest[..start]);
        let run_len = rest[start..].find(|c: char| !is_b64(c)).unwrap_or(rest.len() - start);
        let run = &rest[start..start + run_len];
        if run.len() >= TOKEN_RUN_MIN && !token.is_empty() && token.contains(run) {
            out.push_str(TOKEN_MARK);
        } else {
            out.push_str(run);
        }
        rest = &rest[start + run_len..];
    }
    out.push_str(rest);
    let joined = format!("{TOKEN_MARK}.{TOKEN_MARK}");
    while out.contains(&joined) {
        out = out.replace(&joined, TOKEN_MARK);
    }
    out
}

/// Control characters (and the escape's own backslash) as Rust writes them in a string.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || c == '\\' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` cut to at most `max` bytes at a character boundary, `…` marking the cut.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The guest's stderr: every byte accepted, what fits kept (see [`Capture`]).
#[derive(Clone)]
pub(crate) struct Stderr(pub(crate) Capture);

impl IsTerminal for Stderr {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Stderr {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for Stderr {
    fn write(&mut self, bytes: bytes::Bytes) -> Result<(), StreamError> {
        self.0.stderr(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        // Always room: what does not fit is counted, never refused (a refusal would trap).
        Ok(GUEST_LINE_SCAN_BYTES_MAX)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Stderr {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for Stderr {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.0.stderr(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str =
        "eyJhbGciOiJSUzI1NiJ9.eyJwcml2YXRlIjoiZXlKaGJHY2lPaUprYVhJaWZRIn0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU";

    fn capture() -> Capture {
        let capture = Capture::default();
        capture.begin();
        capture
    }

    #[test]
    fn the_token_and_any_piece_of_it_are_taken_out() {
        let capture = capture();
        capture.log(Level::Info, &format!("got {TOKEN} from the client"));
        capture.log(Level::Debug, &format!("payload {}", &TOKEN[21..60]));
        capture.log(Level::Debug, "kid 2f6a1c0e short words stay");
        let output = capture.finish(TOKEN);
        assert_eq!(output.lines[0].text, "got <token> from the client");
        assert_eq!(output.lines[1].text, "payload <token>");
        assert_eq!(output.lines[2].text, "kid 2f6a1c0e short words stay");
    }

    #[test]
    fn stderr_is_split_into_lines_across_writes_and_quoted_for_a_fault() {
        let capture = capture();
        let mut stderr = Stderr(capture.clone());
        OutputStream::write(
            &mut stderr,
            "\nthread '<unnamed>' panicked at src/lib.rs:9:5:\nassertion ".into(),
        )
        .unwrap();
        OutputStream::write(&mut stderr, "failed: ok\nnote: run with `RUST_BACKTRACE=1` env\n".into())
            .unwrap();
        let output = capture.finish(TOKEN);
        let stderr_lines: Vec<&str> = output.lines.iter().map(|line| line.text.as_str()).collect();
        assert_eq!(
            stderr_lines,
            [
                "thread '<unnamed>' panicked at src/lib.rs:9:5:",
                "assertion failed: ok",
                "note: run with `RUST_BACKTRACE=1` env"
            ]
        );
        assert_eq!(
            output.stderr_quote().as_deref(),
            Some("thread '<unnamed>' panicked at src/lib.rs:9:5: / assertion failed: ok")
        );
    }

    #[test]
    fn lines_are_bounded_escaped_and_counted_when_dropped() {
        let capture = capture();
        capture.log(Level::Warn, "bell\u{7} newline\n tab\t \\ end");
        capture.log(Level::Error, &"é".repeat(10_000));
        for n in 0..100 {
            capture.log(Level::Debug, &format!("line {n}"));
        }
        let output = capture.finish(TOKEN);
        assert_eq!(output.lines[0].text, "bell\\u{7} newline\\n tab\\t \\\\ end");
        assert!(output.lines[1].text.len() <= GUEST_LINE_BYTES_MAX && output.lines[1].text.ends_with('…'));
        assert_eq!(output.lines.len(), GUEST_LINES_MAX);
        assert_eq!(output.dropped, 100 - (GUEST_LINES_MAX as u32 - 2));
        // The next call starts clean.
        capture.begin();
        assert_eq!(capture.finish(TOKEN), GuestOutput::default());
    }

    #[test]
    fn a_stderr_line_without_end_is_kept_at_the_call_end_and_cut_when_huge() {
        let capture = capture();
        capture.stderr(&vec![b'x'; 3 * GUEST_LINE_SCAN_BYTES_MAX]);
        let output = capture.finish(TOKEN);
        assert_eq!(output.lines.len(), 1);
        assert!(output.lines[0].text.ends_with('…') && output.lines[0].text.len() <= GUEST_LINE_BYTES_MAX);
    }
}
