//! Image lists at any depth: totals from the counts the triggers keep, keyset pages, and
//! `q` counts that stop at the limit.

use std::sync::Arc;

use chrono::Utc;
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _};
use gallery_domain::ports::{Clock, GalleryRepo as _, ImageRepo as _, Listed, UserRepo as _};
use gallery_domain::{
    After, BlobKey, Decision, Description, Email, GalleryId, Image, ImageFilter, ImageFormat, ImageId, ImagePatch,
    ImageSort, ImageStatus, Name, NewGallery, NewImage, NewUser, PageRequest, PasswordHash, RoleName, SearchText,
    Title, User, UserId, Username, Visibility,
};
use gallery_postgres::{Db, PgGalleryRepo, PgImageRepo, PgUserRepo, PoolSettings};
use gallery_testdb::TestDb;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

struct Wall;

impl Clock for Wall {
    fn now(&self) -> chrono::DateTime<Utc> {
        Utc::now()
    }
}

struct World {
    db: TestDb,
    users: Vec<User>,
    images: PgImageRepo,
    galleries: PgGalleryRepo,
    gallery_ids: Vec<GalleryId>,
}

impl World {
    async fn new() -> Self {
        let db = TestDb::create().await;
        let pool = Db::new(db.url(), &PoolSettings::default(), Arc::new(Wall)).unwrap();
        let user_repo = PgUserRepo::new(pool.clone());
        let mut users = Vec::new();
        for name in ["ana", "ben", "cyd"] {
            let new = NewUser {
                username: Username::parse(name).unwrap(),
                email: Some(Email::parse(&format!("{name}@example.com")).unwrap()),
                role: RoleName::parse("beta_player").unwrap(),
                password_hash: PasswordHash::new("$2b$04$not-a-real-hash".into()),
                is_active: true,
            };
            users.push(user_repo.create(&new).await.unwrap());
        }
        let galleries = PgGalleryRepo::new(pool.clone());
        let mut world = Self { db, users, images: PgImageRepo::new(pool), galleries, gallery_ids: Vec::new() };
        for _ in 0..2 {
            let id = world.new_gallery().await;
            world.gallery_ids.push(id);
        }
        world
    }

    async fn new_gallery(&self) -> GalleryId {
        let new = NewGallery { name: Name::parse("g").unwrap(), description: Description::default() };
        self.galleries.create(&new, self.users[0].id).await.unwrap().id
    }

    async fn sql(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(self.db.url()).await.unwrap()
    }

    async fn upload(&self, by: UserId, status: ImageStatus, gallery: Option<GalleryId>, title: &str) -> Image {
        self.upload_sized(by, status, gallery, title, 1).await
    }

    async fn upload_sized(
        &self,
        by: UserId,
        status: ImageStatus,
        gallery: Option<GalleryId>,
        title: &str,
        size: u64,
    ) -> Image {
        let id = ImageId::generate();
        let new = NewImage {
            id,
            title: Title::parse(title).unwrap(),
            description: Description::default(),
            status,
            uploaded_by: by,
            gallery_id: gallery,
            width: 1,
            height: 1,
            format: ImageFormat::Png,
            size_bytes: size,
            sha256: [1; 32],
            storage_key: BlobKey::original(id),
            shot: Default::default(),
        };
        self.images.create(&new, u64::MAX).await.unwrap()
    }

