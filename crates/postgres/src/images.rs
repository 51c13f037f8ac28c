use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Double, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use gallery_domain::ports::{ImageRepo, Inspected, Listed, Stale, Turn};
use gallery_domain::{
    After, Approval, BlobKey, Conflict, Decision, Description, GalleryId, Image, ImageFilter, ImageFormat, ImageId,
    ImagePatch, ImageSort, ImageStatus, NewImage, PageRequest, Reason, RepoError, Title, UserId, UserRef, Username,
    Visibility,
};
use tracing::Instrument as _;
use uuid::Uuid;

use crate::cache::Change;
use crate::db::Db;
use crate::errors::{TxError, repo_error};
use crate::rows::{ImageRow, corrupt, to_image};
use crate::schema::{galleries, image_approvals, image_counts, images, users};
use crate::turns::try_turn;

/// Narrows a boxed query over `images` (alone or joined), or over `image_counts`, to what
/// `visibility` allows and `filter` selects. A macro, because the query types differ and
/// the rules must not.
macro_rules! narrow {
    ($table:ident, $query:expr, $visibility:expr, $filter:expr) => {{
        let mut query = $query;
        if let Visibility::ApprovedOrOwnedBy(user) = $visibility {
            query = query
                .filter($table::status.eq(ImageStatus::Approved.as_str()).or($table::uploaded_by.eq(user.as_uuid())));
        }
        if let Some(filter) = $filter {
            if let Some(status) = filter.status {
                query = query.filter($table::status.eq(status.as_str()));
            }
            if let Some(user) = filter.uploaded_by {
                query = query.filter($table::uploaded_by.eq(user.as_uuid()));
            }
            if let Some(gallery) = filter.gallery_id {
                query = query.filter($table::gallery_id.eq(gallery.as_uuid()));
            }
        }
        query
    }};
}

diesel::define_sql_function!(fn lower(text: Text) -> Text);

/// How a `q` is matched against the stored, lower-cased title and description (migrations
/// 000007 and 000014), for one query.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Search {
    /// Three characters or more: a `LIKE '%…%'` pattern, through the trigram index.
    Pattern(String),
    /// A common short `q`: the pattern checked on rows read in whatever order the query
    /// needs (the matches come soon). Matched on `search || ''`, which no index holds: a
    /// cached generic plan would otherwise take the trigram index for it, and a pattern
    /// this short has no trigram to look up, so the whole index is read (270 ms at 1M).
    Scan(String),
    /// A rare short `q`: the ids of the rows holding it, from the pieces index, first (a
    /// plan that scanned for them would read every row; PostgreSQL's estimate for a piece
    /// it has no statistics on is often low enough to try).
    Piece(String),
}

/// A list's `q`, matched one way for its page and maybe another for its count.
#[derive(Debug)]
struct Matching {
    page: Search,
    count: Search,
}

/// The share of rows holding a short `q` from which its page is read by scanning: 21
/// matches then come within ~10,000 rows, against gathering every match through the index.
const SCANNED_PAGE: f64 = 0.002;
/// The same for its count, which needs 10,001 matches: scanning reads 10,001 / share rows
/// (200,000 at 5 %), the index gathers share × rows (50,000 at 5 % of a million).
const SCANNED_COUNT: f64 = 0.05;

impl Matching {
    /// How `q` is matched: a short one by how common it is among the rows.
    async fn of(conn: &mut AsyncPgConnection, q: &str) -> Result<Self, RepoError> {
        let pattern = crate::users::contains_pattern(q);
        let short = |text: &str| text.chars().count() <= 2;
        // A character whose lower case is longer (`İ`) cannot be looked up as a piece.
        if !(short(q) && short(&q.to_lowercase())) {
            return Ok(Self { page: Search::Pattern(pattern.clone()), count: Search::Pattern(pattern) });
        }
        let share = piece_share(conn, q).await?;
        let way = |scanned: f64| {
            if share >= scanned { Search::Scan(pattern.clone()) } else { Search::Piece(q.to_owned()) }
        };
        Ok(Self { page: way(SCANNED_PAGE), count: way(SCANNED_COUNT) })
    }
}

