use arrayvec::ArrayVec;
use itertools::Itertools;
use std::{cell::Cell, fmt};

use boa_gc::GcRefCell;
use boa_macros::{Finalize, Trace};

use crate::{
    JsObject, JsString, JsValue,
    object::shape::{
        Shape, WeakShape,
        slot::{Slot, SlotAttributes},
    },
};

#[cfg(test)]
mod tests;

pub(crate) const PIC_CAPACITY: usize = 4;

/// A cached shape-to-slot mapping for a polymorphic inline cache.
#[derive(Clone, Debug, Trace, Finalize)]
pub(crate) struct CacheEntry {
    /// A weak reference is kept to the shape to avoid the shape preventing deallocation.
    pub(crate) shape: WeakShape,
    /// The shape's address when the entry was made. While `shape` is alive no other
    /// shape can have this address, so a live entry is matched without upgrading it.
    #[unsafe_ignore_trace]
    pub(crate) shape_addr: usize,
    #[unsafe_ignore_trace]
    pub(crate) slot: Slot,
    /// For a slot in the prototype: the prototype's shape when the entry was made.
    ///
    /// Deleting a prototype's property, changing its kind or the prototype's own
    /// prototype gives the prototype a new shape, and moves its slots; the entry is then
    /// stale although the object's own shape did not change.
    pub(crate) prototype_shape: Option<WeakShape>,
}

/// An inline cache entry for a property access.
#[derive(Clone, Debug, Trace, Finalize)]
pub(crate) struct InlineCache {
    /// The property that is accessed.
    pub(crate) name: JsString,

    /// Multiple cached shape-to-slot entries.
    pub(crate) entries: GcRefCell<ArrayVec<CacheEntry, PIC_CAPACITY>>,

    /// Whether this access site has seen too many shapes and should no longer be cached.
    #[unsafe_ignore_trace]
    pub(crate) megamorphic: Cell<bool>,
}

impl fmt::Display for InlineCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(name:{} entries:", self.name.display_escaped())?;

        if self.megamorphic.get() {
            return write!(f, "(megamorphic))");
        }

        let entries = self.entries.borrow();
        let entries = entries.iter().map(|e| e.shape.to_addr_usize()).format(", ");

        write!(f, "({entries:#x}))")
    }
}

impl InlineCache {
    pub(crate) fn new(name: JsString) -> Self {
        Self {
            name,
            entries: GcRefCell::new(ArrayVec::new()),
            megamorphic: Cell::new(false),
        }
    }

    pub(crate) fn set(&self, shape: &Shape, slot: Slot) {
        if self.megamorphic.get() {
            return;
        }

        let mut entries = self.entries.borrow_mut();

        let prototype_shape = if slot.attributes.contains(SlotAttributes::PROTOTYPE) {
            // A unique shape takes a new own property in place: one that shadows the
            // prototype's would leave the entry pointing at the prototype's slot.
            if shape.is_unique() {
                return;
            }
            let Some(prototype) = shape.prototype() else {
                return;
            };
            Some(WeakShape::from(prototype.borrow().shape()))
        } else {
            None
        };

        // Add a new entry if there's space.
        if entries
            .try_push(CacheEntry {
                shape: shape.into(),
                shape_addr: shape.to_addr_usize(),
                slot,
                prototype_shape,
            })
            .is_err()
        {
            // Polymorphic cache is full, transition to megamorphic.
            self.megamorphic.set(true);
            entries.clear();
        }
    }

    /// Returns the value of an own data property of `object` when its shape is cached.
    ///
    /// Unlike [`Self::get`], this takes no reference to any shape and removes no stale
    /// entry: it answers `None` for a slot in the prototype, an accessor, or an entry
    /// whose shape has died, and the caller then takes the general path.
    #[inline]
    pub(crate) fn get_own_data(&self, object: &JsObject) -> Option<JsValue> {
        if self.megamorphic.get() {
            return None;
        }

        let object = object.borrow();
        let shape_addr = object.shape().to_addr_usize();
        let entries = self.entries.borrow();
        let entry = entries
            .iter()
            .find(|entry| entry.shape_addr == shape_addr)?;
        let own_data = !entry.slot.attributes.in_prototype()
            && !entry.slot.attributes.is_accessor_descriptor();

        // The address identifies the shape only while the entry's shape is alive.
        if !own_data || !entry.shape.is_alive() {
            return None;
        }
        Some(object.properties().storage[entry.slot.index as usize].clone())
    }

    /// Returns the cached `(Shape, Slot)` if a matching shape exists in the inline cache.
    ///
    /// Opportunistically cleans up stale weak shape references during lookup.
    pub(crate) fn get(&self, shape: &Shape) -> Option<(Shape, Slot)> {
        if self.megamorphic.get() {
            return None;
        }

        let mut entries = self.entries.borrow_mut();
        let mut i = 0;
        let mut result = None;
        let shape_addr = shape.to_addr_usize();

        while i < entries.len() {
            if let Some(upgraded) = entries[i].shape.upgrade() {
                if upgraded.to_addr_usize() == shape_addr {
                    if !prototype_unchanged(&upgraded, entries[i].prototype_shape.as_ref()) {
                        // The prototype changed under the entry: drop it.
                        entries.swap_remove(i);
                        break;
                    }
                    result = Some((upgraded, entries[i].slot));
                    break;
                }
                i += 1;
            } else {
                // Opportunistically clean up stale weak shapes.
                entries.swap_remove(i);
            }
        }

        result
    }
}

/// Whether `shape`'s prototype still has the shape an entry recorded (always true for an
/// entry of an own slot, which records none).
fn prototype_unchanged(shape: &Shape, recorded: Option<&WeakShape>) -> bool {
    let Some(recorded) = recorded else {
        return true;
    };
    shape.prototype().is_some_and(|prototype| {
        let current = prototype.borrow().shape().to_addr_usize();
        current != 0 && recorded.to_addr_usize() == current
    })
}