    async fn all(&self) -> Vec<ImageId> {
        let page = PageRequest::parse(Some(1), Some(100)).unwrap();
        self.images
            .list(&ImageFilter::default(), Visibility::All, page, None)
            .await
            .unwrap()
            .items
            .iter()
            .map(|i| i.id)
            .collect()
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(conn: &mut AsyncPgConnection, query: &str) -> i64 {
    diesel::sql_query(query).get_result::<Count>(conn).await.unwrap().n
}

/// One change to the images, picked at random.
#[derive(Debug, Clone)]
enum Op {
    Upload { by: usize, status: usize, gallery: Option<usize>, size: u64 },
    Decide { pick: prop::sample::Index, approve: bool },
    Move { pick: prop::sample::Index, gallery: Option<usize> },
    Retitle { pick: prop::sample::Index },
    Delete { pick: prop::sample::Index },
    DropGallery { gallery: usize },
    Purge,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3usize, 0..3usize, proptest::option::of(0..2usize), 1..5000u64)
            .prop_map(|(by, status, gallery, size)| Op::Upload { by, status, gallery, size }),
        3 => (any::<prop::sample::Index>(), any::<bool>()).prop_map(|(pick, approve)| Op::Decide { pick, approve }),
        2 => (any::<prop::sample::Index>(), proptest::option::of(0..2usize))
            .prop_map(|(pick, gallery)| Op::Move { pick, gallery }),
        1 => any::<prop::sample::Index>().prop_map(|pick| Op::Retitle { pick }),
        2 => any::<prop::sample::Index>().prop_map(|pick| Op::Delete { pick }),
        1 => (0..2usize).prop_map(|gallery| Op::DropGallery { gallery }),
        1 => Just(Op::Purge),
    ]
}

impl World {
    async fn apply(&mut self, op: &Op) {
        let ids = self.all().await;
        let pick = |i: &prop::sample::Index| (!ids.is_empty()).then(|| ids[i.index(ids.len())]);
        match op {
            Op::Upload { by, status, gallery, size } => {
                let status = [ImageStatus::Pending, ImageStatus::Approved, ImageStatus::Rejected][*status];
                let gallery = gallery.map(|g| self.gallery_ids[g]);
                self.upload_sized(self.users[*by].id, status, gallery, "t", *size).await;
            }
            Op::Decide { pick: i, approve } => {
                if let Some(id) = pick(i) {
                    let decision = if *approve { Decision::Approved } else { Decision::Rejected };
                    self.images.decide(id, decision, None, self.users[0].id).await.unwrap();
                }
            }
            Op::Move { pick: i, gallery } => {
                if let Some(id) = pick(i) {
                    let patch =
                        ImagePatch { gallery_id: Some(gallery.map(|g| self.gallery_ids[g])), ..ImagePatch::default() };
                    self.images.update(id, &patch).await.unwrap();
                }
            }
            Op::Retitle { pick: i } => {
                if let Some(id) = pick(i) {
                    let patch = ImagePatch { title: Some(Title::parse("renamed").unwrap()), ..ImagePatch::default() };
                    self.images.update(id, &patch).await.unwrap();
                }
            }
            Op::Delete { pick: i } => {
                if let Some(id) = pick(i) {
                    self.images.delete(id).await.unwrap();
                }
            }
            Op::DropGallery { gallery } => {
                // Its images stay, in no gallery: an update the foreign key makes.
                self.galleries.delete(self.gallery_ids[*gallery]).await.unwrap();
                self.gallery_ids[*gallery] = self.new_gallery().await;
            }
            Op::Purge => {
                self.images.purge().await.unwrap();
            }
        }
    }

