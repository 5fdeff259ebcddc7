//! Build script: export control for `libscangit.so` (only `scangit_*`, through a linker version
//! script) and a `scangit.pc` pkg-config file next to the built libraries.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let map = manifest.join("scangit.map");
    println!("cargo:rerun-if-changed={}", map.display());
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!(
            "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
            map.display()
        );
    }
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out: the libraries land in <profile>.
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    if let Some(libdir) = out.ancestors().nth(3) {
        write_pc(&manifest, libdir);
    }
}

fn write_pc(manifest: &Path, libdir: &Path) {
    let root = manifest.parent().unwrap_or(manifest);
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let pc = format!(
        "prefix={root}\nincludedir=${{prefix}}/include\nlibdir={libdir}\n\n\
         Name: scangit\n\
         Description: scan every blob of a git repository's history for leaked secrets\n\
         Version: {version}\n\
         Cflags: -I${{includedir}}\n\
         Libs: -L${{libdir}} -Wl,-rpath,${{libdir}} -lscangit\n\
         Libs.private: -lpthread -ldl -lm\n",
        root = root.display(),
        libdir = libdir.display(),
    );
    let path = libdir.join("scangit.pc");
    // Rewrite only on change, so the file's mtime does not churn.
    if std::fs::read_to_string(&path).ok().as_deref() != Some(pc.as_str()) {
        let _ = std::fs::write(&path, pc);
    }
}
