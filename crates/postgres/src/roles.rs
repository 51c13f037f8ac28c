use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use gallery_domain::ports::RoleRepo;
use gallery_domain::{Conflict, NewRole, PermissionSet, Policy, RepoError, Role, RoleId, RoleName, RolePatch};
use uuid::Uuid;

use crate::cache::Change;
use crate::db::Db;
use crate::errors::{TxError, repo_error};
use crate::rows::RoleRow;
use crate::schema::{role_details, role_permissions, roles};

fn to_role(row: Option<RoleRow>) -> Result<Option<Role>, RepoError> {
    row.map(Role::try_from).transpose()
}

/// [`RoleRepo`] on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgRoleRepo {
    db: Db,
}

impl PgRoleRepo {
    #[must_use]
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

async fn replace_permissions(
    conn: &mut diesel_async::AsyncPgConnection,
    id: Uuid,
    permissions: PermissionSet,
) -> Result<(), TxError> {
    diesel::delete(role_permissions::table.filter(role_permissions::role_id.eq(id))).execute(conn).await?;
    let rows: Vec<_> = permissions
        .codes()
        .into_iter()
        .map(|code| (role_permissions::role_id.eq(id), role_permissions::permission.eq(code)))
        .collect();
    diesel::insert_into(role_permissions::table).values(&rows).execute(conn).await?;
    Ok(())
}

#[async_trait]
impl RoleRepo for PgRoleRepo {
    #[tracing::instrument(name = "RoleRepo.list", level = "debug", skip_all)]
    async fn list(&self) -> Result<Vec<Role>, RepoError> {
        let mut conn = self.db.conn().await?;
        let rows: Vec<RoleRow> = role_details::table
            .select(RoleRow::as_select())
            .order((role_details::role_is_system.desc(), role_details::role_name))
            .load(&mut conn)
            .await
            .map_err(repo_error)?;
        rows.into_iter().map(Role::try_from).collect()
    }

    #[tracing::instrument(name = "RoleRepo.by_id", level = "debug", skip_all)]
    async fn by_id(&self, id: RoleId) -> Result<Option<Role>, RepoError> {
        let mut conn = self.db.conn().await?;
        let query = role_details::table.find(id.as_uuid()).select(RoleRow::as_select());
        to_role(query.first(&mut conn).await.optional().map_err(repo_error)?)
    }

    #[tracing::instrument(name = "RoleRepo.by_name", level = "debug", skip_all)]
    async fn by_name(&self, name: &RoleName) -> Result<Option<Role>, RepoError> {
        let mut conn = self.db.conn().await?;
        let query = role_details::table.filter(role_details::role_name.eq(name.as_str())).select(RoleRow::as_select());
        to_role(query.first(&mut conn).await.optional().map_err(repo_error)?)
    }

    #[tracing::instrument(name = "RoleRepo.create", level = "debug", skip_all)]
    async fn create(&self, role: &NewRole) -> Result<Role, RepoError> {
        let id = Uuid::new_v4();
        let mut conn = self.db.conn().await?;
        conn.transaction(async |c| {
            diesel::insert_into(roles::table)
                .values((
                    roles::id.eq(id),
                    roles::name.eq(role.name.as_str()),
                    roles::description.eq(role.description.as_str()),
                    roles::signup_allowed.eq(role.signup_allowed),
                ))
                .execute(c)
                .await?;
            replace_permissions(c, id, role.permissions).await
        })
        .await
        .map_err(RepoError::from)?;
        drop(conn);
        self.by_id(RoleId::from_uuid(id)).await?.ok_or_else(|| RepoError::Other("created role vanished".into()))
    }

    #[tracing::instrument(name = "RoleRepo.update", level = "debug", skip_all)]
    async fn update(&self, id: RoleId, patch: &RolePatch) -> Result<Option<Role>, RepoError> {
        #[derive(AsChangeset)]
        #[diesel(table_name = roles)]
        struct Changes<'a> {
            name: Option<&'a str>,
            description: Option<&'a str>,
            signup_allowed: Option<bool>,
        }
        let changes = Changes {
            name: patch.name.as_ref().map(RoleName::as_str),
            description: patch.description.as_ref().map(AsRef::as_ref),
            signup_allowed: patch.signup_allowed,
        };
        let mut conn = self.db.conn().await?;
        let found = conn
            .transaction(async |c| {
                // Lock the row (and prove it exists) whatever the patch holds.
                let exists = roles::table
                    .find(id.as_uuid())
                    .select(roles::id)
                    .for_update()
                    .first::<Uuid>(c)
                    .await
                    .optional()?
                    .is_some();
                if !exists {
                    return Ok::<_, TxError>(false);
                }
                // The sign-up rule again, on the role as it is under the lock: a change that
                // passed against what it read may meet another's that passed too.
                let open: bool = roles::table.find(id.as_uuid()).select(roles::signup_allowed).first(c).await?;
                let open = changes.signup_allowed.unwrap_or(open);
                let permissions = match patch.permissions {
                    Some(permissions) => permissions,
                    None => {
                        let codes: Vec<String> = role_permissions::table
                            .filter(role_permissions::role_id.eq(id.as_uuid()))
                            .select(role_permissions::permission)
                            .load(c)
                            .await?;
                        PermissionSet::parse(codes.iter().map(String::as_str))
                            .map_err(|e| TxError::Rule(RepoError::Other(format!("a stored role holds {e}"))))?
                    }
                };
                if Policy::may_open_to_signup(permissions, open).is_err() {
                    return Err(TxError::Rule(RepoError::Conflict(Conflict::OpenToSignup(permissions))));
                }
                if changes.name.is_some() || changes.description.is_some() || changes.signup_allowed.is_some() {
                    diesel::update(roles::table.find(id.as_uuid())).set(&changes).execute(c).await?;
                }
                if let Some(permissions) = patch.permissions {
                    replace_permissions(c, id.as_uuid(), permissions).await?;
                }
                Ok(true)
            })
            .await
            .map_err(RepoError::from)?;
        drop(conn);
        self.db.changed(Change::Catalog);
        if found { self.by_id(id).await } else { Ok(None) }
    }

    #[tracing::instrument(name = "RoleRepo.delete", level = "debug", skip_all)]
    async fn delete(&self, id: RoleId) -> Result<bool, RepoError> {
        let mut conn = self.db.conn().await?;
        let n = diesel::delete(roles::table.find(id.as_uuid())).execute(&mut conn).await.map_err(repo_error)?;
        self.db.changed(Change::Catalog);
        Ok(n > 0)
    }
}
