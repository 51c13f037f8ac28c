use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use gallery_domain::ports::UserRepo;
use gallery_domain::{
    BlobKey, Conflict, Email, NewUser, PageRequest, PasswordHash, PermissionSet, RepoError, User, UserFilter, UserId,
    UserPatch, Username,
};
use uuid::Uuid;

use crate::cache::Change;
use crate::db::Db;
use crate::errors::{TxError, repo_error};
use crate::rows::{UserRow, to_user, to_users};
use crate::schema::{images, roles, user_core, users};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

type Filtered<'a> = user_core::BoxedQuery<'a, diesel::pg::Pg>;

/// The users `filter` selects, as a query to page or count.
fn filtered<'a>(filter: &'a UserFilter, pattern: Option<&'a str>) -> Filtered<'a> {
    let mut query = user_core::table.into_boxed();
    if let Some(role) = &filter.role {
        let role_id = roles::table.filter(roles::name.eq(role.as_str())).select(roles::id).single_value();
        query = query.filter(user_core::role_id.nullable().eq(role_id));
    }
    if let Some(p) = pattern {
        query = query.filter(user_core::username.ilike(p).or(user_core::email.ilike(p)));
    }
    if let Some(active) = filter.is_active {
        query = query.filter(user_core::is_active.eq(active));
    }
    query
}

/// [`UserRepo`] on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgUserRepo {
    db: Db,
}

