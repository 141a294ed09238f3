//! Quicklook PNGs of every dataset's latest granule (`edp datasets --html`): read the field
//! from the granule (downloaded first when on S3), draw it ([`crate::quicklook`]) and write
//! `_edp/report/quicklooks/<dataset slug>.png`.

use std::path::Path;

use edp_store::{Location, Store};
use edp_task_schemas::DatasetStatus;

use crate::DatasetError;
use crate::header::read_quicklook_field;
use crate::id::DatasetId;
use crate::png::encode;
use crate::quicklook::render;
use crate::report::quicklook_location;

/// A quicklook written.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The dataset.
    pub dataset: String,
    /// The PNG.
    pub location: String,
    /// The variable drawn.
    pub variable: String,
}

/// Renders the quicklook of each status's latest granule; failures are returned per
/// dataset and do not stop the others.
pub async fn render_quicklooks(
    store: &Store,
    dest: &Location,
    statuses: &[DatasetStatus],
    cache_dir: &Path,
) -> Vec<Result<Written, DatasetError>> {
    let mut out = Vec::new();
    for status in statuses {
        let Some(latest) = &status.coverage.latest_granule else {
            continue;
        };
        out.push(render_one(store, dest, status, latest, cache_dir).await);
    }
    out
}

async fn render_one(
    store: &Store,
    dest: &Location,
    status: &DatasetStatus,
    latest: &str,
    cache_dir: &Path,
) -> Result<Written, DatasetError> {
    let id = DatasetId::parse(&status.dataset)?;
    let granule = dest.join(latest);
    let name = latest.rsplit('/').next().unwrap_or(latest).to_string();
    let io = |reason: String| DatasetError::Granule {
        granule: name.clone(),
        reason,
    };
    let (path, _temp) = match granule.as_local_path() {
        Some(path) => (path.to_path_buf(), None),
        None => {
            std::fs::create_dir_all(cache_dir)
                .map_err(|e| io(format!("cannot create {}: {e}", cache_dir.display())))?;
            let temp = tempfile::Builder::new()
                .prefix("quicklook-")
                .suffix(".nc")
                .tempfile_in(cache_dir)
                .map_err(|e| io(format!("cannot create a temporary file: {e}")))?;
            let path = temp.path().to_path_buf();
            store.download_to(&granule, &path).await?;
            (path, Some(temp))
        }
    };
    let task_name = name.clone();
    let (png, variable) = tokio::task::spawn_blocking(move || {
        let field = read_quicklook_field(&path, &task_name)?;
        let (image, _) =
            render(&field.values, field.layout).map_err(|reason| DatasetError::Granule {
                granule: task_name.clone(),
                reason,
            })?;
        Ok::<_, DatasetError>((encode(&image), field.variable))
    })
    .await
    .map_err(|e| io(format!("quicklook task failed: {e}")))??;
    let location = quicklook_location(dest, &id);
    store.put(&location, png).await?;
    Ok(Written {
        dataset: status.dataset.clone(),
        location: location.to_string(),
        variable,
    })
}
