//! What every adapter's server shares around its connections: how many
//! are open (and whether one more is over `--max-connections`), the
//! signals that stop the server, and how long it waits for the clients'
//! close replies before it exits.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The open connections, counted against `--max-connections`.
#[derive(Clone, Default)]
pub(crate) struct Live {
    count: Arc<AtomicUsize>,
    max: Option<usize>,
}

/// One connection's place in the count, given back when dropped.
pub(super) struct Ticket {
    count: Arc<AtomicUsize>,
    /// Over the limit: the connection is refused (503).
    pub(super) over: bool,
}

impl Live {
    pub(super) fn new(max: Option<usize>) -> Self {
        Self {
            count: Arc::default(),
            max,
        }
    }

    /// Counts one more connection; it is `over` when the limit was
    /// already reached (it still counts until it is refused and gone).
    pub(super) fn enter(&self) -> Ticket {
        let before = self.count.fetch_add(1, Ordering::AcqRel);
        Ticket {
            count: self.count.clone(),
            over: self.max.is_some_and(|max| before >= max),
        }
    }

    pub(super) fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How long a stopping server waits for its clients' close replies: the
/// close timeout, and a moment for the last writes.
pub(super) fn grace(close_timeout: Duration) -> Duration {
    close_timeout + Duration::from_millis(500)
}

/// SIGINT (Ctrl-C) and SIGTERM, listened for from the moment this is
/// made (inside a tokio runtime).
pub(super) struct StopSignal {
    #[cfg(unix)]
    signals: Option<[tokio::signal::unix::Signal; 2]>,
}

impl StopSignal {
    pub(super) fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let int = signal(SignalKind::interrupt());
            let term = signal(SignalKind::terminate());
            Self {
                signals: int.and_then(|int| Ok([int, term?])).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Waits for either signal.
    pub(super) async fn recv(&mut self) {
        #[cfg(unix)]
        match &mut self.signals {
            Some([int, term]) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            None => std::future::pending().await,
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs `then` on a thread of its own once SIGINT or SIGTERM arrives: for
/// the adapters that do not run on tokio. The handlers are installed
/// before this returns.
pub(super) fn on_stop_signal(then: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (installed, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        runtime.block_on(async {
            let mut signal = StopSignal::new();
            let _ = installed.send(());
            signal.recv().await;
        });
        then();
    });
    let _ = ready.recv();
    Ok(())
}
