//! Embed a folder as an `embedded_responder::assets::Assets` table, from a `build.rs`.
//!
//! Every file under the folder (hidden files and folders, whose names start with `.`, are
//! skipped) becomes an `Asset`: its path relative to the folder with `/` separators, its
//! content type from its extension (`embedded_responder::assets::content_type_for`), a
//! strong entity tag (the first 64 bits of its SHA-256, in hex, quoted), its bytes through
//! `include_bytes!`, and a gzip copy (best compression, written into `OUT_DIR`) where that is
//! smaller and the type is not compressed already (images, fonts, archives), with the same
//! tag plus `-gz`. The generated file defines one `pub static` table:
//!
//! ```ignore
//! // build.rs
//! fn main() {
//!     embed_assets::Embed::new("webui").write().expect("embed webui");
//! }
//!
//! // src/main.rs (or lib.rs)
//! include!(concat!(env!("OUT_DIR"), "/assets.rs")); // pub static ASSETS: Assets
//! let app = Router::new().nest("/ui", ASSETS);
//! ```
//!
//! The output is deterministic: files in sorted order, gzip without a name or time.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// What to embed and how to name it; [`Embed::write`] does it.
#[derive(Debug, Clone)]
pub struct Embed {
    dir: PathBuf,
    name: String,
    file_name: String,
    crate_path: String,
    cache_control: Option<String>,
    compress: bool,
    min_saving: u8,
}

/// One embedded file, as [`Report`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedFile {
    /// The path in the table (relative, `/`-separated).
    pub path: String,
    /// The file on disk.
    pub source: PathBuf,
    /// Its content type.
    pub content_type: &'static str,
    /// Its strong entity tag, quoted.
    pub etag: String,
    /// Its size in bytes.
    pub size: usize,
    /// The gzip copy, if kept: where it was written and its size.
    pub gzip: Option<(PathBuf, usize)>,
}

/// What [`Embed::write`] wrote.
#[derive(Debug, Clone)]
pub struct Report {
    /// The generated Rust file.
    pub rust_file: PathBuf,
    /// The files, in table order.
    pub files: Vec<EmbeddedFile>,
}

impl Report {
    /// The bytes the table puts in flash for file contents: every file and every gzip copy.
    pub fn flash_bytes(&self) -> usize {
        self.files
            .iter()
            .map(|f| f.size + f.gzip.as_ref().map_or(0, |g| g.1))
            .sum()
    }
}

