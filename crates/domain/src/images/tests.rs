use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{TimeZone, Utc};
use futures_util::{FutureExt as _, Stream, stream};

use super::upload::UploadTexts;
use super::*;
use crate::ports::Listed;
use crate::ports::{BlobBody, InspectError, Inspected};
use crate::ports::{
    FetchError, Fetched, MockBlobStore, MockClock, MockImageInspector, MockImageRepo, MockRemovalRepo, MockThumbnails,
    MockUploadSlotRepo, MockUrlFetcher, ReadSeek, StagedBlob, ThumbnailBytes,
};
use crate::testing::{Held, Spawned, actor_with_role, builtin_role, free_slots, plan};
use crate::{Actor, After, ImageSort, RepoError, StorageError, UserRef, Visibility, WebUrl};
use crate::{BlobKey, ByteRange, Decision, Description, ImageFormat, ImageStatus, NewImage, Reason, Title};

/// An in-memory staged file that records whether it was committed or dropped.
#[derive(Default, Clone)]
struct Probe {
    written: Arc<Mutex<Vec<u8>>>,
    committed: Arc<AtomicBool>,
    dropped: Arc<AtomicBool>,
}

struct FakeStaged(Probe);

#[async_trait]
impl StagedBlob for FakeStaged {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), StorageError> {
        self.0.written.lock().unwrap().extend_from_slice(chunk);
        Ok(())
    }

    fn reader(&self) -> Result<Box<dyn ReadSeek>, StorageError> {
        Ok(Box::new(std::io::Cursor::new(self.0.written.lock().unwrap().clone())))
    }

    async fn commit(self: Box<Self>) -> Result<(), StorageError> {
        self.0.committed.store(true, Ordering::SeqCst);
        Ok(())
    }
}

impl Drop for FakeStaged {
    fn drop(&mut self) {
        self.0.dropped.store(true, Ordering::SeqCst);
    }
}

const PNG_HEAD: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

struct World {
    repo: MockImageRepo,
    blobs: MockBlobStore,
    inspector: MockImageInspector,
    fetcher: MockUrlFetcher,
    thumbnails: MockThumbnails,
    removals: MockRemovalRepo,
    tasks: Arc<dyn Tasks>,
    slots: MockUploadSlotRepo,
    probe: Probe,
}

/// A removal record that takes and forgets anything.
fn permissive_removals() -> MockRemovalRepo {
    let mut removals = MockRemovalRepo::new();
    removals.expect_schedule().returning(|_, _| Ok(Box::new(NoOther)));
    removals.expect_claim().returning(|_, _| Ok(Some(Box::new(NoOther))));
    removals.expect_done().returning(|_| Ok(()));
    removals
}

impl World {
    fn new() -> Self {
        let probe = Probe::default();
        let mut blobs = MockBlobStore::new();
        let p = probe.clone();
        blobs.expect_stage().returning(move |_| Ok(Box::new(FakeStaged(p.clone()))));
        Self {
            repo: MockImageRepo::new(),
            blobs,
            inspector: MockImageInspector::new(),
            fetcher: MockUrlFetcher::new(),
            thumbnails: MockThumbnails::new(),
            removals: permissive_removals(),
            tasks: Arc::new(Spawned),
            slots: free_slots(),
            probe,
        }
    }

    fn build(self, max_upload: u64) -> (Images, Probe) {
        let mut clock = MockClock::new();
        clock.expect_now().returning(|| Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap());
        let ports = ImagePorts {
            images: Arc::new(self.repo),
            blobs: Arc::new(self.blobs),
            inspector: Arc::new(self.inspector),
            thumbnails: Arc::new(self.thumbnails),
            fetcher: Arc::new(self.fetcher),
            clock: Arc::new(clock),
            removals: Arc::new(self.removals),
            location: Arc::new(crate::testing::KeepEverything),
            tasks: self.tasks,
            slots: Arc::new(self.slots),
            turns: Arc::new(crate::testing::FreeTurns),
        };
        let limits = ImageLimits {
            max_pixels: 50_000_000,
            max_upload_bytes: max_upload,
            orphan_grace: chrono::Duration::minutes(5),
            uploads_per_user: 2,
            upload_lease: chrono::Duration::minutes(3),
        };
        let images = Images::new(ports, limits);
        (images, self.probe)
    }
}

fn body(chunks: Vec<&'static [u8]>) -> impl futures_util::Stream<Item = Result<Bytes, DomainError>> + Unpin {
    stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from_static(c))))
}

fn player() -> Actor {
    actor_with_role(builtin_role("beta_player"))
}

fn stored(new: &NewImage, who: &Actor) -> Image {
    Image {
        id: new.id,
        title: new.title.as_str().to_owned(),
        description: new.description.as_str().to_owned(),
        status: new.status,
        uploaded_by: UserRef { id: who.id(), username: who.user.username.clone() },
        gallery_id: new.gallery_id,
        width: new.width,
        height: new.height,
        format: new.format,
        size_bytes: new.size_bytes,
        sha256: new.sha256,
        storage_key: new.storage_key.clone(),
        uploaded_at: Utc::now(),
        updated_at: Utc::now(),
        shot: new.shot.clone(),
    }
}