    /// Every count equals `count(*)` of its rows, and every total the listing gives (each
    /// visibility, each filter) equals `count(*)` of what it lists.
    async fn check(&self) {
        let mut conn = self.sql().await;
        let wrong = count(
            &mut conn,
            "SELECT count(*) AS n FROM (
                (SELECT uploaded_by, status, gallery_id, count(*) AS n, sum(size_bytes) FROM images GROUP BY 1, 2, 3
                 EXCEPT SELECT uploaded_by, status, gallery_id, n, bytes FROM image_counts WHERE n <> 0)
                UNION ALL
                (SELECT uploaded_by, status, gallery_id, n, bytes FROM image_counts WHERE n <> 0
                 EXCEPT SELECT uploaded_by, status, gallery_id, count(*), sum(size_bytes) FROM images GROUP BY 1, 2, 3)
            ) AS differ",
        )
        .await;
        assert_eq!(wrong, 0, "counts that differ from count(*)");
        let negative = "SELECT count(*) AS n FROM image_counts WHERE n < 0 OR bytes < 0 OR (n = 0 AND bytes <> 0)";
        assert_eq!(count(&mut conn, negative).await, 0);
        // The quota check's figure: every byte an uploader stores.
        for user in &self.users {
            let summed = format!(
                "SELECT COALESCE(SUM(size_bytes), 0)::bigint AS n FROM images WHERE uploaded_by = '{}'",
                user.id
            );
            let stored = self.images.stored_bytes(user.id).await.unwrap();
            assert_eq!(i64::try_from(stored).unwrap(), count(&mut conn, &summed).await);
        }

        let mut visibilities = vec![Visibility::All];
        visibilities.extend(self.users.iter().map(|u| Visibility::ApprovedOrOwnedBy(u.id)));
        let mut filters = vec![ImageFilter::default()];
        for status in [ImageStatus::Pending, ImageStatus::Approved, ImageStatus::Rejected] {
            filters.push(ImageFilter { status: Some(status), ..ImageFilter::default() });
        }
        filters.push(ImageFilter { uploaded_by: Some(self.users[1].id), ..ImageFilter::default() });
        filters.push(ImageFilter { gallery_id: Some(self.gallery_ids[0]), ..ImageFilter::default() });
        let page = PageRequest::parse(Some(1), Some(100)).unwrap();
        for visibility in &visibilities {
            for filter in &filters {
                let Listed { items, total, exact, .. } =
                    self.images.list(filter, *visibility, page, None).await.unwrap();
                assert!(exact);
                assert_eq!(total, items.len() as u64, "{visibility:?} {filter:?}");
            }
        }
    }
}

