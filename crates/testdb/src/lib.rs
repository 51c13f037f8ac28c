//! A throwaway database per test.
//!
//! `make test` starts a private PostgreSQL cluster, migrates the template database
//! `gallery_tpl` once, and exports `GALLERY_TEST_DATABASE_URL` (the cluster's admin URL).
//! Each test then asks for [`TestDb::create`], a `CREATE DATABASE ... TEMPLATE gallery_tpl`
//! that costs milliseconds, and the database is dropped when the value is dropped.

use std::env;

use tokio_postgres::NoTls;

mod bucket;
mod store;

pub use bucket::{ACCESS_KEY, SECRET_KEY, TestBucket};
pub use store::TestStore;

/// The template every test database is cloned from. Nothing may stay connected to it.
pub const TEMPLATE: &str = "gallery_tpl";

/// A database of its own for one test.
#[derive(Debug)]
pub struct TestDb {
    admin_url: String,
    name: String,
    url: String,
}

fn admin_url() -> String {
    env::var("GALLERY_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "GALLERY_TEST_DATABASE_URL is not set: run the tests with `make test`, which starts a \
             throwaway PostgreSQL and migrates the `{TEMPLATE}` template"
        )
    })
}

/// `url` with its database (the last path segment) replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(root, _)| root);
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

async fn admin_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect to the test cluster");
    tokio::spawn(connection);
    client
}

impl TestDb {
    /// Creates a fresh, migrated database.
    ///
    /// # Panics
    /// When the test cluster is not reachable: tests need `make test`.
    pub async fn create() -> Self {
        Self::from_template(TEMPLATE).await
    }

    /// Creates an empty database, with no migration applied.
    ///
    /// # Panics
    /// When the test cluster is not reachable: tests need `make test`.
    pub async fn empty() -> Self {
        Self::from_template("template0").await
    }

    async fn from_template(template: &str) -> Self {
        let admin_url = admin_url();
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let client = admin_client(&admin_url).await;
        client
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
            .expect("create a test database from the template");
        let url = with_database(&admin_url, &name);
        Self { admin_url, name, url }
    }

    /// The URL of this test's database.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs SQL directly, for arranging states no API offers.
    ///
    /// # Panics
    /// When the SQL fails.
    pub async fn execute(&self, sql: &str) {
        admin_client(&self.url).await.batch_execute(sql).await.expect("test SQL");
    }

    /// The single `bigint` a query answers, e.g. a `count(*)`.
    ///
    /// # Panics
    /// When the SQL fails or answers no row.
    pub async fn scalar(&self, sql: &str) -> i64 {
        admin_client(&self.url).await.query_one(sql, &[]).await.expect("test SQL").get(0)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Dropping needs a connection; a plain thread with its own runtime works whether or
        // not the test's runtime is still alive. `WITH (FORCE)` ends lingering pool connections.
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async {
                if let Ok((client, conn)) = tokio_postgres::connect(&url, NoTls).await {
                    tokio::spawn(conn);
                    let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                }
            });
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn swaps_only_the_database_name() {
        assert_eq!(with_database("postgres://u@h:5/postgres", "t_1"), "postgres://u@h:5/t_1");
        assert_eq!(
            with_database("postgres://u@h:5/postgres?sslmode=disable", "t_1"),
            "postgres://u@h:5/t_1?sslmode=disable"
        );
    }
}
