//! `reference-server`: parse the command line, then serve or provision (see [`cli`]).

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use std::io::IsTerminal;

use reference_server::cli::{self, Cli, Command, StaffCommand, TenantCommand, UserCommand};
use reference_server::config;
use reference_server::observe::{self, logging, logging::LogFormat};

#[rocket::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let figment = config::figment();
    // One subscriber for the whole process, before anything logs (see `observe::logging`).
    match LogFormat::from_figment(&figment) {
        Ok(format) => logging::init(format),
        Err(e) => {
            logging::init(LogFormat::Text);
            return fail(&e);
        }
    }
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => {
            let mut rocket = reference_server::build(figment, Arc::new(idunox_keys::SystemClock));
            if demo {
                rocket = rocket.attach(cli::demo_stage());
            }
            rocket = rocket.attach(rocket::fairing::AdHoc::on_liftoff("Listening", |r| {
                Box::pin(async move {
                    let c = r.config();
                    // On stdout on purpose: scripts and tests read the address from it.
                    println!(
                        "idunox reference server listening on http://{}:{}",
                        c.address, c.port
                    );
                    tracing::info!(address = %c.address, port = c.port, "listening");
                })
            }));
            // SIGTERM or Ctrl-C: finish in-flight requests, write last-used times, exit 0.
            observe::shutdown::finish(rocket.launch().await).await
        }
        Command::Tenant {
            command: TenantCommand::Add { name },
        } => match cli::tenant_add(&figment, &name).await {
            Ok(tenant) => {
                println!("{}", tenant.id);
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Command::User {
            command:
                UserCommand::Add {
                    tenant,
                    email,
                    password_stdin,
                },
        } => {
            let (password, generated) = match new_password(password_stdin) {
                Ok(p) => p,
                Err(e) => return fail(&e),
            };
            match cli::user_add(&figment, &tenant, &email, &password).await {
                Ok(user) => {
                    println!("{}", user.id);
                    if generated {
                        println!("password: {} (shown once)", password.as_str());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::Staff {
            command:
                StaffCommand::Add {
                    email,
                    password_stdin,
                },
        } => {
            let (password, generated) = match new_password(password_stdin) {
                Ok(p) => p,
                Err(e) => return fail(&e),
            };
            match cli::staff::staff_add(&figment, &email, &password).await {
                Ok(enrolled) => {
                    let shown = generated.then_some(password.as_str());
                    let text = cli::staff::enrolment_text(
                        &enrolled,
                        shown,
                        std::io::stdout().is_terminal(),
                    );
                    print!("{}", text.as_str());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::Staff {
            command: StaffCommand::Disable { email },
        } => staff_disabled(&figment, &email, true).await,
        Command::Staff {
            command: StaffCommand::Enable { email },
        } => staff_disabled(&figment, &email, false).await,
    }
}

/// A new password from stdin (`--password-stdin`) or generated, checked; whether it was
/// generated (then it is printed once).
fn new_password(from_stdin: bool) -> Result<(zeroize::Zeroizing<String>, bool), cli::CliError> {
    let (password, generated) = if from_stdin {
        (cli::read_password_stdin()?, false)
    } else {
        (cli::generate_password(), true)
    };
    cli::check_password(&password)?;
    Ok((password, generated))
}

async fn staff_disabled(
    figment: &rocket::figment::Figment,
    email: &str,
    disabled: bool,
) -> ExitCode {
    match cli::staff::staff_set_disabled(figment, email, disabled).await {
        Ok(staff) => {
            println!("{}", staff.id);
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    tracing::error!("{e}");
    ExitCode::FAILURE
}
