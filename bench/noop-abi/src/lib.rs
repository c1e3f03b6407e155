//! The no-op with bucket-cors's export set (see Cargo.toml): every callback
//! returns at once; no host call.

use std::alloc::{alloc, Layout};
use std::ptr::null_mut;

#[no_mangle]
pub extern "C" fn proxy_abi_version_0_2_1() {}

#[cfg(target_os = "wasi")]
extern "C" {
    fn __wasm_call_ctors();
}

#[no_mangle]
pub extern "C" fn _initialize() {
    // SAFETY: called once, first, as wasi-libc's reactor start-up expects.
    #[cfg(target_os = "wasi")]
    unsafe {
        __wasm_call_ctors()
    };
}

/// Never called (no host call returns data), but part of the ABI.
#[no_mangle]
pub extern "C" fn proxy_on_memory_allocate(size: usize) -> *mut u8 {
    match Layout::array::<u8>(size) {
        // SAFETY: non-zero size, alignment 1.
        Ok(layout) if size > 0 => unsafe { alloc(layout) },
        _ => null_mut(),
    }
}

#[no_mangle]
pub extern "C" fn proxy_on_context_create(_id: u32, _parent_id: u32) {}

#[no_mangle]
pub extern "C" fn proxy_on_vm_start(_id: u32, _size: usize) -> u32 {
    1
}

#[no_mangle]
pub extern "C" fn proxy_on_configure(_id: u32, _size: usize) -> u32 {
    1
}

#[no_mangle]
pub extern "C" fn proxy_on_request_headers(_id: u32, _n: usize, _eos: u32) -> u32 {
    0
}

#[no_mangle]
pub extern "C" fn proxy_on_response_headers(_id: u32, _n: usize, _eos: u32) -> u32 {
    0
}

#[no_mangle]
pub extern "C" fn proxy_on_delete(_id: u32) {}
