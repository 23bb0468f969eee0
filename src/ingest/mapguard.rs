//! A memory-mapped input that another program shortens while it is read raises SIGBUS on the
//! first access past the new end. Mapping is therefore the program's choice, as in ripgrep:
//! once a program calls [`install`] (the `shuntscope` binary does, through
//! [`crate::allow_mmap`]), that signal becomes the usual one-line error naming the file, exit
//! code 2, instead of a bare "Bus error", and readers may map large files. Without [`install`]
//! ([`installed`] is false: a library or Python caller) nothing is mapped, so nothing can take
//! the process down; a file shortened while it is read is then an input error. Linux only:
//! elsewhere nothing is installed and nothing is mapped.
//!
//! Mapped ranges sit in a fixed table that the signal handler reads without locks or
//! allocation; a SIGBUS outside them goes to the handler that was there before.

#[cfg(target_os = "linux")]
mod imp {
    use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
    use std::sync::OnceLock;

    const SLOTS: usize = 64;
    /// A slot being filled in (not yet visible to the handler).
    const BUSY: usize = usize::MAX;

    struct Slot {
        /// Address of the mapping; 0 when free.
        start: AtomicUsize,
        len: AtomicUsize,
        name: AtomicPtr<u8>,
        name_len: AtomicUsize,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const FREE: Slot = Slot {
        start: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        name: AtomicPtr::new(std::ptr::null_mut()),
        name_len: AtomicUsize::new(0),
    };
    static TABLE: [Slot; SLOTS] = [FREE; SLOTS];
    /// The SIGBUS action before ours.
    static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

    /// Keeps a mapping registered until dropped.
    pub struct Guard {
        slot: Option<usize>,
        _name: Box<[u8]>,
    }

    impl Guard {
        pub(super) fn covered(&self) -> bool {
            self.slot.is_some()
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            if let Some(k) = self.slot {
                TABLE[k].start.store(0, Ordering::Release);
            }
        }
    }

    /// Register `len` mapped bytes at `start`, read from the file the user calls `name`.
    pub fn register(start: *const u8, len: usize, name: &str) -> Guard {
        let name: Box<[u8]> = format!("error: {name}: ").into_bytes().into();
        for (k, s) in TABLE.iter().enumerate() {
            if s.start
                .compare_exchange(0, BUSY, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                s.name.store(name.as_ptr() as *mut u8, Ordering::Release);
                s.name_len.store(name.len(), Ordering::Release);
                s.len.store(len, Ordering::Release);
                s.start.store(start as usize, Ordering::Release);
                return Guard {
                    slot: Some(k),
                    _name: name,
                };
            }
        }
        // A full table: that file keeps the default behaviour.
        Guard {
            slot: None,
            _name: name,
        }
    }

    /// Has this process installed the handler (and so opted in to mapped reads)?
    pub fn installed() -> bool {
        PREVIOUS.get().is_some()
    }

    /// Install the SIGBUS handler (once; later calls do nothing).
    pub fn install() {
        PREVIOUS.get_or_init(|| {
            // SAFETY: plain sigaction calls with zeroed, then filled-in, structures.
            unsafe {
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_sigbus as *const () as usize;
                new.sa_flags = libc::SA_SIGINFO;
                libc::sigemptyset(&mut new.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                libc::sigaction(libc::SIGBUS, &new, &mut old);
                old
            }
        });
    }

    fn write_stderr(bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            // SAFETY: write(2) is async-signal-safe; the buffer is valid for its length.
            let n = unsafe { libc::write(2, rest.as_ptr() as *const libc::c_void, rest.len()) };
            if n <= 0 {
                return;
            }
            rest = &rest[n as usize..];
        }
    }

    extern "C" fn on_sigbus(
        _sig: libc::c_int,
        info: *mut libc::siginfo_t,
        _ctx: *mut libc::c_void,
    ) {
        // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
        let addr = unsafe { (*info).si_addr() } as usize;
        for s in TABLE.iter() {
            let start = s.start.load(Ordering::Acquire);
            if start == 0 || start == BUSY {
                continue;
            }
            if addr >= start && addr - start < s.len.load(Ordering::Acquire) {
                let (p, n) = (
                    s.name.load(Ordering::Acquire),
                    s.name_len.load(Ordering::Acquire),
                );
                // SAFETY: the name outlives the slot's registration (freed after it is cleared).
                write_stderr(unsafe { std::slice::from_raw_parts(p, n) });
                write_stderr(
                    b"the file was shortened by another program while it was read (memory-mapped): \
                      run again with --no-mmap\n",
                );
                // SAFETY: _exit is async-signal-safe.
                unsafe { libc::_exit(2) };
            }
        }
        // Not one of ours: put the previous action back; the faulting access runs again and
        // meets it.
        if let Some(old) = PREVIOUS.get() {
            // SAFETY: restoring the action saved by `install`.
            unsafe { libc::sigaction(libc::SIGBUS, old, std::ptr::null_mut()) };
        }
    }
}

#[cfg(target_os = "linux")]
impl imp::Guard {
    /// Did the mapping find a slot in the table (so the handler covers it)?
    pub fn covers(&self) -> bool {
        self.covered()
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    /// Nothing to keep where no handler is installed.
    pub struct Guard;

    impl Guard {
        /// Never covered: nothing is mapped here.
        pub fn covers(&self) -> bool {
            false
        }
    }

    pub fn register(_start: *const u8, _len: usize, _name: &str) -> Guard {
        Guard
    }

    /// Nothing is installed here, and so nothing is mapped.
    pub fn install() {}

    /// Never: nothing is mapped here.
    pub fn installed() -> bool {
        false
    }
}

pub use imp::{install, installed, register, Guard};
