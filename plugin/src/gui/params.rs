//! The parameters panel (GUI thread): one slider per mapped descriptor, bound
//! to its host slot. Host automation moves the slider (it reads the slot every
//! frame); dragging it goes through nice-plug's `ParamSetter`, so the host
//! records the gesture as automation.

use egui::{RichText, Ui};
use nice_plug::prelude::*;

use crate::plugin::params::WorkletParams;
use crate::render::PARAM_SLOTS;

/// Shows the sliders; `setter` is `None` before the editor is built.
pub(super) fn show(ui: &mut Ui, params: &WorkletParams, setter: Option<&ParamSetter<'_>>) {
    ui.strong("Parameters");
    let mut any = false;
    egui::Grid::new("worklet-params").num_columns(2).spacing([8.0, 4.0]).show(ui, |ui| {
        for slot in 0..PARAM_SLOTS {
            let Some(name) = params.table.name(slot) else { continue };
            any = true;
            let param = &params.slots[slot].value;
            let mut normalized = param.unmodulated_normalized_value();
            ui.label(RichText::new(&name).monospace()).on_hover_text(format!("host slot {}", slot + 1));
            ui.vertical(|ui| {
                let slider = egui::Slider::new(&mut normalized, 0.0..=1.0).show_value(false);
                let response = ui.add(slider);
                if let Some(setter) = setter {
                    if response.drag_started() {
                        setter.begin_set_parameter(param);
                    }
                    if response.changed() {
                        if !response.dragged() {
                            setter.begin_set_parameter(param);
                        }
                        setter.set_parameter_normalized(param, normalized);
                        if !response.dragged() {
                            setter.end_set_parameter(param);
                        }
                    }
                    if response.drag_stopped() {
                        setter.end_set_parameter(param);
                    }
                    if response.double_clicked() {
                        setter.begin_set_parameter(param);
                        setter.set_parameter_normalized(param, param.default_normalized_value());
                        setter.end_set_parameter(param);
                    }
                }
                let text = param.normalized_value_to_string(param.unmodulated_normalized_value(), true);
                let value = text.split_once(": ").map_or(text.as_str(), |(_, v)| v);
                ui.label(RichText::new(value).weak().small());
            });
            ui.end_row();
        }
    });
    if !any {
        ui.label(RichText::new("The processor has no parameterDescriptors.").weak());
    }
}
