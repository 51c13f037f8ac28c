//! Approving and rejecting images, with the history of decisions.

use super::Images;
use crate::{Actor, Approval, Decision, DomainError, Image, ImageId, Permission, Policy, Reason, Seen};

/// A moderator's verdict on an image: a rejection needs a reason.
#[derive(Debug, Clone)]
pub struct Review {
    pub decision: Decision,
    pub reason: Option<Reason>,
}

impl Images {
    /// Approves or rejects an image, keeping the decision in its history.
    ///
    /// # Errors
    /// `Forbidden` without `images:moderate`; `NotFound`; `Validation` on `reason` when a
    /// rejection gives none.
    #[tracing::instrument(skip_all, fields(image_id = %id, decision = review.decision.as_str()))]
    pub async fn decide(&self, actor: &Actor, id: ImageId, review: Review) -> Result<Seen<Image>, DomainError> {
        Policy::require(actor, Permission::ImagesModerate)?;
        let Review { decision, reason } = review;
        let reason = reason.filter(|r| !r.as_str().trim().is_empty());
        if decision == Decision::Rejected && reason.is_none() {
            return Err(DomainError::field("reason", "is required to reject an image"));
        }
        let decided = self.images.decide(id, decision, reason, actor.id()).await?.ok_or(DomainError::NotFound)?;
        Ok(Seen::by(actor, self.clock.now(), decided))
    }

    /// # Errors
    /// `Forbidden` without `images:moderate`; `NotFound`.
    pub async fn approvals(&self, actor: &Actor, id: ImageId) -> Result<Vec<Approval>, DomainError> {
        Policy::require(actor, Permission::ImagesModerate)?;
        self.visible(actor, id).await?;
        Ok(self.images.approvals(id).await?)
    }
}
