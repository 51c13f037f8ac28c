//! `gallery migrate` run by several servers at once.

use gallery_testdb::TestDb;

#[tokio::test]
async fn concurrent_migrations_apply_each_migration_once() {
    let db = TestDb::empty().await;
    let runs = futures_util::future::join_all((0..4).map(|_| gallery_postgres::migrate(db.url()))).await;
    let mut applied: Vec<String> = Vec::new();
    for run in runs {
        applied.extend(run.expect("every run succeeds"));
    }
    let expected = db.scalar("SELECT count(*) FROM __diesel_schema_migrations").await;
    assert!(expected > 0);
    assert_eq!(applied.len() as i64, expected, "each migration applied by exactly one run: {applied:?}");
    applied.sort();
    applied.dedup();
    assert_eq!(applied.len() as i64, expected);
    assert!(gallery_postgres::migrate(db.url()).await.unwrap().is_empty(), "nothing left to apply");
}
