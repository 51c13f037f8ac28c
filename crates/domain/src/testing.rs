//! Fixtures for the domain's unit tests.

use chrono::{TimeZone, Utc};

use crate::{Actor, Permission, PermissionSet, PlanCode, Role, RoleId, RoleName, SessionId, User, UserId, Username};

pub fn builtin_role(name: &str) -> Role {
    use Permission::*;
    let permissions: PermissionSet = match name {
        "admin" => PermissionSet::all(),
        "beta_player" => {
            [ImagesRead, ImagesUpload, ImagesUpdate, ImagesDelete, LinksCreate, GalleriesManage].into_iter().collect()
        }
        "company_user" => [ImagesRead].into_iter().collect(),
        "subscriber" => [ImagesRead, LinksCreate].into_iter().collect(),
        other => panic!("no built-in role {other}"),
    };
    Role {
        id: RoleId::generate(),
        name: RoleName::parse(name).unwrap(),
        description: String::new(),
        permissions,
        is_system: true,
        signup_allowed: name != "admin",
        created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    }
}

pub fn user_with_role(role: Role) -> User {
    User {
        id: UserId::generate(),
        username: Username::parse("someone").unwrap(),
        email: None,
        role,
        is_active: true,
        created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        subscription: None,
        default_plan: PlanCode::from_trusted("basic".into()),
    }
}

pub fn actor_with_role(role: Role) -> Actor {
    Actor { user: user_with_role(role), session: SessionId::generate() }
}