#[tokio::test]
async fn viewers_cannot_upload() {
    for role in ["company_user", "subscriber"] {
        let (images, _) = World::new().build(u64::MAX);
        let err = images.ingest(&actor_with_role(builtin_role(role)), body(vec![PNG_HEAD])).await.unwrap_err();
        assert!(matches!(err, DomainError::Forbidden), "{role}");
    }
}

#[tokio::test]
async fn an_upload_past_the_plan_limit_is_cut_off_and_its_file_removed() {
    let (images, probe) = World::new().build(u64::MAX);
    let actor = player(); // basic plan: 5 MiB
    let big: &'static [u8] = Box::leak(vec![0u8; 3 << 20].into_boxed_slice());
    let err = images.ingest(&actor, body(vec![PNG_HEAD, big, big])).await.unwrap_err();
    assert!(matches!(err, DomainError::PayloadTooLarge(limit) if limit == 5 << 20), "{err:?}");
    assert!(probe.dropped.load(Ordering::SeqCst));
    assert!(!probe.committed.load(Ordering::SeqCst));
    assert!(probe.written.lock().unwrap().len() < 5 << 20, "stopped before the limit was written");
}

#[tokio::test]
async fn the_server_cap_wins_over_a_larger_plan() {
    let (images, _) = World::new().build(16);
    let err = images.ingest(&player(), body(vec![PNG_HEAD, b"0123456789"])).await.unwrap_err();
    assert!(matches!(err, DomainError::PayloadTooLarge(16)));
}

#[tokio::test]
async fn a_file_that_is_not_an_image_is_refused_by_its_first_bytes() {
    let (images, probe) = World::new().build(u64::MAX);
    let err = images.ingest(&player(), body(vec![b"hello, I am text and not an image"])).await.unwrap_err();
    assert!(matches!(err, DomainError::UnsupportedMediaType));
    assert!(probe.dropped.load(Ordering::SeqCst));
    let (images, _) = World::new().build(u64::MAX);
    assert!(matches!(images.ingest(&player(), body(vec![])).await, Err(DomainError::UnsupportedMediaType)));
}

#[tokio::test]
async fn the_signature_may_arrive_split_across_chunks() {
    let (images, _) = World::new().build(u64::MAX);
    let staged = images.ingest(&player(), body(vec![&PNG_HEAD[..3], &PNG_HEAD[3..7], &PNG_HEAD[7..]])).await.unwrap();
    assert_eq!((staged.format, staged.size), (ImageFormat::Png, PNG_HEAD.len() as u64));
}

#[tokio::test]
async fn a_valid_upload_is_committed_then_recorded_pending() {
    let mut w = World::new();
    let actor = player();
    let who = actor.clone();
    w.repo.expect_stored_bytes().returning(|_| Ok(0));
    w.inspector.expect_inspect().returning(|_, _, _| Ok(Inspected::sized(640, 480)));
    w.repo
        .expect_create()
        .withf(|new, quota| {
            new.status == ImageStatus::Pending && new.width == 640 && *quota == 1 << 30 && new.title.as_str() == "t"
        })
        .returning(move |new, _| Ok(stored(new, &who)));
    let (images, probe) = w.build(u64::MAX);
    // The text fields may follow the file.
    let parts = vec![file(), UploadPart::Text(UploadField::Title, "t".into())];
    let Seen { item: image, variants } = images.upload(&actor, form(parts)).await.unwrap();
    assert!(probe.committed.load(Ordering::SeqCst));
    // The uploader sees what their plan in force lets them fetch.
    assert_eq!(variants, Policy::image_variants(&actor, Utc::now()));
    assert_eq!(image.format, ImageFormat::Png);
    assert_eq!(image.storage_key, BlobKey::original(image.id));
}

type Body = stream::Iter<std::vec::IntoIter<Result<Bytes, DomainError>>>;

fn form(parts: Vec<UploadPart<Body>>) -> impl Stream<Item = Result<UploadPart<Body>, DomainError>> {
    stream::iter(parts.into_iter().map(Ok))
}

fn file() -> UploadPart<Body> {
    UploadPart::File(stream::iter(vec![Ok(Bytes::from_static(PNG_HEAD))]))
}

#[tokio::test]
async fn an_upload_form_is_refused_with_every_bad_field_at_once_and_keeps_nothing() {
    let mut w = World::new();
    w.repo.expect_create().never();
    let (images, _) = w.build(u64::MAX);
    let parts = vec![
        UploadPart::Text(UploadField::Title, "t".repeat(201)),
        UploadPart::Text(UploadField::GalleryId, "not-a-uuid".into()),
    ];
    let Err(DomainError::Validation(errors)) = images.upload(&player(), form(parts)).await else { panic!("refused") };
    let fields: Vec<_> = errors.into_iter().map(|e| e.field).collect();
    assert_eq!(fields, ["title", "gallery_id", "file"]);

    let (images, probe) = World::new().build(u64::MAX);
    let Err(DomainError::Validation(errors)) = images.upload(&player(), form(vec![file(), file()])).await else {
        panic!("refused")
    };
    assert_eq!(errors[0].message, "send one file per upload");
    assert!(probe.dropped.load(Ordering::SeqCst) && !probe.committed.load(Ordering::SeqCst));
}

