//! What several servers on one database share through it: the sweep's turn, rate-limit
//! counts and upload slots. Each `Db` here is a server's own pool.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone as _, Utc};
use gallery_domain::UserId;
use gallery_domain::ports::{Allowance, Clock, RateCounter as _, RemovalRepo as _, SlotTake, UploadSlotRepo as _};
use gallery_postgres::{Db, PgRateCounter, PgRemovalRepo, PgUploadSlots, PoolSettings};
use gallery_testdb::TestDb;

/// Every server's clock, stopped: the same instant on all of them.
struct Stopped(DateTime<Utc>);

impl Clock for Stopped {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap()
}

fn server(db: &TestDb) -> Db {
    Db::new(db.url(), &PoolSettings::default(), Arc::new(Stopped(noon()))).unwrap()
}

#[tokio::test]
async fn rate_limits_count_every_servers_attempts() {
    let test_db = TestDb::create().await;
    let (a, b) = (PgRateCounter::new(server(&test_db)), PgRateCounter::new(server(&test_db)));
    let three = NonZeroU32::new(3).unwrap();
    assert_eq!(a.take("auth:10.0.0.1", three).await.unwrap(), Allowance::Granted);
    assert_eq!(b.take("auth:10.0.0.1", three).await.unwrap(), Allowance::Granted);
    assert_eq!(a.take("auth:10.0.0.1", three).await.unwrap(), Allowance::Granted);
    // Three in one instant is the burst; the fourth, on either server, waits a third of a minute.
    assert_eq!(b.take("auth:10.0.0.1", three).await.unwrap(), Allowance::Exhausted(Duration::from_secs(20)));
    assert_eq!(a.peek("auth:10.0.0.1", three).await.unwrap(), Allowance::Exhausted(Duration::from_secs(20)));
    assert_eq!(a.take("auth:10.0.0.2", three).await.unwrap(), Allowance::Granted, "each key counts alone");
    // Forgetting starts the key afresh (a login that succeeds; it cannot while any server
    // refuses it, so no other server still holds a refusal then).
    b.forget("auth:10.0.0.1").await.unwrap();
    assert_eq!(b.peek("auth:10.0.0.1", three).await.unwrap(), Allowance::Granted);
    assert_eq!(b.take("auth:10.0.0.1", three).await.unwrap(), Allowance::Granted);
}

#[tokio::test]
async fn upload_slots_are_counted_per_user_across_servers() {
    let test_db = TestDb::create().await;
    let (a, b) = (PgUploadSlots::new(server(&test_db)), PgUploadSlots::new(server(&test_db)));
    let (user, other) = (UserId::generate(), UserId::generate());
    let until = noon() + chrono::TimeDelta::minutes(5);
    let first = taken(a.take(user, 2, until).await.unwrap()).expect("a first slot");
    taken(b.take(user, 2, noon() + chrono::TimeDelta::minutes(3)).await.unwrap()).expect("a second, on another server");
    // Two in progress on any servers: the answer says when the first is free at the latest.
    let full = SlotTake::AllHeld { free_by: noon() + chrono::TimeDelta::minutes(3) };
    assert_eq!(a.take(user, 2, until).await.unwrap(), full, "the soonest lease's end");
    assert_eq!(b.take(user, 2, until).await.unwrap(), full);
    assert!(taken(b.take(other, 2, until).await.unwrap()).is_some(), "another user has slots of their own");
    b.give_back(first).await.unwrap();
    assert!(taken(b.take(user, 2, until).await.unwrap()).is_some(), "a slot given back is free on every server");
    // A slot whose server died holding it counts until it expires.
    let test_db2 = TestDb::create().await;
    let c = PgUploadSlots::new(server(&test_db2));
    taken(c.take(user, 1, noon()).await.unwrap()).expect("a slot that expires at once");
    assert!(taken(c.take(user, 1, until).await.unwrap()).is_some(), "an expired slot is not held");
}

fn taken(take: SlotTake) -> Option<gallery_domain::ports::SlotId> {
    match take {
        SlotTake::Taken(slot) => Some(slot),
        SlotTake::AllHeld { .. } => None,
    }
}

