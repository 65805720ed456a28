//! `reference-server`: parse the command line, then serve or provision (see [`cli`]).

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use reference_server::cli::{self, Cli, Command, TenantCommand, UserCommand};
use reference_server::config;

#[rocket::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let figment = config::figment();
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => {
            let mut rocket = reference_server::build(figment, Arc::new(idunox_keys::SystemClock));
            if demo {
                rocket = rocket.attach(cli::demo_stage());
            }
            rocket = rocket.attach(rocket::fairing::AdHoc::on_liftoff("Listening", |r| {
                Box::pin(async move {
                    let c = r.config();
                    println!(
                        "idunox reference server listening on http://{}:{}",
                        c.address, c.port
                    );
                })
            }));
            match rocket.launch().await {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    e.pretty_print();
                    eprintln!("error: the server could not start: {e}");
                    ExitCode::FAILURE
                }
            }
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
            let (password, generated) = if password_stdin {
                match cli::read_password_stdin() {
                    Ok(p) => (p, false),
                    Err(e) => return fail(&e),
                }
            } else {
                (cli::generate_password(), true)
            };
            if let Err(e) = cli::check_password(&password) {
                return fail(&e);
            }
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
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}
