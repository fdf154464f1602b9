//! A turmoil TCP stream that tells `clock` whenever it is touched, so that the driver never
//! skips time while a message may be waiting in a host's queue (see
//! [`clock::note_network_activity`]).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::clock;

/// A stream whose every read, write, flush, shutdown and close counts as network activity.
pub struct Metered<S>(pub S);

impl<S> Metered<S> {
    pub fn new(stream: S) -> Metered<S> {
        clock::note_network_activity();
        Metered(stream)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        clock::note_network_activity();
        Pin::new(&mut self.0).poll_read(context, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        clock::note_network_activity();
        Pin::new(&mut self.0).poll_write(context, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        clock::note_network_activity();
        Pin::new(&mut self.0).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        clock::note_network_activity();
        Pin::new(&mut self.0).poll_shutdown(context)
    }
}

impl<S> Drop for Metered<S> {
    /// Closing sends a FIN.
    fn drop(&mut self) {
        clock::note_network_activity();
    }
}