impl PgUserRepo {
    #[must_use]
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

/// `LIKE` pattern matching `q` anywhere, with its wildcards taken literally.
pub(crate) fn contains_pattern(q: &str) -> String {
    let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// The active administrators: users whose role holds every permission
/// ([`PermissionSet::administrator`]), whatever the role is called. `$1` is its codes.
const ADMINS: &str = "SELECT u.id FROM users u WHERE u.is_active AND u.role_id IN \
     (SELECT role_id FROM role_permissions GROUP BY role_id HAVING array_agg(permission) @> $1)";

fn administrator_codes() -> Vec<&'static str> {
    PermissionSet::administrator().codes()
}

/// Locks the active admins' rows, so that concurrent changes to admins serialize, and
/// tells whether `id` is one of them: only then can the change remove the last admin.
async fn lock_admins_and_check_target(c: &mut AsyncPgConnection, id: Uuid) -> Result<bool, TxError> {
    #[derive(QueryableByName)]
    struct Admin {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let admins: Vec<Admin> = diesel::sql_query(format!("{ADMINS} FOR UPDATE OF u"))
        .bind::<Array<Text>, _>(administrator_codes())
        .load(c)
        .await?;
    Ok(admins.iter().any(|a| a.id == id))
}

async fn ensure_an_admin_is_left(c: &mut AsyncPgConnection) -> Result<(), TxError> {
    #[derive(QueryableByName)]
    struct Left {
        #[diesel(sql_type = Bool)]
        any: bool,
    }
    let left: Left = diesel::sql_query(format!("SELECT EXISTS ({ADMINS}) AS any"))
        .bind::<Array<Text>, _>(administrator_codes())
        .get_result(c)
        .await?;
    if left.any { Ok(()) } else { Err(TxError::Rule(RepoError::Conflict(Conflict::LastAdmin))) }
}

#[async_trait]
impl UserRepo for PgUserRepo {
    #[tracing::instrument(name = "UserRepo.create", level = "debug", skip_all)]
    async fn create(&self, user: &NewUser) -> Result<User, RepoError> {
        let id = Uuid::new_v4();
        let mut conn = self.db.conn().await?;
        let inserted = diesel::sql_query(
            "INSERT INTO users (id, username, email, password_hash, role_id, is_active) \
             SELECT $1, $2, $3, $4, r.id, $5 FROM roles r WHERE r.name = $6",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(user.username.as_str())
        .bind::<Nullable<Text>, _>(user.email.as_ref().map(Email::as_str))
        .bind::<Text, _>(user.password_hash.as_str())
        .bind::<Bool, _>(user.is_active)
        .bind::<Text, _>(user.role.as_str())
        .execute(&mut conn)
        .await
        .map_err(repo_error)?;
        if inserted == 0 {
            return Err(RepoError::Other(format!("role {} does not exist", user.role.as_str())));
        }
        let row: UserRow =
            user_core::table.find(id).select(UserRow::as_select()).first(&mut conn).await.map_err(repo_error)?;
        to_user(&self.db, &mut conn, Some(row)).await?.ok_or_else(|| RepoError::Other("created user vanished".into()))
    }

    #[tracing::instrument(name = "UserRepo.by_id", level = "debug", skip_all)]
    async fn by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
        let mut conn = self.db.conn().await?;
        let query = user_core::table.find(id.as_uuid()).select(UserRow::as_select());
        let row = query.first(&mut conn).await.optional().map_err(repo_error)?;
        to_user(&self.db, &mut conn, row).await
    }

    #[tracing::instrument(name = "UserRepo.credentials", level = "debug", skip_all)]
    async fn credentials(&self, username: &Username) -> Result<Option<(User, PasswordHash)>, RepoError> {
        let mut conn = self.db.conn().await?;
        let row: Option<(UserRow, String)> = user_core::table
            .filter(lower(user_core::username).eq(lower(username.as_str())))
            .select((UserRow::as_select(), user_core::password_hash))
            .first(&mut conn)
            .await
            .optional()
            .map_err(repo_error)?;
        let Some((row, hash)) = row else { return Ok(None) };
        Ok(to_user(&self.db, &mut conn, Some(row)).await?.map(|user| (user, PasswordHash::new(hash))))
    }

    #[tracing::instrument(name = "UserRepo.password_hash", level = "debug", skip_all)]
    async fn password_hash(&self, id: UserId) -> Result<Option<PasswordHash>, RepoError> {
        let mut conn = self.db.conn().await?;
        let hash: Option<String> = users::table
            .find(id.as_uuid())
            .select(users::password_hash)
            .first(&mut conn)
            .await
            .optional()
            .map_err(repo_error)?;
        Ok(hash.map(PasswordHash::new))
    }

    #[tracing::instrument(name = "UserRepo.list", level = "debug", skip_all)]
    async fn list(&self, filter: &UserFilter, page: PageRequest) -> Result<(Vec<User>, u64), RepoError> {
        let mut conn = self.db.conn().await?;
        let pattern = filter.q.as_ref().map(|q| contains_pattern(q.as_str()));
        let total: i64 =
            filtered(filter, pattern.as_deref()).count().get_result(&mut conn).await.map_err(repo_error)?;
        let rows: Vec<UserRow> = filtered(filter, pattern.as_deref())
            .select(UserRow::as_select())
            .order((lower(user_core::username), user_core::id))
            .limit(page.limit())
            .offset(page.offset())
            .load(&mut conn)
            .await
            .map_err(repo_error)?;
        let users = to_users(&self.db, &mut conn, rows).await?;
        Ok((users, u64::try_from(total).unwrap_or(0)))
    }

    #[tracing::instrument(name = "UserRepo.update", level = "debug", skip_all)]
    async fn update(&self, id: UserId, patch: &UserPatch) -> Result<Option<User>, RepoError> {
        #[derive(AsChangeset)]
        #[diesel(table_name = users)]
        struct Changes<'a> {
            email: Option<Option<&'a str>>,
            role_id: Option<Uuid>,
            is_active: Option<bool>,
            password_hash: Option<&'a str>,
            updated_at: DateTime<Utc>,
        }
        let touches_admins = patch.role.is_some() || patch.is_active == Some(false);
        let mut conn = self.db.conn().await?;
        let found = conn
            .transaction(async |c| {
                let was_admin = touches_admins && lock_admins_and_check_target(c, id.as_uuid()).await?;
                let role_id = match &patch.role {
                    Some(name) => Some(
                        roles::table
                            .filter(roles::name.eq(name.as_str()))
                            .select(roles::id)
                            .first::<Uuid>(c)
                            .await
                            .optional()?
                            .ok_or_else(|| {
                                TxError::Rule(RepoError::Other(format!("role {} does not exist", name.as_str())))
                            })?,
                    ),
                    None => None,
                };
                let changes = Changes {
                    email: patch.email.as_ref().map(|e| e.as_ref().map(Email::as_str)),
                    role_id,
                    is_active: patch.is_active,
                    password_hash: patch.password_hash.as_ref().map(PasswordHash::as_str),
                    updated_at: self.db.now(),
                };
                let n = diesel::update(users::table.find(id.as_uuid())).set(&changes).execute(c).await?;
                if was_admin {
                    ensure_an_admin_is_left(c).await?;
                }
                Ok::<_, TxError>(n > 0)
            })
            .await
            .map_err(RepoError::from)?;
        drop(conn);
        self.db.changed(Change::User(id));
        if found { self.by_id(id).await } else { Ok(None) }
    }

    #[tracing::instrument(name = "UserRepo.delete", level = "debug", skip_all)]
    async fn delete(&self, id: UserId, with_images: bool) -> Result<Option<Vec<BlobKey>>, RepoError> {
        let mut conn = self.db.conn().await?;
        conn.transaction(async |c| {
            let was_admin = lock_admins_and_check_target(c, id.as_uuid()).await?;
            let keys: Vec<String> = if with_images {
                diesel::delete(images::table.filter(images::uploaded_by.eq(id.as_uuid())))
                    .returning(images::storage_key)
                    .load(c)
                    .await?
            } else {
                Vec::new()
            };
            // Without `with_images`, owned images make this a foreign-key violation: InUse.
            let n = diesel::delete(users::table.find(id.as_uuid())).execute(c).await?;
            if was_admin {
                ensure_an_admin_is_left(c).await?;
            }
            if n == 0 {
                return Ok::<_, TxError>(None);
            }
            let keys = keys
                .iter()
                .map(|k| BlobKey::parse(k).map_err(|e| TxError::Rule(RepoError::Other(e))))
                .collect::<Result<_, _>>()?;
            Ok(Some(keys))
        })
        .await
        .map_err(RepoError::from)
        .inspect(|_| {
            self.db.changed(Change::User(id));
            if with_images {
                self.db.changed(Change::Images);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn like_wildcards_in_queries_are_literal() {
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
