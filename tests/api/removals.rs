//! No file outlives its image for good: what storage cannot remove at once, and what an
//! upload cut off between writing its file and recording its image leaves, the sweep
//! removes later, from a durable record, without listing the store.

use gallery_server::app::{Services, Shared};

use crate::helpers::{TestApp, png, spawn_app};

/// Runs the removal sweep once, as the server does on its interval.
async fn sweep(app: &TestApp) -> usize {
    let services = Services::build(&Shared::build(&app.settings).expect("settings")).expect("services");
    services.images.sweep().await.expect("sweep")
}

#[tokio::test]
async fn a_file_storage_could_not_remove_at_delete_is_removed_by_the_next_sweep() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let id = app.upload(&admin, png(64, 48), "a.png", None).await.body["id"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&format!("/images/{id}/thumbnails/200"), Some(&admin)).await.status, 200);
    assert_eq!(app.stored_files().len(), 2, "the original and a thumbnail");

    // Storage refuses every removal.
    app.storage.break_it();
    assert_eq!(app.delete(&format!("/images/{id}"), Some(&admin)).await.status, 204);
    app.get(&format!("/images/{id}"), Some(&admin)).await.assert_problem(404, "not_found");
    app.storage.mend();
    assert_eq!(app.stored_files().len(), 2, "kept for now, and recorded");
    assert_eq!(app._db.scalar("SELECT count(*) FROM blob_removals").await, 1);

    assert_eq!(sweep(&app).await, 1);
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
    assert_eq!(app._db.scalar("SELECT count(*) FROM blob_removals").await, 0);
}

#[tokio::test]
async fn a_file_left_by_an_upload_cut_off_before_its_row_is_swept_once_due() {
    let app = spawn_app().await;
    let admin = app.admin_token("root").await;
    let kept = app.upload(&admin, png(20, 20), "kept.png", None).await;
    assert_eq!(kept.status, 201);
    assert_eq!(app._db.scalar("SELECT count(*) FROM blob_removals").await, 0, "the row took its record back");

    // What a cut-off upload leaves: a file in place and its record, and no image row.
    let orphan = "originals/ab/cd/abcd0000-0000-4000-8000-000000000000";
    app.storage.write(orphan, &png(8, 8));
    let stored = |app: &TestApp| app.stored_files().contains(&orphan.to_owned());
    app._db
        .execute(&format!("INSERT INTO blob_removals (key, due_at) VALUES ('{orphan}', now() + interval '1 hour')"))
        .await;
    assert_eq!(sweep(&app).await, 0, "not due yet: an upload may still be recording it");
    assert!(stored(&app));
    app._db.execute("UPDATE blob_removals SET due_at = now() - interval '1 second'").await;
    // A record that an image row claims is never swept, due or not.
    let claimed: String = kept.body["id"].as_str().unwrap().to_owned();
    app._db
        .execute(&format!(
            "INSERT INTO blob_removals (key, due_at) SELECT storage_key, now() - interval '1 hour' FROM images WHERE id = '{claimed}'"
        ))
        .await;
    assert_eq!(sweep(&app).await, 1);
    assert!(!stored(&app));
    assert_eq!(app.stored_files().len(), 1, "the image's own file stays");
    assert_eq!(app.get(&format!("/images/{claimed}/original"), Some(&admin)).await.status, 200);
}
