//! What several servers on one database share through it: the sweep's turn, rate-limit
//! counts and upload slots. Each `Db` here is a server's own pool.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use gallery_domain::ports::{Clock, RemovalRepo as _};
use gallery_postgres::{Db, PgRemovalRepo, PoolSettings};
use gallery_testdb::TestDb;

struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

fn server(db: &TestDb) -> Db {
    Db::new(db.url(), &PoolSettings::default(), Arc::new(WallClock)).unwrap()
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
