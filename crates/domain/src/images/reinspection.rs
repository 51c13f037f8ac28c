//! Images recorded before their size was read as shown (an EXIF orientation that turns the
//! picture a quarter trades width and height) and before their shot was read (`taken_at`,
//! `camera`): their originals are read again in the background, a batch at a time, by one
//! server at a time, until none is left. Only what inspecting finds changes; an original
//! that cannot be read leaves its row as it was.

use super::Images;
use crate::DomainError;

/// Images read again per batch; the turn is kept across batches.
const BATCH: u32 = 64;

impl Images {
    /// Reads again the originals of every image recorded before sizes were read as shown.
    /// Answers how many were read, or `None` while another server does it.
    ///
    /// # Errors
    /// Store failures reading or writing the records (what was done stays done).
    #[tracing::instrument(skip_all)]
    pub async fn reinspect(&self) -> Result<Option<usize>, DomainError> {
        let Some(turn) = self.images.reinspect_turn().await? else {
            tracing::debug!("another server reads the originals again");
            return Ok(None);
        };
        let read = self.reinspect_all().await;
        turn.end().await;
        if let Ok(n @ 1..) = read {
            tracing::info!(images = n, "read the originals of images recorded before sizes were as shown");
        }
        read.map(Some)
    }

    async fn reinspect_all(&self) -> Result<usize, DomainError> {
        let mut read = 0;
        loop {
            let stale = self.images.to_reinspect(BATCH).await?;
            if stale.is_empty() {
                return Ok(read);
            }
            for image in stale {
                // The pixel limit was checked at upload; the file is read as it was stored.
                let found = match self.blobs.reader(&image.key).await {
                    Ok(source) => {
                        self.inspector.inspect(source, image.format, u64::MAX).await.map_err(|e| e.to_string())
                    }
                    Err(e) => Err(e.to_string()),
                };
                if let Err(why) = &found {
                    tracing::warn!(image_id = %image.id, error = %why, "could not read an original again; its row stays");
                }
                self.images.reinspected(image.id, found.ok()).await?;
                read += 1;
            }
        }
    }
}
