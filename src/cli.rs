//! The process entry: parse the command line, dispatch, and turn the result into an exit code
//! (printing the error, never panicking).

use std::ffi::OsString;
use std::sync::Arc;

use crate::ci::console::Console;
use crate::ci::runner;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::inputs::argv::{self, Invocation};
use crate::inputs::hint::{self, Syntax};
use crate::inputs::{Inputs, args, help};

pub fn main() -> std::process::ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let parsed = argv::parse(args);
    let verbose = matches!(&parsed, Ok(Invocation::Run(r)) if r.verbose);
    let console = Arc::new(Console::from_env(verbose));
    hint::init(if console.is_github() { Syntax::Action } else { Syntax::Cli });
    let result = match parsed {
        Ok(invocation) => dispatch(invocation, &console),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(err) => {
            console.error(err.title(), &err.report());
            err.exit().into()
        }
    }
}

fn dispatch(invocation: Invocation, console: &Arc<Console>) -> Result<Exit> {
    match invocation {
        Invocation::Usage => {
            eprint!("{}", help::usage());
            eprintln!("\nRun `workers-ci help` for every input, output and exit code.");
            Ok(Exit::BadInput)
        }
        Invocation::Help(topic) => {
            print!("{}", help::help(topic));
            Ok(Exit::Success)
        }
        Invocation::Version => {
            println!("workers-ci {}", env!("CARGO_PKG_VERSION"));
            Ok(Exit::Success)
        }
        Invocation::Run(run) => {
            let env = |k: &str| std::env::var(k).ok();
            let mut inputs = Inputs::collect(run.flags, &env);
            crate::run::apply_github_context(&mut inputs, runner::Context::from_env(&env));
            let command = args::command(run.command, &inputs)?;
            block_on(crate::run::run(command, inputs, console, None, &|k| std::env::var(k).ok()))?;
            Ok(Exit::Success)
        }
        #[cfg(feature = "simulator")]
        Invocation::Simulate(s) => block_on(crate::demo::simulate(s, console)),
        #[cfg(feature = "simulator")]
        Invocation::Demo(d) => block_on(crate::demo::demo(d, console)),
        #[cfg(not(feature = "simulator"))]
        Invocation::Simulate(_) | Invocation::Demo(_) => Err(crate::inputs::InputError::arguments(
            "this binary was built without the `simulator` feature, so `simulate` and `demo` are not available",
        )
        .into()),
    }
}

/// The current-thread runtime every command runs on.
fn block_on<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal("could not start the async runtime", e))?
        .block_on(work)
}
