//! `faultline hash-password`: the argon2id PHC string of a password, for
//! `[[api.auth.users]] password_hash`. On a terminal the password is asked twice without echo;
//! otherwise the first line of standard input is the password (`printf %s "$PW" | faultline
//! hash-password`). The password never appears on the command line.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_: Args) -> ExitCode {
    match read_password().and_then(|p| faultline_collector::hash_password(&p)) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn read_password() -> Result<String, String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")
            .map_err(|e| format!("cannot read the password: {e}"))?;
        let again = rpassword::prompt_password("Again: ")
            .map_err(|e| format!("cannot read the password: {e}"))?;
        if first != again {
            return Err("the two passwords differ".into());
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        let line = line.strip_suffix('\n').unwrap_or(&line);
        line.strip_suffix('\r').unwrap_or(line).to_string()
    };
    if password.is_empty() {
        return Err("the password is empty".into());
    }
    Ok(password)
}
