//! Copies of rows kept in memory: the sessions and users every authenticated request
//! needs, and the image rows a thumbnail or an original needs.
//!
//! A copy is only as good as the news of its changes. Every write that could make one
//! wrong announces itself at commit on the channel `gallery_cache` (triggers, migration
//! 000009, so writes by any server, the CLI or psql all count), and [`Caches::listen`]
//! applies what every server announces. A server also forgets what it changed itself as
//! soon as its write commits, so its next request never waits for its own news.
//!
//! Three rules keep a copy from outliving its row:
//! - **No stale refill.** A read that missed takes a [`Ticket`] (the epoch, bumped by
//!   every forgetting) before it queries; its answer is kept only if no forgetting
//!   happened meanwhile, so a read that raced a change cannot put the old row back.
//! - **No copies without news.** A copy is served only under a lease: the listener asks its
//!   connection for an answer every [`HEARTBEAT`], and an answer proves that every change
//!   committed before the question was applied, so copies stay good until [`LEASE`] after
//!   the last answered question was sent. Each read checks the lease against the clock
//!   itself, so a listener that is frozen, starved or cut off cannot stretch it: its
//!   server falls back on the database within the lease and keeps nothing meanwhile,
//!   then uses its copies again, unforgotten, at the next answer (notifications wait in
//!   the connection's queue). Only a lost connection forgets everything, when it drops
//!   and again when it is back. A change is never missed, and never served stale for
//!   longer than [`LEASE`].
//! - **Nothing negative.** Only rows that exist are kept, so a new row needs no news.
//!
//! Every in-memory cache, and what keeps each true: `docs/architecture.md`, "Caches, on one
//! page".

use std::collections::VecDeque;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gallery_domain::{Image, ImageId, SessionId, User, UserId};
use quick_cache::sync::Cache;
use tokio::sync::watch;
use uuid::Uuid;

mod listen;

pub use listen::ListenerThread;

/// The channel every change is announced on.
pub(crate) const CHANNEL: &str = "gallery_cache";

/// How many of each kind of row a server keeps, at most.
const SESSIONS: usize = 100_000;
const USERS: usize = 50_000;
const IMAGES: usize = 100_000;
/// How many pings a server remembers hearing: enough for concurrent [`Caches::settle`]s.
const PINGS_KEPT: usize = 64;
/// How often the listener asks its connection for an answer.
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(100);
/// How long an answer keeps the copies good, from when its question was sent: the most a
/// change committed elsewhere can go unseen here. Five heartbeats: at 300 ms a server
/// saturated by wrk on two cores paused its copies 38 times in 20 s (scripts/bench-listener.sh).
pub(crate) const LEASE: Duration = Duration::from_millis(500);

/// What one announcement says changed (the payloads migration 000009 sends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Session(SessionId),
    User(UserId),
    /// Roles, permissions or plans: every cached user holds copies of them.
    Catalog,
    Image(ImageId),
    Images,
    Everything,
    /// Changes nothing: [`Caches::settle`] sends it to learn that the listener has
    /// applied everything committed before.
    Ping(u64),
}

impl Change {
    /// Reads a payload; one it cannot read forgets everything, which is always safe.
    fn parse(payload: &str) -> Self {
        let id = |raw: &str| Uuid::parse_str(raw).ok();
        match payload.split_once(' ') {
            Some(("s", raw)) => id(raw).map_or(Self::Everything, |u| Self::Session(SessionId::from_uuid(u))),
            Some(("u", raw)) => id(raw).map_or(Self::Everything, |u| Self::User(UserId::from_uuid(u))),
            Some(("i", "*")) => Self::Images,
            Some(("i", raw)) => id(raw).map_or(Self::Everything, |u| Self::Image(ImageId::from_uuid(u))),
            Some(("ping", n)) => n.parse().map_or(Self::Everything, Self::Ping),
            None if payload == "c" => Self::Catalog,
            _ => Self::Everything,
        }
    }
}

/// What the listener reports: the database backend it is subscribed on (none while it is
/// not), whether its lease is current, how often it lost its connection (forgetting
/// everything) and how often its lease ran out while connected (pausing the copies).
#[derive(Debug, Clone, Copy, Default)]
struct Listening {
    backend: Option<i32>,
    live: bool,
    drops: u64,
    lapses: u64,
}

