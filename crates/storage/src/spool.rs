//! A spool: an unnamed temporary file for bytes too many to hold in memory.

use std::io::{Seek as _, SeekFrom};

use gallery_domain::StorageError;
use gallery_domain::ports::ReadSeek;
use tokio::io::AsyncWriteExt as _;

use crate::{WRITE_BUFFER, io_unavailable};

/// An unnamed temporary file (gone with its last handle, even after a crash): written
/// through tokio, read back through a clone. Holds an upload larger than a part, or an
/// object too large to decode from memory.
pub(crate) struct Spool {
    writer: tokio::fs::File,
    reread: std::fs::File,
}

impl Spool {
    pub(crate) async fn create() -> Result<Self, StorageError> {
        let file = tokio::task::spawn_blocking(tempfile::tempfile)
            .await
            .map_err(|e| StorageError::Unavailable(format!("creating a spool: {e}")))?
            .map_err(|e| io_unavailable("creating a spool", &e))?;
        let reread = file.try_clone().map_err(|e| io_unavailable("creating a spool", &e))?;
        let mut writer = tokio::fs::File::from_std(file);
        writer.set_max_buf_size(WRITE_BUFFER);
        Ok(Self { writer, reread })
    }

    pub(crate) async fn write(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        self.writer.write_all(bytes).await.map_err(|e| io_unavailable("writing a spool", &e))?;
        // Completed here, so that reading back sees it and a full disk is noticed now.
        self.writer.flush().await.map_err(|e| io_unavailable("writing a spool", &e))
    }

    /// Everything written, from its start. The clone shares the spool's offset: nothing
    /// may write to the spool once it is read.
    pub(crate) fn read_back(&self) -> Result<Box<dyn ReadSeek>, StorageError> {
        let mut file = self.reread.try_clone().map_err(|e| io_unavailable("reading a spool back", &e))?;
        file.seek(SeekFrom::Start(0)).map_err(|e| io_unavailable("reading a spool back", &e))?;
        Ok(Box::new(std::io::BufReader::new(file)))
    }
}
