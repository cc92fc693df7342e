//! The App process: opens the store, serves the intake and runs the workers until told to stop.

use crate::config::{ConfigError, DATABASE_URL, LISTEN, Settings, WORK_DIR};
use crate::server::{Intake, serve};
use secrecy::ExposeSecret;
use std::sync::Arc;

/// Runs the App until SIGTERM or Ctrl-C: opens the store named by the settings and serves the
/// routes. A failure names the setting at fault, in one line.
pub async fn run(settings: &Settings) -> Result<(), ConfigError> {
    std::fs::create_dir_all(&settings.work_dir).map_err(|e| {
        ConfigError(format!(
            "{WORK_DIR}: cannot create {}: {}",
            settings.work_dir.display(),
            e.kind()
        ))
    })?;
    let store = crate::queue::Store::connect(settings.database_url.expose_secret())
        .await
        .map_err(|e| ConfigError(format!("{DATABASE_URL}: cannot open the database: {e}")))?;
    let intake = Arc::new(Intake::new(store, &settings.webhook_secret));
    serve(settings.listen, intake, shutdown_signal())
        .await
        .map_err(|e| {
            ConfigError(format!(
                "{LISTEN}: cannot serve on {}: {e}",
                settings.listen
            ))
        })
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` and Kubernetes send).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down after the requests in flight");
}