impl Listening {
    fn subscribed(&self) -> bool {
        self.backend.is_some()
    }
}

/// How many rows of each kind a server holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub sessions: usize,
    pub users: usize,
    pub images: usize,
}

/// A read's claim to keep what it finds: the epoch before it queried.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(u64);

/// The copies one server keeps, shared by all its workers. Cloning shares them.
#[derive(Clone)]
pub struct Caches {
    inner: Arc<Inner>,
}

struct Inner {
    /// What [`Caches::now`] counts from.
    base: Instant,
    /// Copies are used only before this moment ([`Caches::now`]); 0 while the listener is
    /// not subscribed.
    fresh_until: AtomicU64,
    /// Bumped by every forgetting; see [`Ticket`].
    epoch: AtomicU64,
    /// Live sessions and whose they are.
    sessions: Cache<SessionId, UserId>,
    users: Cache<UserId, User>,
    images: Cache<ImageId, Image>,
    /// The listener's state, for [`Caches::ready`] and [`Caches::dropped`].
    state: watch::Sender<Listening>,
    /// The last pings the listener heard, for [`Caches::settle`].
    pings: watch::Sender<VecDeque<u64>>,
}

impl Default for Caches {
    /// Caches that stay bypassed until [`Caches::listen`] runs.
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                base: Instant::now(),
                fresh_until: AtomicU64::new(0),
                epoch: AtomicU64::new(0),
                sessions: Cache::new(SESSIONS),
                users: Cache::new(USERS),
                images: Cache::new(IMAGES),
                state: watch::Sender::new(Listening::default()),
                pings: watch::Sender::new(VecDeque::new()),
            }),
        }
    }
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches").field("live", &self.is_live()).field("held", &self.held()).finish()
    }
}

impl Caches {
    /// Whether copies are in use: the listener is subscribed and its lease is current.
    #[must_use]
    pub fn is_live(&self) -> bool {
        self.live_at(self.now())
    }

    fn live_at(&self, at: u64) -> bool {
        at < self.inner.fresh_until.load(Ordering::SeqCst)
    }