#[tokio::test]
async fn an_upload_past_the_users_slots_is_refused_before_its_form_is_read() {
    let mut w = World::new();
    w.slots = MockUploadSlotRepo::new();
    w.slots.expect_take().withf(|_, per_user, _| *per_user == 2).times(1).returning(|_, _, _| {
        Ok(crate::ports::SlotTake::AllHeld { free_by: Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 30).unwrap() })
    });
    w.blobs = MockBlobStore::new();
    w.blobs.expect_stage().never();
    let (images, _) = w.build(u64::MAX);
    let unread = stream::poll_fn::<Result<UploadPart<Body>, DomainError>, _>(|_| panic!("the form was read"));
    let refused = images.upload(&player(), unread).await.err();
    assert!(matches!(refused, Some(DomainError::RateLimited(_))), "{refused:?}");
}

#[tokio::test]
async fn an_empty_gallery_id_is_no_gallery() {
    let texts = UploadTexts { gallery_id: Some(String::new()), ..UploadTexts::default() };
    assert!(texts.with_file(Some(())).unwrap().1.gallery_id.is_none());
}

#[tokio::test]
async fn an_upload_whose_bytes_are_in_is_recorded_even_when_nobody_waits_any_more() {
    let mut w = World::new();
    let held = Arc::new(Held::default());
    w.tasks = held.clone();
    w.repo.expect_stored_bytes().returning(|_| Ok(0));
    w.inspector.expect_inspect().returning(|_, _, _| Ok(Inspected::sized(1, 1)));
    let actor = player();
    let who = actor.clone();
    w.repo.expect_create().times(1).returning(move |new, _| Ok(stored(new, &who)));
    let (images, probe) = w.build(u64::MAX);
    // The request reads the whole form, hands the recording over, and is then dropped.
    assert!(images.upload::<DomainError, _, _>(&actor, form(vec![file()])).now_or_never().is_none());
    assert!(!probe.committed.load(Ordering::SeqCst));
    held.run().await;
    assert!(probe.committed.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_moderators_upload_is_approved_at_once() {
    let mut w = World::new();
    let actor = actor_with_role(builtin_role("admin"));
    let who = actor.clone();
    w.repo.expect_stored_bytes().returning(|_| Ok(0));
    w.inspector.expect_inspect().returning(|_, _, _| Ok(Inspected::sized(1, 1)));
    w.repo
        .expect_create()
        .withf(|new, _| new.status == ImageStatus::Approved)
        .returning(move |new, _| Ok(stored(new, &who)));
    let (images, _) = w.build(u64::MAX);
    let staged = images.ingest(&actor, body(vec![PNG_HEAD])).await.unwrap();
    assert_eq!(images.record(&actor, staged, UploadMeta::default()).await.unwrap().item.status, ImageStatus::Approved);
}

#[tokio::test]
async fn an_image_over_the_quota_is_refused_before_decoding() {
    let mut w = World::new();
    w.repo.expect_stored_bytes().returning(|_| Ok((1 << 30) - 4));
    w.inspector.expect_inspect().never();
    w.repo.expect_create().never();
    let (images, probe) = w.build(u64::MAX);
    let actor = player();
    let staged = images.ingest(&actor, body(vec![PNG_HEAD])).await.unwrap();
    assert!(matches!(images.record(&actor, staged, UploadMeta::default()).await, Err(DomainError::QuotaExceeded)));
    assert!(probe.dropped.load(Ordering::SeqCst) && !probe.committed.load(Ordering::SeqCst));
}

#[tokio::test]
async fn inspection_failures_map_to_their_errors_and_leave_no_file() {
    for (failure, too_large) in [
        (InspectError::TooLarge { width: 30000, height: 30000, max_pixels: 1 }, true),
        (InspectError::Invalid("truncated".into()), false),
    ] {
        let mut w = World::new();
        w.repo.expect_stored_bytes().returning(|_| Ok(0));
        let f = failure.clone();
        w.inspector.expect_inspect().returning(move |_, _, _| Err(f.clone()));
        w.repo.expect_create().never();
        let (images, probe) = w.build(u64::MAX);
        let actor = player();
        let staged = images.ingest(&actor, body(vec![PNG_HEAD])).await.unwrap();
        let err = images.record(&actor, staged, UploadMeta::default()).await.unwrap_err();
        if too_large {
            assert!(matches!(err, DomainError::ImageTooLarge(_)), "{err:?}");
        } else {
            assert!(matches!(err, DomainError::InvalidImage(_)), "{err:?}");
        }
        assert!(!probe.committed.load(Ordering::SeqCst) && probe.dropped.load(Ordering::SeqCst));
    }
}

#[tokio::test]
async fn a_failed_row_write_removes_the_committed_file() {
    let mut w = World::new();
    w.repo.expect_stored_bytes().returning(|_| Ok(0));
    w.inspector.expect_inspect().returning(|_, _, _| Ok(Inspected::sized(1, 1)));
    w.repo.expect_create().returning(|_, _| Err(RepoError::Unavailable("down".into())));
    let removed = Arc::new(Mutex::new(Vec::new()));
    let r = removed.clone();
    w.blobs.expect_delete().returning(move |key| {
        r.lock().unwrap().push(key.clone());
        Ok(())
    });
    w.blobs.expect_delete_under().returning(|_| Ok(()));
    let (images, probe) = w.build(u64::MAX);
    let actor = player();
    let staged = images.ingest(&actor, body(vec![PNG_HEAD])).await.unwrap();
    assert!(matches!(images.record(&actor, staged, UploadMeta::default()).await, Err(DomainError::Unavailable(_))));
    assert!(probe.committed.load(Ordering::SeqCst));
    assert_eq!(removed.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_uploader_sees_their_own_pending_image_and_others_do_not() {
    let mut w = World::new();
    let owner = player();
    let owner_id = owner.id();
    w.repo.expect_by_id().returning(move |_, visibility| {
        Ok(match visibility {
            Visibility::ApprovedOrOwnedBy(who) if who == owner_id => Some(Image {
                id: ImageId::generate(),
                title: String::new(),
                description: String::new(),
                status: ImageStatus::Pending,
                uploaded_by: UserRef { id: owner_id, username: crate::Username::parse("owner").unwrap() },
                gallery_id: None,
                width: 1,
                height: 1,
                format: ImageFormat::Png,
                size_bytes: 1,
                sha256: [0; 32],
                storage_key: BlobKey::parse("originals/aa/bb/x").unwrap(),
                uploaded_at: Utc::now(),
                updated_at: Utc::now(),
                shot: Default::default(),
            }),
            _ => None,
        })
    });
    let (images, _) = w.build(u64::MAX);
    assert!(images.get(&owner, ImageId::generate()).await.is_ok());
    let other = actor_with_role(builtin_role("company_user"));
    assert!(matches!(images.get(&other, ImageId::generate()).await, Err(DomainError::NotFound)));
}

#[tokio::test]
async fn a_rejection_needs_a_reason_and_only_moderators_decide() {
    let (images, _) = World::new().build(u64::MAX);
    let admin = actor_with_role(builtin_role("admin"));
    let err = images
        .decide(
            &admin,
            ImageId::generate(),
            Review { decision: Decision::Rejected, reason: Some(Reason::parse("  ").unwrap()) },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Validation(ref e) if e[0].field == "reason"));
    let err = images
        .decide(&player(), ImageId::generate(), Review { decision: Decision::Approved, reason: None })
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Forbidden));
}

#[tokio::test]
async fn purge_needs_its_permission_and_removes_every_file() {
    let (images, _) = World::new().build(u64::MAX);
    assert!(matches!(images.purge(&player()).await, Err(DomainError::Forbidden)));
    let mut w = World::new();
    w.repo.expect_purge().returning(|| {
        Ok(vec![BlobKey::parse("originals/aa/bb/1").unwrap(), BlobKey::parse("originals/aa/bb/2").unwrap()])
    });
    w.blobs.expect_delete().times(2).returning(|_| Ok(()));
    w.blobs.expect_delete_under().times(2).returning(|_| Ok(()));
    let (images, _) = w.build(u64::MAX);
    assert_eq!(images.purge(&actor_with_role(builtin_role("admin"))).await.unwrap(), 2);
}

#[tokio::test]
async fn originals_follow_the_plan() {
    let mut w = World::new();
    let owner = player();
    let who = owner.clone();
    w.repo.expect_by_id().returning(move |id, _| {
        let new = NewImage {
            id,
            title: Title::default(),
            description: Description::default(),
            status: ImageStatus::Approved,
            uploaded_by: who.id(),
            gallery_id: None,
            width: 1,
            height: 1,
            format: ImageFormat::Png,
            size_bytes: 1,
            sha256: [0; 32],
            storage_key: BlobKey::original(id),
            shot: Default::default(),
        };
        Ok(Some(stored(&new, &who)))
    });
    // Opened once for the whole file and once for its one byte; never when held or when
    // the range misses the file.
    w.blobs.expect_open().withf(|_, range| range.is_none()).times(1).returning(|_, _| Ok(thumb_body()));
    w.blobs.expect_open().withf(|_, range| *range == Some((0, 0))).times(1).returning(|_, _| Ok(thumb_body()));
    let (images, _) = w.build(u64::MAX);
    let id = ImageId::generate();
    let plain = images.original(&owner, id, None, |_| false).await;
    assert!(matches!(plain, Err(DomainError::PlanForbids(_))));
    let mut growth = owner.clone();
    growth.user.default_plan = plan("growth");
    let whole = images.original(&growth, id, None, |_| false).await.unwrap();
    assert!(matches!(whole, Conditional::Fresh(Original { range: None, .. })));
    let held = images.original(&growth, id, None, |_| true).await.unwrap();
    assert!(matches!(held, Conditional::Unchanged(_)));
    let first = Some(ByteRange::From { start: 0, end: Some(9) });
    let part = images.original(&growth, id, first, |_| false).await.unwrap();
    assert!(matches!(part, Conditional::Fresh(Original { range: Some((0, 0)), .. })));
    let past = images.original(&growth, id, Some(ByteRange::From { start: 1, end: None }), |_| false).await;
    assert!(matches!(past, Err(DomainError::RangeNotSatisfiable(1))));
}

#[tokio::test]
async fn a_refused_url_is_a_validation_error_on_url() {
    let mut w = World::new();
    w.fetcher.expect_fetch().returning(|_, _| Err(FetchError::Refused("resolves to a private address".into())));
    let (images, _) = w.build(u64::MAX);
    let err = images
        .import(
            &player(),
            ImageImport { url: WebUrl::parse("http://127.0.0.1/x.png").unwrap(), meta: UploadMeta::default() },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Validation(ref e) if e[0].field == "url"), "{err:?}");
}

