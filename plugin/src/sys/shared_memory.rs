//! A block of memory two threads or two processes share: on the heap (render
//! threads in the host's process) or a mapped file (an engine process). Any
//! thread; created on the control thread, used by the host's audio thread, the
//! render thread and the engine process.
//!
//! Everything that lives in a region is reached through [`Region::atomic_u32`],
//! [`Region::atomic_u64`] and the rings of [`super::ring`]: a region never hands
//! out plain references to memory that the other side may write.
//!
//! A mapped region is a file in `/dev/shm` (memory only) where there is one, in
//! the temporary folder elsewhere; the engine process removes it as soon as it
//! has mapped it, so nothing is left behind, whichever side dies first.

use std::cell::UnsafeCell;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Regions are laid out in cache lines of this many bytes (two 64-byte lines:
/// adjacent-line prefetchers pair them), so the two sides never write one line.
pub const LINE: usize = 128;

#[repr(C, align(128))]
struct Line(UnsafeCell<[u8; LINE]>);

enum Backing {
    Heap(#[allow(dead_code)] Box<[Line]>),
    Mapped(#[allow(dead_code)] memmap2::MmapMut),
}

/// Zeroed memory, `len` bytes, aligned to [`LINE`].
pub struct Region {
    base: NonNull<u8>,
    len: usize,
    _backing: Backing,
}

// SAFETY: the region's memory is only ever accessed through atomics or through
// the rings, whose single producer and single consumer own disjoint parts of it
// at any time (see `super::ring`). Moving the owner between threads moves nothing.
unsafe impl Send for Region {}
// SAFETY: as above; shared access goes through atomics only.
unsafe impl Sync for Region {}

impl Region {
    /// A region on the heap (both sides in this process).
    pub fn heap(len: usize) -> Self {
        let lines: Box<[Line]> = (0..len.div_ceil(LINE)).map(|_| Line(UnsafeCell::new([0; LINE]))).collect();
        // `UnsafeCell` makes the bytes writable through this shared pointer.
        let base = NonNull::new(lines.as_ptr() as *mut u8).unwrap_or(NonNull::dangling());
        Self { base, len, _backing: Backing::Heap(lines) }
    }

    /// A region in a new file of its own, for an engine process to open with
    /// [`Region::open`]. Returns the region and the file's path.
    pub fn create(len: usize) -> io::Result<(Self, PathBuf)> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let folder = if Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let name = format!("worklet-{}-{}-{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let path = folder.join(name);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path)?;
        let mapped = file.set_len(len as u64).and_then(|()| Self::map(&file, len));
        if mapped.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        Ok((mapped?, path))
    }

    /// Maps the region another process created, which must be `len` bytes, and
    /// removes its file (the mapping keeps the memory).
    pub fn open(path: &Path, len: usize) -> io::Result<Self> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let actual = file.metadata()?.len();
        if actual != len as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} holds {actual} bytes, not the {len} this layout needs", path.display()),
            ));
        }
        let region = Self::map(&file, len)?;
        std::fs::remove_file(path)?;
        Ok(region)
    }

    fn map(file: &File, len: usize) -> io::Result<Self> {
        // SAFETY: the file is ours (created with `create_new` and mode 0600, or
        // handed over by the process that did), sized to `len`, and never
        // truncated while mapped; all access to the mapping goes through atomics
        // and the rings, so another process writing it is not a data race on
        // memory Rust considers immutable.
        let mut map = unsafe { memmap2::MmapOptions::new().len(len.max(1)).map_mut(file)? };
        let base = NonNull::new(map.as_mut_ptr()).ok_or_else(|| io::Error::other("mmap returned null"))?;
        Ok(Self { base, len, _backing: Backing::Mapped(map) })
    }

    /// Its size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A pointer to byte `offset`, checked to leave room for `bytes` bytes aligned to `align`.
    pub(super) fn at(&self, offset: usize, bytes: usize, align: usize) -> *mut u8 {
        let end = offset.checked_add(bytes).expect("region offset overflows");
        assert!(end <= self.len, "bytes {offset}..{end} lie outside a region of {}", self.len);
        assert!(offset.is_multiple_of(align), "offset {offset} is not aligned to {align}");
        // SAFETY: `offset + bytes <= len`, checked above, so the result stays
        // inside the allocation or mapping.
        unsafe { self.base.as_ptr().add(offset) }
    }

    /// The 32-bit atomic at `offset` (a multiple of 4).
    pub fn atomic_u32(&self, offset: usize) -> &AtomicU32 {
        let pointer = self.at(offset, 4, 4) as *const AtomicU32;
        // SAFETY: in bounds and aligned (checked by `at`); the memory lives as
        // long as `self`; any bit pattern is a valid `AtomicU32`, and every access
        // to these bytes, from either side, is atomic.
        unsafe { &*pointer }
    }

    /// The 64-bit atomic at `offset` (a multiple of 8).
    pub fn atomic_u64(&self, offset: usize) -> &AtomicU64 {
        let pointer = self.at(offset, 8, 8) as *const AtomicU64;
        // SAFETY: as in `atomic_u32`, for 8 bytes aligned to 8.
        unsafe { &*pointer }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapped_region_is_shared_and_its_file_is_gone_once_opened() {
        let (created, path) = Region::create(4096).unwrap();
        assert!(path.exists());
        let opened = Region::open(&path, 4096).unwrap();
        assert!(!path.exists(), "the file is removed once both sides have it");
        created.atomic_u64(256).store(0xdead_beef_0123, Ordering::Release);
        assert_eq!(opened.atomic_u64(256).load(Ordering::Acquire), 0xdead_beef_0123);
        opened.atomic_u32(4092).store(7, Ordering::Release);
        assert_eq!(created.atomic_u32(4092).load(Ordering::Acquire), 7);
    }

    #[test]
    fn a_region_of_the_wrong_size_is_refused() {
        let (_created, path) = Region::create(4096).unwrap();
        let error = Region::open(&path, 8192).err().expect("a size mismatch is an error");
        assert!(error.to_string().contains("4096 bytes"), "{error}");
        let _ = std::fs::remove_file(path);
    }

    #[test]
    #[should_panic(expected = "outside a region")]
    fn out_of_bounds_access_panics_instead_of_reaching_other_memory() {
        Region::heap(64).atomic_u64(64);
    }

    #[test]
    fn heap_regions_are_zeroed_and_line_aligned() {
        let region = Region::heap(1000);
        assert_eq!(region.at(0, 0, 1) as usize % LINE, 0);
        assert!((0..1000 / 8).all(|i| region.atomic_u64(i * 8).load(Ordering::Relaxed) == 0));
    }
}
