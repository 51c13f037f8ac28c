use std::path::PathBuf;
use std::sync::Arc;

use gallery_postgres::{Caches, Db, PoolSettings};
use gallery_server::app::{Services, Shared};
use gallery_server::{Application, Settings};
use gallery_storage::{Backend, S3Settings};
use gallery_testdb::{TestDb, TestStore};
use reqwest::{Client, Method, Response, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery";

struct WallClock;

impl gallery_domain::ports::Clock for WallClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

pub fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config")
}

pub fn test_settings(database_url: &str, storage: &TestStorage) -> Settings {
    let mut settings = Settings::load_for(&config_dir(), "test").expect("test settings");
    settings.database.url = SecretString::from(database_url.to_owned());
    configure(storage, &mut settings);
    settings.server.host = "127.0.0.1".into();
    settings.server.port = 0;
    settings
}

/// Where a test server keeps images: a temporary folder, or with `GALLERY_TEST_STORAGE=s3`
/// (the second run of `make test`) a fresh bucket in the test S3 server.
pub type TestStorage = TestStore;

/// Points `settings` at `store`.
fn configure(store: &TestStore, settings: &mut Settings) {
    match store {
        TestStore::Folder(dir) => {
            settings.storage.backend = Backend::Fs;
            dir.path().clone_into(&mut settings.storage.root);
        }
        TestStore::Bucket(bucket) => {
            settings.storage.backend = Backend::S3;
            settings.storage.s3 = S3Settings {
                bucket: bucket.name.clone(),
                endpoint: bucket.endpoint.clone(),
                access_key_id: gallery_testdb::ACCESS_KEY.into(),
                secret_access_key: Some(gallery_testdb::SECRET_KEY.into()),
                force_path_style: true,
                ..S3Settings::default()
            };
        }
    }
}

/// A running server with a database of its own.
pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub _db: Arc<TestDb>,
    pub settings: Settings,
    pub storage: Arc<TestStorage>,
    pub caches: Caches,
}

/// A bound on waits that must end: a hang fails the test instead of stalling it.
pub async fn bounded<F: Future>(what: &str, wait: F) -> F::Output {
    tokio::time::timeout(std::time::Duration::from_secs(10), wait).await.unwrap_or_else(|_| panic!("{what}: over 10 s"))
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A running server with settings adjusted by `adjust`.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let db = Arc::new(TestDb::create().await);
    let storage = Arc::new(TestStore::from_env().await);
    let mut settings = test_settings(db.url(), &storage);
    adjust(&mut settings);
    serve(settings, db, storage).await
}

/// Builds and starts a server; answers once its in-memory copies are on.
async fn serve(settings: Settings, db: Arc<TestDb>, storage: Arc<TestStorage>) -> TestApp {
    let app = Application::build(&settings).expect("build the app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let caches = app.caches();
    tokio::spawn(app.run_until_stopped());
    // Every test runs with the in-memory copies on, as production does.
    bounded("the cache listener subscribes", caches.ready()).await;
    TestApp { address, client: Client::new(), _db: db, settings, storage, caches }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn from(res: Response) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Self { status, headers, body }
    }

    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.body);
        assert!(self.content_type().starts_with("application/problem+json"), "content type {}", self.content_type());
        assert_eq!(self.body["code"], code, "{:?}", self.body);
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string());
    }

    /// The field names of a 422's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

impl TestApp {
    /// A second server beside this one: the same settings, database and storage, as
    /// several instances behind one address run.
    pub async fn beside(&self) -> TestApp {
        serve(self.settings.clone(), self._db.clone(), self.storage.clone()).await
    }

    /// Waits until this server has applied every change committed so far, by any server.
    pub async fn settle(&self) {
        let db = Db::new(self._db.url(), &PoolSettings::default(), Arc::new(WallClock)).expect("a pool");
        bounded("settling", self.caches.settle(&db)).await.expect("a ping");
    }

    pub fn url(&self, path: &str) -> String {
        if ["/api", "/health", "/l/", "/metrics", "/docs"].iter().any(|root| path.starts_with(root)) {
            format!("{}{path}", self.address)
        } else {
            format!("{}/api/v1{path}", self.address)
        }
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Reply::from(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Sends raw bytes with a content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let res = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        Reply::from(res).await
    }

    pub async fn register(&self, username: &str, role: Option<&str>) -> Reply {
        let mut body = json!({"username": username, "password": PASSWORD, "password_confirm": PASSWORD});
        if let Some(r) = role {
            body["role"] = json!(r);
        }
        self.post("/auth/register", None, body).await
    }

    /// Logs in; returns the whole token reply.
    pub async fn login(&self, username: &str) -> Reply {
        self.post("/auth/login", None, json!({"username": username, "password": PASSWORD})).await
    }

    /// Registers and logs in; returns the access token.
    pub async fn user_token(&self, username: &str, role: &str) -> String {
        assert_eq!(self.register(username, Some(role)).await.status, 201);
        self.token_of(username).await
    }

    pub async fn token_of(&self, username: &str) -> String {
        let reply = self.login(username).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body["access_token"].as_str().expect("access token").to_owned()
    }

    /// Creates an admin the way `gallery create-admin` does, and logs in.
    pub async fn admin_token(&self, username: &str) -> String {
        let services = Services::build(&Shared::build(&self.settings).expect("settings")).expect("services");
        services
            .users
            .provision_admin(
                gallery_domain::Username::parse(username).unwrap(),
                gallery_domain::Password::parse(PASSWORD).unwrap(),
            )
            .await
            .expect("create admin");
        self.token_of(username).await
    }

    pub async fn user_id(&self, token: &str) -> String {
        self.get("/users/me", Some(token)).await.body["id"].as_str().expect("id").to_owned()
    }
}

impl TestApp {
    /// Uploads `bytes` as the `file` part, with a filename and part type that must not matter.
    pub async fn upload(&self, token: &str, bytes: Vec<u8>, filename: &str, title: Option<&str>) -> Reply {
        self.upload_with(&self.client, token, bytes, filename, title).await
    }

    /// As [`TestApp::upload`] on a client of its own: a refused upload's connection is
    /// closed by the server mid-body, and must not be offered to later requests.
    pub async fn upload_with(
        &self,
        client: &Client,
        token: &str,
        bytes: Vec<u8>,
        filename: &str,
        title: Option<&str>,
    ) -> Reply {
        let part =
            reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned()).mime_str("text/plain").expect("mime");
        let mut form = reqwest::multipart::Form::new().part("file", part);
        if let Some(t) = title {
            form = form.text("title", t.to_owned());
        }
        let res = client.post(self.url("/images")).bearer_auth(token).multipart(form).send().await.expect("upload");
        Reply::from(res).await
    }

    /// Every key stored, sorted.
    pub fn stored_files(&self) -> Vec<String> {
        self.storage.keys()
    }

    /// Raw GET with extra headers, for originals.
    pub async fn get_with(
        &self,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
    ) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let mut req = self.client.get(self.url(path)).bearer_auth(token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.expect("request");
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.bytes().await.expect("body").to_vec())
    }
}

/// A `w`×`h` opaque PNG with a gradient (so thumbnails have something to resample).
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 250) as u8, (y % 250) as u8, 40]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Png).expect("encode a PNG");
    out.into_inner()
}
