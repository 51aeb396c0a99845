//! The `worklet` command: render and check AudioWorkletProcessor scripts headlessly.
//!
//! The command runs on a thread with a realm's stack ([`worklet::engine::STACK_BYTES`]),
//! as the plugin's render threads do, so deep scripts fail the same way in both.

fn main() {
    // An engine process started for one generation runs and exits here.
    worklet::render::engine_launcher::dispatch();
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
