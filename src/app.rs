//! The App process: opens the store, serves the intake and runs the workers until told to stop.

use crate::config::{ConfigError, DATABASE_URL, LISTEN, PRIVATE_KEY, Settings, WORK_DIR};
use crate::github::{ClientSettings, GitHub};
use crate::job::{Acknowledger, Runner, ScanSettings};
use crate::queue::{Store, StoreSettings, Triggers};
use crate::server::{Intake, serve};
use crate::worker::{self, WorkerSettings};
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Runs the App until SIGTERM or Ctrl-C: opens the store named by the settings, serves the routes
/// and runs the workers. A failure names the setting at fault, in one line.
pub async fn run(settings: &Settings) -> Result<(), ConfigError> {
    std::fs::create_dir_all(&settings.work_dir).map_err(|e| {
        ConfigError(format!(
            "{WORK_DIR}: cannot create {}: {}",
            settings.work_dir.display(),
            e.kind()
        ))
    })?;
    let github = GitHub::new(
        settings.app_id,
        &settings.private_key,
        ClientSettings::new(&settings.github_api_url),
    )
    .map_err(|e| ConfigError(format!("{PRIVATE_KEY}: {e}")))?;
    let github = Arc::new(github);
    let app_slug = if settings.app_slug_set {
        settings.app_slug.clone()
    } else {
        app_slug(&github, &settings.app_slug).await
    };
    let triggers = Triggers {
        app_slug: app_slug.clone(),
        ..Triggers::default()
    };
    let store_settings = StoreSettings {
        triggers: triggers.clone(),
        ..StoreSettings::default()
    };
    let store = Store::connect_with(settings.database_url.expose_secret(), store_settings)
        .await
        .map_err(|e| ConfigError(format!("{DATABASE_URL}: cannot open the database: {e}")))?;
    let acknowledger = Arc::new(Acknowledger::new(github.clone(), triggers));
    let intake = Arc::new(
        Intake::new(store.clone(), &settings.webhook_secret).with_acknowledger(acknowledger),
    );

    let runner = Runner::new(github, settings.work_dir.clone(), &app_slug).with_scan_settings(
        ScanSettings {
            build: settings.build.clone(),
        },
    );
    let runner = Arc::new(runner);
    let (stop, stopped) = watch::channel(false);
    let workers = tokio::spawn(worker::run(
        store,
        runner,
        WorkerSettings::new(settings.workers, settings.job_lease),
        stopped,
    ));
    let served = serve(settings.listen, intake, shutdown_signal()).await;
    // Running jobs get a moment to finish; any still running keep their lease and are taken
    // again by the next process once it expires.
    let _ = stop.send(true);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, workers).await;
    served.map_err(|e| {
        ConfigError(format!(
            "{LISTEN}: cannot serve on {}: {e}",
            settings.listen
        ))
    })
}

/// How long a stopping process waits for its running jobs.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// The App's slug as GitHub knows it (it decides the bot's login and `@` mentions); the configured
/// one when GitHub cannot be asked right now.
async fn app_slug(github: &GitHub, configured: &str) -> String {
    match tokio::time::timeout(Duration::from_secs(10), github.app_slug()).await {
        Ok(Ok(slug)) => {
            if slug != configured {
                tracing::info!(slug = %slug, "using the App's slug from GitHub");
            }
            slug
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, slug = configured, "cannot ask GitHub for the App's slug");
            configured.to_string()
        }
        Err(_) => {
            tracing::warn!(
                slug = configured,
                "GitHub did not tell the App's slug in time"
            );
            configured.to_string()
        }
    }
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
