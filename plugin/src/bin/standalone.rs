//! `worklet-standalone`: the plugin with its editor as an application.

fn main() {
    // Its engine processes are this executable again.
    worklet::render::engine_launcher::dispatch();
    nice_plug::prelude::nice_export_standalone::<worklet::plugin::Worklet>();
}
