//! The `worklet` command: render and check AudioWorkletProcessor scripts headlessly.

fn main() {
    let status = worklet::cli::run(std::env::args_os(), &mut std::io::stdout(), &mut std::io::stderr());
    std::process::exit(status);
}