#[tokio::test]
async fn an_import_goes_through_the_upload_pipeline() {
    let mut w = World::new();
    let actor = player();
    let who = actor.clone();
    w.fetcher
        .expect_fetch()
        .withf(|url, limit| url.as_url().as_str() == "https://example.com/a.png" && *limit == 5 << 20)
        .returning(|_, _| Ok(Fetched { stream: Box::pin(stream::iter(vec![Ok(Bytes::from_static(PNG_HEAD))])) }));
    w.repo.expect_stored_bytes().returning(|_| Ok(0));
    w.inspector.expect_inspect().returning(|_, _, _| Ok(Inspected::sized(2, 2)));
    w.repo.expect_create().returning(move |new, _| Ok(stored(new, &who)));
    let (images, probe) = w.build(u64::MAX);
    let import = ImageImport { url: WebUrl::parse("https://example.com/a.png").unwrap(), meta: UploadMeta::default() };
    let image = images.import(&actor, import).await.unwrap().item;
    assert_eq!(image.format, ImageFormat::Png);
    assert!(probe.committed.load(Ordering::SeqCst));
}

#[tokio::test]
async fn an_import_that_grows_past_the_limit_is_cut_off() {
    let mut w = World::new();
    w.fetcher.expect_fetch().returning(|_, _| {
        let big: &'static [u8] = Box::leak(vec![0u8; 6 << 20].into_boxed_slice());
        Ok(Fetched {
            stream: Box::pin(stream::iter(vec![Ok(Bytes::from_static(PNG_HEAD)), Ok(Bytes::from_static(big))])),
        })
    });
    let (images, probe) = w.build(u64::MAX);
    let err = images
        .import(
            &player(),
            ImageImport { url: WebUrl::parse("https://example.com/a.png").unwrap(), meta: UploadMeta::default() },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::PayloadTooLarge(_)));
    assert!(!probe.committed.load(Ordering::SeqCst));
}

