//! The listener: one connection per server, subscribed to [`CHANNEL`], on a thread of its
//! own.
//!
//! It runs apart from the HTTP workers so that a saturated server still hears its news
//! and answers its heartbeats on time: on their runtime, at ~45k requests a second on two
//! cores, its heartbeat waited 2 s in the run queue behind requests and the copies were
//! dropped under the heaviest load (issue #26). And whatever its thread does, each read
//! judges the lease by the clock itself (`Caches::is_live`).

use std::time::Duration;

use diesel::sql_types::Integer;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _, SimpleAsyncConnection as _};
use futures_util::{FutureExt as _, StreamExt as _};
use tokio::sync::oneshot;

use super::{CHANNEL, Caches, Change, HEARTBEAT};

/// How long the listener waits for an answer before it takes the connection for dead and
/// connects again (forgetting everything). The lease stops serving copies long before.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// How long the listener waits before it connects again.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// The listener's thread; it ends when this is dropped.
#[derive(Debug)]
pub struct ListenerThread {
    _stop: oneshot::Sender<()>,
}

impl Caches {
    /// Starts the listener on a thread of its own, with its own single-threaded runtime, to
    /// keep the copies true for as long as the answer lives. Once per server.
    ///
    /// # Errors
    /// When the thread or its runtime cannot be made.
    pub fn listen(&self, url: String) -> std::io::Result<ListenerThread> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let caches = self.clone();
        std::thread::Builder::new().name("cache-listener".into()).spawn(move || {
            runtime.block_on(async move {
                tokio::select! {
                    () = caches.follow_forever(&url) => {}
                    _ = stopped => {}
                }
            });
        })?;
        Ok(ListenerThread { _stop: stop })
    }

    /// Subscribes, applies every change announced and renews the lease while it is
    /// answered; connects again when the connection fails.
    async fn follow_forever(&self, url: &str) {
        loop {
            let ended = self.follow(url).await;
            let was_subscribed = self.inner.state.borrow().subscribed();
            self.dropped_off();
            if was_subscribed {
                tracing::warn!(error = %ended, "the cache listener lost its connection; copies are off until it is back");
            } else {
                tracing::debug!(error = %ended, "the cache listener could not subscribe; it tries again");
            }
            tokio::time::sleep(RECONNECT_AFTER).await;
        }
    }

    /// Subscribes and applies changes until the connection fails; answers why it did.
    async fn follow(&self, url: &str) -> String {
        let connected = tokio::time::timeout(ANSWER_WITHIN, AsyncPgConnection::establish(url)).await;
        let mut conn = match connected {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return e.to_string(),
            Err(_) => return "connecting timed out".into(),
        };
        let sent = self.now();
        let subscribe = format!("SET application_name = 'gallery cache listener'; LISTEN {CHANNEL}");
        if let Err(e) = answered(conn.batch_execute(&subscribe)).await {
            return e;
        }
        let backend = diesel::select(diesel::dsl::sql::<Integer>("pg_backend_pid()"));
        let backend = match answered(backend.get_result::<i32>(&mut conn)).await {
            Ok(pid) => pid,
            Err(e) => return e,
        };
        self.subscribed(sent, backend);
        tracing::info!("the cache listener is subscribed; in-memory copies are on");
        // Heartbeats keep their cadence from one question to the next, however long the
        // answers take.
        let mut beat_at = tokio::time::Instant::now();
        loop {
            beat_at = (beat_at + HEARTBEAT).max(tokio::time::Instant::now());
            // Between heartbeats, apply what arrives.
            {
                let mut news = std::pin::pin!(conn.notifications_stream());
                let mut beat = std::pin::pin!(tokio::time::sleep_until(beat_at));
                loop {
                    tokio::select! {
                        note = news.next() => match note {
                            Some(Ok(note)) => self.apply(Change::parse(&note.payload)),
                            Some(Err(e)) => return e.to_string(),
                            None => return "the connection closed".into(),
                        },
                        () = &mut beat => break,
                    }
                }
            }
            // The heartbeat. Its answer comes after every notification committed before
            // it was sent (they wait in the connection's queue meanwhile).
            let sent = self.now();
            {
                let mut question = std::pin::pin!(conn.batch_execute("SELECT 1"));
                let answer = match tokio::time::timeout(self.lease_left(sent), &mut question).await {
                    Ok(answer) => answer.map_err(|e| e.to_string()),
                    Err(_) => {
                        self.lapse();
                        tracing::debug!(
                            "the cache listener's lease ran out; reads go to the database until it answers"
                        );
                        answered(question).await
                    }
                };
                if let Err(e) = answer {
                    return e;
                }
            }
            // Apply those notifications before the lease is renewed.
            let mut news = std::pin::pin!(conn.notifications_stream());
            while let Some(Some(note)) = news.next().now_or_never() {
                match note {
                    Ok(note) => self.apply(Change::parse(&note.payload)),
                    Err(e) => return e.to_string(),
                }
            }
            let (late, waited) = (beat_at.elapsed(), Duration::from_nanos(self.now().saturating_sub(sent)));
            if late > HEARTBEAT {
                tracing::debug!(?late, ?waited, "the cache listener's heartbeat was slow");
            }
            self.renew(sent);
        }
    }

    /// Waits until this server has applied every change committed, by any server, before
    /// the call: it announces a ping through `via` and waits for the listener to hear it.
    /// Waits for as long as the listener is down; callers bound it.
    ///
    /// # Errors
    /// When the ping cannot be sent.
    #[cfg(feature = "testing")]
    pub async fn settle(&self, via: &crate::db::Db) -> Result<(), gallery_domain::RepoError> {
        let n = uuid::Uuid::new_v4().as_u64_pair().0;
        let mut pings = self.inner.pings.subscribe();
        via.announce(&format!("ping {n}")).await?;
        // The sender lives as long as `self`, so this cannot fail.
        let _ = pings.wait_for(|heard| heard.contains(&n)).await;
        Ok(())
    }
}

/// `query`'s outcome, or an error when it takes longer than [`ANSWER_WITHIN`].
async fn answered<T>(query: impl Future<Output = diesel::QueryResult<T>>) -> Result<T, String> {
    match tokio::time::timeout(ANSWER_WITHIN, query).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {ANSWER_WITHIN:?}")),
    }
}