/// The share of rows whose search text holds `piece`, as the last `ANALYZE` saw it (the
/// pieces index's most common elements); 0 when it is not among them (then rarer than all
/// of them) or nothing was analyzed yet.
async fn piece_share(conn: &mut AsyncPgConnection, piece: &str) -> Result<f64, RepoError> {
    let share = sql::<Double>(
        "coalesce((SELECT m.f::float8 FROM pg_stats s, \
         unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS m(e, f) \
         WHERE s.schemaname = current_schema() AND s.tablename = 'images_search_pieces_idx' AND m.e = lower(",
    )
    .bind::<Text, _>(piece.to_owned())
    .sql(") LIMIT 1), 0)");
    diesel::select(share).get_result(conn).await.map_err(repo_error)
}

/// Filters `$query` to the images `$search` (an `Option<&Search>`) matches; `q` is
/// lower-cased by the database, as the stored text was.
macro_rules! search {
    ($query:expr, $search:expr) => {
        match $search {
            Some(Search::Pattern(p)) => $query.filter(images::search.like(lower(p.as_str()))),
            Some(Search::Scan(p)) => $query.filter(images::search.concat("").like(lower(p.as_str()))),
            Some(Search::Piece(piece)) => $query.filter(
                sql::<Bool>(
                    "images.id = ANY(ARRAY(SELECT held.id FROM images held \
                     WHERE gallery_search_pieces(held.search) @> ARRAY[lower(",
                )
                .bind::<Text, _>(piece.clone())
                .sql(")]))"),
            ),
            None => $query,
        }
    };
}

/// `SELECT count(*) FROM (<query> LIMIT <limit>)`: counting that stops at `limit` rows.
#[derive(Debug, Clone, QueryId)]
struct CountUpTo<Q> {
    query: Q,
    limit: i64,
}

impl<Q> Query for CountUpTo<Q> {
    type SqlType = BigInt;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for CountUpTo<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT count(*) FROM (");
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT ");
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(") AS counted");
        Ok(())
    }
}

/// How many images a listing holds, and whether that is exact. Without `q`, a sum over
/// the counts the triggers keep; with it, the matches counted up to the limit.
async fn total(
    conn: &mut AsyncPgConnection,
    filter: &ImageFilter,
    visibility: Visibility,
    search: Option<&Search>,
) -> Result<(u64, bool), RepoError> {
    let Some(search) = search else {
        let sum = image_counts::table.select(sql::<BigInt>("COALESCE(SUM(n), 0)::bigint")).into_boxed();
        let counted: i64 =
            narrow!(image_counts, sum, visibility, Some(filter)).get_result(conn).await.map_err(repo_error)?;
        return Ok((u64::try_from(counted).unwrap_or(0), true));
    };
    let limit = ImageFilter::SEARCH_COUNT_LIMIT;
    let matches =
        search!(narrow!(images, images::table.select(images::id).into_boxed(), visibility, Some(filter)), Some(search));
    let found: i64 = CountUpTo { query: matches, limit: i64::try_from(limit + 1).unwrap_or(i64::MAX) }
        .get_result(conn)
        .await
        .map_err(repo_error)?;
    let found = u64::try_from(found).unwrap_or(0);
    Ok(if found > limit { (limit, false) } else { (found, true) })
}

/// [`ImageRepo`] on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgImageRepo {
    db: Db,
}

