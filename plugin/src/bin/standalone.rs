//! `worklet-standalone`: the plugin with its editor as an application.

fn main() {
    nice_plug::prelude::nice_export_standalone::<worklet::plugin::Worklet>();
}
