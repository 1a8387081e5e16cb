//! build.rs of gmprt-sys: find gmprt's header and library, tell cargo how to
//! link it, and generate the raw bindings from the header with bindgen.
//!
//! Where the library comes from, first match wins:
//!
//! 1. `GMPRT_LIB_DIR` (the directory holding `libgmprt.so` / `libgmprt.a`)
//!    and `GMPRT_INCLUDE_DIR` (the one holding `gmprt.h`; defaults to the
//!    repository's `capi/include`). The project's CMake build sets both.
//! 2. pkg-config: the installed library (`make install`), module `gmprt`.
//! 3. The repository this crate sits in: `capi/include/gmprt.h` and the
//!    default build directory `build/` made by `make` at the top.
//!
//! Linking is dynamic (`-lgmprt`) unless `GMPRT_STATIC=1`, which links
//! `libgmprt.a` (it needs no C++ runtime, only `-pthread`). For a dynamic
//! link from a directory found by rule 1 or 3, the shared library is
//! symlinked into `OUT_DIR/lib`, inside cargo's target directory, so that
//! `cargo run` and `cargo test` (doc tests included) find it at run time
//! without `LD_LIBRARY_PATH`: cargo adds such directories to the loader's
//! path. The directory is exported to dependents as `DEP_GMPRT_LIB_DIR`.

use std::env;
use std::path::{Path, PathBuf};

fn main() {
    for var in ["GMPRT_LIB_DIR", "GMPRT_INCLUDE_DIR", "GMPRT_STATIC"] {
        println!("cargo:rerun-if-env-changed={}", var);
    }
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    // The repository's top directory, when this crate is built in place.
    let repo = manifest.join("../../..");
    let in_tree_header = repo.join("capi/include/gmprt.h");
    let statik = env::var("GMPRT_STATIC").map(|v| v == "1").unwrap_or(false);

    let include_dir = if let Some(lib_dir) = env::var_os("GMPRT_LIB_DIR") {
        let include = env::var_os("GMPRT_INCLUDE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo.join("capi/include"));
        link_from_dir(Path::new(&lib_dir), &out, statik);
        include
    } else {
        match pkg_config::Config::new()
            .atleast_version("0.1")
            .statik(statik)
            .probe("gmprt")
        {
            Ok(lib) => {
                // pkg-config has printed the cargo:rustc-link-* lines.
                if let Some(dir) = lib.link_paths.first() {
                    println!("cargo:lib_dir={}", dir.display());
                }
                lib.include_paths
                    .iter()
                    .find(|p| p.join("gmprt.h").is_file())
                    .cloned()
                    .unwrap_or_else(|| PathBuf::from("/usr/include"))
            }
            Err(err) if in_tree_header.is_file() => {
                let build = repo.join("build");
                if !build.join("libgmprt.so").exists() && !build.join("libgmprt.a").exists() {
                    panic!(
                        "gmprt-sys: pkg-config found no gmprt ({}) and the in-tree build {} has no \
                         libgmprt; run `make` at the repository's top, or set GMPRT_LIB_DIR",
                        err,
                        build.display()
                    );
                }
                link_from_dir(&build, &out, statik);
                repo.join("capi/include")
            }
            Err(err) => panic!(
                "gmprt-sys: gmprt not found: {}\n(install it with `make install`, or set \
                 GMPRT_LIB_DIR and GMPRT_INCLUDE_DIR)",
                err
            ),
        }
    };

    let header = include_dir.join("gmprt.h");
    println!("cargo:rerun-if-changed={}", header.display());
    println!("cargo:include={}", include_dir.display());
    generate(&header, &include_dir, &out.join("bindings.rs"));
}

/// link_from_dir: the cargo lines for linking gmprt from `dir`, a directory
/// given by GMPRT_LIB_DIR or the in-tree build.
fn link_from_dir(dir: &Path, out: &Path, statik: bool) {
    let dir = dir
        .canonicalize()
        .unwrap_or_else(|e| panic!("gmprt-sys: {}: {}", dir.display(), e));
    println!(
        "cargo:rerun-if-changed={}",
        dir.join("libgmprt.a").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        dir.join("libgmprt.so").display()
    );
    println!("cargo:lib_dir={}", dir.display());
    if statik {
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-lib=static=gmprt");
        println!("cargo:rustc-link-lib=dylib=pthread");
        return;
    }
    // Symlinks to the shared library (both names: the linker wants
    // libgmprt.so, the loader the SONAME libgmprt.so.0) inside OUT_DIR.
    let lib = out.join("lib");
    std::fs::create_dir_all(&lib).expect("create OUT_DIR/lib");
    for name in ["libgmprt.so", "libgmprt.so.0"] {
        let link = lib.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(dir.join(name), &link)
            .unwrap_or_else(|e| panic!("gmprt-sys: symlink {}: {}", link.display(), e));
    }
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-lib=dylib=gmprt");
}

/// CONSTS_H: the header's size constants that are written with a cast
/// (`((size_t)256 * 1024)`), which bindgen's macro evaluation skips. As
/// enumerators clang evaluates them, and bindgen takes the values; lib.rs
/// re-exports them under the header's names as `usize`.
const CONSTS_H: &str = "#include <gmprt.h>
enum {
  GMPRT_SYS_STACK_DEFAULT = GMP_STACK_DEFAULT,
  GMPRT_SYS_STACK_MIN = GMP_STACK_MIN,
  GMPRT_SYS_STACK_MAX = GMP_STACK_MAX,
  GMPRT_SYS_CHAN_ELEM_MAX = GMP_CHAN_ELEM_MAX
};
";

/// generate: run bindgen over gmprt.h. Only the gmp_ / GMP_ / GMPRT_ names
/// are taken; the POSIX types the header uses come from the libc crate.
fn generate(header: &Path, include_dir: &Path, dest: &Path) {
    let bindings = bindgen::Builder::default()
        .header(header.to_string_lossy())
        .header_contents("gmprt_sys_consts.h", CONSTS_H)
        .clang_arg(format!("-I{}", include_dir.display()))
        .allowlist_function("gmp_.*")
        .allowlist_type("gmp_.*")
        .allowlist_var("GMP_.*|GMPRT_.*")
        .blocklist_type("sockaddr|socklen_t|ssize_t|__socklen_t|__ssize_t|sa_family_t")
        .translate_enum_integer_types(true)
        .use_core()
        .ctypes_prefix("libc")
        .size_t_is_usize(true)
        .layout_tests(true)
        .derive_default(true)
        .generate_comments(false)
        .raw_line("use libc::{sockaddr, socklen_t};")
        .generate()
        .expect("gmprt-sys: bindgen could not parse gmprt.h");
    bindings
        .write_to_file(dest)
        .unwrap_or_else(|e| panic!("gmprt-sys: write {}: {}", dest.display(), e));
}