    /// Nanoseconds since these caches were made: the lease's clock (monotonic, and read
    /// by each request itself, whatever the listener's thread is doing).
    fn now(&self) -> u64 {
        u64::try_from(self.inner.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Waits until the listener is subscribed and the copies are in use.
    #[cfg(feature = "testing")]
    pub async fn ready(&self) {
        self.until(|state| state.live).await;
    }

    /// How many rows of each kind are held now.
    #[must_use]
    pub fn held(&self) -> Held {
        let inner = &self.inner;
        Held { sessions: inner.sessions.len(), users: inner.users.len(), images: inner.images.len() }
    }

    /// How many times the listener has lost its subscription.
    #[must_use]
    pub fn drops(&self) -> u64 {
        self.inner.state.borrow().drops
    }

    /// How many times the listener's lease ran out while it was still connected.
    #[must_use]
    pub fn lapses(&self) -> u64 {
        self.inner.state.borrow().lapses
    }

    /// Waits until the listener's lease has run out more than `lapses` times.
    #[cfg(feature = "testing")]
    pub async fn lapsed(&self, lapses: u64) {
        self.until(|state| state.lapses > lapses).await;
    }

    /// The process id of the database backend the listener is subscribed on, if it is.
    #[cfg(feature = "testing")]
    #[must_use]
    pub fn listener_backend(&self) -> Option<i32> {
        self.inner.state.borrow().backend
    }

    /// Waits until the listener has lost its subscription more than `drops` times.
    #[cfg(feature = "testing")]
    pub async fn dropped(&self, drops: u64) {
        self.until(|state| state.drops > drops).await;
    }

    #[cfg(feature = "testing")]
    async fn until(&self, reached: impl Fn(&Listening) -> bool) {
        let mut state = self.inner.state.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = state.wait_for(reached).await;
    }

    /// The user behind a live session, from memory.
    pub(crate) fn holder(&self, session: SessionId, user: UserId) -> Option<User> {
        if !self.is_live() || self.inner.sessions.get(&session)? != user {
            return None;
        }
        self.inner.users.get(&user)
    }

    pub(crate) fn image(&self, id: ImageId) -> Option<Image> {
        if !self.is_live() {
            return None;
        }
        self.inner.images.get(&id)
    }

    /// A claim to keep what a read about to query finds; `None` while copies are off.
    pub(crate) fn ticket(&self) -> Option<Ticket> {
        self.is_live().then(|| Ticket(self.inner.epoch.load(Ordering::SeqCst)))
    }

    pub(crate) fn keep_holder(&self, ticket: Option<Ticket>, session: SessionId, user: &User) {
        self.keep(ticket, &self.inner.sessions, session, user.id);
        self.keep(ticket, &self.inner.users, user.id, user.clone());
    }

    pub(crate) fn keep_image(&self, ticket: Option<Ticket>, image: &Image) {
        self.keep(ticket, &self.inner.images, image.id, image.clone());
    }

    /// Keeps `value` unless something was forgotten since `ticket` was taken. Checking
    /// after inserting closes the race: a forgetting either bumped the epoch before the
    /// check (and the copy goes again here) or removes the key after the insert.
    fn keep<K: Eq + Hash + Clone, V: Clone>(&self, ticket: Option<Ticket>, cache: &Cache<K, V>, key: K, value: V) {
        let Some(Ticket(epoch)) = ticket else { return };
        cache.insert(key.clone(), value);
        if self.inner.epoch.load(Ordering::SeqCst) != epoch {
            cache.remove(&key);
        }
    }

    /// Forgets what `change` made wrong. The epoch moves first, so that no read that
    /// queried before the change keeps its answer.
    pub(crate) fn apply(&self, change: Change) {
        let inner = &self.inner;
        if let Change::Ping(n) = change {
            inner.pings.send_modify(|heard| {
                if heard.len() == PINGS_KEPT {
                    heard.pop_front();
                }
                heard.push_back(n);
            });
            return;
        }
        inner.epoch.fetch_add(1, Ordering::SeqCst);
        match change {
            Change::Session(id) => {
                inner.sessions.remove(&id);
            }
            Change::User(id) => {
                inner.users.remove(&id);
            }
            Change::Catalog => inner.users.clear(),
            Change::Image(id) => {
                inner.images.remove(&id);
            }
            Change::Images => inner.images.clear(),
            Change::Everything | Change::Ping(_) => {
                inner.sessions.clear();
                inner.users.clear();
                inner.images.clear();
            }
        }
    }

    /// The listener subscribed on `backend` with a question sent at `sent`: forgets
    /// everything (what changed while nobody listened is unknown), then serves copies.
    fn subscribed(&self, sent: u64, backend: i32) {
        self.apply(Change::Everything);
        self.inner.fresh_until.store(sent.saturating_add(lease_nanos()), Ordering::SeqCst);
        self.inner.state.send_modify(|state| {
            *state = Listening { backend: Some(backend), live: true, ..*state };
        });
    }

    /// An answer came to the question sent at `sent`: everything committed before it has
    /// been applied, so the copies are good until [`LEASE`] after it.
    fn renew(&self, sent: u64) {
        let was = self.inner.fresh_until.swap(sent.saturating_add(lease_nanos()), Ordering::SeqCst);
        // Ran out before this answer, unreported (the listener's thread was late too).
        let unseen_lapse = was <= self.now();
        let state = *self.inner.state.borrow();
        if !state.live || unseen_lapse {
            self.inner.state.send_modify(|state| {
                state.lapses += u64::from(state.live && unseen_lapse);
                state.live = true;
            });
        }
    }

    /// The lease ran out before the answer came: reads go to the database until it comes.
    /// Nothing is forgotten; the notifications wait in the connection's queue.
    fn lapse(&self) {
        self.inner.state.send_modify(|state| {
            state.lapses += u64::from(state.live);
            state.live = false;
        });
    }

    /// How long the current lease has left, at `at`.
    fn lease_left(&self, at: u64) -> Duration {
        Duration::from_nanos(self.inner.fresh_until.load(Ordering::SeqCst).saturating_sub(at))
    }

    /// The listener lost its connection: copies are off and everything is forgotten.
    fn dropped_off(&self) {
        self.inner.fresh_until.store(0, Ordering::SeqCst);
        self.apply(Change::Everything);
        self.inner.state.send_modify(|state| {
            state.drops += u64::from(state.subscribed());
            *state = Listening { backend: None, live: false, ..*state };
        });
    }
}

fn lease_nanos() -> u64 {
    u64::try_from(LEASE.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
