//! What responses look like on the wire.

use chrono::{DateTime, Utc};
use gallery_domain::{Account, DomainError, Page, PageRequest, Permission, Role};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub role: String,
    pub permissions: Vec<&'static str>,
    pub plan: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Account> for UserView {
    fn from(Account { user, plan }: Account) -> Self {
        Self {
            id: user.id.as_uuid(),
            username: user.username.as_str().to_owned(),
            email: user.email.as_ref().map(|e| e.as_str().to_owned()),
            role: user.role.name.as_str().to_owned(),
            permissions: user.role.permissions.codes(),
            plan: plan.as_str().to_owned(),
            is_active: user.is_active,
            created_at: user.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub permissions: Vec<&'static str>,
    pub system: bool,
    pub signup_allowed: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Role> for RoleView {
    fn from(role: Role) -> Self {
        Self {
            id: role.id.as_uuid(),
            permissions: role.permissions.codes(),
            name: role.name.as_str().to_owned(),
            description: role.description,
            system: role.is_system,
            signup_allowed: role.signup_allowed,
            created_at: role.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionView {
    pub code: &'static str,
    pub description: &'static str,
}

impl From<Permission> for PermissionView {
    fn from(p: Permission) -> Self {
        Self { code: p.code(), description: p.description() }
    }
}

/// The pagination envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageView<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

impl<T> From<Page<T>> for PageView<T> {
    fn from(p: Page<T>) -> Self {
        Self { items: p.items, page: p.page, per_page: p.per_page, total: p.total }
    }
}

/// `page` and `per_page` alone, for listings with no other filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1.
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
    /// Items per page, 1..=100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

impl PageParams {
    pub fn parse(&self) -> Result<PageRequest, DomainError> {
        crate::parse::page(self.page.as_deref(), self.per_page.as_deref())
    }
}