#[test]
fn the_counts_equal_count_star_after_any_changes() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let world = std::sync::Mutex::new(rt.block_on(World::new()));
    let config = Config { cases: 16, failure_persistence: None, ..Config::default() };
    TestRunner::new(config)
        .run(&proptest::collection::vec(op(), 1..30), |ops| {
            let mut world = world.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            rt.block_on(async {
                world.apply(&Op::Purge).await;
                for op in &ops {
                    world.apply(op).await;
                    world.check().await;
                }
            });
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn keyset_pages_walk_every_sort_without_a_gap_or_a_repeat() {
    let world = World::new().await;
    let (ana, ben) = (world.users[0].id, world.users[1].id);
    // 23 images, two by two with the same title, so the id breaks ties.
    for i in 0..23 {
        let by = if i % 3 == 0 { ben } else { ana };
        let status = if i % 4 == 0 { ImageStatus::Pending } else { ImageStatus::Approved };
        world.upload(by, status, None, &format!("title {:02}", i / 2)).await;
    }
    // Uploads in one instant tie on `uploaded_at` too: spread half of them.
    let mut conn = world.sql().await;
    diesel::sql_query("UPDATE images SET uploaded_at = uploaded_at - interval '1 hour' WHERE title < 'title 05'")
        .execute(&mut conn)
        .await
        .unwrap();
    // Some photos say when they were taken, two by two at the same instant; the rest do not.
    diesel::sql_query(
        "UPDATE images SET taken_at = timestamptz '2020-01-01' + (substr(title, 7)::int % 4) * interval '1 day' \
         WHERE substr(title, 7)::int % 3 <> 0",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let per_page = PageRequest::parse(Some(1), Some(5)).unwrap();
    let everything = PageRequest::parse(Some(1), Some(100)).unwrap();
    for sort in ImageSort::ALL {
        for visibility in [Visibility::All, Visibility::ApprovedOrOwnedBy(ana)] {
            let filter = ImageFilter { sort, ..ImageFilter::default() };
            let whole = world.images.list(&filter, visibility, everything, None).await.unwrap();
            let mut walked = Vec::new();
            let mut after: Option<After> = None;
            loop {
                let page = world.images.list(&filter, visibility, per_page, after.as_ref()).await.unwrap();
                assert_eq!(page.total, whole.total);
                assert!(page.items.len() <= 5);
                walked.extend(page.items.iter().map(|i| i.id));
                if !page.more {
                    break;
                }
                let last = page.items.last().unwrap();
                after = Some(match sort {
                    ImageSort::NewestFirst | ImageSort::OldestFirst => {
                        After::Uploaded { at: last.uploaded_at, id: last.id }
                    }
                    ImageSort::Title | ImageSort::TitleDescending => {
                        After::Titled { title: last.title.clone(), id: last.id }
                    }
                    ImageSort::TakenFirst | ImageSort::TakenLast => {
                        After::Taken { at: last.shot.taken_at, id: last.id }
                    }
                });
            }
            let expected: Vec<_> = whole.items.iter().map(|i| i.id).collect();
            assert_eq!(walked, expected, "{sort:?} {visibility:?}");
            if matches!(sort, ImageSort::TakenFirst | ImageSort::TakenLast) {
                let taken: Vec<_> = whole.items.iter().map(|i| i.shot.taken_at).collect();
                let dated = taken.iter().take_while(|t| t.is_some()).count();
                assert!(dated > 0 && dated < taken.len(), "{sort:?}: some dated, some not");
                assert!(taken[dated..].iter().all(Option::is_none), "{sort:?}: the undated come last");
                let mut sorted = taken[..dated].to_vec();
                sorted.sort();
                if sort == ImageSort::TakenLast {
                    sorted.reverse();
                }
                assert_eq!(taken[..dated], sorted[..], "{sort:?}");
            }
            // Page by number agrees with the keyset walk.
            let second = PageRequest::parse(Some(2), Some(5)).unwrap();
            let numbered = world.images.list(&filter, visibility, second, None).await.unwrap();
            assert_eq!(numbered.items.iter().map(|i| i.id).collect::<Vec<_>>(), expected[5..10]);
        }
    }
}

#[tokio::test]
async fn a_search_stops_counting_at_the_limit() {
    let world = World::new().await;
    let limit = ImageFilter::SEARCH_COUNT_LIMIT;
    let mut conn = world.sql().await;
    let insert = format!(
        "INSERT INTO images (id, title, status, uploaded_by, width, height, format, size_bytes, sha256, storage_key, uploaded_at)
         SELECT gen_random_uuid(), 'harbour ' || i, 'approved', '{}', 1, 1, 'png', 1, decode(repeat('01', 32), 'hex'),
                'originals/x/' || i, now() - i * interval '1 second'
         FROM generate_series(1, {}) AS i",
        world.users[0].id,
        limit + 1
    );
    diesel::sql_query(insert).execute(&mut conn).await.unwrap();
    let page = PageRequest::default();
    let q = |text: &str| ImageFilter { q: Some(SearchText::parse(text).unwrap()), ..ImageFilter::default() };
    let many = world.images.list(&q("harbour"), Visibility::All, page, None).await.unwrap();
    assert_eq!((many.total, many.exact, many.items.len(), many.more), (limit, false, 20, true));
    let few = world.images.list(&q("harbour 1000"), Visibility::All, page, None).await.unwrap();
    // "harbour 1000", "harbour 10000" and "harbour 10001": counted exactly.
    assert_eq!((few.total, few.exact), (3, true));
    // Any case; in the description too; never across the end of the title.
    assert_eq!(world.images.list(&q("HARBOUR 10001"), Visibility::All, page, None).await.unwrap().total, 1);
    let both = world.upload(world.users[1].id, ImageStatus::Approved, None, "salt").await;
    let described =
        ImagePatch { description: Some(Description::parse("Marsh at noon").unwrap()), ..ImagePatch::default() };
    world.images.update(both.id, &described).await.unwrap();
    assert_eq!(world.images.list(&q("marsh AT"), Visibility::All, page, None).await.unwrap().items[0].id, both.id);
    assert_eq!(world.images.list(&q("saltmarsh"), Visibility::All, page, None).await.unwrap().total, 0);
    // Without `q`, the counts: exact however many.
    let all = world.images.list(&ImageFilter::default(), Visibility::All, page, None).await.unwrap();
    assert_eq!((all.total, all.exact), (limit + 2, true));
}

#[tokio::test]
async fn a_search_of_one_or_two_characters_finds_exactly_the_texts_holding_them() {
    let world = World::new().await;
    let texts = [
        ("Salt", "marsh at noon"),
        ("100% sure", "x_y and a\\b"),
        ("Élan", "vital, déjà vu"),
        ("GH", ""),
        ("", "ghost"),
        ("tea", "Meadow"),
    ];
    let mut held = Vec::new();
    for (title, description) in texts {
        let image = world.upload(world.users[0].id, ImageStatus::Approved, None, title).await;
        let patch = ImagePatch { description: Some(Description::parse(description).unwrap()), ..ImagePatch::default() };
        world.images.update(image.id, &patch).await.unwrap();
        held.push((image.id, title.to_lowercase(), description.to_lowercase()));
    }
    let page = PageRequest::parse(Some(1), Some(100)).unwrap();
    let mut asked = 0;
    // Every piece of every text, the pieces spanning title and description ("tm", "am"),
    // wildcards and pieces held nowhere.
    let mut qs: Vec<String> =
        ["tm", "am", "%", "_", "\\", "% ", "zq", "é", "ÉL", "Dé", "a\\", "GH", "gH", " "].map(String::from).to_vec();
    for (title, description) in texts {
        for text in [title, description] {
            let chars: Vec<char> = text.chars().collect();
            qs.extend(chars.iter().map(char::to_string));
            qs.extend(chars.windows(2).map(|w| w.iter().collect::<String>()));
        }
    }
    // First with no statistics (every piece through its index), then analyzed: common
    // pieces are then scanned for.
    let unanalyzed = qs.clone();
    for q in unanalyzed.into_iter().chain(std::iter::once(String::from("\u{0}analyze"))).chain(qs) {
        if q == "\u{0}analyze" {
            let mut conn = world.sql().await;
            diesel::sql_query("ANALYZE images").execute(&mut conn).await.unwrap();
            let common: Vec<Share> = diesel::sql_query(
                "SELECT m.e AS piece FROM pg_stats s, \
                 unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS m(e, f) \
                 WHERE s.tablename = 'images_search_pieces_idx' AND m.e IS NOT NULL AND m.f >= 0.2",
            )
            .load(&mut conn)
            .await
            .unwrap();
            assert!(common.iter().any(|c| c.piece == "a"), "'a' is common enough to be scanned for");
            continue;
        }
        let filter = ImageFilter { q: Some(SearchText::parse(&q).unwrap()), ..ImageFilter::default() };
        let listed = world.images.list(&filter, Visibility::All, page, None).await.unwrap();
        let mut found: Vec<ImageId> = listed.items.iter().map(|i| i.id).collect();
        let needle = q.to_lowercase();
        let mut expected: Vec<ImageId> =
            held.iter().filter(|(_, t, d)| t.contains(&needle) || d.contains(&needle)).map(|(id, ..)| *id).collect();
        found.sort();
        expected.sort();
        assert_eq!(found, expected, "q = {q:?}");
        assert_eq!((listed.total, listed.exact), (expected.len() as u64, true), "q = {q:?}");
        asked += 1;
    }
    assert!(asked > 120);
}

#[derive(QueryableByName)]
struct Share {
    #[diesel(sql_type = diesel::sql_types::Text)]
    piece: String,
}
