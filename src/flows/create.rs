//! Sending a request that creates something (a build, a Worker, a version, a deployment)
//! without ever creating it twice, and a delete whose uncertain answer is checked before it is
//! sent again: the one place that reconciles after an uncertain write.
//!
//! A create is sent once. A refusal that created nothing (429, a refused connection) may be
//! sent again. A failure that may have created it (timeout, reset, 5xx, an unreadable 2xx) is
//! reconciled first: the caller's `find` looks for what this run made — among resources that
//! did not exist before it started — and only when nothing is found is the create sent again,
//! once.

use std::future::Future;
use std::time::Duration;

use crate::cloudflare::ApiError;

use super::{Area, Ctx, api_failure, settle_before_reconcile};
use crate::error::Result;

/// Rate-limited attempts before giving up (each waits for Retry-After).
const RATE_LIMITED_TRIES: u32 = 3;

pub(crate) async fn create_once<T, S, SF, F, FF>(
    ctx: &Ctx,
    what: &str,
    area: Area,
    mut send: S,
    mut find: F,
) -> Result<T>
where
    S: FnMut() -> SF,
    SF: Future<Output = Result<T, ApiError>>,
    F: FnMut() -> FF,
    FF: Future<Output = Result<Option<T>, ApiError>>,
{
    let mut sends = 0;
    let mut rate_limited = 0;
    loop {
        sends += 1;
        let err = match send().await {
            Ok(created) => return Ok(created),
            Err(e) => e,
        };
        if err.status() == Some(429) && rate_limited < RATE_LIMITED_TRIES {
            rate_limited += 1;
            sends -= 1;
            // Retry-After is the server's clock and is not scaled; our own default is.
            let wait = err.retry_after().unwrap_or_else(|| ctx.pace.of(Duration::from_secs(2)));
            ctx.console.warning(&format!("rate limited; trying to {what} again in {}s", wait.as_secs_f64().ceil()));
            ctx.sleep(wait).await;
            continue;
        }
        if err.may_have_applied() {
            ctx.console.warning(&format!("could not {what} ({err}); checking whether it happened before trying again"));
            settle_before_reconcile(ctx, &err).await;
            match find().await {
                Ok(Some(found)) => {
                    ctx.console.info("It did: continuing with what Cloudflare created.");
                    return Ok(found);
                }
                Ok(None) if sends < 2 => {
                    ctx.console.info("Nothing was created; sending the request once more.");
                    continue;
                }
                Ok(None) => {
                    return Err(api_failure(err, &format!("{what} (nothing was created after two attempts)"), area));
                }
                Err(e) => {
                    return Err(api_failure(
                        e,
                        &format!("check whether the attempt to {what} succeeded; it may have, so it was not repeated"),
                        area,
                    ));
                }
            }
        }
        if err.is_retryable() && sends < 2 {
            // The connection was refused: the request never reached Cloudflare.
            ctx.sleep(ctx.pace.of(Duration::from_secs(1))).await;
            continue;
        }
        return Err(api_failure(err, what, area));
    }
}

/// Deletes something, and when the answer leaves it uncertain (a timeout, a 5xx, a 429),
/// asks `still_there` before sending the delete once more: the other half of [`create_once`].
pub(crate) async fn retry_delete<S, SF, F, FF>(ctx: &Ctx, what: &str, mut send: S, mut still_there: F) -> Result<()>
where
    S: FnMut() -> SF,
    SF: std::future::Future<Output = Result<(), ApiError>>,
    F: FnMut() -> FF,
    FF: std::future::Future<Output = Result<bool, ApiError>>,
{
    let mut last = None;
    for _ in 0..2 {
        match send().await {
            Ok(()) => return Ok(()),
            Err(e) if e.may_have_applied() || e.is_retryable() || e.status() == Some(429) => {
                ctx.console.warning(&format!("could not {what} ({e}); checking whether it happened"));
                settle_before_reconcile(ctx, &e).await;
                match still_there().await {
                    Ok(false) => return Ok(()),
                    Ok(true) => last = Some(e),
                    Err(e2) => {
                        return Err(api_failure(
                            e2,
                            &format!("check whether the attempt to {what} succeeded"),
                            Area::Builds,
                        ));
                    }
                }
            }
            Err(e) => return Err(api_failure(e, what, Area::Builds)),
        }
    }
    Err(api_failure(last.unwrap_or_else(|| unreachable!("set on every retried attempt")), what, Area::Builds))
}
