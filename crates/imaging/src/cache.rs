//! [`CachedThumbnails`]: the [`Thumbnails`] port over a blob store and a renderer. A
//! thumbnail is kept under a key that follows from its original's and names its format
//! ([`BlobKey::thumbnail`]), so a kept one is served without looking at its bytes and any
//! server finds what another made. The ones served lately are also held in memory (up to
//! [`HOT_BYTES`] in all): a thumbnail never changes under its key, so a copy needs no news,
//! and a hot one is served without touching storage.
//!
//! Every in-memory cache, and what keeps each true: `docs/architecture.md`, "Caches, on one
//! page".

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::TryStreamExt as _;
use gallery_domain::ports::{BlobBody, BlobStore, ThumbnailBytes, ThumbnailError, ThumbnailRenderer, Thumbnails};
use gallery_domain::{BlobKey, ImageFormat, StorageError};
use tokio::sync::Mutex;

/// The formats a thumbnail is made in, the likelier first: JPEG for opaque images, PNG
/// where there is transparency.
const MADE_IN: [ImageFormat; 2] = [ImageFormat::Jpeg, ImageFormat::Png];

/// One render at a time per thumbnail within the process: concurrent first requests wait
/// for the one that renders it, then are served what it kept.
type Flights = Mutex<HashMap<(BlobKey, u32), Arc<Mutex<()>>>>;

/// How many bytes of thumbnails a server holds in memory, and the largest one it holds.
pub const HOT_BYTES: u64 = 64 << 20;
const HOT_LARGEST: u64 = 512 << 10;

/// Weighs a held thumbnail by its size.
#[derive(Debug, Clone, Copy)]
struct BySize;

impl quick_cache::Weighter<(BlobKey, u32), (ImageFormat, Bytes)> for BySize {
    fn weight(&self, _: &(BlobKey, u32), (_, bytes): &(ImageFormat, Bytes)) -> u64 {
        bytes.len() as u64
    }
}

type Hot = quick_cache::sync::Cache<(BlobKey, u32), (ImageFormat, Bytes), BySize>;

/// Thumbnails kept in the blob store, made by the renderer on the first request, and the
/// ones served lately held in memory.
pub struct CachedThumbnails {
    blobs: Arc<dyn BlobStore>,
    renderer: Arc<dyn ThumbnailRenderer>,
    flights: Flights,
    hot: Hot,
}

impl std::fmt::Debug for CachedThumbnails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedThumbnails").finish_non_exhaustive()
    }
}

impl CachedThumbnails {
    #[must_use]
    pub fn new(blobs: Arc<dyn BlobStore>, renderer: Arc<dyn ThumbnailRenderer>) -> Self {
        // A thumbnail is some tens of kilobytes: the estimate sizes the cache's index.
        let hot = Hot::with_weighter((HOT_BYTES / (32 << 10)) as usize, HOT_BYTES, BySize);
        Self { blobs, renderer, flights: Flights::default(), hot }
    }