impl PgImageRepo {
    #[must_use]
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

/// The image `id`, whoever may see it.
async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<Image>, TxError> {
    let row: Option<(ImageRow, String)> = images::table
        .inner_join(users::table)
        .filter(images::id.eq(id))
        .select((ImageRow::as_select(), users::username))
        .first(conn)
        .await
        .optional()?;
    row.map(to_image).transpose().map_err(TxError::Rule)
}

/// What a `taken_at` sort orders by: `taken_at`, with images that have none standing in as
/// the last key of the list's direction (`infinity` going up, `-infinity` going down), so
/// that they come last either way and the keyset comparison needs no `OR`. Migration
/// 000011 indexes both expressions, with `id`.
fn taken_key(sort: ImageSort) -> String {
    format!("COALESCE(images.taken_at, {})", taken_stand_in(sort))
}

fn taken_stand_in(sort: ImageSort) -> &'static str {
    if sort.is_descending() { "'-infinity'::timestamptz" } else { "'infinity'::timestamptz" }
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

async fn stored_bytes(conn: &mut AsyncPgConnection, user: Uuid) -> Result<i64, diesel::result::Error> {
    let t: Total =
        diesel::sql_query("SELECT COALESCE(SUM(bytes), 0)::bigint AS total FROM image_counts WHERE uploaded_by = $1")
            .bind::<diesel::sql_types::Uuid, _>(user)
            .get_result(conn)
            .await?;
    Ok(t.total)
}

#[async_trait]
impl ImageRepo for PgImageRepo {
    #[tracing::instrument(name = "ImageRepo.create", level = "debug", skip_all)]
    async fn create(&self, image: &NewImage, quota: u64) -> Result<Image, RepoError> {
        let mut conn = self.db.conn().await?;
        let size = i64::try_from(image.size_bytes).map_err(|_| RepoError::Conflict(Conflict::Quota))?;
        let quota = i64::try_from(quota).unwrap_or(i64::MAX);
        let created = conn
            .transaction(async |c| {
                // Serialise this uploader's inserts, so that two uploads cannot both fit
                // under the quota that only one fits under.
                diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind::<Text, _>(image.uploaded_by.to_string())
                    .execute(c)
                    .await?;
                if stored_bytes(c, image.uploaded_by.as_uuid()).await?.saturating_add(size) > quota {
                    return Err(TxError::Rule(RepoError::Conflict(Conflict::Quota)));
                }
                diesel::insert_into(images::table)
                    .values((
                        images::id.eq(image.id.as_uuid()),
                        images::title.eq(image.title.as_str()),
                        images::description.eq(image.description.as_str()),
                        images::status.eq(image.status.as_str()),
                        images::uploaded_by.eq(image.uploaded_by.as_uuid()),
                        images::gallery_id.eq(image.gallery_id.map(|g| g.as_uuid())),
                        images::width.eq(i32::try_from(image.width).unwrap_or(i32::MAX)),
                        images::height.eq(i32::try_from(image.height).unwrap_or(i32::MAX)),
                        images::format.eq(image.format.as_str()),
                        images::size_bytes.eq(size),
                        images::sha256.eq(&image.sha256[..]),
                        images::storage_key.eq(image.storage_key.as_str()),
                        images::taken_at.eq(image.shot.taken_at),
                        images::camera_make.eq(image.shot.camera.as_ref().and_then(|c| c.make.as_deref())),
                        images::camera_model.eq(image.shot.camera.as_ref().and_then(|c| c.model.as_deref())),
                    ))
                    .execute(c)
                    .await?;
                find(c, image.id.as_uuid()).await
            })
            .await
            .map_err(RepoError::from)?;
        created.ok_or_else(|| RepoError::Other("created image vanished".into()))
    }

    /// From memory when the row is there (see [`crate::Caches`]); the visibility rule is
    /// applied to the row either way.
    /// From memory when it is there (no span then: nothing was asked of the database).
    async fn by_id(&self, id: ImageId, visibility: Visibility) -> Result<Option<Image>, RepoError> {
        let caches = &self.db.caches;
        let image = match caches.image(id) {
            Some(image) => image,
            None => {
                let read = async {
                    let ticket = caches.ticket();
                    let mut conn = self.db.conn().await?;
                    let image = find(&mut conn, id.as_uuid()).await?;
                    if let Some(image) = &image {
                        caches.keep_image(ticket, image);
                    }
                    Ok::<_, RepoError>(image)
                };
                let Some(image) = read.instrument(tracing::debug_span!("ImageRepo.by_id")).await? else {
                    return Ok(None);
                };
                image
            }
        };
        Ok(Some(image).filter(|image| visibility.allows(image)))
    }