fn approved_image(owner: &Actor) -> Image {
    let id = ImageId::generate();
    let new = NewImage {
        id,
        title: Title::default(),
        description: Description::default(),
        status: ImageStatus::Approved,
        uploaded_by: owner.id(),
        gallery_id: None,
        width: 800,
        height: 600,
        format: ImageFormat::Png,
        size_bytes: 1,
        sha256: [0; 32],
        storage_key: BlobKey::original(id),
        shot: Default::default(),
    };
    stored(&new, owner)
}

fn thumb_body() -> BlobBody {
    BlobBody { len: PNG_HEAD.len() as u64, stream: Box::pin(stream::iter(vec![Ok(Bytes::from_static(PNG_HEAD))])) }
}

#[tokio::test]
async fn heights_outside_the_plan_are_forbidden() {
    let mut w = World::new();
    let owner = player();
    let image = approved_image(&owner);
    w.repo.expect_by_id().returning(move |_, _| Ok(Some(image.clone())));
    w.thumbnails.expect_get().never();
    let (images, _) = w.build(u64::MAX);
    assert!(matches!(
        images.thumbnail(&owner, ImageId::generate(), 400, |_| false).await,
        Err(DomainError::PlanForbids(_))
    ));
}

#[tokio::test]
async fn a_thumbnail_is_the_thumbnails_port_answer_for_the_original() {
    let mut w = World::new();
    let owner = player();
    let image = approved_image(&owner);
    let original = image.storage_key.clone();
    w.repo.expect_by_id().returning(move |_, _| Ok(Some(image.clone())));
    w.thumbnails
        .expect_get()
        .withf(move |key, format, height| *key == original && *format == ImageFormat::Png && *height == 200)
        .times(1)
        .returning(|_, _, _| Ok(ThumbnailBytes { format: ImageFormat::Jpeg, body: thumb_body(), rendered: false }));
    let (images, _) = w.build(u64::MAX);
    let Conditional::Fresh(thumb) = images.thumbnail(&owner, ImageId::generate(), 200, |_| false).await.unwrap() else {
        panic!("the client holds nothing")
    };
    assert_eq!((thumb.format, thumb.height, thumb.rendered), (ImageFormat::Jpeg, 200, false));
}

