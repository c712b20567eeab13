//! The binary's edge: color-eyre for errors, clap for arguments; everything else is the library.

use std::process::ExitCode;

use clap::Parser;

use breakglass::cli::{Cli, run};
use breakglass::exit::Exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = color_eyre::install() {
        eprintln!("breakglass: {e}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("breakglass: cannot start the async runtime: {e}");
            return Exit::Error.into();
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("breakglass: {e:?}");
            Exit::Error.into()
        }
    }
}