impl Embed {
    /// Embed the folder `dir` (relative paths are relative to the current directory, which
    /// in a build script is the package's root) as `pub static ASSETS` in `assets.rs`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Embed {
            dir: dir.into(),
            name: "ASSETS".into(),
            file_name: "assets.rs".into(),
            crate_path: "::embedded_responder".into(),
            cache_control: None,
            compress: true,
            min_saving: 0,
        }
    }

    /// The name of the generated `static` (default `ASSETS`); the file table beside it is
    /// `<NAME>_FILES`.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }

    /// The name of the generated file in the output folder (default `assets.rs`).
    pub fn file_name(mut self, file_name: &str) -> Self {
        self.file_name = file_name.into();
        self
    }

    /// The path the generated code names the library by (default `::embedded_responder`).
    pub fn crate_path(mut self, path: &str) -> Self {
        self.crate_path = path.into();
        self
    }

    /// The table's `Cache-Control` (default: the library's, `no-cache`).
    pub fn cache_control(mut self, value: &str) -> Self {
        self.cache_control = Some(value.into());
        self
    }

    /// Whether to make gzip copies (default true).
    pub fn compress(mut self, compress: bool) -> Self {
        self.compress = compress;
        self
    }

    /// Keep a gzip copy only if it is at least `percent` smaller than the file (default 0:
    /// any saving). Both are in flash, so a copy that saves little costs flash for little.
    pub fn min_saving(mut self, percent: u8) -> Self {
        self.min_saving = percent.min(100);
        self
    }

    /// Write the table into `OUT_DIR` and tell Cargo to rerun when the folder changes: for
    /// build scripts.
    pub fn write(self) -> io::Result<Report> {
        let out = std::env::var_os("OUT_DIR").ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "OUT_DIR is not set: call write_to outside build scripts",
            )
        })?;
        let report = self.write_to(Path::new(&out))?;
        println!("cargo:rerun-if-changed={}", self.dir.display());
        for file in &report.files {
            println!("cargo:rerun-if-changed={}", file.source.display());
        }
        Ok(report)
    }

    /// Write the table and the gzip copies into `out_dir`.
    pub fn write_to(&self, out_dir: &Path) -> io::Result<Report> {
        let dir = self
            .dir
            .canonicalize()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.dir.display())))?;
        let mut sources = Vec::new();
        walk(&dir, &mut sources)?;
        sources.sort();
        let gz_dir = out_dir.join("embed-assets").join(&self.name);
        let mut files = Vec::new();
        for source in sources {
            let path = relative(&dir, &source)?;
            let bytes = std::fs::read(&source)?;
            let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
            let content_type = embedded_responder::assets::content_type_for(extension);
            let etag = etag(&bytes);
            let mut gzip = None;
            if self.compress && compressible(content_type) {
                let gz = gzip_best(&bytes)?;
                // At most (100 - min_saving)% of the file, and smaller.
                let limit = bytes.len() as u128 * u128::from(100 - self.min_saving);
                if gz.len() < bytes.len() && (gz.len() as u128) * 100 <= limit {
                    let target = gz_dir.join(format!("{path}.gz"));
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    write_if_changed(&target, &gz)?;
                    gzip = Some((target, gz.len()));
                }
            }
            files.push(EmbeddedFile {
                path,
                source,
                content_type,
                etag,
                size: bytes.len(),
                gzip,
            });
        }
        let rust_file = out_dir.join(&self.file_name);
        write_if_changed(&rust_file, self.generate(&dir, &files)?.as_bytes())?;
        Ok(Report { rust_file, files })
    }

    fn generate(&self, dir: &Path, files: &[EmbeddedFile]) -> io::Result<String> {
        let krate = &self.crate_path;
        let name = &self.name;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "// Generated by embed-assets from {:?}: do not edit.",
            dir.display().to_string()
        );
        let _ = writeln!(
            s,
            "static {name}_FILES: [{krate}::assets::Asset; {}] = [",
            files.len()
        );
        for f in files {
            let _ = write!(
                s,
                "    {krate}::assets::Asset::new({:?}, {:?}, {:?}, include_bytes!({:?}))",
                f.path,
                f.content_type,
                f.etag,
                utf8(&f.source)?
            );
            if let Some((gz, _)) = &f.gzip {
                let gz_etag = format!("{}-gz\"", &f.etag[..f.etag.len() - 1]);
                let _ = write!(
                    s,
                    "\n        .with_gzip(include_bytes!({:?}), {:?})",
                    utf8(gz)?,
                    gz_etag
                );
            }
            s.push_str(",\n");
        }
        s.push_str("];\n");
        let _ = writeln!(
            s,
            "/// The files of `{}`, embedded at build time by embed-assets.",
            dir.file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned())
        );
        let _ = write!(
            s,
            "pub static {name}: {krate}::assets::Assets = {krate}::assets::Assets::new(&{name}_FILES)"
        );
        if let Some(cc) = &self.cache_control {
            let _ = write!(s, ".cache_control({cc:?})");
        }
        s.push_str(";\n");
        Ok(s)
    }
}

/// The strong entity tag of `bytes`: the first 64 bits of their SHA-256 in hex, quoted.
pub fn etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut tag = String::from("\"");
    for b in &digest[..8] {
        let _ = write!(tag, "{b:02x}");
    }
    tag.push('"');
    tag
}

/// `bytes` gzip-compressed at the best level, without a file name and with time 0.
pub fn gzip_best(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// Whether a type is worth compressing: not images, fonts or archives that are compressed
/// already (SVG and icons are).
pub fn compressible(content_type: &str) -> bool {
    let compressed = [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "font/woff",
        "font/woff2",
        "application/pdf",
    ];
    !compressed.contains(&content_type)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        // Follows symbolic links, as the build output may use them.
        let meta = std::fs::metadata(&path)?;
        if meta.is_dir() {
            walk(&path, out)?;
        } else if meta.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

fn relative(dir: &Path, file: &Path) -> io::Result<String> {
    let rel = file
        .strip_prefix(dir)
        .map_err(|_| invalid(file, "outside the folder"))?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    parts
        .map(|p| p.join("/"))
        .ok_or_else(|| invalid(file, "not UTF-8"))
}

fn utf8(path: &Path) -> io::Result<&str> {
    path.to_str().ok_or_else(|| invalid(path, "not UTF-8"))
}

fn invalid(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {why}", path.display()),
    )
}

/// Write unless the file already holds `bytes` (so that Cargo does not rebuild for nothing).
fn write_if_changed(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes)
}