    #[tracing::instrument(name = "ImageRepo.list", level = "debug", skip_all)]
    async fn list<'a>(
        &self,
        filter: &ImageFilter,
        visibility: Visibility,
        page: PageRequest,
        after: Option<&'a After>,
    ) -> Result<Listed, RepoError> {
        let mut conn = self.db.conn().await?;
        let matching = match &filter.q {
            Some(q) => Some(Matching::of(&mut conn, q.as_str()).await?),
            None => None,
        };
        let (total, exact) = total(&mut conn, filter, visibility, matching.as_ref().map(|m| &m.count)).await?;
        let search = matching.map(|m| m.page);
        let query = narrow!(images, images::table.inner_join(users::table).into_boxed(), visibility, Some(filter));
        let mut query = search!(query, search.as_ref()).select((ImageRow::as_select(), users::username));
        // Keyset: just past the cursor's key, in the sort's direction, through its index.
        let past = if filter.sort.is_descending() { "<" } else { ">" };
        let taken = taken_key(filter.sort);
        query = match after {
            None => query.offset(page.offset()),
            Some(After::Uploaded { at, id }) => query.filter(
                sql::<Bool>(&format!("(images.uploaded_at, images.id) {past} ("))
                    .bind::<Timestamptz, _>(*at)
                    .sql(", ")
                    .bind::<SqlUuid, _>(id.as_uuid())
                    .sql(")"),
            ),
            Some(After::Titled { title, id }) => query.filter(
                sql::<Bool>(&format!("(images.title, images.id) {past} ("))
                    .bind::<Text, _>(title.clone())
                    .sql(", ")
                    .bind::<SqlUuid, _>(id.as_uuid())
                    .sql(")"),
            ),
            Some(After::Taken { at: Some(at), id }) => query.filter(
                sql::<Bool>(&format!("({taken}, images.id) {past} ("))
                    .bind::<Timestamptz, _>(*at)
                    .sql(", ")
                    .bind::<SqlUuid, _>(id.as_uuid())
                    .sql(")"),
            ),
            // Among the images with no `taken_at`: the key is the stand-in infinity.
            Some(After::Taken { at: None, id }) => query.filter(
                sql::<Bool>(&format!("({taken}, images.id) {past} ({}, ", taken_stand_in(filter.sort)))
                    .bind::<SqlUuid, _>(id.as_uuid())
                    .sql(")"),
            ),
        };
        let query = match filter.sort {
            ImageSort::NewestFirst => query.order((images::uploaded_at.desc(), images::id.desc())),
            ImageSort::OldestFirst => query.order((images::uploaded_at.asc(), images::id.asc())),
            ImageSort::Title => query.order((images::title.asc(), images::id.asc())),
            ImageSort::TitleDescending => query.order((images::title.desc(), images::id.desc())),
            ImageSort::TakenFirst => query.order(sql::<Bool>(&format!("{taken} ASC, images.id ASC"))),
            ImageSort::TakenLast => query.order(sql::<Bool>(&format!("{taken} DESC, images.id DESC"))),
        };
        // One more than the page: whether it exists says whether another page follows.
        let rows: Vec<(ImageRow, String)> = query.limit(page.limit() + 1).load(&mut conn).await.map_err(repo_error)?;
        let mut items = rows.into_iter().map(to_image).collect::<Result<Vec<_>, _>>()?;
        let more = items.len() > page.per_page() as usize;
        items.truncate(page.per_page() as usize);
        Ok(Listed { items, more, total, exact })
    }

