//! A turmoil TCP stream that tells `clock` whenever it may have sent a message, so that the
//! driver never skips time while a message may be waiting in a host's queue (see
//! [`clock::note_sent`]).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::clock;

/// A stream whose every write, shutdown and close counts as a message sent, and whose writes
/// that wait for the peer to read are known to `clock`. Reads and flushes send nothing in
/// turmoil (no acknowledgements; a write leaves at once), so they do not count.
pub struct Metered<S> {
    stream: S,
    /// A write of ours waits for the peer to read ([`clock::note_write_blocked`]).
    blocked: bool,
}

impl<S> Metered<S> {
    /// Wraps a stream just connected or accepted: its SYN or SYN-ACK left in this step (turmoil
    /// answers a SYN by waking the connecting task directly, which may live on a host already
    /// run in this step).
    pub fn new(stream: S) -> Metered<S> {
        clock::note_sent();
        Metered { stream, blocked: false }
    }

    fn unblock(&mut self) {
        if std::mem::take(&mut self.blocked) {
            clock::note_write_unblocked();
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(context, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        clock::note_sent();
        let written = Pin::new(&mut self.stream).poll_write(context, buf);
        match written {
            Poll::Pending if !self.blocked => {
                self.blocked = true;
                clock::note_write_blocked();
            }
            Poll::Pending => {}
            Poll::Ready(_) => self.unblock(),
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        clock::note_sent();
        Pin::new(&mut self.stream).poll_shutdown(context)
    }
}

impl<S> Drop for Metered<S> {
    /// Closing sends a FIN (or a RST, with data unread).
    fn drop(&mut self) {
        clock::note_sent();
        self.unblock();
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// With room for one segment, the client's second write waits until the server reads at
    /// 2 s: every step until then counts as activity though nothing is sent, since the read
    /// that frees the room wakes a writer that may run only in the next step. The step in
    /// which the server reads the second segment, and does nothing else, does not count.
    #[test]
    fn a_waiting_write_counts_and_a_bare_read_does_not() -> turmoil::Result {
        clock::reset();
        let mut sim = turmoil::Builder::new()
            .tick_duration(Duration::from_millis(100))
            .simulation_duration(Duration::from_secs(10))
            .tcp_capacity(1)
            .build();
        // When the server read each segment.
        let reads = Rc::new(RefCell::new(Vec::new()));
        {
            let reads = reads.clone();
            sim.host("server", move || {
                let reads = reads.clone();
                async move {
                    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", 9000)).await?;
                    let (stream, _) = listener.accept().await?;
                    let mut stream = Metered::new(stream);
                    clock::sleep_until(Duration::from_secs(2)).await;
                    let mut segment = [0u8; 3];
                    for _ in 0..2 {
                        stream.read_exact(&mut segment).await?;
                        reads.borrow_mut().push(clock::elapsed());
                    }
                    std::future::pending::<()>().await;
                    Ok(())
                }
            });
        }
        sim.client("client", async {
            let mut stream = Metered::new(turmoil::net::TcpStream::connect(("server", 9000)).await?);
            stream.write_all(b"one").await?;
            stream.write_all(b"two").await?;
            clock::sleep_until(Duration::from_secs(5)).await;
            Ok(())
        });
        // (simulated time at the step's start, whether it counted as activity).
        let mut steps = Vec::new();
        while sim.elapsed() < Duration::from_secs(4) {
            let now = sim.elapsed() + clock::warp();
            clock::wake_due(now);
            sim.step()?;
            steps.push((now, clock::take_network_activity()));
        }
        let reads = reads.borrow().clone();
        assert_eq!(reads.len(), 2, "the server read both segments: {reads:?}");
        assert!(reads[0] >= Duration::from_secs(2), "{reads:?}");
        let waiting = steps.iter().filter(|(at, _)| *at >= Duration::from_millis(500) && *at < reads[0]);
        assert!(waiting.clone().count() >= 10, "{steps:?}");
        assert!(waiting.clone().all(|(_, activity)| *activity), "the write waited: {steps:?}");
        let last_read = steps.iter().find(|(at, _)| *at == reads[1]).expect("the last read's step");
        assert!(!last_read.1, "a step that only read sent nothing: {steps:?}");
        Ok(())
    }
}