    /// The kept thumbnail, if there is one: from memory, else from storage (and then held
    /// in memory when it is small enough).
    async fn kept(&self, original: &BlobKey, height: u32) -> Result<Option<ThumbnailBytes>, ThumbnailError> {
        let key = (original.clone(), height);
        if let Some((format, bytes)) = self.hot.get(&key) {
            return Ok(Some(whole(format, bytes, false)));
        }
        for format in MADE_IN {
            match self.blobs.open(&original.thumbnail(height, format), None).await {
                Ok(body) if body.len <= HOT_LARGEST => {
                    let chunks: Vec<Bytes> = body.stream.try_collect().await?;
                    let bytes = Bytes::from(chunks.concat());
                    self.hot.insert(key, (format, bytes.clone()));
                    return Ok(Some(whole(format, bytes, false)));
                }
                Ok(body) => return Ok(Some(ThumbnailBytes { format, body, rendered: false })),
                Err(StorageError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    /// Makes the thumbnail, keeps it, and sends the bytes it made (never read back).
    async fn render(
        &self,
        original: &BlobKey,
        format: ImageFormat,
        height: u32,
    ) -> Result<ThumbnailBytes, ThumbnailError> {
        let source = self.blobs.reader(original).await?;
        let bytes = self
            .renderer
            .render(source, format, height)
            .await
            .map_err(|e| ThumbnailError::Render(format!("rendering a thumbnail: {e}")))?;
        let made = ImageFormat::sniff(&bytes)
            .ok_or_else(|| ThumbnailError::Render("the renderer made something that is not an image".into()))?;
        self.blobs.put(&original.thumbnail(height, made), bytes.clone()).await?;
        tracing::info!(bytes = bytes.len(), format = made.as_str(), "thumbnail rendered");
        if bytes.len() as u64 <= HOT_LARGEST {
            self.hot.insert((original.clone(), height), (made, bytes.clone()));
        }
        Ok(whole(made, bytes, true))
    }
}

/// A thumbnail whose bytes are in hand.
fn whole(format: ImageFormat, bytes: Bytes, rendered: bool) -> ThumbnailBytes {
    let len = bytes.len() as u64;
    let stream = Box::pin(futures_util::stream::once(async move { Ok(bytes) }));
    ThumbnailBytes { format, body: BlobBody { len, stream }, rendered }
}

#[async_trait]
impl Thumbnails for CachedThumbnails {
    async fn get(
        &self,
        original: &BlobKey,
        format: ImageFormat,
        height: u32,
    ) -> Result<ThumbnailBytes, ThumbnailError> {
        if let Some(kept) = self.kept(original, height).await? {
            return Ok(kept);
        }
        let flight = (original.clone(), height);
        let slot = self.flights.lock().await.entry(flight.clone()).or_default().clone();
        let outcome = {
            let _only_one = slot.lock().await;
            match self.kept(original, height).await? {
                Some(kept) => Ok(kept), // made while we waited
                None => self.render(original, format, height).await,
            }
        };
        let mut flights = self.flights.lock().await;
        // One reference in the map, one here: nobody else is waiting.
        if Arc::strong_count(&slot) <= 2 {
            flights.remove(&flight);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;

    use bytes::Bytes;
    use futures_util::TryStreamExt as _;
    use gallery_domain::ImageId;
    use gallery_domain::ports::{MockBlobStore, MockThumbnailRenderer};

    use super::*;

    const PNG_HEAD: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG_HEAD: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF";

    /// A blob store in memory: what is put can be opened.
    fn store(kept: Arc<StdMutex<HashMap<String, Bytes>>>, opens: Arc<StdMutex<usize>>) -> MockBlobStore {
        let mut blobs = MockBlobStore::new();
        let (seen, put) = (kept.clone(), kept);
        blobs.expect_open().returning(move |key, _| {
            *opens.lock().unwrap() += 1;
            let kept = seen.lock().unwrap().get(key.as_str()).cloned();
            kept.map(|b| BlobBody { len: b.len() as u64, stream: Box::pin(futures_util::stream::iter([Ok(b)])) })
                .ok_or(StorageError::NotFound)
        });
        blobs.expect_put().returning(move |key, bytes| {
            put.lock().unwrap().insert(key.as_str().to_owned(), bytes);
            Ok(())
        });
        blobs.expect_reader().returning(|_| Ok(Box::new(std::io::Cursor::new(Vec::new()))));
        blobs
    }

    #[tokio::test]
    async fn concurrent_first_requests_render_once_and_later_ones_are_served_the_kept_one() {
        let kept = Arc::default();
        let opens = Arc::new(StdMutex::new(0));
        let mut renderer = MockThumbnailRenderer::new();
        renderer.expect_render().times(1).returning(|_, _, _| Ok(Bytes::from_static(PNG_HEAD)));
        let thumbnails = CachedThumbnails::new(Arc::new(store(kept, opens)), Arc::new(renderer));
        let original = BlobKey::original(ImageId::generate());
        let requests = (0..8).map(|_| thumbnails.get(&original, ImageFormat::Png, 200));
        let made = futures_util::future::join_all(requests).await;
        let rendered = made.iter().filter(|t| t.as_ref().unwrap().rendered).count();
        assert_eq!(rendered, 1, "one request rendered, the others were served what it kept");
        let again = thumbnails.get(&original, ImageFormat::Png, 200).await.unwrap();
        assert_eq!((again.format, again.rendered), (ImageFormat::Png, false));
        assert!(thumbnails.flights.lock().await.is_empty(), "no flight is left behind");
    }

    #[tokio::test]
    async fn servers_on_one_store_render_at_most_once_each_and_serve_what_another_made() {
        let kept: Arc<StdMutex<HashMap<String, Bytes>>> = Arc::default();
        let server = |renders: std::ops::RangeInclusive<usize>| {
            let mut renderer = MockThumbnailRenderer::new();
            renderer.expect_render().times(renders).returning(|_, _, _| Ok(Bytes::from_static(PNG_HEAD)));
            CachedThumbnails::new(Arc::new(store(kept.clone(), Arc::default())), Arc::new(renderer))
        };
        let (a, b) = (server(0..=1), server(0..=1));
        let original = BlobKey::original(ImageId::generate());
        let requests = (0..8).map(|i| if i % 2 == 0 { &a } else { &b }.get(&original, ImageFormat::Png, 200));
        let made = futures_util::future::join_all(requests).await;
        let rendered = made.iter().filter(|t| t.as_ref().unwrap().rendered).count();
        assert!((1..=2).contains(&rendered), "{rendered} renders for two servers");
        // A third server finds it in the store.
        let c = server(0..=0);
        assert!(!c.get(&original, ImageFormat::Png, 200).await.unwrap().rendered);
    }

    #[tokio::test]
    async fn a_kept_thumbnail_is_typed_by_its_key_and_a_fresh_one_is_never_read_back() {
        let kept: Arc<StdMutex<HashMap<String, Bytes>>> = Arc::default();
        let opens = Arc::new(StdMutex::new(0));
        let mut renderer = MockThumbnailRenderer::new();
        renderer.expect_render().times(1).returning(|_, _, _| Ok(Bytes::from_static(JPEG_HEAD)));
        let thumbnails = CachedThumbnails::new(Arc::new(store(kept.clone(), opens.clone())), Arc::new(renderer));
        let original = BlobKey::original(ImageId::generate());

        let fresh = thumbnails.get(&original, ImageFormat::Png, 200).await.unwrap();
        assert_eq!((fresh.format, fresh.rendered), (ImageFormat::Jpeg, true));
        let sent: Vec<Bytes> = fresh.body.stream.try_collect().await.unwrap();
        assert_eq!(sent.concat(), JPEG_HEAD);
        // Two probes (JPEG, PNG) before the flight and two inside it; none after the put.
        assert_eq!(*opens.lock().unwrap(), 4);
        let key = original.thumbnail(200, ImageFormat::Jpeg);
        assert!(kept.lock().unwrap().contains_key(key.as_str()), "kept under its format's key");

        // The key says the format: the bytes are not looked at.
        kept.lock().unwrap().insert(original.thumbnail(300, ImageFormat::Png).as_str().to_owned(), Bytes::new());
        let hit = thumbnails.get(&original, ImageFormat::Png, 300).await.unwrap();
        assert_eq!((hit.format, hit.rendered), (ImageFormat::Png, false));
    }

    #[tokio::test]
    async fn a_thumbnail_served_once_is_served_from_memory_unless_it_is_large() {
        let kept: Arc<StdMutex<HashMap<String, Bytes>>> = Arc::default();
        let opens = Arc::new(StdMutex::new(0));
        let thumbnails =
            CachedThumbnails::new(Arc::new(store(kept.clone(), opens.clone())), Arc::new(MockThumbnailRenderer::new()));
        let original = BlobKey::original(ImageId::generate());
        let small = Bytes::from([JPEG_HEAD, &[7; 1000]].concat());
        let large = Bytes::from(vec![9; usize::try_from(HOT_LARGEST).unwrap() + 1]);
        kept.lock().unwrap().insert(original.thumbnail(200, ImageFormat::Jpeg).as_str().to_owned(), small.clone());
        kept.lock().unwrap().insert(original.thumbnail(400, ImageFormat::Jpeg).as_str().to_owned(), large.clone());

        for (height, bytes, opens_after) in [(200, &small, [1, 1, 1]), (400, &large, [1, 2, 3])] {
            *opens.lock().unwrap() = 0;
            for expected in opens_after {
                let served = thumbnails.get(&original, ImageFormat::Jpeg, height).await.unwrap();
                assert_eq!(
                    (served.format, served.rendered, served.body.len),
                    (ImageFormat::Jpeg, false, bytes.len() as u64)
                );
                let sent: Vec<Bytes> = served.body.stream.try_collect().await.unwrap();
                assert_eq!(sent.concat(), bytes.as_ref());
                assert_eq!(*opens.lock().unwrap(), expected, "{height} px");
            }
        }
    }
}
