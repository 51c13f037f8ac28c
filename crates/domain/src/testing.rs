//! Fixtures for the domain's unit tests.

use chrono::{TimeZone, Utc};

use crate::{
    Actor, Permission, PermissionSet, Plan, PlanCode, PlanFeatures, PlanId, Role, RoleId, RoleName, SessionId, User,
    UserId, Username,
};

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
        default_plan: plan("basic"),
    }
}

pub fn actor_with_role(role: Role) -> Actor {
    Actor { user: user_with_role(role), session: SessionId::generate() }
}

/// The built-in plans as the migrations seed them.
pub fn plan(code: &str) -> Plan {
    let (heights, original, links, max_upload, quota): (&[u32], bool, bool, u64, u64) = match code {
        "basic" => (&[200], false, false, 5 << 20, 1 << 30),
        "growth" => (&[200, 400], true, false, 20 << 20, 10 << 30),
        "enterprise" => (&[200, 400], true, true, 50 << 20, 100 << 30),
        other => panic!("no built-in plan {other}"),
    };
    Plan {
        id: PlanId::generate(),
        code: PlanCode::from_trusted(code.into()),
        name: code.into(),
        description: String::new(),
        price_cents: match code {
            "growth" => 900,
            "enterprise" => 4900,
            _ => 0,
        },
        currency: crate::Currency::default(),
        billing_period: crate::BillingPeriod::Month,
        is_public: true,
        is_default: code == "basic",
        features: PlanFeatures {
            thumbnail_heights: heights.to_vec(),
            original_access: original,
            expiring_links: links,
            link_ttl_min: 300,
            link_ttl_max: 30000,
            max_upload_bytes: max_upload,
            storage_quota_bytes: quota,
        },
    }
}

/// An image of `owner` in `status`.
pub fn image_of(owner: &User, status: crate::ImageStatus) -> crate::Image {
    let id = crate::ImageId::generate();
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    crate::Image {
        id,
        title: String::new(),
        description: String::new(),
        status,
        uploaded_by: crate::UserRef { id: owner.id, username: owner.username.clone() },
        gallery_id: None,
        width: 10,
        height: 10,
        format: crate::ImageFormat::Png,
        size_bytes: 1,
        sha256: [0; 32],
        storage_key: crate::BlobKey::original(id),
        uploaded_at: at,
        updated_at: at,
        shot: Default::default(),
    }
}

/// A location filter that keeps every byte.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeepEverything;

impl crate::ports::LocationFilter for KeepEverything {
    fn begin(&self, _: crate::ImageFormat) -> Box<dyn crate::ports::LocationScrub> {
        Box::new(KeepEverything)
    }
}

impl crate::ports::LocationScrub for KeepEverything {
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(input);
    }

    fn finish(&mut self, _: &mut Vec<u8>) -> Result<(), String> {
        Ok(())
    }
}

/// Runs each task on the test's runtime.
pub struct Spawned;

impl crate::ports::Tasks for Spawned {
    fn spawn(&self, task: crate::ports::Task) {
        tokio::spawn(task);
    }
}

/// Keeps each task until the test runs it, so a test can stop waiting first.
#[derive(Default)]
pub struct Held(std::sync::Mutex<Vec<crate::ports::Task>>);

impl Held {
    /// Runs every task held so far, to its end.
    pub async fn run(&self) {
        let tasks = std::mem::take(&mut *self.0.lock().unwrap());
        for task in tasks {
            task.await;
        }
    }
}

impl crate::ports::Tasks for Held {
    fn spawn(&self, task: crate::ports::Task) {
        self.0.lock().unwrap().push(task);
    }
}

/// Upload slots that are always free: taken and given back without a count.
pub fn free_slots() -> crate::ports::MockUploadSlotRepo {
    let mut slots = crate::ports::MockUploadSlotRepo::new();
    slots
        .expect_take()
        .returning(|_, _, _| Ok(crate::ports::SlotTake::Taken(crate::ports::SlotId(uuid::Uuid::new_v4()))));
    slots.expect_give_back().returning(|_| Ok(()));
    slots
}

/// A turn always free at once.
pub struct FreeTurns;

#[async_trait::async_trait]
impl crate::ports::UploadTurns for FreeTurns {
    async fn wait(&self) -> crate::ports::UploadTurn {
        Box::new(())
    }
}