#[tokio::test]
async fn a_thumbnail_the_client_holds_is_answered_from_the_row_alone() {
    let mut w = World::new();
    let owner = player();
    let image = approved_image(&owner);
    let sha = image.sha256;
    w.repo.expect_by_id().returning(move |_, _| Ok(Some(image.clone())));
    w.blobs.expect_open().never();
    w.blobs.expect_reader().never();
    w.thumbnails.expect_get().never();
    let (images, _) = w.build(u64::MAX);
    let held = images.thumbnail(&owner, ImageId::generate(), 200, |i| i.sha256 == sha).await.unwrap();
    assert!(matches!(held, Conditional::Unchanged(i) if i.sha256 == sha));
    // The plan still decides first: a height outside it is refused, held or not.
    assert!(matches!(
        images.thumbnail(&owner, ImageId::generate(), 400, |_| true).await,
        Err(DomainError::PlanForbids(_))
    ));
}

#[test]
fn thumbnail_keys_follow_from_the_original() {
    let key = BlobKey::original(ImageId::generate());
    let thumb = key.thumbnail(200, ImageFormat::Jpeg);
    assert!(thumb.as_str().starts_with("thumbnails/") && thumb.as_str().ends_with("/200.jpeg"));
    assert!(BlobKey::parse(thumb.as_str()).is_ok());
    assert!(thumb.as_str().starts_with(key.thumbnails().as_str()));
}

