//! A throwaway bucket per test, in the S3-compatible server `make test` starts.
//!
//! `make test` runs `s3s-fs` (an S3 server over a folder) and exports
//! `GALLERY_TEST_S3_ENDPOINT`, `GALLERY_TEST_S3_ROOT` (its folder) and the credentials.
//! A bucket of `s3s-fs` is a folder under that root, so [`TestBucket::create`] makes one
//! with a fresh name and removes it when dropped; what the server keeps of unfinished
//! multipart uploads sits in files at the root that name their bucket. Clients reach the
//! server through a proxy of the bucket's own, so that a test can cut the store off as an
//! outage would ([`TestBucket::take_away`]).

use std::env;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Credentials `make test` gives the test server.
pub const ACCESS_KEY: &str = "gallery-test";
pub const SECRET_KEY: &str = "gallery-test-secret";

/// A bucket of its own for one test.
#[derive(Debug)]
pub struct TestBucket {
    /// The proxy's address: what clients are given.
    pub endpoint: String,
    pub name: String,
    root: PathBuf,
    proxy: Arc<Proxy>,
}

/// Forwards connections to the server while `up`; taking it down cuts the open ones.
#[derive(Debug)]
struct Proxy {
    up: AtomicBool,
    connections: std::sync::Mutex<JoinSet<()>>,
    accepting: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Proxy {
    async fn start(upstream: String) -> (Arc<Self>, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the bucket's proxy");
        let address = format!("http://{}", listener.local_addr().expect("the proxy's address"));
        let proxy = Arc::new(Self {
            up: AtomicBool::new(true),
            connections: std::sync::Mutex::new(JoinSet::new()),
            accepting: std::sync::Mutex::new(None),
        });
        let serving = proxy.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !serving.up.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let upstream = upstream.clone();
                serving.connections.lock().expect("proxy connections").spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        *proxy.accepting.lock().expect("proxy task") = Some(accepting);
        (proxy, address)
    }

    fn set(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            self.connections.lock().expect("proxy connections").abort_all();
        }
    }
}

fn var(name: &str) -> String {
    env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with `make test`, which starts a throwaway S3 server (s3s-fs)")
    })
}

impl TestBucket {
    /// # Panics
    /// When the test server is not configured: tests need `make test`.
    pub async fn create() -> Self {
        let (upstream, root) = (var("GALLERY_TEST_S3_ENDPOINT"), PathBuf::from(var("GALLERY_TEST_S3_ROOT")));
        let name = format!("t-{}", uuid::Uuid::new_v4().simple());
        std::fs::create_dir(root.join(&name)).expect("create a test bucket");
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let (proxy, endpoint) = Proxy::start(upstream).await;
        Self { endpoint, name, root, proxy }
    }

    /// The bucket's folder in the server's root: an object is the file at its key.
    #[must_use]
    pub fn path(&self) -> PathBuf {
        self.root.join(&self.name)
    }

    /// Every object's key, sorted.
    #[must_use]
    pub fn keys(&self) -> Vec<String> {
        let mut out = Vec::new();
        let bucket = self.path();
        crate::store::walk(&bucket, &bucket, &mut out);
        out.sort();
        out
    }

    /// How many multipart uploads are begun in this bucket and neither completed nor
    /// aborted.
    #[must_use]
    pub fn unfinished_uploads(&self) -> usize {
        let marker = format!(".bucket-{}.", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.name));
        std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with(&marker) && name.contains(".upload-")
            })
            .count()
    }

    /// Cuts the bucket off, as an outage would: open connections are closed and new ones
    /// refused until [`Self::restore`].
    pub fn take_away(&self) {
        self.proxy.set(false);
    }

    pub fn restore(&self) {
        self.proxy.set(true);
    }
}

impl Drop for TestBucket {
    fn drop(&mut self) {
        self.proxy.set(false);
        if let Some(accepting) = self.proxy.accepting.lock().ok().and_then(|mut a| a.take()) {
            accepting.abort();
        }
        let _ = std::fs::remove_dir_all(self.root.join(&self.name));
    }
}