    #[tracing::instrument(name = "ImageRepo.update", level = "debug", skip_all)]
    async fn update(&self, id: ImageId, patch: &ImagePatch) -> Result<Option<Image>, RepoError> {
        #[derive(AsChangeset)]
        #[diesel(table_name = images)]
        struct Changes<'a> {
            title: Option<&'a str>,
            description: Option<&'a str>,
            gallery_id: Option<Option<Uuid>>,
            updated_at: DateTime<Utc>,
        }
        let changes = Changes {
            title: patch.title.as_ref().map(Title::as_str),
            description: patch.description.as_ref().map(Description::as_str),
            gallery_id: patch.gallery_id.map(|g| g.map(|g| g.as_uuid())),
            updated_at: self.db.now(),
        };
        let mut conn = self.db.conn().await?;
        let n = diesel::update(images::table.find(id.as_uuid()))
            .set(&changes)
            .execute(&mut conn)
            .await
            .map_err(repo_error)?;
        drop(conn);
        self.db.changed(Change::Image(id));
        if n == 0 { Ok(None) } else { self.by_id(id, Visibility::All).await }
    }

    #[tracing::instrument(name = "ImageRepo.delete", level = "debug", skip_all)]
    async fn delete(&self, id: ImageId) -> Result<Option<BlobKey>, RepoError> {
        let mut conn = self.db.conn().await?;
        let key: Option<String> = diesel::delete(images::table.find(id.as_uuid()))
            .returning(images::storage_key)
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(repo_error)?;
        self.db.changed(Change::Image(id));
        key.map(|k| BlobKey::parse(&k).map_err(|_| corrupt("storage key"))).transpose()
    }

    #[tracing::instrument(name = "ImageRepo.purge", level = "debug", skip_all)]
    async fn purge(&self) -> Result<Vec<BlobKey>, RepoError> {
        let mut conn = self.db.conn().await?;
        let keys: Vec<String> =
            diesel::delete(images::table).returning(images::storage_key).load(&mut conn).await.map_err(repo_error)?;
        self.db.changed(Change::Images);
        keys.iter().map(|k| BlobKey::parse(k).map_err(|_| corrupt("storage key"))).collect()
    }

    #[tracing::instrument(name = "ImageRepo.decide", level = "debug", skip_all)]
    async fn decide(
        &self,
        id: ImageId,
        decision: Decision,
        reason: Option<Reason>,
        by: UserId,
    ) -> Result<Option<Image>, RepoError> {
        let mut conn = self.db.conn().await?;
        let decided = conn
            .transaction(async |c| {
                let n = diesel::update(images::table.find(id.as_uuid()))
                    .set((images::status.eq(decision.status().as_str()), images::updated_at.eq(self.db.now())))
                    .execute(c)
                    .await?;
                if n == 0 {
                    return Ok::<_, TxError>(false);
                }
                diesel::insert_into(image_approvals::table)
                    .values((
                        image_approvals::image_id.eq(id.as_uuid()),
                        image_approvals::decision.eq(decision.as_str()),
                        image_approvals::reason.eq(reason.as_ref().map(Reason::as_str)),
                        image_approvals::decided_by.eq(by.as_uuid()),
                    ))
                    .execute(c)
                    .await?;
                Ok(true)
            })
            .await
            .map_err(RepoError::from)?;
        drop(conn);
        self.db.changed(Change::Image(id));
        if decided { self.by_id(id, Visibility::All).await } else { Ok(None) }
    }

    #[tracing::instrument(name = "ImageRepo.approvals", level = "debug", skip_all)]
    async fn approvals(&self, id: ImageId) -> Result<Vec<Approval>, RepoError> {
        let mut conn = self.db.conn().await?;
        let rows: Vec<(Uuid, String, Option<String>, Option<Uuid>, Option<String>, DateTime<Utc>)> =
            image_approvals::table
                .left_join(users::table)
                .filter(image_approvals::image_id.eq(id.as_uuid()))
                .order((image_approvals::decided_at.asc(), image_approvals::id.asc()))
                .select((
                    image_approvals::id,
                    image_approvals::decision,
                    image_approvals::reason,
                    image_approvals::decided_by,
                    users::username.nullable(),
                    image_approvals::decided_at,
                ))
                .load(&mut conn)
                .await
                .map_err(repo_error)?;
        rows.into_iter()
            .map(|(id, decision, reason, by, username, decided_at)| {
                Ok(Approval {
                    id,
                    decision: Decision::parse(&decision).map_err(|_| corrupt("decision"))?,
                    reason,
                    decided_by: by.zip(username).map(|(id, name)| UserRef {
                        id: UserId::from_uuid(id),
                        username: Username::from_trusted(name),
                    }),
                    decided_at,
                })
            })
            .collect()
    }

    #[tracing::instrument(name = "ImageRepo.stored_bytes", level = "debug", skip_all)]
    async fn stored_bytes(&self, user: UserId) -> Result<u64, RepoError> {
        let mut conn = self.db.conn().await?;
        let total = stored_bytes(&mut conn, user.as_uuid()).await.map_err(repo_error)?;
        Ok(u64::try_from(total).unwrap_or(0))
    }

    #[tracing::instrument(name = "ImageRepo.gallery_exists", level = "debug", skip_all)]
    async fn gallery_exists(&self, id: GalleryId) -> Result<bool, RepoError> {
        let mut conn = self.db.conn().await?;
        diesel::select(diesel::dsl::exists(galleries::table.find(id.as_uuid())))
            .get_result(&mut conn)
            .await
            .map_err(repo_error)
    }

    #[tracing::instrument(name = "ImageRepo.to_reinspect", level = "debug", skip_all)]
    async fn to_reinspect(&self, limit: u32) -> Result<Vec<Stale>, RepoError> {
        let mut conn = self.db.conn().await?;
        let rows: Vec<(Uuid, String, String)> = images::table
            .filter(images::reinspect)
            .order(images::id)
            .limit(i64::from(limit))
            .select((images::id, images::storage_key, images::format))
            .load(&mut conn)
            .await
            .map_err(repo_error)?;
        rows.into_iter()
            .map(|(id, key, format)| {
                Ok(Stale {
                    id: ImageId::from_uuid(id),
                    key: BlobKey::parse(&key).map_err(|_| corrupt("storage key"))?,
                    format: ImageFormat::from_stored(&format).ok_or_else(|| corrupt("format"))?,
                })
            })
            .collect()
    }

    #[tracing::instrument(name = "ImageRepo.reinspected", level = "debug", skip_all)]
    async fn reinspected(&self, id: ImageId, found: Option<Inspected>) -> Result<(), RepoError> {
        #[derive(AsChangeset)]
        #[diesel(table_name = images)]
        struct Found {
            width: i32,
            height: i32,
            // `Some(None)` writes NULL.
            taken_at: Option<Option<DateTime<Utc>>>,
            camera_make: Option<Option<String>>,
            camera_model: Option<Option<String>>,
            reinspect: bool,
        }
        let mut conn = self.db.conn().await?;
        let row = images::table.find(id.as_uuid());
        let n = match found {
            Some(found) => {
                let dimension = |v: u32| i32::try_from(v).map_err(|_| RepoError::Other("a dimension past i32".into()));
                let camera = found.shot.camera;
                let changes = Found {
                    width: dimension(found.width)?,
                    height: dimension(found.height)?,
                    taken_at: Some(found.shot.taken_at),
                    camera_make: Some(camera.as_ref().and_then(|c| c.make.clone())),
                    camera_model: Some(camera.and_then(|c| c.model)),
                    reinspect: false,
                };
                diesel::update(row).set(&changes).execute(&mut conn).await
            }
            None => diesel::update(row).set(images::reinspect.eq(false)).execute(&mut conn).await,
        }
        .map_err(repo_error)?;
        drop(conn);
        if n > 0 {
            self.db.changed(Change::Image(id));
        }
        Ok(())
    }

    #[tracing::instrument(name = "ImageRepo.reinspect_turn", level = "debug", skip_all)]
    async fn reinspect_turn(&self) -> Result<Option<Box<dyn Turn>>, RepoError> {
        try_turn(&self.db, REINSPECT_LOCK).await
    }
}

/// The advisory lock of the server reading originals again: one at a time.
const REINSPECT_LOCK: i64 = 0x6761_6c6c_6572_7903; // "gallery" 3
