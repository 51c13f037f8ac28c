//! `gallery serve | migrate | create-admin --username NAME | openapi`

use std::io::{BufRead as _, IsTerminal as _};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use gallery_domain::{DomainError, Password, Username};
use gallery_server::app::{Services, Shared};
use gallery_server::settings::TelemetrySettings;
use gallery_server::{Application, Settings, telemetry};
use secrecy::ExposeSecret as _;

#[derive(Debug, Parser)]
#[command(name = "gallery", version, about = "Gallery: a multi-user image gallery REST API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Create an active admin; the password comes from GALLERY_ADMIN_PASSWORD, else stdin.
    CreateAdmin {
        #[arg(long)]
        username: String,
    },
    /// Print the OpenAPI document to standard output.
    Openapi,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Some(Command::Openapi)) {
        return print_openapi();
    }
    let settings = match Settings::load(&Settings::config_dir()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gallery: configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    // Traces are the server's; the one-shot commands only log.
    let traced =
        if matches!(command, Command::Serve) { settings.telemetry.clone() } else { TelemetrySettings::default() };
    let traces = match telemetry::init(&settings.log, &traced) {
        Ok(traces) => traces,
        Err(e) => {
            eprintln!("gallery: configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let result = actix_web::rt::System::new().block_on(run(command, settings));
    if let Some(traces) = traces {
        traces.shutdown();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gallery: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let app = Application::build(&settings)?;
            tracing::info!(host = %settings.server.host, port = app.port(), env = %settings.environment, "gallery listening");
            app.run_until_stopped().await?;
            tracing::info!("gallery stopped");
            Ok(())
        }
        Command::Migrate => {
            let applied = gallery_postgres::migrate(settings.database.url.expose_secret())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
                .context("migrating the database")?;
            if applied.is_empty() {
                eprintln!("gallery: the database is up to date");
            }
            for version in applied {
                eprintln!("gallery: applied migration {version}");
            }
            Ok(())
        }
        Command::CreateAdmin { username } => create_admin(&settings, &username).await,
        Command::Openapi => unreachable!("handled before the configuration is loaded"),
    }
}

async fn create_admin(settings: &Settings, username: &str) -> anyhow::Result<()> {
    let username = Username::parse(username).map_err(|e| anyhow::anyhow!("--username {e}"))?;
    let raw = match std::env::var("GALLERY_ADMIN_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            if std::io::stdin().is_terminal() {
                eprint!("Password for {}: ", username.as_str());
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let password = Password::choose(&raw, username.as_str()).map_err(|e| anyhow::anyhow!("the password {e}"))?;
    let services = Services::build(&Shared::build(settings)?)?;
    match services.users.provision_admin(username.clone(), password).await {
        Ok(user) => {
            eprintln!("gallery: created admin {} ({})", user.username.as_str(), user.id);
            Ok(())
        }
        Err(DomainError::UsernameTaken) => {
            anyhow::bail!("the username {} is already taken", username.as_str())
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

/// Needs no configuration or database: the document is made from the code.
fn print_openapi() -> ExitCode {
    use std::io::Write as _;
    let Ok(json) = gallery_http::openapi().to_pretty_json() else {
        eprintln!("gallery: could not serialise the OpenAPI document");
        return ExitCode::FAILURE;
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{json}").is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
