//! Job cancellation. The GitHub runner sends SIGINT, then SIGTERM 7.5 s later, then kills the
//! process tree 2.5 s after that (Windows: Ctrl-C, then Ctrl-Break). We count the signals:
//! the first starts a graceful stop (cancel the remote build, write outputs), the second
//! means "exit now".

use tokio::sync::watch;

/// How many cancellation signals have arrived.
pub(crate) type Signals = watch::Receiver<u32>;

/// Registers the handlers. Must run inside the runtime, before any work, so that an early
/// signal is not lost to the default handler (which would kill us without cleanup).
pub(crate) fn install() -> std::io::Result<Signals> {
    let (tx, rx) = watch::channel(0u32);
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let mut hup = signal(SignalKind::hangup())?;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    Some(()) = int.recv() => {}
                    Some(()) = term.recv() => {}
                    Some(()) = hup.recv() => {}
                    else => break,
                }
                tx.send_modify(|n| *n += 1);
            }
        });
    }
    #[cfg(windows)]
    {
        let mut c = tokio::signal::windows::ctrl_c()?;
        let mut b = tokio::signal::windows::ctrl_break()?;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    Some(()) = c.recv() => {}
                    Some(()) = b.recv() => {}
                    else => break,
                }
                tx.send_modify(|n| *n += 1);
            }
        });
    }
    Ok(rx)
}

/// Resolves once at least `n` signals have arrived (never, if the sender is gone).
pub(crate) async fn at_least(signals: &Signals, n: u32) {
    let mut rx = signals.clone();
    if rx.wait_for(|c| *c >= n).await.is_err() {
        std::future::pending::<()>().await;
    }
}
