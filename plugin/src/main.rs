//! The `worklet` command: render and check AudioWorkletProcessor scripts headlessly.
//!
//! The command runs on a thread with a realm's stack ([`worklet::engine::STACK_BYTES`]),
//! as the plugin's render threads do, so deep scripts fail the same way in both.

fn main() {
    // An engine process the plugin (or `worklet render`) started for one generation.
    if std::env::var_os(worklet::render::engine_process::ENGINE_ENV)
        .is_some_and(|v| v == worklet::render::engine_process::GENERATION)
    {
        std::process::exit(worklet::render::engine_child::main());
    }
    let cli = std::thread::Builder::new()
        .name("worklet".to_owned())
        .stack_size(worklet::engine::STACK_BYTES)
        .spawn(|| worklet::cli::run(std::env::args_os(), &mut std::io::stdout(), &mut std::io::stderr()));
    let status = match cli.map(std::thread::JoinHandle::join) {
        Ok(Ok(status)) => status,
        Ok(Err(_)) => worklet::cli::EXIT_FAILURE,
        Err(error) => {
            eprintln!("worklet: cannot start: {error}");
            worklet::cli::EXIT_FAILURE
        }
    };
    std::process::exit(status);
}
