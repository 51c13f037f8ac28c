//! Embeds `app/` in the crate: every file with its content type, a strong ETag, and its
//! gzip form when that is smaller. Asset URLs carry [`VERSION`], a digest of every file,
//! so a browser may keep them for a year; `index.html` names that version, so it is
//! written here with `{{version}}` filled in.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

const INDEX: &str = "index.html";

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("app");
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    println!("cargo::rerun-if-changed=app");

    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let read = |path: &Path| fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));

    let mut all = Sha256::new();
    for file in files.iter().filter(|f| f.file_name().is_some_and(|n| n != INDEX)) {
        all.update(relative(&root, file).as_bytes());
        all.update(read(file));
    }
    let version = hex(&all.finalize())[..16].to_owned();

    let mut table = String::from("pub static ASSETS: &[Asset] = &[\n");
    for (n, file) in files.iter().enumerate() {
        let path = relative(&root, file);
        let mut body = read(file);
        if path == INDEX {
            body = String::from_utf8(body).expect("index.html is UTF-8").replace("{{version}}", &version).into_bytes();
        }
        let raw = out.join(format!("asset-{n}"));
        fs::write(&raw, &body).expect("writing OUT_DIR");
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&body).expect("gzip in memory");
        let gz = gz.finish().expect("gzip in memory");
        let tag = &hex(&Sha256::digest(&body))[..32];
        let etag = format!("\"{tag}\"");
        let gzip = if gz.len() < body.len() {
            let packed = out.join(format!("asset-{n}.gz"));
            fs::write(&packed, &gz).expect("writing OUT_DIR");
            let etag = format!("\"{tag}-gzip\"");
            format!("Some(Gzipped {{ body: include_bytes!({:?}), etag: {etag:?} }})", packed.display().to_string())
        } else {
            "None".to_owned()
        };
        writeln!(
            table,
            "    Asset {{ path: {path:?}, content_type: {:?}, body: include_bytes!({:?}), gzip: {gzip}, etag: {etag:?} }},",
            content_type(&path),
            raw.display().to_string(),
        )
        .expect("writing a String");
    }
    table.push_str("];\n");
    writeln!(table, "pub const VERSION: &str = {version:?};").expect("writing a String");
    fs::write(out.join("assets.rs"), table).expect("writing OUT_DIR");
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn relative(root: &Path, file: &Path) -> String {
    file.strip_prefix(root).expect("under app/").to_string_lossy().replace('\\', "/")
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("webmanifest") => "application/manifest+json",
        Some("png") => "image/png",
        Some("txt") => "text/plain; charset=utf-8",
        other => panic!("app/{path}: no content type for {other:?}; add it to build.rs"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
