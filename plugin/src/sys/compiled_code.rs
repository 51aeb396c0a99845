//! Compiled WebAssembly read back from the user's cache (the realm's thread,
//! while a generation is built).
//!
//! Each generation of a plugin instance renders in an engine process of its own,
//! so a module compiled for one generation would be compiled again for the next
//! (every hot swap) unless the machine code is kept on disk.
//! `wasmtime::Module::deserialize` loads such code without compiling; it is
//! `unsafe` because it trusts that the bytes are what `Module::serialize` wrote.

/// The module whose machine code `artifact` holds.
///
/// The caller passes only bytes that this program wrote with
/// `Module::serialize` and whose SHA-256 it recorded and checked on reading (see
/// `engine::wasm::disk_cache`), so a torn, truncated or damaged file never reaches
/// this function.
pub fn load(engine: &wasmtime::Engine, artifact: &[u8]) -> wasmtime::Result<wasmtime::Module> {
    // SAFETY: `artifact` is the unaltered output of `Module::serialize` (checked by
    // its SHA-256, written next to it by the same program). The folder it comes
    // from is the user's own cache, as trusted as the engine launcher beside it,
    // which the plugin runs. wasmtime itself refuses artifacts of another version,
    // target or configuration with an error rather than loading them.
    unsafe { wasmtime::Module::deserialize(engine, artifact) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_code_loads_back_and_other_bytes_are_refused() {
        let engine = wasmtime::Engine::default();
        let bytes = [0, b'a', b's', b'm', 1, 0, 0, 0];
        let module = wasmtime::Module::new(&engine, bytes).expect("an empty module compiles");
        let artifact = module.serialize().expect("serializes");
        let loaded = load(&engine, &artifact).expect("loads back");
        assert_eq!(loaded.exports().count(), 0);
        assert!(load(&engine, b"not compiled code").is_err(), "wasmtime checks the header");
    }
}
