//! The listener: one connection per server, subscribed to [`CHANNEL`].

use std::time::Duration;

use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use futures_util::StreamExt as _;

use super::{CHANNEL, Caches, Change};

/// How often the listener asks its connection for an answer. A query's answer comes after
/// every notification committed before it, so an answer proves nothing was lost; none
/// within [`ANSWER_WITHIN`] (a dead peer, a silent network) turns the copies off.
const HEARTBEAT: Duration = Duration::from_secs(1);
const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// How long the listener waits before it connects again.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

impl Caches {
    /// Keeps the copies true for as long as it runs: subscribes on a connection of its
    /// own, applies every change announced, and turns the copies on only while it is
    /// subscribed and answering; reconnects when the connection fails. Spawn it once per
    /// server, for the server's lifetime.
    pub async fn listen(self, url: String) {
        let mut was_live = false;
        loop {
            let ended = self.follow(&url, &mut was_live).await;
            self.set_live(false);
            if was_live {
                tracing::warn!(error = %ended, "the cache listener lost its connection; copies are off until it is back");
            } else {
                tracing::debug!(error = %ended, "the cache listener could not subscribe; it tries again");
            }
            was_live = false;
            tokio::time::sleep(RECONNECT_AFTER).await;
        }
    }

    /// Subscribes and applies changes until the connection fails; answers why it did.
    async fn follow(&self, url: &str, was_live: &mut bool) -> String {
        let connected = tokio::time::timeout(ANSWER_WITHIN, AsyncPgConnection::establish(url)).await;
        let mut conn = match connected {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return e.to_string(),
            Err(_) => return "connecting timed out".into(),
        };
        let subscribe = format!("SET application_name = 'gallery cache listener'; LISTEN {CHANNEL}");
        if let Err(e) = answered(conn.batch_execute(&subscribe)).await {
            return e;
        }
        self.set_live(true);
        *was_live = true;
        tracing::info!("the cache listener is subscribed; in-memory copies are on");
        loop {
            // Between heartbeats, apply what arrives. (Notifications wait in the
            // connection's queue while the heartbeat runs: none is lost.)
            {
                let mut news = std::pin::pin!(conn.notifications_stream());
                let mut beat = std::pin::pin!(tokio::time::sleep(HEARTBEAT));
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
            if let Err(e) = answered(conn.batch_execute("SELECT 1")).await {
                return e;
            }
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
async fn answered(query: impl Future<Output = diesel::QueryResult<()>>) -> Result<(), String> {
    match tokio::time::timeout(ANSWER_WITHIN, query).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {ANSWER_WITHIN:?}")),
    }
}
