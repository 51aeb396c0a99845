//! `cargo xtask bundle worklet --release`: builds the CLAP and VST3 bundles
//! described in `bundler.toml` into `target/bundled/`.

fn main() -> nice_plug_xtask::Result<()> {
    nice_plug_xtask::main()
}