#[tokio::test]
async fn concurrent_takes_never_exceed_the_slots() {
    let test_db = TestDb::create().await;
    let servers: Vec<PgUploadSlots> = (0..4).map(|_| PgUploadSlots::new(server(&test_db))).collect();
    let user = UserId::generate();
    let until = noon() + chrono::TimeDelta::minutes(5);
    let takes = futures_util::future::join_all((0..16).map(|i| servers[i % servers.len()].take(user, 3, until))).await;
    let held = takes.into_iter().filter(|t| taken(*t.as_ref().unwrap()).is_some()).count();
    assert_eq!(held, 3);
}

#[tokio::test]
async fn one_server_sweeps_at_a_time() {
    let test_db = TestDb::create().await;
    let (a, b) = (PgRemovalRepo::new(server(&test_db)), PgRemovalRepo::new(server(&test_db)));
    let turn = a.sweep_turn().await.unwrap().expect("nobody else sweeps");
    assert!(b.sweep_turn().await.unwrap().is_none(), "b waits while a sweeps");
    assert!(a.sweep_turn().await.unwrap().is_none(), "so does another worker of a");
    turn.end().await;
    let turn = b.sweep_turn().await.unwrap().expect("b's turn once a is done");
    turn.end().await;
}

/// A clock a test moves on.
struct Settable(std::sync::Mutex<DateTime<Utc>>);

impl Clock for Settable {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

#[tokio::test]
async fn a_refused_key_is_refused_from_memory_until_its_wait_is_over() {
    let test_db = TestDb::create().await;
    let clock = Arc::new(Settable(std::sync::Mutex::new(noon())));
    let a = PgRateCounter::new(Db::new(test_db.url(), &PoolSettings::default(), clock.clone()).unwrap());
    let one = NonZeroU32::new(1).unwrap();
    assert_eq!(a.take("links:10.0.0.9", one).await.unwrap(), Allowance::Granted);
    assert_eq!(a.take("links:10.0.0.9", one).await.unwrap(), Allowance::Exhausted(Duration::from_secs(60)));
    // The row gone behind its back: a refusal it holds does not ask the database.
    test_db.execute("DELETE FROM rate_limits").await;
    *clock.0.lock().unwrap() = noon() + chrono::TimeDelta::seconds(15);
    assert_eq!(a.take("links:10.0.0.9", one).await.unwrap(), Allowance::Exhausted(Duration::from_secs(45)));
    assert_eq!(a.peek("links:10.0.0.9", one).await.unwrap(), Allowance::Exhausted(Duration::from_secs(45)));
    // Once the wait is over, the database decides again.
    *clock.0.lock().unwrap() = noon() + chrono::TimeDelta::seconds(61);
    assert_eq!(a.take("links:10.0.0.9", one).await.unwrap(), Allowance::Granted);
}

#[tokio::test]
async fn no_sweep_takes_a_file_an_upload_still_records_on_any_server() {
    let test_db = TestDb::create().await;
    let (uploader, sweeper) = (PgRemovalRepo::new(server(&test_db)), PgRemovalRepo::new(server(&test_db)));
    let key = gallery_domain::BlobKey::original(gallery_domain::ImageId::generate());
    let long_ago = noon() - chrono::TimeDelta::hours(1);
    // The upload records its file, then takes long to record the image (a lock, a slow
    // database): the record is long due, but the pin holds.
    let pin = uploader.schedule(&key, long_ago).await.unwrap();
    assert_eq!(sweeper.due(noon(), 10).await.unwrap(), vec![key.clone()]);
    assert!(sweeper.claim(&key, noon()).await.unwrap().is_none(), "pinned: passed by");
    assert!(uploader.claim(&key, noon()).await.unwrap().is_none(), "on the uploading server too");
    pin.end().await;
    // Let go without an image: the sweep's to remove.
    let claim = sweeper.claim(&key, noon()).await.unwrap().expect("no pin, no image: due");
    claim.end().await;
    // Recorded meanwhile (the record taken back, as inserting the row does): not the sweep's.
    uploader.done(&key).await.unwrap();
    assert!(sweeper.claim(&key, noon()).await.unwrap().is_none());
    // An upload that dies holding its pin lets it go with its connection.
    let other = gallery_domain::BlobKey::original(gallery_domain::ImageId::generate());
    drop(uploader.schedule(&other, long_ago).await.unwrap());
    // PostgreSQL lets the lock go when it sees the connection closed: asked until it has.
    for _ in 0..10_000 {
        if let Some(claim) = sweeper.claim(&other, noon()).await.unwrap() {
            return claim.end().await;
        }
    }
    panic!("the dead upload's pin never went with its connection");
}