#[tokio::test]
async fn an_uploads_file_is_recorded_for_removal_before_it_is_put_in_place() {
    let mut w = World::new();
    w.repo.expect_stored_bytes().returning(|_| Ok(0));
    w.inspector.expect_inspect().returning(|_, _, _| Ok(Inspected::sized(1, 1)));
    let who = player();
    let owner = who.clone();
    // The pin on the key is held until the image is recorded: no sweep can take the file
    // in between, however long the insert waits.
    let unpinned = Arc::new(AtomicBool::new(false));
    let u = unpinned.clone();
    w.repo.expect_create().returning(move |new, _| {
        assert!(!u.load(Ordering::SeqCst), "still pinned while the image is recorded");
        Ok(stored(new, &owner))
    });
    let committed_early = Arc::new(AtomicBool::new(false));
    let (probe, early, u) = (w.probe.clone(), committed_early.clone(), unpinned.clone());
    let mut removals = MockRemovalRepo::new();
    removals.expect_schedule().times(1).returning(move |key, due_at| {
        early.store(probe.committed.load(Ordering::SeqCst), Ordering::SeqCst);
        assert!(key.as_str().starts_with("originals/"));
        assert_eq!(due_at, Utc.with_ymd_and_hms(2026, 6, 1, 0, 5, 0).unwrap(), "now plus the grace");
        Ok(Box::new(Pin(u.clone())))
    });
    w.removals = removals;
    let (images, probe) = w.build(u64::MAX);
    let staged = images.ingest(&who, body(vec![PNG_HEAD])).await.unwrap();
    images.record(&who, staged, UploadMeta::default()).await.unwrap();
    assert!(probe.committed.load(Ordering::SeqCst));
    assert!(!committed_early.load(Ordering::SeqCst), "the record comes first");
    // Let go by a task of its own, once recorded.
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while !unpinned.load(Ordering::SeqCst) {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the pin is let go");
}

/// A pin that says when it was let go.
struct Pin(Arc<AtomicBool>);

#[async_trait]
impl crate::ports::Turn for Pin {
    async fn end(self: Box<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn the_sweep_passes_by_a_file_an_upload_still_pins() {
    let mut w = World::new();
    let key = BlobKey::original(ImageId::generate());
    let mut removals = MockRemovalRepo::new();
    removals.expect_sweep_turn().times(1).returning(|| Ok(Some(Box::new(NoOther))));
    let k = key.clone();
    removals.expect_due().times(1).returning(move |_, _| Ok(vec![k.clone()]));
    // Pinned (or recorded meanwhile): no claim.
    removals.expect_claim().times(1).returning(|_, _| Ok(None));
    removals.expect_done().never();
    w.removals = removals;
    w.blobs.expect_delete().never();
    w.blobs.expect_delete_under().never();
    let (images, _) = w.build(u64::MAX);
    assert_eq!(images.sweep().await.unwrap(), 0);
}

#[tokio::test]
async fn a_file_storage_cannot_remove_stays_recorded_and_the_sweep_removes_it_later() {
    let mut w = World::new();
    let key = BlobKey::parse("originals/aa/bb/gone").unwrap();
    let k = key.clone();
    w.repo.expect_by_id().returning(move |_, _| {
        let mut image = crate::testing::image_of(&player().user, ImageStatus::Approved);
        image.storage_key = k.clone();
        Ok(Some(image))
    });
    let k = key.clone();
    w.repo.expect_delete().returning(move |_| Ok(Some(k.clone())));
    // Storage refuses once, then works.
    let refused = Arc::new(AtomicBool::new(true));
    let r = refused.clone();
    w.blobs.expect_delete().returning(move |_| {
        if r.swap(false, Ordering::SeqCst) { Err(StorageError::Unavailable("read-only".into())) } else { Ok(()) }
    });
    w.blobs.expect_delete_under().returning(|_| Ok(()));
    let forgotten = Arc::new(Mutex::new(Vec::new()));
    let mut removals = MockRemovalRepo::new();
    let k = key.clone();
    removals.expect_sweep_turn().times(1).returning(|| Ok(Some(Box::new(NoOther))));
    removals.expect_due().times(1).returning(move |_, _| Ok(vec![k.clone()]));
    removals.expect_claim().times(1).returning(|_, _| Ok(Some(Box::new(NoOther))));
    let f = forgotten.clone();
    removals.expect_done().returning(move |key| {
        f.lock().unwrap().push(key.clone());
        Ok(())
    });
    w.removals = removals;
    let (images, _) = w.build(u64::MAX);
    let admin = actor_with_role(builtin_role("admin"));
    images.delete(&admin, ImageId::generate()).await.unwrap();
    assert!(forgotten.lock().unwrap().is_empty(), "still recorded: the file is still there");
    assert_eq!(images.sweep().await.unwrap(), 1);
    assert_eq!(*forgotten.lock().unwrap(), vec![key]);
}

/// The sweep's turn, with nobody else waiting.
struct NoOther;

#[async_trait]
impl crate::ports::Turn for NoOther {
    async fn end(self: Box<Self>) {}
}

#[tokio::test]
async fn the_sweep_waits_its_turn_while_another_server_sweeps() {
    let mut w = World::new();
    let mut removals = MockRemovalRepo::new();
    removals.expect_sweep_turn().times(1).returning(|| Ok(None));
    removals.expect_due().never();
    w.removals = removals;
    w.blobs.expect_delete().never();
    let (images, _) = w.build(u64::MAX);
    assert_eq!(images.sweep().await.unwrap(), 0);
}

/// A filter that drops every `X` byte, standing in for location taken out; a `!` is a
/// place it cannot take out.
struct DropX(bool);

impl crate::ports::LocationFilter for DropX {
    fn begin(&self, _: ImageFormat) -> Box<dyn crate::ports::LocationScrub> {
        Box::new(DropX(false))
    }
}

impl crate::ports::LocationScrub for DropX {
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.extend(input.iter().filter(|&&b| b != b'X'));
        self.0 |= input.contains(&b'!');
    }

    /// A `!` is a place it could not take out.
    fn finish(&mut self, _: &mut Vec<u8>) -> Result<(), String> {
        if self.0 { Err("a place stays".into()) } else { Ok(()) }
    }
}

#[tokio::test]
async fn size_and_hash_describe_the_bytes_stored_after_location_is_taken_out() {
    use sha2::Digest as _;
    let w = World::new();
    let (images, probe) = w.build(u64::MAX);
    let images = Images { location: Arc::new(DropX(false)), ..images };
    let staged = images.ingest(&player(), body(vec![PNG_HEAD, b"XXab", b"XX"])).await.unwrap();
    let stored = [PNG_HEAD, b"ab"].concat();
    assert_eq!(*probe.written.lock().unwrap(), stored);
    assert_eq!(staged.size, stored.len() as u64);
    assert_eq!(staged.sha256, <[u8; 32]>::from(sha2::Sha256::digest(&stored)));
}

#[tokio::test]
async fn a_file_whose_location_cannot_be_taken_out_is_refused_and_not_kept() {
    let (images, probe) = World::new().build(u64::MAX);
    let images = Images { location: Arc::new(DropX(false)), ..images };
    let err = images.ingest(&player(), body(vec![PNG_HEAD, b"ab!"])).await.unwrap_err();
    assert!(matches!(&err, DomainError::InvalidImage(why) if why == "a place stays"), "{err:?}");
    assert!(probe.dropped.load(Ordering::SeqCst));
    assert!(!probe.committed.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_list_hands_out_the_cursor_of_its_next_page_and_goes_on_from_it() {
    let mut w = World::new();
    let owner = player();
    let (first, second) = (approved_image(&owner), approved_image(&owner));
    let filter = ImageFilter { sort: ImageSort::Title, ..ImageFilter::default() };
    let page = vec![first.clone(), second.clone()];
    w.repo
        .expect_list()
        .withf(|_, _, _, after| after.is_none())
        .times(1)
        .returning(move |_, _, _, _| Ok(Listed { items: page.clone(), more: true, total: 3, exact: true }));
    let last_title = second.title.clone();
    let last_id = second.id;
    w.repo
        .expect_list()
        .withf(move |_, _, _, after| *after == Some(&After::Titled { title: last_title.clone(), id: last_id }))
        .times(1)
        .returning(|_, _, _, _| Ok(Listed { items: Vec::new(), more: false, total: 3, exact: true }));
    let (images, _) = w.build(u64::MAX);
    let one = images.list(&owner, filter.clone(), PageRequest::default(), None).await.unwrap().item;
    assert_eq!((one.page.items.len(), one.page.total, one.total_exact), (2, 3, true));
    let next = one.next.expect("more follow");
    let two = images.list(&owner, filter.clone(), PageRequest::default(), Some(next.clone())).await.unwrap().item;
    assert!(two.next.is_none(), "the last page has no next");
    // A cursor is good for the list it was made for only; the store is not asked.
    let other = ImageFilter { sort: ImageSort::NewestFirst, ..filter };
    let refused = images.list(&owner, other, PageRequest::default(), Some(next)).await;
    assert!(matches!(refused, Err(DomainError::BadRequest(_))));
}

#[test]
fn clients_are_told_the_upload_slots_and_page_sizes() {
    let (images, _) = World::new().build(u64::MAX);
    let limits = images.client_limits();
    assert_eq!(
        (limits.max_uploads_per_user, limits.default_per_page, limits.max_per_page),
        (2, PageRequest::DEFAULT_PER_PAGE, PageRequest::MAX_PER_PAGE)
    );
}

#[tokio::test]
async fn an_upload_records_when_and_with_what_it_was_taken() {
    let mut w = World::new();
    let actor = player();
    let who = actor.clone();
    let taken = Utc.with_ymd_and_hms(2024, 5, 1, 10, 30, 0).unwrap();
    let shot = crate::Shot { taken_at: Some(taken), camera: crate::Camera::from_exif(Some("Canon"), Some("EOS R5")) };
    let found = shot.clone();
    w.repo.expect_stored_bytes().returning(|_| Ok(0));
    w.inspector.expect_inspect().returning(move |_, _, _| Ok(Inspected { width: 4, height: 3, shot: found.clone() }));
    let expected = shot.clone();
    w.repo.expect_create().withf(move |new, _| new.shot == expected).returning(move |new, _| Ok(stored(new, &who)));
    let (images, _) = w.build(u64::MAX);
    let Seen { item: image, .. } = images.upload(&actor, form(vec![file()])).await.unwrap();
    assert_eq!(image.shot, shot);
}

#[tokio::test]
async fn originals_recorded_before_sizes_were_as_shown_are_read_again_and_unreadable_ones_keep_their_row() {
    use crate::ports::Stale;
    let mut w = World::new();
    let (turned, lost) = (ImageId::generate(), ImageId::generate());
    let stale = vec![
        Stale { id: turned, key: BlobKey::original(turned), format: ImageFormat::Jpeg },
        Stale { id: lost, key: BlobKey::original(lost), format: ImageFormat::Png },
    ];
    let batches = Mutex::new(vec![vec![], stale]);
    w.repo.expect_reinspect_turn().times(1).returning(|| Ok(Some(Box::new(NoOther))));
    w.repo.expect_to_reinspect().times(2).returning(move |_| Ok(batches.lock().unwrap().pop().unwrap()));
    let lost_key = BlobKey::original(lost);
    w.blobs.expect_reader().returning(move |key| {
        if *key == lost_key {
            Err(StorageError::NotFound)
        } else {
            Ok(Box::new(std::io::Cursor::new(PNG_HEAD.to_vec())))
        }
    });
    // Stored 640×480 with Orientation 6: shown 480×640, taken at noon.
    let noon = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
    let found = Inspected { width: 480, height: 640, shot: crate::Shot { taken_at: Some(noon), camera: None } };
    let f = found.clone();
    w.inspector.expect_inspect().times(1).returning(move |_, format, _| {
        assert_eq!(format, ImageFormat::Jpeg);
        Ok(f.clone())
    });
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let r = recorded.clone();
    w.repo.expect_reinspected().times(2).returning(move |id, found| {
        r.lock().unwrap().push((id, found));
        Ok(())
    });
    let (images, _) = w.build(u64::MAX);
    assert_eq!(images.reinspect().await.unwrap(), Some(2));
    assert_eq!(*recorded.lock().unwrap(), vec![(turned, Some(found)), (lost, None)]);
}

#[tokio::test]
async fn originals_are_read_again_by_one_server_at_a_time() {
    let mut w = World::new();
    w.repo.expect_reinspect_turn().times(1).returning(|| Ok(None));
    w.repo.expect_to_reinspect().never();
    let (images, _) = w.build(u64::MAX);
    assert_eq!(images.reinspect().await.unwrap(), None);
}
